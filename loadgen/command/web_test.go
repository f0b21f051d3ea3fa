package command

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"predictlab/internal/cli"
	"predictlab/loadgen/internal/browsertest"
)

// End-to-end tests of the whole command with its web UI and --html report,
// driven in headless Chromium (skipped without a browser, except under CI).

// predictTarget is a loopback stand-in for the model service.
func predictTarget(t *testing.T) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(3 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"detail":0.042}`)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// logWatch is a concurrency-safe stderr that reports the web UI's address.
type logWatch struct {
	url chan string // receives the address once; never reassigned

	mu   sync.Mutex
	buf  bytes.Buffer
	sent bool
}

var webLine = regexp.MustCompile(`Starting web interface at (http://\S+)`)

func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	before := w.buf.Len()
	w.buf.Write(p)
	if m := webLine.FindSubmatch(w.buf.Bytes()[max(0, before-200):]); m != nil && !w.sent {
		w.url <- string(m[1]) // buffered, sent once
		w.sent = true
	}
	return len(p), nil
}

func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// startLoadgen runs the command in the background; stop it with the
// returned func (as Ctrl-C would), which returns run's error.
func startLoadgen(t *testing.T, args ...string) (*logWatch, func() error) {
	t.Helper()
	stderr := &logWatch{url: make(chan string, 1)}
	ctx, cancel := context.WithCancelCause(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, args, io.Discard, stderr) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel(&cli.SignalError{Signal: os.Interrupt})
			runErr = <-errc
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return stderr, stop
}

func TestWebUIEndToEnd(t *testing.T) {
	ctx := browsertest.New(t)
	tgt := predictTarget(t)
	dir := t.TempDir()
	html := filepath.Join(dir, "web_{u}.html")
	logs, stop := startLoadgen(t, "--host", tgt.URL, "--web-port", "0", "-u", "6", "-r", "6",
		"--html", html, "--csv", filepath.Join(dir, "web"), "ApiSyncUser")
	var url string
	select {
	case url = <-logs.url:
	case <-ctx.Done():
		t.Fatalf("the web UI did not start:\n%s", logs)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("the web UI must listen on 127.0.0.1 by default, got %s", url)
	}
	download := browsertest.Downloads(t, ctx)
	do := func(step string, a ...chromedp.Action[chromedp.Void]) { t.Helper(); browsertest.Do(t, ctx, step, a...) }

	do("open page", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("swarm-form")))
	if v := browsertest.Eval(t, ctx, `document.getElementById("host").value`); v != tgt.URL {
		t.Errorf("host field pre-filled with %q, want %q", v, tgt.URL)
	}
	do("start", chromedp.Click(chromedp.ID("btn-swarm")), chromedp.WaitNotVisible(chromedp.ID("start")))
	browsertest.WaitFor(t, ctx, "requests in the table", `(() => {
		const c = document.querySelector("#stats-table tr.total td:nth-child(3)");
		return c !== null && Number(c.textContent) > 20; })()`)
	browsertest.WaitFor(t, ctx, "6 running users", `document.getElementById("st-users").textContent === "6" &&
		document.getElementById("st-state").textContent === "running"`)
	do("charts tab", chromedp.Click(chromedp.CSS(`a[data-tab="charts"]`)), chromedp.WaitVisible(chromedp.ID("chart-rps")))
	browsertest.ChartsDrawn(t, ctx, "chart-rps", "chart-rt", "chart-users", "chart-check")
	browsertest.WaitFor(t, ctx, "a self-check verdict", `document.getElementById("verdict").className !== "verdict unknown"`)
	browsertest.Screenshot(t, ctx, "loadgen-webui-charts.png")
	do("stats tab", chromedp.Click(chromedp.CSS(`a[data-tab="stats"]`)))
	browsertest.Screenshot(t, ctx, "loadgen-webui-stats.png")
	// Current ratio: from the running users (ApiSyncUser only); the
	// built-in task is named predict, as in benchmark.py.
	do("ratio tab", chromedp.Click(chromedp.CSS(`a[data-tab="ratio"]`)), chromedp.WaitVisible(chromedp.ID("ratio-total")))
	browsertest.WaitFor(t, ctx, "the current ratio", `Array.from(document.querySelectorAll("#ratio-total tr")).map(r =>
		Array.from(r.cells).slice(0, 2).map(c => c.textContent).join(" ")).join("|") === "ApiSyncUser 100.0%|predict 100.0%"`)

	do("stop", chromedp.Click(chromedp.ID("btn-stop")))
	browsertest.WaitFor(t, ctx, "stopped state", `document.getElementById("st-state").textContent === "stopped"`)
	do("download", chromedp.Click(chromedp.CSS(`a[data-tab="download"]`)), chromedp.WaitVisible(chromedp.ID("dl-failures")),
		chromedp.Click(chromedp.ID("dl-stats")))
	csv := download()
	if !bytes.Contains(csv, []byte("POST,/api/v1/ml/sync/predict,")) {
		t.Errorf("downloaded CSV:\n%s", csv)
	}

	// Ctrl-C: the process writes its report and exits cleanly.
	if err := stop(); err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	path := filepath.Join(dir, "web_6.html")
	if !strings.Contains(logs.String(), "writing html report to file: "+path) {
		t.Errorf("no report log line:\n%s", logs)
	}
	openReport(t, ctx, path, "loadgen-web-report.png")
	// The report's Final ratio is from the users at the stop, not 0.
	if b, err := os.ReadFile(path); err != nil || !bytes.Contains(b, []byte(`<td class="name">ApiSyncUser</td><td class="pct">100.0%</td>`)) {
		t.Errorf("the report's Final ratio does not show the users at the stop (%v)", err)
	}
}

func TestHeadlessHTMLReport(t *testing.T) {
	ctx := browsertest.New(t)
	tgt := predictTarget(t)
	path := filepath.Join(t.TempDir(), "headless.html")
	var stderr bytes.Buffer
	err := Run(context.Background(), []string{"--host", tgt.URL, "--headless", "-u", "4", "-r", "4", "-t", "5s",
		"--only-summary", "--html", path, "ApiSyncUser"}, io.Discard, &syncBuffer{b: &stderr})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	openReport(t, ctx, path, "loadgen-headless-report.png")
}

// openReport opens an --html report with the network blocked and checks its
// charts are drawn.
func openReport(t *testing.T, ctx context.Context, path, shot string) {
	t.Helper()
	requests := browsertest.Offline(t, ctx)
	browsertest.Do(t, ctx, "open report", chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.ID("chart-rps")))
	browsertest.ChartsDrawn(t, ctx, "chart-rps", "chart-rt", "chart-users", "chart-check")
	if n := browsertest.Eval(t, ctx, `document.querySelector("tr.total td:nth-child(3)").textContent`); n == "0" {
		t.Error("the report counts no requests")
	}
	browsertest.Screenshot(t, ctx, shot)
	if r := requests(); len(r) > 0 {
		t.Errorf("the report fetched from the network: %v", r)
	}
}

// syncBuffer serialises writes from the run's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// TestAutostartAutoquit: --autostart starts the test at once, the run-time
// limit stops it, and --autoquit 0 ends the process, which writes its report.
func TestAutostartAutoquit(t *testing.T) {
	tgt := predictTarget(t)
	path := filepath.Join(t.TempDir(), "auto.html")
	stderr := &logWatch{url: make(chan string, 1)}
	err := Run(context.Background(), []string{"--host", tgt.URL, "--web-port", "0", "--autostart", "--autoquit", "0",
		"-u", "2", "-r", "2", "-t", "2s", "--html", path, "ApiSyncUser"}, io.Discard, stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	logs := stderr.String()
	for _, want := range []string{"Starting web interface at http://127.0.0.1:", "--run-time limit reached, stopping test",
		"--autoquit time reached, shutting down", "writing html report to file: " + path, "Shutting down (exit code 0)"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
}

func TestWebModeConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"auth without a colon", []string{"--host", "http://127.0.0.1:1", "--web-port", "0", "--web-auth", "nouser"},
			"/ERROR/locust.main: Credentials supplied with --web-auth should have the format: username:password\n"},
		{"auth without a user", []string{"--host", "http://127.0.0.1:1", "--web-port", "0", "--web-auth", ":nouser"},
			"/ERROR/locust.main: Credentials supplied with --web-auth should have the format: username:password\n"},
		{"autostart needs a host", []string{"--web-port", "0", "--autostart"}, "You must specify the base host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			err := Run(context.Background(), tc.args, io.Discard, &syncBuffer{b: &stderr})
			if exitCode(err, io.Discard) != 1 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("err %v, stderr:\n%s", err, stderr.String())
			}
		})
	}
}
