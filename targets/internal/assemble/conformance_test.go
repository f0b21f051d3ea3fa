package assemble

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"predictlab/internal/targetsapi"
	"predictlab/targets/internal/featurestore"
)

// combos is every framework × style pairing; the conformance suite runs on each.
var combos = []struct {
	style     targetsapi.Style
	framework targetsapi.Framework
}{
	{targetsapi.Blocking, targetsapi.Echo},
	{targetsapi.Blocking, targetsapi.Fiber},
	{targetsapi.EventLoop, targetsapi.Echo},
	{targetsapi.EventLoop, targetsapi.Fiber},
}

const seedBody = "[5.1, 3.5, 1.4, 0.2]"

func listenLocal(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	return ln
}

func stop(t *testing.T, inst *Instance) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := inst.Shutdown(ctx); err != nil {
		t.Errorf("shutdown %s: %v", inst.Name, err)
	}
}

func common(style targetsapi.Style, framework targetsapi.Framework) Common {
	return Common{Style: style, Framework: framework}
}

// startModel starts a model service; it is stopped when the test ends.
func startModel(t *testing.T, cm Common) *Instance {
	t.Helper()
	ln := listenLocal(t)
	inst, err := StartModel(ModelConfig{Common: cm, Delay: targetsapi.DefaultModelDelay, Seed: 1}, ln, zerolog.Nop())
	if err != nil {
		t.Fatalf("start model: %v", err)
	}
	t.Cleanup(func() { stop(t, inst) })
	return inst
}

// startScoring starts a scoring service; it is stopped when the test ends.
func startScoring(t *testing.T, cfg ScoringConfig) *Instance {
	t.Helper()
	ln := listenLocal(t)
	inst, err := StartScoring(cfg, ln, zerolog.Nop())
	if err != nil {
		t.Fatalf("start scoring: %v", err)
	}
	t.Cleanup(func() { stop(t, inst) })
	return inst
}

func startStore(t *testing.T) *featurestore.Server {
	t.Helper()
	st, err := featurestore.Start(featurestore.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("start store: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

type answer struct {
	status int
	ctype  string
	body   []byte
}

func do(t *testing.T, method, url string, body []byte) answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, url, err)
	}
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

// wantError checks a JSON error answer.
func wantError(t *testing.T, a answer, status int, contains string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if a.status != status || json.Unmarshal(a.body, &e) != nil || !strings.Contains(e.Error, contains) {
		t.Fatalf("got %d %s, want %d and a JSON error containing %q", a.status, a.body, status, contains)
	}
	if !strings.HasPrefix(a.ctype, "application/json") {
		t.Fatalf("content type %q, want application/json", a.ctype)
	}
}

// wantDetail checks a {"detail": x} answer with x in [lo, hi].
func wantDetail(t *testing.T, a answer, lo, hi float64) {
	t.Helper()
	var d struct {
		Detail *float64 `json:"detail"`
	}
	if a.status != 200 || json.Unmarshal(a.body, &d) != nil || d.Detail == nil || *d.Detail < lo || *d.Detail > hi {
		t.Fatalf("got %d %s, want 200 {\"detail\": x} with x in [%v, %v]", a.status, a.body, lo, hi)
	}
	if !strings.HasPrefix(a.ctype, "application/json") {
		t.Fatalf("content type %q, want application/json", a.ctype)
	}
}

func TestConformance(t *testing.T) {
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			t.Parallel()
			cm := common(c.style, c.framework).WithDefaults()
			store := startStore(t)
			model := startModel(t, cm)
			scoring := startScoring(t, ScoringConfig{Common: cm, ModelURL: "http://" + model.Addr, FeatureStore: store.URL()})
			path := cm.Route.PredictPath()
			for _, svc := range []*Instance{model, scoring} {
				base := "http://" + svc.Addr
				t.Run(svc.Name, func(t *testing.T) {
					a := do(t, "GET", base+"/", nil)
					if a.status != 200 || !bytes.Contains(a.body, []byte(path)) {
						t.Fatalf("GET / = %d %s, want an index naming %s", a.status, a.body, path)
					}
					if a := do(t, "GET", base+"/api/v1/healthcheck", nil); a.status != 200 || string(a.body) != `{"status":"OK"}` {
						t.Fatalf("healthcheck = %d %s", a.status, a.body)
					}
					wantDetail(t, do(t, "POST", base+path, []byte(seedBody)), 0.04, 0.05)
					wantError(t, do(t, "GET", base+"/nope", nil), 404, "not found")
					wantError(t, do(t, "GET", base+path, nil), 405, "method not allowed")
					wantError(t, do(t, "POST", base+"/api/v1/ml/other/predict", []byte(seedBody)), 404, "not found")
					for _, bad := range badBodies {
						t.Run(bad.name, func(t *testing.T) {
							wantError(t, do(t, "POST", base+path, []byte(bad.body)), bad.status, bad.msg)
						})
					}
					m := do(t, "GET", base+"/metrics", nil)
					names := []string{targetsapi.MetricInflight, targetsapi.MetricRequestDuration + targetsapi.SuffixBucket}
					if c.style == targetsapi.Blocking {
						names = append(names, targetsapi.MetricWorkersBusy, targetsapi.MetricWorkersTotal, targetsapi.MetricQueueLength, targetsapi.MetricQueueWait+targetsapi.SuffixBucket)
					} else {
						names = append(names, targetsapi.MetricLoopBusyRatio, targetsapi.MetricLoopBusySeconds, targetsapi.MetricLoopRunqueue, targetsapi.MetricLoopInflight, targetsapi.MetricLoopLag+targetsapi.SuffixBucket)
					}
					for _, n := range names {
						if !bytes.Contains(m.body, []byte("\n"+n+"{")) {
							t.Errorf("/metrics lacks %s", n)
						}
					}
				})
			}
		})
	}
}

// badBodies is every kind of bad input and the status and message it gets.
var badBodies = []struct {
	name, body string
	status     int
	msg        string
}{
	{"empty", "", 400, "empty body"},
	{"malformed", "[1, 2", 400, "malformed JSON"},
	{"not JSON", "predict please", 400, "malformed JSON"},
	{"NaN literal", "[NaN]", 400, "malformed JSON"},
	{"object", `{"data": [1]}`, 422, "must be a JSON array"},
	{"scalar", "42", 422, "must be a JSON array"},
	{"empty array", "[]", 422, "array is empty"},
	{"non-numeric", `[1, "two"]`, 422, "element 1 is not a number"},
	{"NaN string", `["NaN"]`, 422, "element 0 is not a number"},
	{"infinite", "[1e999]", 422, "not a finite number"},
	{"too long", "[" + strings.Repeat("1,", 64) + "1]", 422, "array too long"},
	{"too large", "[" + strings.Repeat(" ", 2<<20) + "1]", 413, "request body too large"},
}

// TestFanoutStyle: a fake model server counts the calls of one scoring request
// that are in flight at once. It holds each call until fanout calls are in flight
// (or a fallback time has passed), so concurrent calls always meet, and sequential
// ones cannot (the second is only sent after the first answer).
func TestFanoutStyle(t *testing.T) {
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			t.Parallel()
			const fanout = 2
			// Sequential calls never meet: release them after a short while. Concurrent
			// calls meet at once; the long fallback only guards against a hang.
			fallback := 300 * time.Millisecond
			if c.style == targetsapi.EventLoop {
				fallback = 10 * time.Second
			}
			var (
				mu       sync.Mutex
				inflight int
				maxSeen  int
				arrived  = make(chan struct{})
			)
			fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				inflight++
				maxSeen = max(maxSeen, inflight)
				if inflight == fanout {
					close(arrived)
				}
				ch := arrived
				mu.Unlock()
				t := time.NewTimer(fallback)
				select {
				case <-ch:
				case <-t.C:
				}
				t.Stop()
				mu.Lock()
				inflight--
				mu.Unlock()
				fmt.Fprint(w, `{"detail":0.045}`)
			}))
			defer fake.Close()
			store := startStore(t)
			cm := common(c.style, c.framework).WithDefaults()
			scoring := startScoring(t, ScoringConfig{Common: cm, ModelURL: fake.URL, FeatureStore: store.URL(), Fanout: fanout})
			wantDetail(t, do(t, "POST", "http://"+scoring.Addr+cm.Route.PredictPath(), []byte(seedBody)), 0.045, 0.045)
			want := 1
			if c.style == targetsapi.EventLoop {
				want = fanout
			}
			mu.Lock()
			defer mu.Unlock()
			if maxSeen != want {
				t.Fatalf("model calls in flight at once: %d, want %d", maxSeen, want)
			}
		})
	}
}

// TestDownstreamFailures: store down (503, then recovery), model down (502),
// model too slow (504).
func TestDownstreamFailures(t *testing.T) {
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			t.Parallel()
			cm := common(c.style, c.framework).WithDefaults()
			path := cm.Route.PredictPath()
			okModel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `{"detail":0.045}`)
			}))
			defer okModel.Close()
			slowModel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body) // so the server notices when the caller hangs up
				<-r.Context().Done()               // answers only when the caller gives up
			}))
			defer slowModel.Close()
			deadLn := listenLocal(t)
			deadURL := "http://" + deadLn.Addr().String()
			_ = deadLn.Close()

			store := startStore(t)
			scoring := startScoring(t, ScoringConfig{Common: cm, ModelURL: okModel.URL, FeatureStore: store.URL()})
			url := "http://" + scoring.Addr + path
			wantDetail(t, do(t, "POST", url, []byte(seedBody)), 0.045, 0.045)
			store.Close()
			wantError(t, do(t, "POST", url, []byte(seedBody)), 503, "feature store unavailable")
			if err := store.Restart(); err != nil {
				t.Fatalf("restart store: %v", err)
			}
			wantDetail(t, do(t, "POST", url, []byte(seedBody)), 0.045, 0.045)

			down := startScoring(t, ScoringConfig{Common: cm, ModelURL: deadURL, FeatureStore: store.URL()})
			wantError(t, do(t, "POST", "http://"+down.Addr+path, []byte(seedBody)), 502, "model service failed")

			slow := startScoring(t, ScoringConfig{Common: cm, ModelURL: slowModel.URL, FeatureStore: store.URL(), ModelTimeout: 20 * time.Millisecond})
			wantError(t, do(t, "POST", "http://"+slow.Addr+path, []byte(seedBody)), 504, "model service timed out")
		})
	}
}

// TestOverload: past the workers and the backlog (blocking) or the in-flight
// limit (eventloop), 503 with a JSON error.
func TestOverload(t *testing.T) {
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			arrived := make(chan struct{}, 8)
			model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				arrived <- struct{}{}
				<-release
				fmt.Fprint(w, `{"detail":0.045}`)
			}))
			defer model.Close()
			store := startStore(t)
			cm := common(c.style, c.framework)
			cm.Workers, cm.Backlog = 1, -1 // no queue: one request at a time
			cm = cm.WithDefaults()
			scoring := startScoring(t, ScoringConfig{Common: cm, ModelURL: model.URL, FeatureStore: store.URL(), Fanout: 1})
			url := "http://" + scoring.Addr + cm.Route.PredictPath()
			first := make(chan answer, 1)
			go func() { first <- do(t, "POST", url, []byte(seedBody)) }()
			<-arrived // the first request holds the worker / the only slot
			wantError(t, do(t, "POST", url, []byte(seedBody)), 503, "overloaded")
			close(release)
			wantDetail(t, <-first, 0.045, 0.045)
		})
	}
}

// TestImmediateShutdown: a service stopped right after it started (before its
// server has begun serving) still stops.
func TestImmediateShutdown(t *testing.T) {
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			for range 20 {
				inst, err := StartModel(ModelConfig{Common: common(c.style, c.framework)}, listenLocal(t), zerolog.Nop())
				if err != nil {
					t.Fatalf("start: %v", err)
				}
				stop(t, inst)
				<-inst.Done()
			}
		})
	}
}

// TestSlowHeadersAreCut: a client that starts a request and stalls is
// disconnected once the header timeout has passed, on both frameworks.
func TestSlowHeadersAreCut(t *testing.T) {
	for _, c := range combos {
		t.Run(string(c.style)+"-"+string(c.framework), func(t *testing.T) {
			t.Parallel()
			cm := common(c.style, c.framework)
			cm.HTTP.ReadHeaderTimeout = 100 * time.Millisecond
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
			if _, err := io.WriteString(conn, "POST /api/v1/ml/sync/predict HTTP/1.1\r\nHost: x\r\n"); err != nil {
				t.Fatalf("write: %v", err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a safety net, not the assertion
			_, err = io.ReadAll(conn)                                  // returns once the server closes
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("server kept a stalled request open")
			}
		})
	}
}
