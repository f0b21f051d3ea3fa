package assemble

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"predictlab/internal/targetsapi"
	"predictlab/targets/internal/featurestore"
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
}

// metric sums every series of name (any labels) in the service's /metrics.
func metric(t *testing.T, inst *Instance, name string) float64 {
	t.Helper()
	a := do(t, "GET", "http://"+inst.Addr+targetsapi.MetricsPath, nil)
	sum, found := 0.0, false
	for _, line := range strings.Split(string(a.body), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok && (strings.HasPrefix(rest, "{") || strings.HasPrefix(rest, " ")) {
			f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
			if len(f) > 0 {
				v, err := strconv.ParseFloat(f[0], 64)
				if err == nil {
					sum, found = sum+v, true
				}
			}
		}
	}
	if !found {
		t.Fatalf("/metrics of %s has no %s", inst.Name, name)
	}
	return sum
}

// Requests whose client leaves are cancelled, on every combo: the ones still
// queued are dropped without taking a worker, running ones stop, none is
// counted as answered, all are counted as abandoned, and nothing stays in
// flight (before: all were served to the end — the executor's skip for them
// never fired, because the request context was never cancelled).
func TestAbandonedRequestsAreDropped(t *testing.T) {
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			t.Parallel()
			cm := common(c.style, c.framework)
			cm.Workers = 1
			cm = cm.WithDefaults()
			ln := listenLocal(t)
			model, err := StartModel(ModelConfig{Common: cm, Delay: targetsapi.DelayRange{Min: time.Second, Max: time.Second}}, ln, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { stop(t, model) })
			url := "http://" + model.Addr + cm.Route.PredictPath()
			first := make(chan answer, 1)
			go func() { first <- do(t, "POST", url, []byte(seedBody)) }() // holds the only worker for 1 s
			time.Sleep(100 * time.Millisecond)
			const leavers = 5
			var wg sync.WaitGroup
			for range leavers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
					defer cancel()
					req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(seedBody))
					if resp, err := http.DefaultClient.Do(req); err == nil {
						resp.Body.Close()
						t.Errorf("a request whose client left after 200 ms was answered: %d", resp.StatusCode)
					}
				}()
			}
			wg.Wait()
			if a := <-first; a.status != 200 {
				t.Fatalf("first request: %d %s", a.status, a.body)
			}
			for i := 0; metric(t, model, targetsapi.MetricInflight) != 0; i++ { // bounded wait for the drops
				if i > 100 {
					t.Fatalf("%v requests still in flight", metric(t, model, targetsapi.MetricInflight))
				}
				time.Sleep(20 * time.Millisecond)
			}
			if got := metric(t, model, targetsapi.MetricAbandoned); got != leavers {
				t.Errorf("abandoned = %v, want %d", got, leavers)
			}
			if got := metric(t, model, targetsapi.MetricRequestDuration+targetsapi.SuffixCount); got != 1 {
				t.Errorf("answered = %v, want 1 (the abandoned ones are not answers)", got)
			}
			if c.style == targetsapi.Blocking {
				// Only the first request took the worker: ~1 s, not 6.
				if got := metric(t, model, targetsapi.MetricWorkersBusySeconds); got > 2 {
					t.Errorf("workers busy %v s, want ~1 (the dropped requests took no worker)", got)
				}
			}
		})
	}
}

// Client answers name no internal detail: no downstream address, no network
// error, no body of the model's (the logs have them).
func TestDownstreamDetailsStayInside(t *testing.T) {
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			t.Parallel()
			cm := common(c.style, c.framework).WithDefaults()
			path := cm.Route.PredictPath()
			chatty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "SECRET-STACK-TRACE at 10.1.2.3", http.StatusInternalServerError)
			}))
			defer chatty.Close()
			dead := listenLocal(t)
			deadAddr := dead.Addr().String()
			_ = dead.Close()
			store := startStore(t)
			for _, tc := range []struct {
				name        string
				cfg         ScoringConfig
				status      int
				mustNotShow []string
			}{
				{"model down", ScoringConfig{Common: cm, ModelURL: "http://" + deadAddr, FeatureStore: store.URL()}, 502, []string{deadAddr, "dial", "refused"}},
				{"model error", ScoringConfig{Common: cm, ModelURL: chatty.URL, FeatureStore: store.URL()}, 502, []string{"SECRET", "10.1.2.3", "500"}},
				{"store down", ScoringConfig{Common: cm, ModelURL: chatty.URL, FeatureStore: "redis://" + deadAddr}, 503, []string{deadAddr, "dial", "refused"}},
			} {
				scoring := startScoring(t, tc.cfg)
				a := do(t, "POST", "http://"+scoring.Addr+path, []byte(seedBody))
				if a.status != tc.status {
					t.Errorf("%s: %d %s, want %d", tc.name, a.status, a.body, tc.status)
				}
				for _, s := range tc.mustNotShow {
					if strings.Contains(string(a.body), s) {
						t.Errorf("%s: answer %s shows %q", tc.name, a.body, s)
					}
				}
			}
		})
	}
}

// An idle keep-alive connection costs the event-loop framework little memory
// (before: fasthttp kept its 64 KiB read buffer for each, 16× echo's). Not
// parallel: it measures the process's heap.
func TestIdleConnectionsAreCheap(t *testing.T) {
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			cm := common(c.style, c.framework).WithDefaults()
			ln := listenLocal(t)
			model, err := StartModel(ModelConfig{Common: cm}, ln, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { stop(t, model) })
			heap := func() uint64 {
				runtime.GC()
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return m.HeapInuse
			}
			const conns = 200
			before := heap()
			req := "POST " + cm.Route.PredictPath() + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
				strconv.Itoa(len(seedBody)) + "\r\n\r\n" + seedBody
			for range conns {
				conn, err := net.Dial("tcp", model.Addr)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				if _, err := io.WriteString(conn, req); err != nil {
					t.Fatal(err)
				}
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("request: %v %v", resp, err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			grew := int64(heap()) - int64(before)
			t.Logf("%d idle connections: heap %+d KiB (%d bytes each)", conns, grew>>10, grew/conns)
			if grew > conns*24<<10 {
				t.Errorf("%d idle keep-alive connections grew the heap by %d KiB, want < %d KiB", conns, grew>>10, conns*24)
			}
		})
	}
}

// Shutdown drains: requests in flight when it starts get their 200, and new
// connections are refused afterwards; when the drain runs out of time, the
// requests still running are cancelled, so Shutdown returns instead of waiting
// for them (before: a 30 s model delay held it 30 s past its deadline).
func TestShutdownDrainsThenCuts(t *testing.T) {
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			t.Parallel()
			cm := common(c.style, c.framework).WithDefaults()
			start := func(delay time.Duration) (*Instance, string) {
				inst, err := StartModel(ModelConfig{Common: cm, Delay: targetsapi.DelayRange{Min: delay, Max: delay}}, listenLocal(t), zerolog.Nop())
				if err != nil {
					t.Fatal(err)
				}
				return inst, "http://" + inst.Addr + cm.Route.PredictPath()
			}
			post := func(url string, got chan<- int) {
				resp, err := http.Post(url, "application/json", strings.NewReader(seedBody))
				if err != nil {
					got <- 0
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				got <- resp.StatusCode
			}
			shutdown := func(inst *Instance, d time.Duration) error {
				ctx, cancel := context.WithTimeout(context.Background(), d)
				defer cancel()
				done := make(chan error, 1)
				go func() { done <- inst.Shutdown(ctx) }()
				select {
				case err := <-done:
					return err
				case <-time.After(d + 10*time.Second):
					t.Fatalf("Shutdown with a %s deadline still running 10 s after it", d)
					return nil
				}
			}

			inst, url := start(300 * time.Millisecond)
			got := make(chan int, 3)
			for range 3 {
				go post(url, got)
			}
			time.Sleep(100 * time.Millisecond)
			if err := shutdown(inst, 10*time.Second); err != nil {
				t.Fatalf("drain: %v", err)
			}
			for range 3 {
				if code := <-got; code != 200 {
					t.Errorf("a request in flight at shutdown got %d, want 200", code)
				}
			}
			if _, err := http.Post(url, "application/json", strings.NewReader(seedBody)); err == nil {
				t.Error("a new request after shutdown was answered")
			}

			inst, url = start(30 * time.Second)
			for range 2 {
				go post(url, got)
			}
			time.Sleep(100 * time.Millisecond)
			if err := shutdown(inst, 200*time.Millisecond); err == nil {
				t.Error("Shutdown past its deadline with requests running returned nil, want the deadline error")
			}
			for range 2 {
				if code := <-got; code == 200 {
					t.Error("a request cut by the shutdown got 200")
				}
			}
		})
	}
}

// A body dribbled after complete headers is cut by the body timeout on every
// combo (the server closes the connection, with or without an answer).
func TestSlowBodyIsCut(t *testing.T) {
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			t.Parallel()
			cm := common(c.style, c.framework)
			cm.HTTP.ReadTimeout = 200 * time.Millisecond
			cm = cm.WithDefaults()
			inst, err := StartModel(ModelConfig{Common: cm}, listenLocal(t), zerolog.Nop())
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			defer stop(t, inst)
			conn, err := net.Dial("tcp", inst.Addr)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			head := "POST " + cm.Route.PredictPath() + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n[5.1,"
			if _, err := io.WriteString(conn, head); err != nil {
				t.Fatalf("write: %v", err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a safety net, not the assertion
			_, err = io.ReadAll(conn)                                  // returns once the server closes
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("server kept a request with a stalled body open")
			}
		})
	}
}

// A store that accepts connections and never answers costs each request its
// store timeout (504), not a hang; scoring answers again once a real store is
// there.
func TestHungStore(t *testing.T) {
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			t.Parallel()
			hung := listenLocal(t) // accepts (the kernel does), never reads or answers
			defer hung.Close()
			cm := common(c.style, c.framework).WithDefaults()
			model := startModel(t, cm)
			scoring := startScoring(t, ScoringConfig{Common: cm, ModelURL: "http://" + model.Addr,
				FeatureStore: "redis://" + hung.Addr().String(), StoreTimeout: 200 * time.Millisecond})
			url := "http://" + scoring.Addr + cm.Route.PredictPath()
			for range 3 {
				wantError(t, do(t, "POST", url, []byte(seedBody)), 504, "feature store timed out")
			}
			// The same address, now a real store.
			addr := hung.Addr().String()
			_ = hung.Close()
			st, err := featurestore.Start(featurestore.Config{Addr: addr})
			if err != nil {
				t.Fatalf("start the store on the hung one's address: %v", err)
			}
			defer st.Close()
			for i := 0; ; i++ { // pooled connections to the hung store fail once each
				a := do(t, "POST", url, []byte(seedBody))
				if a.status == 200 {
					break
				}
				if i == 20 {
					t.Fatalf("scoring never recovered after the store came back: %d %s", a.status, a.body)
				}
			}
		})
	}
}
