package featurestore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func startServer(t *testing.T, password string) *Server {
	t.Helper()
	s, err := Start(Config{Addr: "127.0.0.1:0", Password: password})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// roundTrip sends raw bytes on a fresh connection and returns everything the
// server answers until it closes the connection or stays quiet for a moment.
func roundTrip(t *testing.T, addr, raw string) (reply string, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	b, err := io.ReadAll(c)
	var ne net.Error
	return string(b), !(errors.As(err, &ne) && ne.Timeout())
}

func cmd(args ...string) string {
	var b strings.Builder
	b.WriteString("*" + padInt(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + padInt(len(a)) + "\r\n" + a + "\r\n")
	}
	return b.String()
}

func padInt(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}

// No frame kills or wedges the store (before: miniredis panicked on `*0` and on a
// huge bulk length, killing the process, and EVAL of an endless loop held its
// lock forever). Each bad frame closes only its own connection; commands the
// store does not need are refused; the store still answers afterwards.
func TestServerHostileInput(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	for _, tc := range []struct {
		name, raw  string
		wantClosed bool
		want       string // prefix of the reply
	}{
		{"empty array", "*0\r\n", true, "-ERR Protocol error"},
		{"null array", "*-1\r\n", true, "-ERR Protocol error"},
		{"huge bulk", "*1\r\n$9223372036854775000\r\n", true, "-ERR Protocol error"},
		{"large bulk", "*1\r\n$20000000000\r\n", true, "-ERR Protocol error"},
		{"too many args", "*100000\r\n", true, "-ERR Protocol error"},
		{"negative bulk", "*1\r\n$-5\r\n", true, "-ERR Protocol error"},
		{"bad length", "*x\r\n", true, "-ERR Protocol error"},
		{"long line", "*" + strings.Repeat("1", 10000) + "\r\n", true, "-ERR Protocol error"},
		{"inline command", "PING\r\n", true, "-ERR Protocol error"},
		{"http", "POST / HTTP/1.1\r\nHost: x\r\n\r\n", true, "-ERR Protocol error"},
		{"no CRLF after bulk", "*1\r\n$4\r\nPINGxx", true, "-ERR Protocol error"},
		{"eval loop", cmd("EVAL", "while true do end", "0"), false, "-ERR unknown command"},
		{"debug sleep", cmd("DEBUG", "SLEEP", "100"), false, "-ERR unknown command"},
		{"flushall", cmd("FLUSHALL"), false, "-ERR unknown command"},
		{"config set", cmd("CONFIG", "SET", "dir", "/tmp"), false, "-ERR unknown command"},
		{"set", cmd("SET", "features:5.1,3.5,1.4,0.2", "x"), false, "-ERR unknown command"},
		{"set nx of a held key", cmd("SET", "features:5.1,3.5,1.4,0.2", "x", "NX"), false, "$-1"},
		{"hello", cmd("HELLO", "3"), false, "-ERR unknown command"},
		{"select 1", cmd("SELECT", "1"), false, "-ERR DB index"},
		{"ping", cmd("PING"), false, "+PONG"},
		{"pipelined", cmd("PING") + cmd("ECHO", "hi") + cmd("GET", "nope"), false, "+PONG\r\n$2\r\nhi\r\n$-1\r\n"},
		{"quit", cmd("QUIT"), true, "+OK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, closed := roundTrip(t, s.Addr(), tc.raw)
			if closed != tc.wantClosed || !strings.HasPrefix(got, tc.want) {
				t.Fatalf("reply %q (closed %v), want %q... (closed %v)", got, closed, tc.want, tc.wantClosed)
			}
		})
	}
	t.Cleanup(func() { // after the parallel subtests
		c, err := NewClient(ClientConfig{URL: s.URL()})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for k, v := range SeedData() { // nothing was flushed or overwritten
			if got, err := c.Features(context.Background(), k); err != nil || string(got) != v {
				t.Errorf("after the hostile frames, %s = %q, %v; want %q", k, got, err, v)
			}
		}
	})
}

// Close returns with idle connections and half-sent frames open, and Restart
// serves the same data again.
func TestServerCloseAndRestart(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	idle, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	half, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	_, _ = io.WriteString(half, "*2\r\n$3\r\nGET\r\n$10\r\nfeat")
	time.Sleep(50 * time.Millisecond) // let the server start reading both
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close still blocked after 5 s")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if got, closed := roundTrip(t, s.Addr(), cmd("GET", "features:5.1,3.5,1.4,0.2")); closed || !strings.Contains(got, "sepal_ratio") {
		t.Fatalf("after Restart: %q", got)
	}
}

// With a password, nothing but AUTH works before AUTH; the client authenticates
// from the URL or from its Password field.
func TestServerAuth(t *testing.T) {
	t.Parallel()
	s := startServer(t, "s3cret")
	const key = "features:5.1,3.5,1.4,0.2"
	for _, tc := range []struct {
		name, raw, want string
	}{
		{"no auth", cmd("GET", key), "-NOAUTH"},
		{"flushall before auth", cmd("FLUSHALL"), "-NOAUTH"},
		{"wrong password", cmd("AUTH", "nope") + cmd("GET", key), "-WRONGPASS invalid username-password pair or user is disabled.\r\n-NOAUTH"},
		{"wrong user", cmd("AUTH", "admin", "s3cret"), "-WRONGPASS"},
		{"right password", cmd("AUTH", "s3cret") + cmd("PING"), "+OK\r\n+PONG"},
		{"default user", cmd("AUTH", "default", "s3cret") + cmd("PING"), "+OK\r\n+PONG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := roundTrip(t, s.Addr(), tc.raw); !strings.HasPrefix(got, tc.want) {
				t.Fatalf("reply %q, want %q...", got, tc.want)
			}
		})
	}
	for _, cfg := range []ClientConfig{
		{URL: s.URL()},
		{URL: "redis://" + s.Addr(), Password: "s3cret"},
	} {
		c, err := NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Features(context.Background(), key)
		c.Close()
		if err != nil || !bytes.Contains(got, []byte("sepal_ratio")) {
			t.Fatalf("client %+v: %q, %v", cfg, got, err)
		}
	}
	c, _ := NewClient(ClientConfig{URL: "redis://" + s.Addr()})
	defer c.Close()
	if _, err := c.Features(context.Background(), key); err == nil {
		t.Fatal("a client without the password read features")
	}
}

// Seed through a real Redis client: SETNX keeps what is there; the key count is capped.
func TestServerSeedAndKeyCap(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c, err := NewClient(ClientConfig{URL: s.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, err := c.Seed(context.Background(), SeedData()); err != nil || n != 0 {
		t.Fatalf("Seed of the seeded store = %d, %v; want 0 written", n, err)
	}
	extra := map[string]string{}
	for i := range maxKeys {
		extra["k"+padInt(i)] = "v"
	}
	if _, err := c.Seed(context.Background(), extra); err == nil || !strings.Contains(err.Error(), "store full") {
		t.Fatalf("Seed past %d keys: %v, want 'store full'", maxKeys, err)
	}
}

func FuzzReadFrame(f *testing.F) {
	for _, s := range []string{cmd("GET", "k"), "*0\r\n", "*1\r\n$9223372036854775000\r\n", "*2\r\n$1\r\na\r\n$-1\r\n", "PING\r\n", "*1\r\n$3\r\nabc"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		args, err := readFrame(bufio.NewReaderSize(bytes.NewReader(b), maxBulk+2))
		if err != nil {
			return
		}
		if len(args) < 1 || len(args) > maxArgs {
			t.Fatalf("%d arguments accepted", len(args))
		}
		for _, a := range args {
			if len(a) > maxBulk {
				t.Fatalf("argument of %d bytes accepted", len(a))
			}
		}
	})
}
