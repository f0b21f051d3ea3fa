package webui

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/stats"
)

// This file drives the web UI and the HTML report in headless Chromium
// (Debian's chromium package). Without a browser the test skips, except
// under CI (CI=true), where it fails. Screenshots go to the test's temp dir,
// and also to $PREDICTLAB_SCREENSHOTS when that is set (to look at them).
// Nothing here asserts on elapsed time: every step waits for a condition,
// bounded by one generous overall deadline.

// chromiumPath finds the browser, or skips / fails the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found (install Debian's chromium: apt-get install -y chromium); CI must run the browser test")
	}
	t.Skip("skipping the browser test: no Chromium installed (apt-get install -y chromium)")
	return ""
}

// newBrowser starts headless Chromium for the test and stops it at cleanup.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 90*time.Second)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	if err := chromedp.Do(bctx); err != nil { // start the browser now
		t.Fatalf("start Chromium: %v", err)
	}
	return bctx
}

func saveShot(t *testing.T, name string, png []byte) {
	t.Helper()
	dirs := []string{t.TempDir()}
	if d := os.Getenv("PREDICTLAB_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot %s: %d bytes", name, len(png))
}

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
				res.Err = "HTTPError('" + resp.Status + "')"
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

// target is a loopback stand-in for the model service: ~5 ms, a JSON body.
func target(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(5 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"prediction":[0],"status":"OK"}`)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// csvLike is a minimal CSV writer for the test (the real one is csvout's).
type csvLike struct{ fakeCSV }

func TestBrowserWebUI(t *testing.T) {
	ctx := newBrowser(t)
	tgt := target(t)
	lr := newLoopRunner()
	t.Cleanup(lr.Stop)
	srv, err := New(Options{Users: 20, SpawnRate: 20, Runner: lr, CSV: csvLike{}, Version: "test",
		Report: func(s *stats.Snapshot) *report.Data {
			return report.FromSnapshot(s, report.Info{Host: tgt.URL, UserClasses: []string{"ApiSyncUser"}, Users: 20, SpawnRate: 20}, nil)
		}, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ui := httptest.NewServer(srv.Handler())
	t.Cleanup(ui.Close)

	// Downloads land in this directory; the browser reports their progress.
	dlDir := t.TempDir()
	done := make(chan string, 4)
	if err := chromedp.ListenBrowser(ctx, func(ev any) {
		if e, ok := ev.(*browser.EventDownloadProgress); ok && e.State == browser.DownloadProgressStateCompleted {
			select {
			case done <- e.GUID:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dlDir, EventsEnabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	poll := func(name, expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond),
			chromedp.WithPollingTimeout(0))); err != nil {
			t.Fatalf("wait for %s: %v", name, err)
		}
	}

	// 1. Open the page: the start dialog is shown, pre-filled.
	step("open page", chromedp.Navigate(ui.URL), chromedp.WaitVisible(chromedp.ID("swarm-form")))

	// 2. A bad value gives a clear message and starts nothing.
	step("bad users", chromedp.SetValue(chromedp.ID("user_count"), "lots"), chromedp.SetValue(chromedp.ID("host"), tgt.URL),
		chromedp.Click(chromedp.ID("btn-swarm")), chromedp.WaitVisible(chromedp.ID("swarm-error")))
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("swarm-error")))
	if err != nil || !strings.Contains(msg, "Number of users must be a whole number") {
		t.Fatalf("error message %q (%v)", msg, err)
	}
	if lr.State() != "ready" {
		t.Fatalf("a refused form started the runner (state %s)", lr.State())
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, "webui-start-error.png", shot)

	// 3. Start a swarm against the loopback target.
	step("start", chromedp.SetValue(chromedp.ID("user_count"), "5"), chromedp.SetValue(chromedp.ID("spawn_rate"), "5"),
		chromedp.Click(chromedp.ID("btn-swarm")), chromedp.WaitNotVisible(chromedp.ID("start")))

	// 4. The table fills and keeps counting.
	poll("requests in the table", `(() => { const c = document.querySelector("#stats-table tr.total td:nth-child(3)");
		return c !== null && Number(c.textContent) > 0; })()`)
	first, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#stats-table tr.total td:nth-child(3)")))
	if err != nil {
		t.Fatal(err)
	}
	poll("the table to update", `Number(document.querySelector("#stats-table tr.total td:nth-child(3)").textContent) > `+first)
	poll("running state", `document.getElementById("st-state").textContent === "running"`)
	name, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#stats-table tbody tr td.name")))
	if err != nil || name != "/api/v1/ml/sync/predict" {
		t.Fatalf("first row name %q (%v)", name, err)
	}

	// 5. The charts tab draws, and the RPS chart changes on a later poll.
	step("charts tab", chromedp.Click(chromedp.CSS(`a[data-tab="charts"]`)), chromedp.WaitVisible(chromedp.ID("chart-rps")))
	poll("an RPS line", `document.querySelector('#chart-rps path[data-series="rps"]') !== null`)
	d0, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#chart-rps path[data-series="rps"]').getAttribute("d")`))
	if err != nil {
		t.Fatal(err)
	}
	poll("the RPS chart to update", `document.querySelector('#chart-rps path[data-series="rps"]').getAttribute("d") !== `+jsString(d0))
	poll("a response time line", `document.querySelector('#chart-rt path[data-series="p50"]') !== null`)
	poll("a users line", `document.querySelector('#chart-users path[data-series="n"]') !== null`)
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, "webui-charts.png", shot)
	step("stats tab", chromedp.Click(chromedp.CSS(`a[data-tab="stats"]`)), chromedp.WaitVisible(chromedp.ID("stats-table")))
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, "webui-stats.png", shot)

	// 6. Edit the user count of the running test.
	step("edit", chromedp.Click(chromedp.ID("btn-edit")), chromedp.WaitVisible(chromedp.ID("edit-form")),
		chromedp.SetValue(chromedp.ID("edit_user_count"), "8"), chromedp.Click(chromedp.ID("btn-edit-go")),
		chromedp.WaitNotVisible(chromedp.ID("edit")))
	poll("8 users", `document.getElementById("st-users").textContent === "8"`)

	// 7. Stop.
	step("stop", chromedp.Click(chromedp.ID("btn-stop")))
	poll("stopped state", `document.getElementById("st-state").textContent === "stopped"`)
	step("new test link", chromedp.WaitVisible(chromedp.ID("btn-new")))

	// 8. Download the requests CSV through the page's link.
	step("download tab", chromedp.Click(chromedp.CSS(`a[data-tab="download"]`)), chromedp.WaitVisible(chromedp.ID("dl-stats")),
		chromedp.Click(chromedp.ID("dl-stats")))
	var guid string
	select {
	case guid = <-done:
	case <-ctx.Done():
		t.Fatal("the CSV download did not complete")
	}
	got, err := os.ReadFile(filepath.Join(dlDir, guid))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(",Aggregated,")) {
		t.Errorf("downloaded CSV:\n%s", got)
	}
}

func TestBrowserReportOffline(t *testing.T) {
	ctx := newBrowser(t)
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
	// Network disabled: block every http(s) URL, and record any request that
	// is not the file itself.
	var mu sync.Mutex
	var requests []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && !strings.HasPrefix(e.Request.URL, "file:") && !strings.HasPrefix(e.Request.URL, "data:") {
			mu.Lock()
			requests = append(requests, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{
		{URLPattern: "http://*:*/*", Block: true}, {URLPattern: "https://*:*/*", Block: true}}}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.ID("chart-rps"))); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"chart-rps", "chart-rt", "chart-users", "chart-check"} {
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#`+id+` svg path.plchart-line").length > 0 &&
			document.querySelector("#`+id+` svg path.plchart-line").getTotalLength() > 10`, chromedp.WithPollingTimeout(0))); err != nil {
			t.Fatalf("chart %s not drawn: %v", id, err)
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, "report.png", shot)
	mu.Lock()
	defer mu.Unlock()
	if len(requests) > 0 {
		t.Errorf("the report fetched from the network: %v", requests)
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
	return report.FromSnapshot(st.Snapshot(), report.Info{Host: "http://127.0.0.1:5001", UserClasses: []string{"ApiSyncUser"},
		Users: 20, SpawnRate: 20, RunTime: time.Minute, Version: "test"}, check)
}

func ptr[T any](v T) *T { return &v }

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
