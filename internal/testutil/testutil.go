// Package testutil holds the helpers the module's tests share: free loopback
// ports, waiting until a health URL answers 200, and child processes that are
// stopped (with their whole process group) when the test ends.
//
// It is for tests only: no program imports it.
package testutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// FreePorts returns n distinct loopback ports that were free a moment ago (each
// was bound to port 0 and closed again; another process could take one in
// between, which fails the test loudly rather than silently).
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	lns := make([]net.Listener, 0, n)
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		_ = ln.Close()
	}
	return ports
}

// FreePort returns one loopback port that was free a moment ago.
func FreePort(t testing.TB) int { return FreePorts(t, 1)[0] }

// ServicePorts returns n distinct loopback ports below the kernel's
// ephemeral range (32768 and up on Linux), each free a moment ago, for
// services a test starts as separate processes. FreePorts' ports come from
// the ephemeral range, where any outgoing connection of a test running in
// parallel may take one as its local port before the service binds it;
// these cannot be taken that way. They are picked at random, so parallel
// tests rarely pick the same one.
func ServicePorts(t testing.TB, n int) []int {
	t.Helper()
	seen := map[int]bool{}
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			t.Fatalf("service ports: no %d free ports found below 32768", n)
		}
		p := 20000 + rand.IntN(12000)
		if seen[p] {
			continue
		}
		seen[p] = true
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		_ = ln.Close()
		ports = append(ports, p)
	}
	return ports
}

// CheckHealth does one GET of url and returns nil iff it answered 200 within
// timeout.
func CheckHealth(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("check health: %w", err)
	}
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("check health: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("check health %s: status %d", url, resp.StatusCode)
	}
	return nil
}

// WaitHealthy polls url until it answers 200, for at most within; it fails the
// test when that does not happen, or at once when stopped (if not nil) is closed
// or receives, e.g. a process's Done or a run's error channel.
func WaitHealthy[T any](t testing.TB, url string, within time.Duration, stopped <-chan T) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last error
	for {
		select {
		case <-stopped:
			t.Fatalf("stopped before %s was healthy", url)
		default:
		}
		if last = CheckHealth(context.Background(), url, time.Second); last == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy after %s: %v", url, within, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Process is a child process started by Start. Its methods are safe for
// concurrent use.
type Process struct {
	Name string
	Cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{}
	err  error
}

// Start starts argv in a process group of its own, with env (KEY=value) added
// to the test's environment and its stdout and stderr captured (Output). When
// the test ends it stops the group (Stop with a 10 s grace) and logs the output
// if the test failed.
func Start(t testing.TB, name string, argv []string, env ...string) *Process {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	p := &Process{Name: name, Cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: start: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if err := p.Stop(10 * time.Second); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if t.Failed() {
			t.Logf("%s exited (%v); output:\n%s", name, p.err, p.Output())
		}
	})
	return p
}

// Pid is the process id (also its process group id).
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit error; call it after Done is closed.
func (p *Process) Err() error { return p.err }

// Output is everything the process wrote to stdout and stderr so far.
func (p *Process) Output() string { return p.out.String() }

// Signal sends sig to the process's group; it does nothing once the process
// has exited (the group id could have been reused).
func (p *Process) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := syscall.Kill(-p.Pid(), sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %s: %w", p.Name, err)
	}
	return nil
}

// Stop sends SIGTERM to the group and waits up to grace, then SIGKILLs the group
// and reports that it had to. Members of the group left behind by the leader
// are killed right after it exits (a group with members keeps its id, so this
// cannot hit another process). It is safe to call more than once.
func (p *Process) Stop(grace time.Duration) error {
	_ = p.Signal(syscall.SIGTERM)
	_ = p.Signal(syscall.SIGCONT) // a stopped (SIGSTOP) process acts on SIGTERM only once continued
	var err error
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
		<-p.done
		err = fmt.Errorf("still running %s after SIGTERM; killed", grace)
	}
	if syscall.Kill(-p.Pid(), 0) == nil {
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	}
	return err
}

// syncBuffer is a bytes.Buffer safe for a child's writes and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
