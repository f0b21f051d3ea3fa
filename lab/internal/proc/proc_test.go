package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestStop(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		hurry bool
	}{
		{"exits on SIGTERM", []string{"-c", "exec sleep 100"}, false},
		{"ignores SIGTERM: SIGKILL after grace", []string{"-c", "trap '' TERM; sleep 100 & wait"}, false},
		{"hurried: SIGKILL at once", []string{"-c", "trap '' TERM; sleep 100 & wait"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(zerolog.Nop(), 200*time.Millisecond)
			if tc.hurry {
				s.Hurry()
				s.Hurry() // idempotent
			}
			c, err := s.Start("sleeper", "/bin/sh", tc.args, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			s.StopAll()
			if Alive(c.Pid()) {
				t.Errorf("pid %d still alive", c.Pid())
			}
			if out, _ := os.ReadFile("/proc/" + strconv.Itoa(c.Pid()) + "/stat"); len(out) > 0 && !strings.Contains(string(out), ") Z") {
				t.Errorf("process still listed: %s", out)
			}
		})
	}
}

// TestStopKillsGrandchildren checks that the process group goes down.
func TestStopKillsGrandchildren(t *testing.T) {
	s := New(zerolog.Nop(), 200*time.Millisecond)
	var out bytes.Buffer
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Start("parent", "/bin/sh", []string{"-c", "sleep 100 & echo $!; wait"}, pw, &out)
	pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32)
	n, _ := pr.Read(buf)
	pr.Close()
	grandchild, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		t.Fatalf("read grandchild pid %q: %v", buf[:n], err)
	}
	s.StopAll()
	if Alive(c.Pid()) || Alive(grandchild) {
		t.Errorf("alive after StopAll: child %v, grandchild %v", Alive(c.Pid()), Alive(grandchild))
	}
}

func TestWaitHealthy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/healthcheck" {
			w.Write([]byte(`{"status":"OK"}`))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	s := New(zerolog.Nop(), time.Second)
	c, err := s.Start("sleeper", "/bin/sh", []string{"-c", "exec sleep 100"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopAll()
	ctx := context.Background()
	if err := WaitHealthy(ctx, c, srv.URL+"/api/v1/healthcheck", 5*time.Second); err != nil {
		t.Errorf("healthy server: %v", err)
	}
	err = WaitHealthy(ctx, c, srv.URL+"/missing", 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "sleeper") || !strings.Contains(err.Error(), "not healthy within") {
		t.Errorf("got %v, want a timeout naming the service", err)
	}
}

func TestWaitHealthyChildExits(t *testing.T) {
	s := New(zerolog.Nop(), time.Second)
	c, err := s.Start("quitter", "/bin/sh", []string{"-c", "exit 3"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopAll()
	err = WaitHealthy(context.Background(), c, "http://127.0.0.1:1/api/v1/healthcheck", time.Minute)
	if err == nil || !strings.Contains(err.Error(), "quitter") || !strings.Contains(err.Error(), "exited") {
		t.Errorf("got %v, want an error saying quitter exited", err)
	}
}

func TestCheckPorts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	err = CheckPorts("127.0.0.1", []Port{{"sync scoring", taken}})
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), strconv.Itoa(taken)) || !strings.Contains(err.Error(), "sync scoring") {
		t.Errorf("got %v, want an error naming port %d and the service", err, taken)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	if err := CheckPorts("127.0.0.1", []Port{{"a", 1}, {"b", 1}}); err == nil {
		t.Error("duplicate port accepted")
	}
}

// TestWaitHealthyExternal waits for a service the lab did not start.
func TestWaitHealthyExternal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/healthcheck" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	if err := WaitHealthy(context.Background(), nil, srv.URL+"/api/v1/healthcheck", 5*time.Second); err != nil {
		t.Errorf("healthy external service: %v", err)
	}
	err := WaitHealthy(context.Background(), nil, srv.URL+"/nope", 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "/nope") {
		t.Errorf("got %v, want a timeout naming the URL", err)
	}
}

// recordKills makes kill record every signal sent to a process group
// (negative pid) other than the harmless signal 0, for the test's duration.
func recordKills(t *testing.T) func() []string {
	t.Helper()
	var mu sync.Mutex
	var sent []string
	orig := kill
	kill = func(pid int, sig syscall.Signal) error {
		if pid < 0 && sig != 0 {
			mu.Lock()
			sent = append(sent, fmt.Sprintf("kill(%d, %v)", pid, sig))
			mu.Unlock()
		}
		return orig(pid, sig)
	}
	t.Cleanup(func() { kill = orig })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := sent
		sent = nil
		return out
	}
}

// TestNoGroupSignalAfterReap: once a child has exited and been reaped, its
// pid (its process group's id) may belong to someone else; Stop and StopAll
// must not signal that group (they SIGKILLed it before).
func TestNoGroupSignalAfterReap(t *testing.T) {
	sent := recordKills(t)
	s := New(zerolog.Nop(), time.Second)
	c, err := s.Start("quick", "/bin/sh", []string{"-c", "exit 0"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	sent() // the cleanup at exit, while the child was an unreaped zombie
	s.Stop(c)
	s.StopAll()
	if got := sent(); len(got) > 0 {
		t.Errorf("signalled the group of a reaped child: %v", got)
	}
}

// TestStragglersDieWithTheChild: a child that exits leaving a process in
// its group behind gets that process killed before Done, so nothing has to
// signal the group later.
func TestStragglersDieWithTheChild(t *testing.T) {
	s := New(zerolog.Nop(), time.Second)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	c, err := s.Start("leaver", "/bin/sh", []string{"-c", "sleep 100 >/dev/null 2>&1 & echo $!"}, pw, nil)
	pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32)
	n, _ := pr.Read(buf)
	straggler, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		t.Fatalf("read straggler pid %q: %v", buf[:n], err)
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("child not done")
	}
	if Alive(straggler) {
		t.Errorf("straggler %d outlived its group's leader", straggler)
		_ = syscall.Kill(straggler, syscall.SIGKILL)
	}
}

func TestListeningIn(t *testing.T) {
	t.Parallel()
	const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9A07 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 650461 2 0 100 0 0 10 0
   1: 0100007F:0050 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 649318 1 0 20 4 30 10 -1
   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0 100 0 0 10 0
`
	tests := []struct {
		name string
		port int
		want bool
	}{
		{"loopback listener", 0x9A07, true},
		{"any-address listener, low port", 22, true},
		{"established, not listening", 80, false},
		{"absent", 5557, false},
		{"suffix of another port", 0x9A0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := listeningIn([]byte(table), tc.port); got != tc.want {
				t.Errorf("listeningIn(%d) = %v, want %v", tc.port, got, tc.want)
			}
		})
	}
}

// TestWaitListening sees a real listener on a port FreePort chose, and
// gives up on a port nobody listens on.
func TestWaitListening(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc/net/tcp")
	}
	port, err := FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := WaitListening(context.Background(), nil, port, 300*time.Millisecond); err == nil {
		t.Errorf("port %d: nobody listens, but WaitListening returned nil", port)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := WaitListening(context.Background(), nil, port, 5*time.Second); err != nil {
		t.Error(err)
	}
}

func TestChildren(t *testing.T) {
	t.Parallel()
	s := New(zerolog.Nop(), 200*time.Millisecond)
	defer s.StopAll()
	if got := s.Children(); len(got) != 0 {
		t.Fatalf("children before any start: %d", len(got))
	}
	a, err := s.Start("a", "/bin/sh", []string{"-c", "exec sleep 100"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Start("b", "/bin/sh", []string{"-c", "exit 0"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	<-b.Done()
	got := s.Children()
	if len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("children %v, want a and the exited b, in start order", got)
	}
	got[0] = nil // a copy: the supervisor's list is its own
	if s.Children()[0] != a {
		t.Error("Children returned the supervisor's own slice")
	}
}
