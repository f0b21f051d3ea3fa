package command

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"predictlab/internal/locustcsv"
)

// buildLoadgen builds the loadgen program into a temp dir, for tests that need a
// real process (signals, broken pipes).
func buildLoadgen(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "loadgen")
	cmd := exec.Command("go", "build", "-o", bin, "predictlab/loadgen")
	cmd.Env = append(os.Environ(), "HOME="+origHome) // the go command's caches live there
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSignalWithClosedPipe is the review's R5: `loadgen … 2>&1 | tee log`
// and Ctrl-C kills tee first, so loadgen's stdout and stderr are a pipe
// nobody reads. Its next log line must not kill it (SIGPIPE): it still
// writes complete CSV and HTML files. SIGHUP (a closed terminal) stops it
// like SIGTERM.
func TestSignalWithClosedPipe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the loadgen binary")
	}
	t.Parallel()
	bin := buildLoadgen(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"detail": 0.5}`))
	}))
	t.Cleanup(srv.Close) // after the parallel subtests, unlike a defer
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGHUP, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			prefix, html := filepath.Join(dir, "run"), filepath.Join(dir, "run.html")
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "-H", srv.URL, "--headless", "-u", "2", "-r", "2", "--csv", prefix,
				"--html", html, "--json", "ApiSyncUser")
			cmd.Env = append(os.Environ(), "HOME="+dir)
			cmd.Dir = dir
			cmd.Stdout, cmd.Stderr = pw, pw
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			pr.Close() // tee is gone: every later write gets EPIPE
			defer cmd.Process.Kill()
			// Wait until requests are counted in the history file.
			deadline := time.Now().Add(60 * time.Second)
			for {
				b, _ := os.ReadFile(prefix + "_stats_history.csv")
				if strings.Count(string(b), "\n") >= 3 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no history rows; the process may have died: %s", b)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if err != nil && errors.As(err, &ee) && ee.ProcessState.Sys().(syscall.WaitStatus).Signaled() {
				t.Fatalf("killed by %v after the pipe closed", ee.ProcessState.Sys().(syscall.WaitStatus).Signal())
			}
			if err != nil {
				t.Fatalf("exit: %v", err)
			}
			f, err := os.Open(prefix + "_stats.csv")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := locustcsv.ReadStats(f)
			if err != nil || len(rows) != 2 || rows[1].Name != "Aggregated" || rows[1].RequestCount == 0 {
				t.Fatalf("final stats %+v, %v", rows, err)
			}
			if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), "</html>") {
				t.Fatalf("HTML report: %v", err)
			}
		})
	}
}
