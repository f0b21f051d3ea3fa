package assemble

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"predictlab/internal/targetsapi"
)

// gzipBomb is the gzip of n zero bytes, layers times over (each layer shrinks ~1000:1).
func gzipBomb(t *testing.T, n, layers int) []byte {
	t.Helper()
	data := make([]byte, n)
	for range layers {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = w.Write(data)
		_ = w.Close()
		data = b.Bytes()
	}
	return data
}

// A compressed body is refused with 415 before anything is inflated, on every
// combo: the request allocates nothing like its inflated size (before: fiber
// inflated it with no limit, gigabytes for a few KB). Not parallel: it measures
// the process's allocations.
func TestCompressedBodyRefused(t *testing.T) {
	one := gzipBomb(t, 64<<20, 1)
	two := gzipBomb(t, 64<<20, 2)
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			cm := common(c.style, c.framework).WithDefaults()
			model := startModel(t, cm)
			url := "http://" + model.Addr + cm.Route.PredictPath()
			for _, tc := range []struct {
				name, encoding string
				body           []byte
			}{
				{"gzip", "gzip", one},
				{"gzip twice", "gzip, gzip", two},
				{"deflate", "deflate", one},
				{"br", "br", one},
				{"identity then gzip", "identity, gzip", one},
			} {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				req, _ := http.NewRequest("POST", url, bytes.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Content-Encoding", tc.encoding)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				var b bytes.Buffer
				_, _ = b.ReadFrom(resp.Body)
				resp.Body.Close()
				runtime.ReadMemStats(&after)
				if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(b.String(), "Content-Encoding") {
					t.Errorf("%s: %d %s, want 415 and a JSON error naming Content-Encoding", tc.name, resp.StatusCode, b.String())
				}
				if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
					t.Errorf("%s: the request allocated %d MiB, want < 16 MiB", tc.name, grew>>20)
				}
			}
			// identity is no encoding: served as usual.
			req, _ := http.NewRequest("POST", url, strings.NewReader(seedBody))
			req.Header.Set("Content-Encoding", "identity")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("Content-Encoding identity: %v %v, want 200", resp, err)
			}
			resp.Body.Close()
		})
	}
	_ = targetsapi.Sync
}
