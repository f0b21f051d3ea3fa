package httpclient

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rawServer serves each connection with answer(conn, n), n counting the
// requests on that connection from 1; answer returns false to close it. It
// counts every request read.
func rawServer(t *testing.T, answer func(nc net.Conn, n int) bool) (*Target, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var total atomic.Int64
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				for n := 1; ; n++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					total.Add(1)
					if !answer(nc, n) {
						return
					}
				}
			}()
		}
	}()
	tg, err := ParseTarget("http://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return tg, &total
}

const okReply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// TestNoResendAfterSend is the review's R11: a server that reads a request
// and closes without answering (a crash, a proxy's timeout) must show as
// Locust's RemoteDisconnected failure, and the POST must reach it once, as
// with python-requests. loadgen used to send it again on a new connection.
func TestNoResendAfterSend(t *testing.T) {
	t.Parallel()
	tg, total := rawServer(t, func(nc net.Conn, n int) bool {
		if n == 1 {
			_, _ = io.WriteString(nc, okReply)
			return true
		}
		return false // read the second request, then close without a word
	})
	c := NewConn(tg, nil)
	defer c.Close()
	req, _ := tg.NewRequest("POST", "/predict", "application/json", nil, []byte("[1]"))
	if resp, err := c.Do(context.Background(), req); err != nil || resp.Status != 200 {
		t.Fatalf("first request: %v %+v", err, resp)
	}
	_, err := c.Do(context.Background(), req)
	if err == nil {
		t.Fatalf("second request succeeded; the server read %d requests (the POST was sent again)", total.Load())
	}
	if got := ErrorText(err); got != "RemoteDisconnected('Remote end closed connection without response')" {
		t.Errorf("second request: %q (%v), want RemoteDisconnected", got, err)
	}
	if n := total.Load(); n != 2 {
		t.Errorf("the server read %d requests, want 2 (the POST was sent again)", n)
	}
}

// A keep-alive connection the server closed while idle is noticed before
// the next request, which goes out once, on a new connection, and succeeds.
func TestIdleCloseRedials(t *testing.T) {
	t.Parallel()
	closed := make(chan struct{}, 1)
	tg, total := rawServer(t, func(nc net.Conn, n int) bool {
		_, _ = io.WriteString(nc, okReply)
		nc.Close() // keep-alive promised, but closed at once
		closed <- struct{}{}
		return false
	})
	c := NewConn(tg, nil)
	defer c.Close()
	req, _ := tg.NewRequest("POST", "/predict", "application/json", nil, []byte("[1]"))
	for i := range 3 {
		if resp, err := c.Do(context.Background(), req); err != nil || resp.Status != 200 {
			t.Fatalf("request %d: %v %+v", i, err, resp)
		}
		<-closed
		// Wait (a condition, not a time) for the server's FIN to reach this
		// socket, as it does while a user waits between tasks.
		deadline := time.Now().Add(10 * time.Second)
		for !c.dropped() || time.Since(c.idleSince) < peekAfter {
			if time.Now().After(deadline) {
				t.Fatal("the server's close never reached the client")
			}
			time.Sleep(time.Millisecond)
		}
	}
	if n := total.Load(); n != 3 {
		t.Errorf("the server read %d requests, want 3", n)
	}
}

// TestRequestTimeout is the review's R15: with a request timeout, a target
// that accepts and never answers gives Locust's ReadTimeout failure (the
// text python-requests' timeout= gives) instead of a user blocked for ever.
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	defer close(hold)
	tg, total := rawServer(t, func(nc net.Conn, n int) bool {
		<-hold // read the request, never answer
		return false
	})
	c := NewConn(tg, nil)
	c.SetTimeout(200 * time.Millisecond)
	defer c.Close()
	req, _ := tg.NewRequest("POST", "/predict", "application/json", nil, []byte("[1]"))
	_, err := c.Do(context.Background(), req)
	if err == nil {
		t.Fatal("no error from a target that never answers")
	}
	_, port, _ := net.SplitHostPort(tg.Addr)
	want := `ReadTimeout(ReadTimeoutError("HTTPConnectionPool(host='127.0.0.1', port=` + port + `): Read timed out. (read timeout=0.2)"))`
	if got := ErrorText(err); got != want {
		t.Errorf("ErrorText = %s\nwant        %s", got, want)
	}
	if n := total.Load(); n != 1 {
		t.Errorf("the server read %d requests, want 1", n)
	}
}

// Header lines up to 64 KiB are read, as python-requests reads them (a
// large Set-Cookie or CSP header failed as ProtocolError past 4 KiB); a
// longer one is a protocol error.
func TestLongHeaderLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		header  int
		wantErr bool
	}{
		{"4 KiB reader, 5000-byte header", 5000, false},
		{"60 KiB header", 60 << 10, false},
		{"over 64 KiB", 70 << 10, true},
	}
	for _, tt := range tests {
		reply := "HTTP/1.1 200 OK\r\nSet-Cookie: " + strings.Repeat("x", tt.header) + "\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n"
		br := bufio.NewReaderSize(strings.NewReader(reply), 4096)
		resp, keep, _, err := readResponse(br, false)
		if tt.wantErr {
			if err == nil || ErrorText(err) != "ProtocolError('header line too long')" {
				t.Errorf("%s: %v %q", tt.name, err, ErrorText(err))
			}
			continue
		}
		if err != nil || resp.Status != 200 || resp.BodyLen != 2 || !keep {
			t.Fatalf("%s: %v %+v", tt.name, err, resp)
		}
		if resp, _, _, err := readResponse(br, false); err != nil || resp.Status != 204 {
			t.Errorf("%s: next response %v %+v", tt.name, err, resp)
		}
	}
}
