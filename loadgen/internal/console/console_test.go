package console

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"predictlab/loadgen/internal/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Unix(1795762056, 0)

// run records results given as (method, name, response time ms, error) that
// complete at the given offsets, and returns the final snapshot.
type rec struct {
	method, name string
	ms           float64
	err          string
	end          time.Duration // completion after t0
}

func snapshotOf(recs []rec) *stats.Snapshot {
	now := t0
	s := stats.New(func() time.Time { return now })
	for _, r := range recs {
		rt := time.Duration(r.ms * float64(time.Millisecond))
		start := t0.Add(r.end - rt)
		s.Record(stats.Result{Method: r.method, Name: r.name, Start: start, Intended: start.Add(-2 * time.Millisecond),
			ResponseTime: rt, ContentLength: 10, Err: r.err})
	}
	return s.Snapshot()
}

// repeat returns n copies of ms.
func repeat(n int, ms float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = ms
	}
	return out
}

// locustSample builds requests whose statistics reproduce the final tables
// of the reference capture console-stderr.txt (20 users, 8 s, /missing 404s).
func locustSample() *stats.Snapshot {
	missing := concat(repeat(19, 1.5), []float64{6.5}, repeat(6, 7.5), repeat(3, 8.5), repeat(2, 9.5),
		repeat(4, 13.5), repeat(2, 19.5), repeat(2, 21.5))
	sleep := concat(repeat(35, 52.5), []float64{56.5}, repeat(24, 57.5), repeat(23, 58.5), repeat(6, 59.5),
		repeat(7, 61.5), repeat(4, 63.5), repeat(4, 68.5), []float64{69.5}, repeat(4, 71.5), repeat(2, 72.5))
	var recs []rec
	for _, ms := range missing {
		recs = append(recs, rec{"GET", "/missing", ms, "HTTPError('404 Client Error: Not Found for url: http://127.0.0.1:18080/missing')", time.Second})
	}
	for _, ms := range sleep {
		recs = append(recs, rec{"GET", "/sleep", ms, "", 2 * time.Second})
	}
	// total rps = 150 / 7.139 s = 21.01, as captured.
	recs[len(recs)-1].end = 7139 * time.Millisecond
	return snapshotOf(recs)
}

func concat(parts ...[]float64) []float64 {
	var out []float64
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestMatchesLocustCapture compares our final output with the bytes Locust
// 2.12.1 printed (reference console-stderr.txt), and the empty periodic
// table with its first table.
func TestMatchesLocustCapture(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../../testdata/reference/locust-2.12-output/console-stderr.txt")
	if err != nil {
		t.Fatal(err)
	}
	capture := string(data)
	const marker = "Shutting down (exit code 1)\n"
	i := strings.Index(capture, marker)
	if i < 0 {
		t.Fatal("marker not found in the capture")
	}
	wantFinal := capture[i+len(marker):]
	if got := Final(locustSample(), NameWidth(0, false)); got != wantFinal {
		t.Errorf("final output differs:\n%s", diff(got, wantFinal))
	}

	lines := strings.SplitAfter(capture, "\n")
	wantEmpty := strings.Join(lines[2:7], "")
	if got := StatsTable(snapshotOf(nil), true, DefaultNameWidth); got != wantEmpty {
		t.Errorf("empty periodic table differs:\n%s", diff(got, wantEmpty))
	}
}

func diff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return "line " + itoa(i+1) + ":\n got: " + g[i] + "|\nwant: " + w[i] + "|"
		}
	}
	return "got " + itoa(len(g)) + " lines, want " + itoa(len(w))
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestNameWidth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cols int
		term bool
		want int
	}{
		{0, false, 80}, {200, false, 80}, {120, true, 40}, {80, true, 0}, {60, true, 0}, {300, true, 80},
	}
	for _, tt := range tests {
		if got := NameWidth(tt.cols, tt.term); got != tt.want {
			t.Errorf("NameWidth(%d, %v) = %d, want %d", tt.cols, tt.term, got, tt.want)
		}
	}
}

func TestGolden(t *testing.T) {
	long := "/a/very/long/request/name/that/is/much/longer/than/the/eighty/character/column/width/of/the/table"
	recs := []rec{
		{"GET", long, 121.99, "", time.Second},
		{"POST", "/api/v1/ml/async/predict", 27.3, "", time.Second},
		{"POST", "/api/v1/ml/async/predict", 1010, "", 2 * time.Second},
		{"GET", "/refused", 0.9, "ConnectionRefusedError(111, 'Connection refused')", 3 * time.Second},
		{"GET", "/fail", 3.2, "HTTPError('500 Server Error: Internal Server Error for url: http://127.0.0.1:8001/fail')", 3 * time.Second},
		{"GET", "/refused", 2.4, "ConnectionRefusedError(111, 'Connection refused')", 4 * time.Second},
	}
	for i := 0; i < 40; i++ {
		recs = append(recs, rec{"GET", "/api/v1/healthcheck", 1 + float64(i)*0.37, "", time.Duration(i) * 250 * time.Millisecond})
	}
	snap := snapshotOf(recs)
	tests := []struct {
		name string
		got  string
	}{
		{"final_w80.txt", Final(snap, 80)},
		{"final_w40.txt", Final(snap, NameWidth(120, true))},
		{"final_w0.txt", Final(snap, NameWidth(80, true))},
		{"periodic_w80.txt", StatsTable(snap, true, 80)},
		{"intended_w80.txt", IntendedPercentileTable(snap, 80)},
		{"empty_final_w80.txt", Final(snapshotOf(nil), 80)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join("testdata", tt.name)
			if *update {
				if err := os.WriteFile(path, []byte(tt.got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if tt.got != string(want) {
				t.Errorf("differs from %s:\n%s", path, diff(tt.got, string(want)))
			}
		})
	}
}
