package httpclient

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestRawIO drives the raw system-call path through cases where the socket
// is not ready (a request larger than the socket buffers, a reply arriving
// in pieces) and where the peer resets or the runner aborts the connection.
func TestRawIO(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 16<<20) // far above the socket buffers: writes hit EAGAIN
	tests := []struct {
		name     string
		body     string
		serve    func(nc net.Conn, br *bufio.Reader)
		abort    bool // abort the connection while the request is in flight
		wantLen  int64
		wantText string // ErrorText of the error, "" = success
	}{
		{name: "large request body, reply in pieces", body: big,
			serve: func(nc net.Conn, br *bufio.Reader) {
				n := readRequest(br)
				reply := strconv.Itoa(n)
				head := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(reply)) + "\r\n\r\n"
				for _, part := range []string{head[:5], head[5:], reply} {
					nc.Write([]byte(part))
				}
			},
			wantLen: int64(len(strconv.Itoa(len(big))))},
		{name: "peer resets", serve: func(nc net.Conn, br *bufio.Reader) {
			readRequest(br)
			nc.(*net.TCPConn).SetLinger(0)
		}, wantText: "ConnectionResetError(104, 'Connection reset by peer')"},
		{name: "aborted in flight", abort: true, serve: func(nc net.Conn, br *bufio.Reader) {
			readRequest(br)
			io.Copy(io.Discard, br) // no reply until the client goes away
		}, wantText: "ConnectionAbortedError(103, 'Software caused connection abort')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A small receive buffer on the server side (inherited by the
			// accepted socket) makes the client's writes wait for room.
			lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
				return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			}}
			ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			got := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				nc, err := ln.Accept()
				if err != nil {
					return
				}
				defer nc.Close()
				br := bufio.NewReader(nc)
				if tt.abort {
					br.Peek(1)
					close(got)
				}
				tt.serve(nc, br)
			}()
			tg, _ := ParseTarget("http://" + ln.Addr().String())
			req, err := tg.NewRequest("POST", "/", "", nil, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			c := NewConn(tg, nil)
			if tt.abort {
				go func() { <-got; c.Abort() }()
			}
			resp, err := c.Do(context.Background(), req)
			c.Close()
			<-done
			if tt.wantText != "" {
				if text := ErrorText(err); err == nil || text != tt.wantText {
					t.Fatalf("error %v (%q), want %q", err, text, tt.wantText)
				}
				return
			}
			if err != nil || resp.Status != 200 || resp.BodyLen != tt.wantLen {
				t.Fatalf("got %+v, %v; want 200 with %d bytes", resp, err, tt.wantLen)
			}
		})
	}
}

// readRequest reads one request with a Content-Length body and returns the
// body's size.
func readRequest(br *bufio.Reader) int {
	n := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return n
		}
		if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length: "); ok {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if line == "\r\n" {
			break
		}
	}
	m, _ := io.CopyN(io.Discard, br, int64(n))
	return int(m)
}
