package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"predictlab/loadgen/internal/ratio"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixture is a deterministic report: two endpoints, failures, an exception,
// five chart points and a self-check timeline.
func fixture() *Data {
	start := time.Date(2026, 11, 27, 6, 36, 20, 0, time.UTC)
	d := &Data{
		Host:        "http://127.0.0.1:8001",
		UserClasses: []string{"ApiAsyncUser"},
		Users:       150,
		SpawnRate:   150,
		RunTime:     20 * time.Second,
		Version:     "test",
		Start:       start,
		End:         start.Add(20 * time.Second),
		Requests: []Row{
			{Method: "GET", Name: "/fail", NumRequests: 20, NumFailures: 20, Avg: 3.4, Min: 1.2, Max: 9.9, Median: 3,
				AvgContentSize: 0, RPS: 1.04, FailPerSec: 1.04, Percentiles: [8]float64{3, 3, 4, 4, 6, 8, 9, 10}},
			{Method: "POST", Name: "/api/v1/ml/async/predict", NumRequests: 2980, Avg: 72.58, Min: 5.0, Max: 948.0, Median: 29,
				AvgContentSize: 51, RPS: 149.25, Percentiles: [8]float64{29, 33, 38, 43, 54, 520, 920, 950}},
			{Name: "Aggregated", Aggregated: true, NumRequests: 3000, NumFailures: 20, Avg: 72.1, Min: 1.2, Max: 948.0, Median: 29,
				AvgContentSize: 50.66, RPS: 150.36, FailPerSec: 1.04, Percentiles: [8]float64{29, 33, 38, 43, 54, 520, 920, 950}},
		},
		Intended: []Row{
			{Method: "GET", Name: "/fail", NumRequests: 20, NumFailures: 20, Avg: 3.4, Min: 1.2, Max: 9.9, Median: 3,
				Percentiles: [8]float64{3, 3, 4, 4, 6, 8, 9, 10}},
			{Method: "POST", Name: "/api/v1/ml/async/predict", NumRequests: 2980, Avg: 140.2, Min: 5.0, Max: 1890.0, Median: 31,
				Percentiles: [8]float64{31, 36, 41, 50, 120, 1400, 1800, 1900}},
			{Name: "Aggregated", Aggregated: true, NumRequests: 3000, NumFailures: 20, Avg: 139.3, Min: 1.2, Max: 1890.0, Median: 31,
				Percentiles: [8]float64{31, 36, 41, 50, 120, 1400, 1800, 1900}},
		},
		Failures: []Failure{{Method: "GET", Name: "/fail", Error: "500 Server Error: Internal Server Error for url: /fail <b>", Occurrences: 20}},
		Exceptions: []Exception{{Count: 1, Message: "ZeroDivisionError('division by zero')",
			Traceback: "Traceback (most recent call last):\n  task x", Nodes: "local"}},
		Ratios: ratio.Compute([]ratio.Class{
			{Name: "ApiUser", Weight: 1},
			{Name: "ApiAsyncUser", Weight: 1, Tasks: []ratio.Task{{Name: "predict", Weight: 1}}},
			{Name: "Mixed", Weight: 1, Tasks: []ratio.Task{{Name: "GET /a", Weight: 3}, {Name: "<b>", Weight: 1}}},
		}, map[string]int{"ApiAsyncUser": 100, "Mixed": 50}),
		SelfCheck: &SelfCheck{Valid: false, MaxCPUPercent: 97.5, MaxScheduleLagMs: 12.25,
			Warnings: []string{"CPU usage above 90% at 06:36:31"}},
	}
	for i := 0; i < 5; i++ {
		t := start.Add(time.Duration(i+1) * 4 * time.Second)
		d.History = append(d.History, Point{Time: t, Users: 150, RPS: 140 + float64(i), FailPerSec: 1,
			P50: 29 + float64(i), P95: 500, IntendedP50: 31 + float64(i), IntendedP95: 1400})
		d.SelfCheck.Timeline = append(d.SelfCheck.Timeline, CheckPoint{Time: t, Users: 150,
			CPUPercent: 80 + float64(i)*4.375, MaxLagMs: 2.5 * float64(i)})
	}
	return d
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run `go test ./loadgen/internal/report -update` and review the diff", name)
	}
}

func TestEmbeddedDataGolden(t *testing.T) {
	t.Parallel()
	b, err := json.MarshalIndent(EmbeddedData(fixture()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "embedded.json", append(b, '\n'))
}

func TestWriteGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, fixture()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.html", buf.Bytes())
}

func TestWriteSections(t *testing.T) {
	t.Parallel()
	empty := &Data{UserClasses: []string{"ApiSyncUser"}, Requests: []Row{{Name: "Aggregated", Aggregated: true}}}
	tests := []struct {
		name     string
		data     *Data
		want     []string
		wantNot  []string
		ordered  []string
		dataJSON string
	}{
		{
			name: "full",
			data: fixture(),
			want: []string{
				"<title>Test Report for ApiAsyncUser</title>",
				`<tr class="total"><td class="l"></td><td class="name">Aggregated</td><td>3000</td><td>20</td><td>72</td><td>1</td><td>948</td><td>50</td><td>150.4</td><td>1.0</td></tr>`,
				"<th>50%ile (ms)</th><th>60%ile (ms)</th>",
				"500 Server Error: Internal Server Error for url: /fail &lt;b&gt;",
				"NOT VALID", "CPU usage above 90% at 06:36:31",
				`<div id="chart-check"></div>`,
				`class="gap">1800</td>`,
			},
			ordered: []string{"Request Statistics", "Response Time Statistics", "Response Time from the Intended Start",
				"Failures Statistics", "Exceptions Statistics", "<h2>Charts</h2>"},
			wantNot: []string{"Download the Report", "http://", "https://"},
		},
		{
			name:    "empty run",
			data:    empty,
			want:    []string{"Target Host</div><div class=\"v\" id=\"target-host\">None", "NO VERDICT", "Test Report for ApiSyncUser"},
			wantNot: []string{"Failures Statistics", "Exceptions Statistics", "<h2>Charts</h2>", "Intended Start"},
		},
		{
			name: "served with a download link",
			data: &Data{DownloadLink: true, Host: "http://x"},
			want: []string{`<a href="?download=1">Download the Report</a>`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.data); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			// No address may be fetched: the only URLs allowed are the target
			// host's text and the SVG namespace name.
			body := strings.ReplaceAll(out, "http://www.w3.org/2000/svg", "")
			if tc.data.Host != "" {
				body = strings.ReplaceAll(body, tc.data.Host, "")
			}
			for _, w := range tc.wantNot {
				if strings.Contains(body, w) {
					t.Errorf("report contains %q", w)
				}
			}
			last := -1
			for _, s := range tc.ordered {
				i := strings.Index(out, s)
				if i < last {
					t.Errorf("section %q out of order", s)
				}
				last = i
			}
			if m := regexp.MustCompile(`(?i)<(script|link|img)[^>]+(src|href)=`).FindString(out); m != "" {
				t.Errorf("report loads an external resource: %s", m)
			}
		})
	}
}

func TestExpandPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		users          int
		rate           float64
		runTime        time.Duration
	}{
		{"no tags", "out/x.html", "out/x.html", 10, 1, time.Minute},
		{"all tags", "out/r_{u}_{r}_{t}.html", "out/r_150_2.5_300.html", 150, 2.5, 300 * time.Second},
		{"integer rate", "{r}", "150", 1, 150, 0},
		{"repeated", "{u}-{u}", "3-3", 3, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExpandPath(tc.in, tc.users, tc.rate, tc.runTime); got != tc.want {
				t.Errorf("ExpandPath(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestChartJSONNulls(t *testing.T) {
	t.Parallel()
	nan := 0.0
	nan /= nan
	b, err := ChartJSON([]Point{{Time: time.Unix(10, 0), Users: 1, RPS: nan}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"rps":[null]`) {
		t.Errorf("NaN should encode as null: %s", b)
	}
}

// TestShare: ratios shown as Locust's tasks.js shows them,
// (ratio * 100).toFixed(1) + "%": the exact double rounded half up.
func TestShare(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{
		0: "0.0%", 1: "100.0%", 1.0 / 3: "33.3%", 2.0 / 3: "66.7%", 0.0625: "6.3%", 0.0125: "1.3%",
		0.20000000000000004: "20.0%", 0.001: "0.1%", 0.0004: "0.0%", 0.0005: "0.1%",
	} {
		if got := share(v); got != want {
			t.Errorf("share(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestFinalRatio(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, fixture()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`<h2>Final ratio</h2>`,
		`<h3>Ratio per User class</h3>`, `<h3>Total ratio</h3>`,
		`<tr class="class"><td class="name">ApiAsyncUser</td><td class="pct">66.7%</td>`,
		`<tr class="task"><td class="name">GET /a</td><td class="pct">75.0%</td>`,   // per class
		`<tr class="task"><td class="name">GET /a</td><td class="pct">25.0%</td>`,   // total
		`<tr class="task"><td class="name">&lt;b&gt;</td><td class="pct">8.3%</td>`, // escaped
		`<tr class="class"><td class="name">ApiUser</td><td class="pct">0.0%</td>`,
		`style="width: 66.7%"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s", want)
		}
	}
	// The data attribute holds Locust's JSON, as its report.
	m := regexp.MustCompile(`data-tasks="([^"]*)"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no data-tasks attribute")
	}
	want := string(fixture().Ratios.JSON(ratio.ReportJSON))
	if got := html.UnescapeString(m[1]); got != want {
		t.Errorf("data-tasks = %s, want %s", got, want)
	}
	if i, j := strings.Index(out, "<h2>Charts</h2>"), strings.Index(out, "<h2>Final ratio</h2>"); i < 0 || j < i {
		t.Error("Final ratio is not after the charts (Locust's order)")
	}
	empty := &Data{Requests: []Row{{Name: "Aggregated", Aggregated: true}}}
	buf.Reset()
	if err := Write(&buf, empty); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "No user classes") {
		t.Error("an empty ratio section is not explained")
	}
}

// A distributed master's report says where its percentiles come from: exact
// with loadgen workers only, Locust's rounded buckets with Python workers in
// the mix; one process's report says nothing.
func TestPercentileSourceNote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, source, want string
	}{
		{"one process", "", ""},
		{"loadgen workers", PercentilesExact, "Percentiles are exact: every worker was a loadgen worker"},
		{"python workers", PercentilesBuckets, "Percentiles are approximate: some workers were Python Locust workers, which send only Locust's rounded response-time buckets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := fixture()
			d.PercentileSource = tc.source
			var buf bytes.Buffer
			if err := Write(&buf, d); err != nil {
				t.Fatal(err)
			}
			html := buf.String()
			if got := strings.Contains(html, `id="percentile-source"`); got != (tc.want != "") {
				t.Errorf("note shown = %v, want %v", got, tc.want != "")
			}
			if tc.want != "" && !strings.Contains(html, tc.want) {
				t.Errorf("report lacks %q", tc.want)
			}
		})
	}
}

// A distributed master's report says whose seconds the self-check chart
// shows: its loadgen workers', or none when only Python workers ran (no
// chart of the master's idle process); one process's report says nothing.
func TestSelfCheckTimelineNote(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, note string
		timeline   bool
	}{
		{"one process", "", true},
		{"loadgen workers", TimelineWorkersNote, true},
		{"python workers only", TimelineNoneNote, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := fixture()
			d.SelfCheck.TimelineNote = tc.note
			if !tc.timeline {
				d.SelfCheck.Timeline = nil
			}
			var buf bytes.Buffer
			if err := Write(&buf, d); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if got := strings.Contains(out, `id="check-timeline"`); got != (tc.note != "") {
				t.Errorf("note shown = %v, want %v", got, tc.note != "")
			}
			if n := strings.Count(out, html.EscapeString(tc.note)); tc.note != "" && n != map[bool]int{true: 2, false: 1}[tc.timeline] {
				t.Errorf("note %q appears %d times (in the verdict, and under the charts when there is a chart)", tc.note, n)
			}
			if got := strings.Contains(out, `<div id="chart-check"></div>`); got != tc.timeline {
				t.Errorf("self-check chart shown = %v, want %v", got, tc.timeline)
			}
		})
	}
}
