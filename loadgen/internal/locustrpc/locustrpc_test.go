package locustrpc

import (
	"bufio"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"predictlab/loadgen/internal/locustproto"
)

func listen(t *testing.T) *Server {
	t.Helper()
	s, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestDealerRouter(t *testing.T) {
	t.Parallel()
	srv := listen(t)
	const id = "host_0123456789abcdef0123456789abcdef"
	c, err := Dial(context.Background(), srv.Addr().String(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(locustproto.ClientReady(id, locustproto.Version)); err != nil {
		t.Fatal(err)
	}
	from, m, err := srv.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if from != id || m.Type != locustproto.TypeClientReady || m.Data != locustproto.Version || m.NodeID != id {
		t.Fatalf("server got %q %+v", from, m)
	}
	if err := srv.Send(id, locustproto.Ack(id, 3)); err != nil {
		t.Fatal(err)
	}
	m, err = c.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if i, ok := locustproto.AckIndex(m.Data); m.Type != locustproto.TypeAck || !ok || i != 3 {
		t.Fatalf("worker got %+v", m)
	}
	// The master going away is an error on the worker's side, not a hang.
	srv.Close()
	done := make(chan error, 1)
	go func() { _, err := c.Recv(); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Recv after the master closed: no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Recv still blocked 10 s after the master closed")
	}
}

func TestDialRefused(t *testing.T) {
	t.Parallel()
	srv := listen(t)
	addr := srv.Addr().String()
	srv.Close()
	if _, err := Dial(context.Background(), addr, "x_1"); err == nil {
		t.Fatal("Dial to a closed port: no error")
	}
}

// pyPeer starts testdata/pypeer.py with Debian's python3, or skips.
func pyPeer(t *testing.T, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	if testing.Short() {
		t.Skip("interop with pyzmq: skipped with -short")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import zmq, msgpack").Run(); err != nil {
		t.Skip("Debian's python3-zmq and python3-msgpack are not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", append([]string{"testdata/pypeer.py"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	return cmd, bufio.NewReader(out)
}

// A Go DEALER works against pyzmq's ROUTER, as loadgen's worker against
// Locust's master.
func TestInteropPyRouter(t *testing.T) {
	t.Parallel()
	_, out := pyPeer(t, "router")
	port, err := out.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	const id = "gohost_0123456789abcdef0123456789abcdef"
	c, err := Dial(context.Background(), "127.0.0.1:"+strings.TrimSpace(port), id)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 3 {
		if err := c.Send(locustproto.Heartbeat(id, "ready", 1.5, 1000)); err != nil {
			t.Fatal(err)
		}
		m, err := c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		d := m.Data.(locustproto.Map)
		got, _ := d.Get("got")
		from, _ := d.Get("id")
		if idx, _ := locustproto.AckIndex(m.Data); idx != int64(i) || got != "heartbeat" || from != id || m.NodeID != id {
			t.Fatalf("reply %d: %+v", i, m)
		}
	}
	if err := c.Send(locustproto.Quit(id)); err != nil {
		t.Fatal(err)
	}
	// pyzmq's side closes: the Go side must notice.
	if _, err := c.Recv(); err == nil {
		t.Fatal("Recv after the router exited: no error")
	}
}

// A pyzmq DEALER (a Python Locust worker) works against the Go ROUTER.
func TestInteropPyDealer(t *testing.T) {
	t.Parallel()
	srv := listen(t)
	_, port, _ := strings.Cut(srv.Addr().String(), ":")
	const id = "pyhost_0123456789abcdef0123456789abcdef"
	_, out := pyPeer(t, "dealer", port, id)
	from, m, err := srv.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if from != id || m.Type != locustproto.TypeClientReady || m.NodeID != id {
		t.Fatalf("got %q %+v", from, m)
	}
	if err := srv.Send(from, locustproto.Ack(id, 0)); err != nil {
		t.Fatal(err)
	}
	line, err := out.ReadString('\n')
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if want := "ack {'index': 0}\n"; line != want {
		t.Fatalf("python dealer printed %q, want %q", line, want)
	}
}
