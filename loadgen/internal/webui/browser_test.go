package webui

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/browsertest"
	"predictlab/loadgen/internal/csvout"
	"predictlab/loadgen/internal/ratio"
	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/stats"
)

// This file drives the web UI and the HTML report in headless Chromium
// (see package browsertest: skipped without a browser, except under CI).

// loopRunner is a small real load generator for the browser test: users
// POST to the target in a loop (about 10 requests/s each), a ticker feeds
// the stats every second. Every goroutine is owned and waited for by Stop.
type loopRunner struct {
	st     *stats.Stats
	client *http.Client

	mu     sync.Mutex
	state  string
	users  int
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newLoopRunner() *loopRunner {
	return &loopRunner{st: stats.New(time.Now), client: &http.Client{Timeout: 5 * time.Second}, state: "ready"}
}

func (r *loopRunner) Start(users int, _ float64, host string, _ time.Duration) error {
	r.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.state, r.users = cancel, "running", users
	r.st.Reset()
	for i := 0; i < users; i++ {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.user(ctx, host)
		}()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tk.C:
				r.st.Tick(now, users)
			}
		}
	}()
	return nil
}

func (r *loopRunner) user(ctx context.Context, host string) {
	tk := time.NewTicker(100 * time.Millisecond)
	defer tk.Stop()
	for {
		start := time.Now()
		req, err := http.NewRequestWithContext(ctx, "POST", host+"/api/v1/ml/sync/predict", strings.NewReader(`[5.1,3.5,1.4,0.2]`))
		if err != nil {
			return
		}
		res := stats.Result{Method: "POST", Name: "/api/v1/ml/sync/predict", Start: start, Intended: start}
		resp, err := r.client.Do(req)
		if ctx.Err() != nil {
			if err == nil {
				resp.Body.Close()
			}
			return
		}
		if err != nil {
			res.Err = err.Error()
		} else {
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			res.ContentLength = n
			if resp.StatusCode >= 400 {
				res.Err = "HTTPError('" + resp.Status + " for url: " + req.URL.Path + "')"
			}
		}
		res.ResponseTime = time.Since(start)
		r.st.Record(res)
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
	}
}

func (r *loopRunner) Stop() {
	r.mu.Lock()
	cancel := r.cancel
	r.cancel = nil
	if cancel != nil {
		r.state = "stopping"
	}
	r.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	r.wg.Wait()
	r.mu.Lock()
	r.state, r.users = "stopped", 0
	r.mu.Unlock()
}

func (r *loopRunner) ResetStats() { r.st.Reset() }
func (r *loopRunner) State() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}
func (r *loopRunner) UserCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.users
}
func (r *loopRunner) Snapshot() *stats.Snapshot { return r.st.Snapshot() }

// target is a loopback stand-in for the model service: ~5 ms, a JSON body;
// one request in ten fails with 500.
func target(t *testing.T) *httptest.Server {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(5 * time.Millisecond)
		if n.Add(1)%10 == 0 {
			http.Error(w, "model overloaded", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"prediction":[0],"status":"OK"}`)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestBrowserWebUI(t *testing.T) {
	ctx := browsertest.New(t)
	tgt := target(t)
	lr := newLoopRunner()
	t.Cleanup(lr.Stop)
	// The loop runner's users are all ApiSyncUser; a second class, with
	// weighted tasks, gets half as many (made-up counts) for the ratio tab.
	classes := []ratio.Class{
		{Name: "ApiUser", Weight: 1},
		{Name: "ApiSyncUser", Weight: 1, Tasks: []ratio.Task{{Name: "predict", Weight: 1}}},
		{Name: "Mixed", Weight: 1, Tasks: []ratio.Task{{Name: "GET /items", Weight: 3}, {Name: "search", Weight: 1}}},
	}
	srv, err := New(Options{Users: 20, SpawnRate: 20, Runner: lr, CSV: csvout.Formats{}, Version: "test",
		Report: func(s *stats.Snapshot) *report.Data {
			return report.FromSnapshot(s, report.Info{Host: tgt.URL, UserClasses: []string{"ApiSyncUser"}, Users: 20, SpawnRate: 20}, nil)
		},
		Ratios: func() ratio.Ratios {
			n := lr.UserCount()
			return ratio.Compute(classes, map[string]int{"ApiSyncUser": n, "Mixed": n / 2})
		},
		Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ui := httptest.NewServer(srv.Handler())
	t.Cleanup(ui.Close)
	download := browsertest.Downloads(t, ctx)
	do, wait := func(step string, a ...chromedp.Action[chromedp.Void]) { t.Helper(); browsertest.Do(t, ctx, step, a...) },
		func(what, expr string) { t.Helper(); browsertest.WaitFor(t, ctx, what, expr) }

	// 1. Open the page: the start dialog is shown, pre-filled.
	do("open page", chromedp.Navigate(ui.URL), chromedp.WaitVisible(chromedp.ID("swarm-form")))

	// 2. A bad value gives a clear message and starts nothing.
	do("bad users", chromedp.SetValue(chromedp.ID("user_count"), "lots"), chromedp.SetValue(chromedp.ID("host"), tgt.URL),
		chromedp.Click(chromedp.ID("btn-swarm")), chromedp.WaitVisible(chromedp.ID("swarm-error")))
	if msg := browsertest.Text(t, ctx, "#swarm-error"); !strings.Contains(msg, "Number of users must be a whole number") {
		t.Fatalf("error message %q", msg)
	}
	if lr.State() != "ready" {
		t.Fatalf("a refused form started the runner (state %s)", lr.State())
	}
	browsertest.Screenshot(t, ctx, "webui-start-error.png")

	// 3. Start a swarm against the loopback target.
	do("start", chromedp.SetValue(chromedp.ID("user_count"), "5"), chromedp.SetValue(chromedp.ID("spawn_rate"), "5"),
		chromedp.Click(chromedp.ID("btn-swarm")), chromedp.WaitNotVisible(chromedp.ID("start")))

	// 4. The table fills and keeps counting.
	const totalCount = "#stats-table tr.total td:nth-child(3)"
	wait("requests in the table", `(() => { const c = document.querySelector("`+totalCount+`");
		return c !== null && Number(c.textContent) > 0; })()`)
	first := browsertest.Text(t, ctx, totalCount)
	wait("the table to update", `Number(document.querySelector("`+totalCount+`").textContent) > `+first)
	wait("running state", `document.getElementById("st-state").textContent === "running"`)
	if name := browsertest.Text(t, ctx, "#stats-table tbody tr td.name"); name != "/api/v1/ml/sync/predict" {
		t.Fatalf("first row name %q", name)
	}

	// 5. The charts tab draws, and the RPS chart changes on a later poll.
	do("charts tab", chromedp.Click(chromedp.CSS(`a[data-tab="charts"]`)), chromedp.WaitVisible(chromedp.ID("chart-rps")))
	browsertest.ChartsDrawn(t, ctx, "chart-rps", "chart-rt", "chart-users")
	const rpsLine = `document.querySelector('#chart-rps path[data-series="rps"]').getAttribute("d")`
	d0 := browsertest.Eval(t, ctx, rpsLine)
	wait("the RPS chart to update", rpsLine+` !== `+browsertest.JSString(d0))
	browsertest.Screenshot(t, ctx, "webui-charts.png")
	do("stats tab", chromedp.Click(chromedp.CSS(`a[data-tab="stats"]`)), chromedp.WaitVisible(chromedp.ID("stats-table")))
	browsertest.Screenshot(t, ctx, "webui-stats.png")

	// The failures tab lists the 500s, with the error text as received.
	do("failures tab", chromedp.Click(chromedp.CSS(`a[data-tab="failures"]`)), chromedp.WaitVisible(chromedp.ID("failures-table")))
	wait("a failure row", `(() => { const c = document.querySelector("#failures-table tbody td.err");
		return c !== null && c.textContent.startsWith("HTTPError('500 Internal Server Error for url: /api/v1/ml/sync/predict')"); })()`)
	browsertest.Screenshot(t, ctx, "webui-failures.png")

	// 6. Edit the user count of the running test.
	do("edit", chromedp.Click(chromedp.ID("btn-edit")), chromedp.WaitVisible(chromedp.ID("edit-form")),
		chromedp.SetValue(chromedp.ID("edit_user_count"), "8"), chromedp.Click(chromedp.ID("btn-edit-go")),
		chromedp.WaitNotVisible(chromedp.ID("edit")))
	wait("8 users", `document.getElementById("st-users").textContent === "8"`)

	// The Current ratio tab shows /tasks as Locust's tasks.js does and
	// follows the running users: 8 ApiSyncUser and 4 Mixed users.
	do("ratio tab", chromedp.Click(chromedp.CSS(`a[data-tab="ratio"]`)), chromedp.WaitVisible(chromedp.ID("ratio-total")))
	const ratioRows = `Array.from(document.querySelectorAll("#ratio-total tr")).map(r => r.className + " " +
		Array.from(r.cells).slice(0, 2).map(c => c.textContent).join(" ")).join("|")`
	const wantRatio = "class ApiSyncUser 66.7%|task predict 66.7%|class ApiUser 0.0%|class Mixed 33.3%|task GET /items 25.0%|task search 8.3%" // sorted as Flask sorts the keys
	wait("the total ratios", ratioRows+` === "`+wantRatio+`"`)
	if got := browsertest.Text(t, ctx, `#ratio-per-class tr.task:nth-child(5) td.pct`); got != "75.0%" {
		t.Errorf("per-class ratio of GET /items = %q, want 75.0%%", got)
	}
	browsertest.Screenshot(t, ctx, "webui-ratio.png")

	// 7. Stop.
	do("stop", chromedp.Click(chromedp.ID("btn-stop")))
	wait("stopped state", `document.getElementById("st-state").textContent === "stopped"`)
	do("new test link", chromedp.WaitVisible(chromedp.ID("btn-new")))
	// With no user running, the ratio tab (still refreshed every second)
	// shows every class at 0%, as Locust's.
	wait("the ratios at 0 after the stop", `document.querySelector("#ratio-total tr.class td.pct").textContent === "0.0%"`)

	// 8. Download the requests CSV through the page's link.
	do("download tab", chromedp.Click(chromedp.CSS(`a[data-tab="download"]`)), chromedp.WaitVisible(chromedp.ID("dl-stats")),
		chromedp.Click(chromedp.ID("dl-stats")))
	got := download()
	if !bytes.HasPrefix(got, []byte("Type,Name,Request Count,")) || !bytes.Contains(got, []byte("\r\n,Aggregated,")) {
		t.Errorf("downloaded CSV:\n%s", got)
	}
}

func TestBrowserReportOffline(t *testing.T) {
	ctx := browsertest.New(t)
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.Write(f, fixtureReport()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	requests := browsertest.Offline(t, ctx)
	browsertest.Do(t, ctx, "open report", chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.ID("chart-rps")))
	browsertest.ChartsDrawn(t, ctx, "chart-rps", "chart-rt", "chart-users", "chart-check")
	if got := browsertest.Text(t, ctx, `#tasks .ratio:last-child tr.task td.pct`); got != "66.7%" {
		t.Errorf("Final ratio: total of predict = %q, want 66.7%%", got)
	}
	browsertest.Screenshot(t, ctx, "report.png") // the whole page, Final ratio at the end
	if r := requests(); len(r) > 0 {
		t.Errorf("the report fetched from the network: %v", r)
	}
}

// fixtureReport is a report with every section, from the real stats engine.
func fixtureReport() *report.Data {
	t0 := time.Unix(1795761380, 0)
	now := t0
	st := stats.New(func() time.Time { return now })
	for sec := 0; sec < 60; sec++ {
		for i := 0; i < 20; i++ {
			start := t0.Add(time.Duration(sec)*time.Second + time.Duration(i)*50*time.Millisecond)
			rt := time.Duration(40+i+sec/3) * time.Millisecond
			r := stats.Result{Method: "POST", Name: "/api/v1/ml/sync/predict", Start: start,
				Intended: start.Add(-time.Duration(sec*i/4) * time.Millisecond), ResponseTime: rt, ContentLength: 51}
			if i == 19 && sec%4 == 0 {
				r.Err = "HTTPError('500 Server Error: INTERNAL SERVER ERROR for url: /api/v1/ml/sync/predict')"
			}
			st.Record(r)
		}
		now = t0.Add(time.Duration(sec+1) * time.Second)
		st.Tick(now, 20)
	}
	check := &report.SelfCheck{Valid: true, MaxCPUPercent: 14.5, MaxScheduleLagMs: 1.2}
	for sec := 0; sec < 60; sec++ {
		check.Timeline = append(check.Timeline, report.CheckPoint{Time: t0.Add(time.Duration(sec+1) * time.Second), Users: 20,
			CPUPercent: 10 + float64(sec%7), MaxLagMs: 0.2 + float64(sec%5)/5})
	}
	ratios := ratio.Compute([]ratio.Class{
		{Name: "ApiUser", Weight: 1},
		{Name: "ApiSyncUser", Weight: 1, Tasks: []ratio.Task{{Name: "predict", Weight: 1}}},
		{Name: "Mixed", Weight: 1, Tasks: []ratio.Task{{Name: "GET /items", Weight: 3}, {Name: "search", Weight: 1}}},
	}, map[string]int{"ApiSyncUser": 20, "Mixed": 10})
	return report.FromSnapshot(st.Snapshot(), report.Info{Host: "http://127.0.0.1:5001", UserClasses: []string{"ApiSyncUser"},
		Users: 20, SpawnRate: 20, RunTime: time.Minute, Version: "test", Ratios: ratios}, check)
}

// TestBrowserCrossSitePage opens, in a real browser, a page of another site
// (http://localhost:P, cross-site to the UI at http://127.0.0.1:Q) that
// auto-submits Locust's start form to the UI and loads /stop and
// /stats/reset as images, as the review's attack does. The UI sees the
// three requests and acts on none of them.
func TestBrowserCrossSitePage(t *testing.T) {
	ctx := browsertest.New(t)
	srv, fr := newTestServer(t, nil)
	var mu sync.Mutex
	seen := map[string]int{}
	all := make(chan struct{})
	var once sync.Once
	ui := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.Handler().ServeHTTP(w, r)
		mu.Lock()
		seen[r.URL.Path]++
		done := seen["/swarm"] > 0 && seen["/stop"] > 0 && seen["/stats/reset"] > 0
		mu.Unlock()
		if done {
			once.Do(func() { close(all) })
		}
	}))
	t.Cleanup(ui.Close)
	page := `<!doctype html><title>cats</title>
<img src="` + ui.URL + `/stop"><img src="` + ui.URL + `/stats/reset">
<form id="f" method="post" action="` + ui.URL + `/swarm">
<input name="user_count" value="1000"><input name="spawn_rate" value="1000"><input name="host" value="http://127.0.0.1:9">
</form>
<script>window.addEventListener("load", function () { document.getElementById("f").submit(); });</script>`
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	browsertest.Do(t, ctx, "open the other site's page", chromedp.Navigate(evilURL))
	select {
	case <-all:
	case <-ctx.Done():
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the browser did not send the three requests: %v", seen)
	}
	fr.mu.Lock()
	defer fr.mu.Unlock()
	if len(fr.starts) != 0 || fr.stops != 0 || fr.resets != 0 {
		t.Fatalf("a cross-site page drove the UI: starts %v, %d stops, %d resets", fr.starts, fr.stops, fr.resets)
	}
}

// TestBrowserWorkersTab shows a master's Workers tab as Locust's (id, state,
// users, CPU, memory), fed by /stats/requests' workers list and following
// it: a worker that goes missing turns red and leaves the header's count.
// A single process's page has neither the tab nor the count.
func TestBrowserWorkersTab(t *testing.T) {
	ctx := browsertest.New(t)
	var missing atomic.Bool
	srv, fr := newTestServer(t, func(o *Options) {
		o.Workers = func() []Worker {
			b := Worker{ID: "vm-b_9f2c", State: "running", UserCount: 50, CPUUsage: 93.5, MemoryUsage: 48 << 20}
			if missing.Load() {
				b.State = "missing"
			}
			return []Worker{{ID: "vm-a_31d0", State: "running", UserCount: 50, CPUUsage: 12.25, MemoryUsage: 52428800}, b}
		}
	})
	fr.mu.Lock()
	fr.state, fr.users = "running", 100
	fr.mu.Unlock()
	ui := httptest.NewServer(srv.Handler())
	t.Cleanup(ui.Close)
	do, wait := func(step string, a ...chromedp.Action[chromedp.Void]) { t.Helper(); browsertest.Do(t, ctx, step, a...) },
		func(what, expr string) { t.Helper(); browsertest.WaitFor(t, ctx, what, expr) }

	do("open page", chromedp.Navigate(ui.URL), chromedp.WaitVisible(chromedp.ID("stats-table")))
	do("workers tab", chromedp.Click(chromedp.CSS(`a[data-tab="workers"]`)), chromedp.WaitVisible(chromedp.ID("workers-table")))
	const rows = `Array.from(document.querySelectorAll("#workers-table tbody tr")).map(r => r.className + ":" +
		Array.from(r.cells).map(c => c.textContent).join(",")).join("|")`
	wait("two workers", rows+` === ":vm-a_31d0,running,50,12.3%,50 MB|:vm-b_9f2c,running,50,93.5%,48 MB"`)
	if got := browsertest.Text(t, ctx, "#st-workers"); got != "2" {
		t.Errorf("header workers = %q, want 2", got)
	}
	if got := browsertest.Eval(t, ctx, `document.querySelector("#workers-table tbody tr:nth-child(2) td:nth-child(4)").className`); got != "hot" {
		t.Errorf("a worker above 90%% CPU is not flagged: class %q", got)
	}
	browsertest.Screenshot(t, ctx, "webui-workers.png")

	missing.Store(true)
	wait("the missing worker", rows+` === ":vm-a_31d0,running,50,12.3%,50 MB|missing:vm-b_9f2c,missing,50,93.5%,48 MB"`)
	wait("one live worker in the header", `document.getElementById("st-workers").textContent === "1"`)
	browsertest.Screenshot(t, ctx, "webui-workers-missing.png")

	single, _ := newTestServer(t, nil)
	ui1 := httptest.NewServer(single.Handler())
	t.Cleanup(ui1.Close)
	do("open a single process's page", chromedp.Navigate(ui1.URL), chromedp.WaitVisible(chromedp.ID("swarm-form")))
	if got := browsertest.Eval(t, ctx, `String(document.querySelector('a[data-tab="workers"]') === null && document.getElementById("st-workers") === null)`); got != "true" {
		t.Error("a single process's page has a Workers tab or count")
	}
}
