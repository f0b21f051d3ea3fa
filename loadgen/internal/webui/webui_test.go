package webui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/ratio"
	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/stats"
)

// fakeRunner records calls and serves statistics from a real stats.Stats.
type fakeRunner struct {
	mu       sync.Mutex
	state    string
	users    int
	starts   []string
	stops    int
	resets   int
	startErr error
	st       *stats.Stats
}

func newFakeRunner() *fakeRunner {
	t0 := time.Unix(1795761380, 0)
	return &fakeRunner{state: "ready", st: stats.New(func() time.Time { return t0 })}
}

func (f *fakeRunner) Start(users int, rate float64, host string, runTime time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return f.startErr
	}
	f.starts = append(f.starts, fmt.Sprintf("%d %g %s %s", users, rate, host, runTime))
	f.state, f.users = "running", users
	return nil
}
func (f *fakeRunner) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops++
	f.state, f.users = "stopped", 0
}
func (f *fakeRunner) ResetStats() {
	f.mu.Lock()
	f.resets++
	f.mu.Unlock()
	f.st.Reset()
}
func (f *fakeRunner) State() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}
func (f *fakeRunner) UserCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users
}
func (f *fakeRunner) Snapshot() *stats.Snapshot { return f.st.Snapshot() }

// load records a few seconds of traffic with failures and an exception.
func (f *fakeRunner) load() {
	t0 := time.Unix(1795761380, 0)
	for sec := 0; sec < 5; sec++ {
		for i := 0; i < 4; i++ {
			start := t0.Add(time.Duration(sec)*time.Second + time.Duration(i)*200*time.Millisecond)
			r := stats.Result{Method: "POST", Name: "/api/v1/ml/sync/predict", Start: start, Intended: start,
				ResponseTime: 45 * time.Millisecond, ContentLength: 51}
			if i == 3 {
				r.Method, r.Name, r.Err = "GET", "/x<y>", "HTTPError('500 Server Error: Internal Server Error for url: /x<y>')"
			}
			f.st.Record(r)
		}
		f.st.Tick(t0.Add(time.Duration(sec+1)*time.Second), 4)
	}
	f.st.RecordException("ZeroDivisionError('division by zero')", "Traceback <here>")
}

type fakeCSV struct{}

func (fakeCSV) Stats(w io.Writer, s *stats.Snapshot) error {
	_, err := fmt.Fprintf(w, "Type,Name,Request Count\r\n,Aggregated,%d\r\n", s.Total.NumRequests)
	return err
}
func (fakeCSV) Failures(w io.Writer, s *stats.Snapshot) error {
	_, err := fmt.Fprintf(w, "Method,Name,Error,Occurrences\r\n")
	return err
}
func (fakeCSV) Exceptions(w io.Writer, s *stats.Snapshot) error {
	_, err := fmt.Fprintf(w, "Count,Message,Traceback,Nodes\r\n")
	return err
}

func testReport(s *stats.Snapshot) *report.Data {
	return report.FromSnapshot(s, report.Info{Host: "http://127.0.0.1:1", UserClasses: []string{"ApiSyncUser"}},
		&report.SelfCheck{Valid: true, MaxCPUPercent: 3, MaxScheduleLagMs: 0.2})
}

func newTestServer(t *testing.T, mod func(*Options)) (*Server, *fakeRunner) {
	t.Helper()
	fr := newFakeRunner()
	opts := Options{Users: 10, SpawnRate: 2, Target: "http://127.0.0.1:5001", Runner: fr, CSV: fakeCSV{},
		Report: testReport, Log: zerolog.Nop(), Now: func() time.Time { return time.Unix(1795761400, 500000000) }, CacheFor: -1}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, fr
}

func do(t *testing.T, h http.Handler, method, path string, form url.Values, auth ...string) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	req.Host = "127.0.0.1:8089" // httptest's example.com is not this server's name
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, rec.Body)
	}
	return m
}

func TestRoutes(t *testing.T) {
	srv, fr := newTestServer(t, nil)
	fr.load()
	h := srv.Handler()
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantType           string
		wantBody           []string
		wantDisposition    string
	}{
		{"page", "GET", "/", 200, "text/html", []string{"Start new load test", `name="user_count"`, `value="http://127.0.0.1:5001"`, "./static/charts.js", `data-tab="ratio">Current ratio</a>`}, ""},
		{"tasks", "GET", "/tasks", 200, "application/json", []string{"{\n  \"per_class\": {},\n  \"total\": {}\n}\n"}, ""},
		{"stats json", "GET", "/stats/requests", 200, "application/json", []string{`"current_response_time_percentile_50"`}, ""},
		{"history", "GET", "/stats/history", 200, "application/json", []string{`"history"`, `"verdict"`}, ""},
		{"exceptions", "GET", "/exceptions", 200, "application/json", []string{`"msg": "ZeroDivisionError(&#x27;division by zero&#x27;)"`, "Traceback &lt;here&gt;"}, ""},
		{"stats csv", "GET", "/stats/requests/csv", 200, "text/csv", []string{",Aggregated,20\r\n"}, "attachment;filename=requests_1795761400.5.csv"},
		{"failures csv", "GET", "/stats/failures/csv", 200, "text/csv", []string{"Method,Name,Error,Occurrences"}, "attachment;filename=failures_1795761400.5.csv"},
		{"exceptions csv", "GET", "/exceptions/csv", 200, "text/csv", []string{"Count,Message"}, "attachment;filename=exceptions_1795761400.5.csv"},
		{"full history off", "GET", "/stats/requests_full_history/csv", 404, "text/html", []string{"Error: Server was not started with option to generate full history."}, ""},
		{"report", "GET", "/stats/report", 200, "text/html", []string{"Download the Report", "Request Statistics", `id="chart-rps"`}, ""},
		{"report download", "GET", "/stats/report?download=1", 200, "text/html", []string{"Request Statistics"}, "attachment;filename=report_1795761400.5.html"},
		{"static js", "GET", "/static/app.js", 200, "text/javascript", []string{"pollStats"}, ""},
		{"static chart", "GET", "/static/charts.js", 200, "text/javascript", []string{"PLChart"}, ""},
		{"static css", "GET", "/static/base.css", 200, "text/css", []string{".plchart"}, ""},
		{"unknown", "GET", "/nope", 404, "", nil, ""},
		{"swarm needs POST", "GET", "/swarm", 405, "", nil, ""},
		{"reset", "GET", "/stats/reset", 200, "text/html", []string{"ok"}, ""},
		{"stop", "GET", "/stop", 200, "application/json", []string{`"message": "Test stopped"`, `"success": true`}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, h, tc.method, tc.path, nil)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
				t.Errorf("Content-Type %q, want %q", ct, tc.wantType)
			}
			for _, w := range tc.wantBody {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("body lacks %q:\n%.600s", w, rec.Body)
				}
			}
			if got := rec.Header().Get("Content-Disposition"); got != tc.wantDisposition {
				t.Errorf("Content-Disposition %q, want %q", got, tc.wantDisposition)
			}
		})
	}
	if fr.stops != 1 || fr.resets != 1 {
		t.Errorf("stops=%d resets=%d, want 1 and 1", fr.stops, fr.resets)
	}
}

func TestStatsRequestsJSON(t *testing.T) {
	srv, fr := newTestServer(t, nil)
	h := srv.Handler()

	// Before any test: Aggregated's method is null, windows are null.
	m := decode(t, do(t, h, "GET", "/stats/requests", nil))
	wantTop := []string{"current_response_time_percentile_50", "current_response_time_percentile_95", "errors",
		"fail_ratio", "state", "stats", "total_rps", "user_count"}
	if got := keys(m); !slices.Equal(got, wantTop) {
		t.Fatalf("top-level keys %v, want %v", got, wantTop)
	}
	rows := m["stats"].([]any)
	agg := rows[len(rows)-1].(map[string]any)
	if agg["method"] != nil || agg["name"] != "Aggregated" || m["state"] != "ready" {
		t.Errorf("before the first test: %v", agg)
	}

	fr.load()
	rec := do(t, h, "POST", "/swarm", url.Values{"user_count": {"4"}, "spawn_rate": {"4"}, "host": {"http://127.0.0.1:9"}})
	if rec.Code != 200 {
		t.Fatal(rec.Body)
	}
	m = decode(t, do(t, h, "GET", "/stats/requests", nil))
	rows = m["stats"].([]any)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 2 entries + Aggregated", len(rows))
	}
	wantEntry := []string{"avg_content_length", "avg_response_time", "current_fail_per_sec", "current_rps",
		"max_response_time", "median_response_time", "method", "min_response_time", "name",
		"ninetieth_response_time", "ninety_ninth_response_time", "num_failures", "num_requests", "safe_name"}
	for _, r := range rows {
		if got := keys(r.(map[string]any)); !slices.Equal(got, wantEntry) {
			t.Errorf("entry keys %v, want %v", got, wantEntry)
		}
	}
	first, agg := rows[0].(map[string]any), rows[2].(map[string]any)
	if first["name"] != "/api/v1/ml/sync/predict" || agg["method"] != "" || agg["num_requests"] != 20.0 || agg["num_failures"] != 5.0 {
		t.Errorf("rows: %v / %v", first, agg)
	}
	if rows[1].(map[string]any)["safe_name"] != "/x&lt;y&gt;" {
		t.Errorf("safe_name not escaped: %v", rows[1])
	}
	errs := m["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("errors %v", errs)
	}
	e := errs[0].(map[string]any)
	if got := keys(e); !slices.Equal(got, []string{"error", "method", "name", "occurrences"}) {
		t.Errorf("error keys %v", got)
	}
	if e["error"] != "HTTPError(&#x27;500 Server Error: Internal Server Error for url: /x&lt;y&gt;&#x27;)" {
		t.Errorf("error text %q", e["error"])
	}
	if m["fail_ratio"] != 0.25 || m["state"] != "running" || m["user_count"] != 4.0 {
		t.Errorf("fail_ratio=%v state=%v users=%v", m["fail_ratio"], m["state"], m["user_count"])
	}
	if m["current_response_time_percentile_50"] == nil {
		t.Error("current p50 should be set after 5 ticks")
	}
	// Flask's layout: two-space indent.
	if !strings.HasPrefix(do(t, h, "GET", "/stats/requests", nil).Body.String(), "{\n  \"current_response_time_percentile_50\"") {
		t.Error("JSON not indented with sorted keys")
	}
}

func TestSwarm(t *testing.T) {
	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantJSON   map[string]any
		wantStart  string // "" = nothing may start
	}{
		{"ok", url.Values{"user_count": {"10"}, "spawn_rate": {"2.5"}, "host": {"http://127.0.0.1:8001"}}, 200,
			map[string]any{"success": true, "message": "Swarming started", "host": "http://127.0.0.1:8001"}, "10 2.5 http://127.0.0.1:8001 0s"},
		{"run time", url.Values{"user_count": {"1"}, "spawn_rate": {"1"}, "host": {""}, "run_time": {"1m30s"}}, 200,
			map[string]any{"success": true, "message": "Swarming started", "host": "http://127.0.0.1:5001", "run_time": 90.0}, "1 1 http://127.0.0.1:5001 1m30s"},
		{"host brackets stripped", url.Values{"user_count": {"1"}, "spawn_rate": {"1"}, "host": {"http://<h>x:1"}}, 200,
			map[string]any{"success": true, "message": "Swarming started", "host": "http://hx:1"}, "1 1 http://hx:1 0s"},
		{"bad run time", url.Values{"user_count": {"1"}, "spawn_rate": {"1"}, "host": {"http://h:1"}, "run_time": {"soon"}}, 200,
			map[string]any{"success": false, "message": "Valid run_time formats are : 20, 20s, 3m, 2h, 1h20m, 3h30m10s, etc.", "host": "http://h:1"}, ""},
		{"users not a number", url.Values{"user_count": {"ten"}, "spawn_rate": {"1"}}, 400,
			map[string]any{"success": false}, ""},
		{"users negative", url.Values{"user_count": {"-1"}, "spawn_rate": {"1"}}, 400, map[string]any{"success": false}, ""},
		{"users missing", url.Values{"spawn_rate": {"1"}}, 400, map[string]any{"success": false}, ""},
		{"rate zero", url.Values{"user_count": {"1"}, "spawn_rate": {"0"}}, 400, map[string]any{"success": false}, ""},
		{"rate NaN", url.Values{"user_count": {"1"}, "spawn_rate": {"NaN"}}, 400, map[string]any{"success": false}, ""},
		{"host without scheme", url.Values{"user_count": {"1"}, "spawn_rate": {"1"}, "host": {"localhost:1"}}, 400, map[string]any{"success": false}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, fr := newTestServer(t, nil)
			rec := do(t, srv.Handler(), "POST", "/swarm", tc.form)
			if rec.Code != tc.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			m := decode(t, rec)
			for k, v := range tc.wantJSON {
				if m[k] != v {
					t.Errorf("%s = %v, want %v", k, m[k], v)
				}
			}
			if m["success"] == false && (m["message"] == nil || m["message"] == "") {
				t.Error("a refusal must carry a message")
			}
			got := strings.Join(fr.starts, ";")
			if got != tc.wantStart {
				t.Errorf("runner started %q, want %q", got, tc.wantStart)
			}
		})
	}
}

func TestSwarmRunnerRefuses(t *testing.T) {
	srv, fr := newTestServer(t, nil)
	fr.startErr = fmt.Errorf("test is stopping")
	rec := do(t, srv.Handler(), "POST", "/swarm", url.Values{"user_count": {"1"}, "spawn_rate": {"1"}})
	if m := decode(t, rec); rec.Code != 409 || m["success"] != false || m["message"] != "test is stopping" {
		t.Errorf("%d %v", rec.Code, m)
	}
}

func TestAuth(t *testing.T) {
	srv, _ := newTestServer(t, func(o *Options) { o.Auth = "alice:s3:cret" })
	h := srv.Handler()
	paths := []string{"/", "/stats/requests", "/stats/history", "/stop", "/stats/reset", "/stats/requests/csv",
		"/stats/failures/csv", "/exceptions/csv", "/exceptions", "/stats/report", "/stats/requests_full_history/csv"}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			for _, cred := range [][]string{nil, {"alice", "wrong"}, {"bob", "s3:cret"}} {
				rec := do(t, h, "GET", p, nil, cred...)
				if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != `Basic realm=""` || rec.Body.Len() != 0 {
					t.Errorf("creds %v: %d %q %q", cred, rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body)
				}
			}
			if rec := do(t, h, "GET", p, nil, "alice", "s3:cret"); rec.Code == 401 {
				t.Errorf("right credentials refused")
			}
		})
	}
	if rec := do(t, h, "POST", "/swarm", url.Values{"user_count": {"1"}, "spawn_rate": {"1"}}); rec.Code != 401 {
		t.Errorf("POST /swarm without credentials: %d", rec.Code)
	}
	if rec := do(t, h, "GET", "/static/app.js", nil); rec.Code != 200 {
		t.Errorf("static assets are public as in Locust: %d", rec.Code)
	}
}

func TestNewRejectsBadAuth(t *testing.T) {
	for _, a := range []string{"nocolon", ":pass"} {
		_, err := New(Options{Auth: a, Runner: newFakeRunner(), CSV: fakeCSV{}, Report: testReport})
		if err != ErrAuthFormat {
			t.Errorf("auth %q: %v", a, err)
		}
	}
}

func TestFullHistoryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x_stats_history.csv")
	if err := os.WriteFile(path, []byte("Timestamp,User Count\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, _ := newTestServer(t, func(o *Options) { o.FullHistoryCSV = path })
	rec := do(t, srv.Handler(), "GET", "/stats/requests_full_history/csv", nil)
	if rec.Code != 200 || rec.Body.String() != "Timestamp,User Count\r\n" ||
		rec.Header().Get("Content-Disposition") != "attachment;filename=requests_full_history_1795761400.5.csv" {
		t.Errorf("%d %q %q", rec.Code, rec.Body, rec.Header().Get("Content-Disposition"))
	}
	if !strings.Contains(do(t, srv.Handler(), "GET", "/", nil).Body.String(), "requests_full_history/csv") {
		t.Error("page lacks the full history link")
	}
}

func TestListenAddr(t *testing.T) {
	tests := []struct {
		host string
		port int
		want string
	}{
		{"", 8089, "127.0.0.1:8089"},
		{"*", 8089, ":8089"},
		{"0.0.0.0", 27089, "0.0.0.0:27089"},
		{"::1", 1, "[::1]:1"},
	}
	for _, tc := range tests {
		srv, _ := newTestServer(t, func(o *Options) { o.Host, o.Port = tc.host, tc.port })
		if got := srv.ListenAddr(); got != tc.want {
			t.Errorf("ListenAddr(%q, %d) = %q, want %q", tc.host, tc.port, got, tc.want)
		}
	}
}

func TestSnapshotCache(t *testing.T) {
	now := time.Unix(100, 0)
	fr := newFakeRunner()
	calls := 0
	counting := &countingRunner{fakeRunner: fr, calls: &calls}
	srv, err := New(Options{Runner: counting, CSV: fakeCSV{}, Report: testReport, Log: zerolog.Nop(),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	do(t, h, "GET", "/stats/requests", nil)
	do(t, h, "GET", "/stats/requests", nil)
	if calls != 1 {
		t.Errorf("two polls within the cache time took %d snapshots, want 1", calls)
	}
	do(t, h, "GET", "/stats/reset", nil)
	do(t, h, "GET", "/stats/requests", nil)
	if calls != 2 {
		t.Errorf("a reset must drop the cache: %d snapshots", calls)
	}
	now = now.Add(time.Second)
	do(t, h, "GET", "/stats/requests", nil)
	if calls != 3 {
		t.Errorf("an expired cache must be refreshed: %d snapshots", calls)
	}
}

type countingRunner struct {
	*fakeRunner
	calls *int
}

func (c *countingRunner) Snapshot() *stats.Snapshot {
	*c.calls++
	return c.fakeRunner.Snapshot()
}

// TestTasks: GET /tasks answers Options.Ratios as Flask does (sorted keys,
// 2-space indent, Python floats; package ratio checks the bytes against
// Locust's), behind the web auth like Locust's route.
func TestTasks(t *testing.T) {
	counts := map[string]int{}
	srv, _ := newTestServer(t, func(o *Options) {
		o.Auth = "u:p"
		o.Ratios = func() ratio.Ratios {
			return ratio.Compute([]ratio.Class{
				{Name: "ApiSyncUser", Weight: 1, Tasks: []ratio.Task{{Name: "predict", Weight: 1}}},
				{Name: "ApiAsyncUser", Weight: 1, Tasks: []ratio.Task{{Name: "predict", Weight: 1}}},
			}, counts)
		}
	})
	h := srv.Handler()
	if rec := do(t, h, "GET", "/tasks", nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("without auth: status %d", rec.Code)
	}
	counts["ApiAsyncUser"] = 1
	rec := do(t, h, "GET", "/tasks", nil, "u", "p")
	want := `{
  "per_class": {
    "ApiAsyncUser": {
      "ratio": 1.0,
      "tasks": {
        "predict": {
          "ratio": 1.0
        }
      }
    },
    "ApiSyncUser": {
      "ratio": 0.0,
      "tasks": {
        "predict": {
          "ratio": 1.0
        }
      }
    }
  },
  "total": {
    "ApiAsyncUser": {
      "ratio": 1.0,
      "tasks": {
        "predict": {
          "ratio": 1.0
        }
      }
    },
    "ApiSyncUser": {
      "ratio": 0.0,
      "tasks": {
        "predict": {
          "ratio": 0.0
        }
      }
    }
  }
}
`
	if rec.Code != 200 || rec.Body.String() != want || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("status %d, %s:\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}
