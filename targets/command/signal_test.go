package command

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"predictlab/internal/cli"
	"predictlab/internal/targetsapi"
	"predictlab/internal/testutil"
)

// runMainEnv makes the test binary run what targets' main runs instead of the tests, so
// the signal tests drive the real program in a child process without a build step.
const runMainEnv = "PREDICTLAB_TARGETS_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Args = append([]string{"targets"}, strings.Fields(os.Getenv(runMainEnv+"_ARGS"))...)
		SetUpProcess()
		cli.Main("targets", Run)
		return
	}
	os.Exit(m.Run())
}

// startMain runs targets with args in a child process (the test binary itself).
func startMain(t *testing.T, args ...string) *testutil.Process {
	t.Helper()
	return testutil.Start(t, "targets", []string{os.Args[0], "-test.run=^$"},
		runMainEnv+"=1", runMainEnv+"_ARGS="+strings.Join(args, " "))
}

// exitCode waits (boundedly) for p to exit and returns its exit code.
func exitCode(t *testing.T, p *testutil.Process, within time.Duration) int {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(within):
		t.Fatalf("targets still running %s later; output:\n%s", within, p.Output())
	}
	var ee *exec.ExitError
	if err := p.Err(); errors.As(err, &ee) {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return 0
}

// A second Ctrl-C exits at once, even while requests that would hold the drain
// for 25 s are in flight (before: it was swallowed and the drain ran to the end).
func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	port := testutil.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	p := startMain(t, "model", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--workers", "1", "--model-delay", "25s", "--log-level", "warn")
	testutil.WaitHealthy(t, base+targetsapi.HealthPath, 10*time.Second, p.Done())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for range 3 {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+targetsapi.Sync.PredictPath(), strings.NewReader("[1]"))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond) // let the requests arrive
	if err := p.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
		t.Fatalf("exited on the first signal with requests in flight (want a drain); output:\n%s", p.Output())
	case <-time.After(500 * time.Millisecond):
	}
	if err := p.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, p, 10*time.Second); code != cli.ExitInterrupted {
		t.Fatalf("exit code %d after the second signal, want %d; output:\n%s", code, cli.ExitInterrupted, p.Output())
	}
}

// One SIGTERM (or SIGHUP) with nothing in flight drains and exits 0; a bad flag
// exits 2 with one line; --version prints the version line.
func TestSignalDrainsAndExitsZero(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			ports := testutil.FreePorts(t, 5)
			p := startMain(t, allArgs(ports)...)
			testutil.WaitHealthy(t, fmt.Sprintf("http://127.0.0.1:%d%s", ports[3], targetsapi.HealthPath), 10*time.Second, p.Done())
			if err := p.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := exitCode(t, p, 20*time.Second); code != 0 {
				t.Fatalf("exit code %d, want 0; output:\n%s", code, p.Output())
			}
		})
	}
	t.Run("usage", func(t *testing.T) {
		t.Parallel()
		p := startMain(t, "model", "--style", "threads")
		if code := exitCode(t, p, 10*time.Second); code != 2 || strings.Count(p.Output(), "\n") != 1 {
			t.Fatalf("bad flag: exit %d, output %q, want 2 and one line", code, p.Output())
		}
	})
	t.Run("version", func(t *testing.T) {
		t.Parallel()
		p := startMain(t, "--version")
		if code := exitCode(t, p, 10*time.Second); code != 0 || !strings.HasPrefix(p.Output(), cli.VersionLine("targets")) {
			t.Fatalf("--version: exit %d, output %q, want %q", code, p.Output(), cli.VersionLine("targets"))
		}
	})
}
