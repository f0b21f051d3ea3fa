// Package browsertest starts headless Chromium (Debian's chromium package)
// for tests, through github.com/chromedp/chromedp, and offers the few steps
// loadgen's browser tests share. It is for tests only.
//
// Without a browser, New skips the test with a clear message, except under
// CI (CI=true), where it fails. With -short it skips (browser tests take
// seconds each; make test runs them). Screenshots go to the test's temp dir, and
// also to $PREDICTLAB_SCREENSHOTS when set (so a developer can look at
// them). Nothing here waits on elapsed time: every wait is for a condition,
// bounded by one generous deadline per browser.
package browsertest

import (
	"context"
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
)

// Deadline bounds everything one browser does in a test.
const Deadline = 120 * time.Second

// ChromiumPath finds the browser ($CHROMIUM, /usr/bin/chromium, or on
// PATH), or skips the test (fails it under CI=true).
func ChromiumPath(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode (it starts Chromium)")
	}
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found (install Debian's chromium: apt-get install -y chromium); CI must run the browser tests")
	}
	t.Skip("skipping the browser test: no Chromium installed (apt-get install -y chromium)")
	return ""
}

// New starts headless Chromium with a fresh profile and returns its tab's
// context. The browser is stopped when the test ends.
func New(t testing.TB) context.Context {
	t.Helper()
	path := ChromiumPath(t)
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
	ctx, cancelTimeout := context.WithTimeout(context.Background(), Deadline)
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

// Do runs actions or fails the test with the step's name.
func Do(t testing.TB, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// Text returns the text of the first node matching the CSS selector.
func Text(t testing.TB, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read text of %s: %v", css, err)
	}
	return s
}

// Eval evaluates a JavaScript expression returning a string.
func Eval(t testing.TB, ctx context.Context, expr string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// WaitFor polls the JavaScript expression until it is true (within the
// browser's deadline).
func WaitFor(t testing.TB, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(0))); err != nil {
		t.Fatalf("wait for %s: %v", what, err)
	}
}

// Screenshot saves a full-page PNG as name.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
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

// Downloads lets the browser download into a new temp dir and returns a
// func that waits for the next completed download and returns its content
// (failing the test if ctx ends first).
func Downloads(t testing.TB, ctx context.Context) func() []byte {
	t.Helper()
	dir := t.TempDir()
	done := make(chan string, 8)
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
	on := true
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	return func() []byte {
		t.Helper()
		var guid string
		select {
		case guid = <-done:
		case <-ctx.Done():
			t.Fatal("the download did not complete")
		}
		b, err := os.ReadFile(filepath.Join(dir, guid))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// Offline blocks every http(s) request of the tab and returns a func that
// lists the non-file requests the page tried to make.
func Offline(t testing.TB, ctx context.Context) func() []string {
	t.Helper()
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
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), requests...)
	}
}

// ChartsDrawn waits until each chart container (by element id) holds an SVG
// line of some length.
func ChartsDrawn(t testing.TB, ctx context.Context, ids ...string) {
	t.Helper()
	for _, id := range ids {
		WaitFor(t, ctx, "chart "+id, `(() => { const p = document.querySelector("#`+id+` svg path.plchart-line");
			return p !== null && p.getTotalLength() > 10; })()`)
	}
}

// JSString quotes s as a JavaScript string literal.
func JSString(s string) string {
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
