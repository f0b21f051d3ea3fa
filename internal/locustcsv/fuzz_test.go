package locustcsv

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds adds every reference file to the corpus.
func fuzzSeeds(f *testing.F, pattern string) {
	for _, dir := range []string{locustDir, seedDir} {
		paths, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
}

// stable checks that once a file has been read and written, reading and
// writing it again gives the same bytes.
func stable[R any](t *testing.T, data []byte, read func(*bytes.Reader) ([]R, error), write func(*bytes.Buffer, []R) error) {
	rows, err := read(bytes.NewReader(data))
	if err != nil {
		return
	}
	var once, twice bytes.Buffer
	if err := write(&once, rows); err != nil {
		t.Fatal(err)
	}
	rows2, err := read(bytes.NewReader(once.Bytes()))
	if err != nil {
		t.Fatalf("re-reading our own output: %v\n%q", err, once.Bytes())
	}
	if len(rows2) != len(rows) {
		t.Fatalf("row count changed: %d -> %d", len(rows), len(rows2))
	}
	if err := write(&twice, rows2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(once.Bytes(), twice.Bytes()) {
		t.Fatalf("not stable:\n%q\n%q", once.Bytes(), twice.Bytes())
	}
}

func FuzzReadStats(f *testing.F) {
	fuzzSeeds(f, "*_stats.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		stable(t, data, func(r *bytes.Reader) ([]StatsRow, error) { return ReadStats(r) },
			func(w *bytes.Buffer, rows []StatsRow) error { return WriteStats(w, rows) })
	})
}

func FuzzReadHistory(f *testing.F) {
	fuzzSeeds(f, "*_stats_history.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		stable(t, data, func(r *bytes.Reader) ([]HistoryRow, error) { return ReadHistory(r) },
			func(w *bytes.Buffer, rows []HistoryRow) error { return WriteHistory(w, rows) })
	})
}

func FuzzReadFailures(f *testing.F) {
	fuzzSeeds(f, "*_failures.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		stable(t, data, func(r *bytes.Reader) ([]FailureRow, error) { return ReadFailures(r) },
			func(w *bytes.Buffer, rows []FailureRow) error { return WriteFailures(w, rows) })
	})
}

func FuzzReadExceptions(f *testing.F) {
	fuzzSeeds(f, "*_exceptions.csv")
	f.Add([]byte(ExceptionsHeader + "\r\n1,\"a,b\",\"x\ny\",local\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		stable(t, data, func(r *bytes.Reader) ([]ExceptionRow, error) { return ReadExceptions(r) },
			func(w *bytes.Buffer, rows []ExceptionRow) error { return WriteExceptions(w, rows) })
	})
}
