// Package proc starts and supervises the lab's child processes.
//
// Every child runs in its own process group (so grandchildren die with it)
// and gets SIGKILL from the kernel if the lab itself dies. Stop sends
// SIGTERM to the group, waits up to a grace period, then sends SIGKILL;
// Hurry makes every pending and future Stop skip the grace period (the
// second Ctrl-C). A Supervisor is safe for concurrent use.
//
// A group is never signalled once its leader has been reaped: its id is
// then free for the kernel to hand to an unrelated process group. When a
// child exits, its stragglers are killed while the exited leader is still
// an unreaped zombie (so the group id cannot have been reused), and only
// then is the leader reaped.
package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// Supervisor owns a set of child processes.
type Supervisor struct {
	log   zerolog.Logger
	grace time.Duration

	mu       sync.Mutex
	children []*Child
	hurry    chan struct{}
	hurried  bool
}

// New returns a Supervisor whose Stop waits grace between SIGTERM and SIGKILL.
func New(log zerolog.Logger, grace time.Duration) *Supervisor {
	return &Supervisor{log: log, grace: grace, hurry: make(chan struct{})}
}

// Child is one started process.
type Child struct {
	// Name identifies the child in errors and logs (e.g. "sync scoring").
	Name string
	// Args is the full command line.
	Args []string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
	// mu orders signals against reaping: signalGroup sends nothing once
	// reaped is set.
	mu     sync.Mutex
	reaped bool
}

// Pid is the child's process id (also its process group id).
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Done is closed when the child has exited.
func (c *Child) Done() <-chan struct{} { return c.done }

// Err is the exit error (nil for exit status 0); valid after Done.
func (c *Child) Err() error { return c.err }

// ExitCode is the exit status, or -1 if killed by a signal or still running.
func (c *Child) ExitCode() int {
	select {
	case <-c.done:
		return c.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

// Start runs path with args, its output sent to stdout and stderr (nil
// discards). The child is recorded so StopAll reaches it.
func (s *Supervisor) Start(name, path string, args []string, stdout, stderr io.Writer) (*Child, error) {
	return s.StartIn(name, path, args, "", nil, stdout, stderr)
}

// StartIn is Start with a working directory (dir; "" = the lab's) and an
// environment (env; nil = the lab's). A relative path is resolved against
// dir, so pass an absolute one with dir.
func (s *Supervisor) StartIn(name, path string, args []string, dir string, env []string, stdout, stderr io.Writer) (*Child, error) {
	cmd := exec.Command(path, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &Child{Name: name, Args: append([]string{path}, args...), cmd: cmd, done: make(chan struct{})}
	go c.wait()
	s.mu.Lock()
	s.children = append(s.children, c)
	s.mu.Unlock()
	s.log.Info().Str("child", name).Int("pid", c.Pid()).Strs("args", c.Args).Msg("started child")
	return c, nil
}

// wait waits for the child to exit, kills what is left of its process
// group while the child is still an unreaped zombie (its pid, hence the
// group id, cannot be reused yet), then reaps it and closes done.
func (c *Child) wait() {
	pid := c.Pid()
	var info unix.Siginfo
	for {
		// WNOWAIT: learn of the exit without reaping.
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	c.mu.Lock()
	_ = kill(-pid, syscall.SIGKILL) // stragglers in its group, if any
	c.err = c.cmd.Wait()
	c.reaped = true
	c.mu.Unlock()
	// Signal 0 only from here on: it tells whether stragglers are still
	// dying and can harm no one.
	waitGroupGone(pid, 2*time.Second)
	close(c.done)
}

// signalGroup sends sig to c's process group unless c has been reaped.
func (c *Child) signalGroup(sig syscall.Signal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.reaped {
		// Negative pid: the whole process group (Setpgid made pgid == pid).
		_ = kill(-c.Pid(), sig)
	}
}

// kill is syscall.Kill; tests record the signals sent through it.
var kill = syscall.Kill

// Children lists every child started so far, in start order, exited ones
// included (check Done before using a child's Pid: a reaped child's pid may
// already name another process).
func (s *Supervisor) Children() []*Child {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Child(nil), s.children...)
}

// Hurry makes every Stop, pending or future, send SIGKILL at once.
func (s *Supervisor) Hurry() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hurried {
		s.hurried = true
		close(s.hurry)
	}
}

// Stop ends c: SIGTERM to its process group, SIGKILL after the grace
// period (or at once after Hurry), and waits until it has exited.
func (s *Supervisor) Stop(c *Child) {
	select {
	case <-c.done:
		return // exited, its group already cleaned up
	default:
	}
	c.signalGroup(syscall.SIGTERM)
	t := time.NewTimer(s.grace)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		s.log.Warn().Str("child", c.Name).Int("pid", c.Pid()).Msg("child ignored SIGTERM; sending SIGKILL")
	case <-s.hurry:
	}
	c.signalGroup(syscall.SIGKILL)
	<-c.done
	s.log.Info().Str("child", c.Name).Int("pid", c.Pid()).Int("exit", c.ExitCode()).Msg("stopped child")
}

// StopAll stops every child started so far, concurrently, and waits.
func (s *Supervisor) StopAll() {
	s.mu.Lock()
	cs := append([]*Child(nil), s.children...)
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Stop(c)
		}()
	}
	wg.Wait()
}

// waitGroupGone polls until no process is left in group pgid (SIGKILL is
// delivered asynchronously), for at most limit: members that are zombies
// under a non-reaping init would otherwise keep it waiting forever.
func waitGroupGone(pgid int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if err := kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitHealthy polls url (GET, expecting 200) until it answers, the child
// exits, ctx ends, or timeout passes. Errors name the service. c may be
// nil for a service the lab did not start.
func WaitHealthy(ctx context.Context, c *Child, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	return waitUntil(ctx, c, timeout, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}, "GET "+url)
}

// WaitRedis waits until addr answers a Redis PING with +PONG.
func WaitRedis(ctx context.Context, c *Child, addr string, timeout time.Duration) error {
	return waitUntil(ctx, c, timeout, func() error {
		d := net.Dialer{Timeout: time.Second}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(time.Second))
		if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
			return err
		}
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "+PONG") {
			return fmt.Errorf("answered %q", strings.TrimSpace(line))
		}
		return nil
	}, "PING redis://"+addr)
}

func waitUntil(ctx context.Context, c *Child, timeout time.Duration, probe func() error, what string) error {
	name := what
	var exited <-chan struct{} // nil (never ready) for a service the lab did not start
	if c != nil {
		name, exited = c.Name, c.done
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = probe(); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", name, ctx.Err())
		case <-exited:
			return fmt.Errorf("wait for %s: it exited (%v) before answering %s", name, c.err, what)
		case <-deadline.C:
			return fmt.Errorf("wait for %s: not healthy within %s (%s: %v)", name, timeout, what, last)
		case <-tick.C:
		}
	}
}

// ErrPortInUse is wrapped by CheckPorts when a port is taken.
var ErrPortInUse = errors.New("port already in use")

// Port is a TCP port a service will listen on.
type Port struct {
	Service string
	Port    int
}

// CheckPorts returns a one-line error naming the first port (and its
// service) that cannot be bound on host.
func CheckPorts(host string, ports []Port) error {
	seen := map[int]string{}
	for _, p := range ports {
		if other, ok := seen[p.Port]; ok {
			return fmt.Errorf("check ports: port %d is given to both %s and %s", p.Port, other, p.Service)
		}
		seen[p.Port] = p.Service
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p.Port)))
		if err != nil {
			return fmt.Errorf("check ports: port %d (%s) on %s: %w", p.Port, p.Service, host, ErrPortInUse)
		}
		l.Close()
	}
	return nil
}

// Alive reports whether pid names a live (non-zombie) process.
func Alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc: trust kill(0)
	}
	// Field 3 (after "pid (comm)") is the state; Z = zombie, X = dead.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		st := s[i+2]
		return st != 'Z' && st != 'X'
	}
	return true
}

// FreePort returns a TCP port on host that is free now, chosen by the
// kernel, for a child that must be told its port before it listens.
func FreePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// WaitListening waits until some TCP socket listens on port, c exits, ctx
// ends or timeout passes. It reads the kernel's socket tables
// (/proc/net/tcp and tcp6) instead of connecting: a probe connection that
// says nothing looks like a broken peer to a service with a handshake of
// its own (a ZeroMQ socket). Without /proc it returns nil at once.
func WaitListening(ctx context.Context, c *Child, port int, timeout time.Duration) error {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		return nil
	}
	return waitUntil(ctx, c, timeout, func() error {
		for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
			if b, err := os.ReadFile(f); err == nil && listeningIn(b, port) {
				return nil
			}
		}
		return errors.New("not listening yet")
	}, fmt.Sprintf("listen on port %d", port))
}

// listeningIn reports whether a /proc/net/tcp table lists a socket in
// state LISTEN (0A) on port.
func listeningIn(table []byte, port int) bool {
	want := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(table), "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[3] == "0A" && strings.HasSuffix(f[1], want) {
			return true
		}
	}
	return false
}
