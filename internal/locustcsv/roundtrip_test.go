package locustcsv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	locustDir = "../../testdata/reference/locust-2.12-output"
	seedDir   = "../../testdata/reference/seed-output"
)

// roundTrip reads a reference file with the reader for its kind and writes
// it back.
func roundTrip(t *testing.T, path string, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	var err error
	switch {
	case strings.HasSuffix(path, "_stats_history.csv"):
		var rows []HistoryRow
		if rows, err = ReadHistory(bytes.NewReader(data)); err == nil {
			err = WriteHistory(&out, rows)
		}
	case strings.HasSuffix(path, "_stats.csv"):
		var rows []StatsRow
		if rows, err = ReadStats(bytes.NewReader(data)); err == nil {
			err = WriteStats(&out, rows)
		}
	case strings.HasSuffix(path, "_failures.csv"):
		var rows []FailureRow
		if rows, err = ReadFailures(bytes.NewReader(data)); err == nil {
			err = WriteFailures(&out, rows)
		}
	case strings.HasSuffix(path, "_exceptions.csv"):
		var rows []ExceptionRow
		if rows, err = ReadExceptions(bytes.NewReader(data)); err == nil {
			err = WriteExceptions(&out, rows)
		}
	default:
		t.Fatalf("unknown kind: %s", path)
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out.Bytes()
}

func TestRoundTripReferenceFiles(t *testing.T) {
	for _, dir := range []string{locustDir, seedDir} {
		paths, err := filepath.Glob(filepath.Join(dir, "*.csv"))
		if err != nil || len(paths) == 0 {
			t.Fatalf("no reference files in %s: %v", dir, err)
		}
		for _, path := range paths {
			t.Run(filepath.Base(path), func(t *testing.T) {
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				got := roundTrip(t, path, data)
				want := data
				if !bytes.Equal(got, want) {
					gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
					for i := range min(len(gl), len(wl)) {
						if gl[i] != wl[i] {
							t.Fatalf("line %d differs:\n got %q\nwant %q", i+1, gl[i], wl[i])
						}
					}
					t.Fatalf("length differs: got %d lines, want %d", len(gl), len(wl))
				}
			})
		}
	}
}
