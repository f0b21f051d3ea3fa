package locustcsv

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	locustDir = "../../testdata/reference/locust-2.12-output"
	seedDir   = "../../testdata/reference/seed-output"
	// sideDir holds real Locust 2.12.1 files from the side-by-side check
	// (loadgen/COMPAT.md).
	sideDir = "testdata/side-by-side"
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
	t.Parallel()
	for _, dir := range []string{locustDir, seedDir, sideDir} {
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

// TestFailureOrderMatchesLocust shuffles the rows of real Locust failure
// files (errors with both quote styles, a name= request, a redirect) and
// checks that SortFailures restores Locust's sha256-key order.
func TestFailureOrderMatchesLocust(t *testing.T) {
	t.Parallel()
	paths, _ := filepath.Glob(filepath.Join(sideDir, "*_failures.csv"))
	paths2, _ := filepath.Glob(filepath.Join(locustDir, "*_failures.csv"))
	paths = append(paths, paths2...)
	if len(paths) == 0 {
		t.Fatalf("no failure files in %s or %s", sideDir, locustDir)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := ReadFailures(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			slices.Reverse(rows)
			if len(rows) > 2 {
				rows[0], rows[len(rows)/2] = rows[len(rows)/2], rows[0]
			}
			SortFailures(rows)
			var out bytes.Buffer
			if err := WriteFailures(&out, rows); err != nil {
				t.Fatal(err)
			}
			if out.String() != string(data) {
				t.Fatalf("got\n%s\nwant\n%s", out.String(), data)
			}
		})
	}
}
