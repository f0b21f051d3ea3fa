package csvout

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"predictlab/internal/locustcsv"
	"predictlab/loadgen/internal/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Unix(1795762056, 0).UTC()

// fixture runs a deterministic 4-second test through stats and returns
// the per-second snapshots and the final one.
func fixture() ([]*stats.Snapshot, *stats.Snapshot) {
	now := t0
	s := stats.New(func() time.Time { return now })
	at := func(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }
	var ticks []*stats.Snapshot
	for sec := 0; sec < 4; sec++ {
		for i := 0; i < 6; i++ {
			start := at(float64(sec) + float64(i)/6)
			rt := time.Duration(52+i*3)*time.Millisecond + time.Duration(i*137)*time.Microsecond
			s.Record(stats.Result{Method: "GET", Name: "/sleep", Start: start, Intended: start.Add(-time.Duration(i) * time.Millisecond),
				ResponseTime: rt, ContentLength: 15})
		}
		start := at(float64(sec) + 0.5)
		s.Record(stats.Result{Method: "GET", Name: "/missing", Start: start, Intended: start, ResponseTime: time.Duration(2+sec) * time.Millisecond,
			ContentLength: 19, Err: "HTTPError('404 Client Error: Not Found for url: http://127.0.0.1:18080/missing')"})
		if sec == 2 {
			s.Record(stats.Result{Method: "POST", Name: "/a,b \"quoted\"", Start: start, Intended: start, ResponseTime: 1234 * time.Millisecond,
				Err: "ConnectionRefusedError(111, 'Connection refused')"})
			s.RecordException("something broke", "  File \"x.go\", line 1, in boom\n    panic(\"x\")\n")
		}
		now = at(float64(sec + 1))
		ticks = append(ticks, s.Tick(now, 20))
	}
	now = at(4.25)
	return ticks, s.Snapshot()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestWriterGolden(t *testing.T) {
	t.Parallel()
	for _, mode := range []struct {
		name string
		full bool
	}{{"default", false}, {"full", true}} {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			prefix := filepath.Join(dir, "x")
			w, err := Open(prefix, mode.full)
			if err != nil {
				t.Fatal(err)
			}
			ticks, final := fixture()
			for _, s := range ticks {
				if err := w.Tick(s); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(final); err != nil {
				t.Fatal(err)
			}
			for _, suffix := range []string{StatsSuffix, HistorySuffix, FailuresSuffix, ExceptionsSuffix, IntendedSuffix} {
				got, err := os.ReadFile(prefix + suffix)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, mode.name+suffix, got)
				checkReadable(t, suffix, got)
			}
		})
	}
}

// checkReadable reads a written file back with locustcsv (what the lab does).
func checkReadable(t *testing.T, suffix string, data []byte) {
	t.Helper()
	var err error
	switch suffix {
	case StatsSuffix, IntendedSuffix:
		var rows []locustcsv.StatsRow
		rows, err = locustcsv.ReadStats(bytes.NewReader(data))
		if err == nil && (len(rows) != 4 || rows[3].Name != "Aggregated" || rows[3].RequestCount != 29) {
			t.Errorf("%s: rows %+v", suffix, rows)
		}
	case HistorySuffix:
		_, err = locustcsv.ReadHistory(bytes.NewReader(data))
	case FailuresSuffix:
		_, err = locustcsv.ReadFailures(bytes.NewReader(data))
	case ExceptionsSuffix:
		_, err = locustcsv.ReadExceptions(bytes.NewReader(data))
	}
	if err != nil {
		t.Errorf("%s: %v", suffix, err)
	}
}

func TestEmptyFiles(t *testing.T) {
	t.Parallel()
	prefix := filepath.Join(t.TempDir(), "e")
	w, err := Open(prefix, false)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	s := stats.New(func() time.Time { return now })
	if err := w.Tick(s.Tick(now, 0)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(s.Snapshot()); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		StatsSuffix: locustcsv.StatsHeader + "\r\n,Aggregated,0,0,0,0.0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\r\n",
		// The final snapshot has the same second and count: no second row.
		HistorySuffix:    locustcsv.HistoryHeader + "\r\n1795762056,0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0\r\n",
		FailuresSuffix:   locustcsv.FailuresHeader + "\r\n",
		ExceptionsSuffix: locustcsv.ExceptionsHeader + "\r\n",
	}
	for suffix, w := range want {
		got, err := os.ReadFile(prefix + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != w {
			t.Errorf("%s:\ngot  %q\nwant %q", suffix, got, w)
		}
	}
}

func TestRewriteShrinks(t *testing.T) {
	t.Parallel()
	prefix := filepath.Join(t.TempDir(), "r")
	w, err := Open(prefix, false)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(nil)
	ticks, _ := fixture()
	now := t0
	empty := stats.New(func() time.Time { return now }).Snapshot()
	for _, s := range []*stats.Snapshot{ticks[3], empty} {
		if err := w.Tick(s); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(prefix + FailuresSuffix)
	if string(got) != locustcsv.FailuresHeader+"\r\n" {
		t.Errorf("failures after a smaller snapshot: %q", got)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Open(filepath.Join(dir, "nope", "x"), false)
	if err == nil {
		t.Fatal("no error")
	}
	want := "csv: open " + filepath.Join(dir, "nope", "x") + "_stats.csv: no such file or directory"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Error("multi-line error")
	}
}

// fullDisk is a file whose writes fail half-way (ENOSPC) while full is set.
type fullDisk struct {
	*os.File
	full bool
}

func (f *fullDisk) Write(p []byte) (int, error) {
	if f.full {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, syscall.ENOSPC
	}
	return f.File.Write(p)
}

// TestHistoryTornWrite is the review's R12: a second of a full disk must not
// leave a torn row in the middle of the history, which made the whole file
// unreadable for the lab. The failed second has no row; the others are whole.
func TestHistoryTornWrite(t *testing.T) {
	t.Parallel()
	history := func(failAt int) []locustcsv.HistoryRow {
		prefix := filepath.Join(t.TempDir(), "r")
		w, err := Open(prefix, false)
		if err != nil {
			t.Fatal(err)
		}
		disk := &fullDisk{File: w.history.(*os.File)}
		w.history = disk
		ticks, final := fixture()
		for i, s := range ticks {
			disk.full = i == failAt
			if err := w.Tick(s); (err != nil) != (i == failAt) || (err != nil && !errors.Is(err, syscall.ENOSPC)) {
				t.Fatalf("tick %d: %v", i, err)
			}
		}
		if err := w.Close(final); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(prefix + HistorySuffix)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := locustcsv.ReadHistory(f)
		if err != nil {
			t.Fatalf("history unreadable after a failed write: %v", err)
		}
		return rows
	}
	whole, torn := history(-1), history(1)
	if len(torn) != len(whole)-1 {
		t.Fatalf("%d rows after one failed second, want %d", len(torn), len(whole)-1)
	}
}
