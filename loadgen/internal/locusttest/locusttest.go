// Package locusttest helps tests that run loadgen's distributed mode against
// Debian's real Locust 2.12.1 (python3-locust): it finds free ports, starts
// `locust --master` as a child process that the test's cleanup stops, and
// serves a stub target that counts requests. Only tests import it.
package locusttest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Locustfile is the seed's benchmark.py (the classes loadgen has built in),
// the master's locustfile.
func Locustfile() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "ratio", "testdata", "locust", "benchmark.py")
}

// RequireLocust skips t, with one line, under -short or when Debian's
// locust is not on PATH.
func RequireLocust(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a real Locust master for tens of seconds: skipped with -short")
	}
	p, err := exec.LookPath("locust")
	if err != nil {
		t.Skip("locust (Debian's python3-locust 2.12.1) is not installed")
	}
	return p
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Buffer is an io.Writer safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Master is a running `locust --master`.
type Master struct {
	Cmd *exec.Cmd
	// Out holds its stdout and stderr (console tables and log lines).
	Out  *Buffer
	Port int
	done chan struct{}
	err  error
	// Exited is when the process ended (valid after Wait).
	Exited time.Time
}

// StartMaster runs locust with -f Locustfile() --master on 127.0.0.1:port
// and the extra args. The test's cleanup kills it if it is still running.
func StartMaster(t testing.TB, port int, args ...string) *Master {
	t.Helper()
	locust := RequireLocust(t)
	full := append([]string{"-f", Locustfile(), "--master", "--master-bind-host", "127.0.0.1",
		"--master-bind-port", strconv.Itoa(port)}, args...)
	cmd := exec.Command(locust, full...)
	m := &Master{Cmd: cmd, Out: &Buffer{}, Port: port, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = m.Out, m.Out
	cmd.Env = append(cmd.Environ(), "PYTHONUNBUFFERED=1")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start locust master: %v", err)
	}
	go func() {
		m.err = cmd.Wait()
		m.Exited = time.Now()
		close(m.done)
	}()
	t.Cleanup(func() {
		select {
		case <-m.done:
		default:
			cmd.Process.Kill()
			<-m.done
		}
	})
	return m
}

// Wait waits up to d for the master to exit and returns its exit code.
func (m *Master) Wait(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-m.done:
	case <-time.After(d):
		t.Fatalf("locust master still running after %s; output:\n%s", d, m.Out)
	}
	if ee, ok := m.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if m.err != nil {
		t.Fatalf("locust master: %v", m.err)
	}
	return 0
}

// Kill sends SIGKILL and waits for the process to end.
func (m *Master) Kill() {
	m.Cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

// WaitFor waits up to d for the master's output to match re.
func (m *Master) WaitFor(t testing.TB, re string, d time.Duration) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for !rx.MatchString(m.Out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the master's output after %s:\n%s", re, d, m.Out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Row is one row of Locust's console stats table.
type Row struct {
	Method, Name    string
	Requests, Fails int64
}

var rowRE = regexp.MustCompile(`(?m)^(\S*) +(\S+) +(\d+) +(\d+)\(\d+\.\d+%\) +\|`)

// FinalTable returns the rows of the last stats table in out (Locust prints
// the final one at shutdown), keyed by "METHOD name" ("Aggregated" for the
// total).
func FinalTable(out string) (map[string]Row, error) {
	i := strings.LastIndex(out, "# reqs      # fails")
	if i < 0 {
		return nil, fmt.Errorf("no stats table in the output")
	}
	rows := map[string]Row{}
	for _, m := range rowRE.FindAllStringSubmatch(out[i:], -1) {
		r := Row{Method: m[1], Name: m[2]}
		r.Requests, _ = strconv.ParseInt(m[3], 10, 64)
		r.Fails, _ = strconv.ParseInt(m[4], 10, 64)
		k := r.Name
		if r.Method != "" {
			k = r.Method + " " + r.Name
		}
		if _, dup := rows[k]; !dup { // the first table after the index: the request stats
			rows[k] = r
		}
		if r.Name == "Aggregated" {
			break
		}
	}
	if _, ok := rows["Aggregated"]; !ok {
		return nil, fmt.Errorf("no Aggregated row in the last stats table")
	}
	return rows, nil
}

// Target is a stub HTTP target answering after a fixed delay and counting
// requests per path.
type Target struct {
	*httptest.Server
	mu    sync.Mutex
	paths map[string]int64
	total atomic.Int64
	last  atomic.Int64 // Unix ns of the latest request's arrival
}

// NewTarget starts a stub that answers every request after delay.
func NewTarget(t testing.TB, delay time.Duration) *Target {
	t.Helper()
	tg := &Target{paths: map[string]int64{}}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.total.Add(1)
		tg.last.Store(time.Now().UnixNano())
		tg.mu.Lock()
		tg.paths[r.URL.Path]++
		tg.mu.Unlock()
		timer := time.NewTimer(delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"detail": 1.0}`))
	}))
	t.Cleanup(tg.Close)
	return tg
}

// Count is the number of requests seen, in total and for path.
func (tg *Target) Count(path string) (total, onPath int64) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.total.Load(), tg.paths[path]
}

// Last is when the latest request arrived (zero if none).
func (tg *Target) Last() time.Time {
	if ns := tg.last.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// WithTimeout is context.WithTimeout for tests: cancelled at cleanup.
func WithTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
