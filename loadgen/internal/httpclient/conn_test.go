package httpclient

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Id") != "" {
			w.Header().Set("X-Id", r.Header.Get("X-Id"))
		}
		w.Write([]byte("echo:" + string(body)))
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("part1"))
		w.(http.Flusher).Flush()
		w.Write([]byte("part22"))
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Write([]byte("bye"))
	})
	mux.HandleFunc("/head", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestConnDo(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	tg, err := ParseTarget(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	budget := NewBudget(0)
	c := NewConn(tg, budget)
	defer c.Close()
	ctx := context.Background()
	tests := []struct {
		method, path string
		body         string
		wantStatus   int
		wantLen      int64
	}{
		{"POST", "/ok", "[5.1, 3.5, 1.4, 0.2]", 200, 25},
		{"GET", "/chunked", "", 200, 11},
		{"GET", "/missing", "", 404, 19},
		{"HEAD", "/head", "", 200, 0},
		{"GET", "/close", "", 200, 3},
		{"GET", "/ok", "", 200, 5},
	}
	for _, tt := range tests {
		req, err := tg.NewRequest(tt.method, tt.path, "application/json", nil, []byte(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(ctx, req)
		if err != nil || resp.Status != tt.wantStatus || resp.BodyLen != tt.wantLen {
			t.Errorf("%s %s = %+v, %v; want status %d len %d", tt.method, tt.path, resp, err, tt.wantStatus, tt.wantLen)
		}
	}
	if n := budget.Open(); n != 1 {
		t.Errorf("open connections = %d, want 1", n)
	}
	// A server-side close of the idle connection is survived: the next
	// request finds it (once idle for peekAfter) and dials again.
	srv.CloseClientConnections()
	for deadline := time.Now().Add(10 * time.Second); !c.dropped() || time.Since(c.idleSince) < peekAfter; {
		if time.Now().After(deadline) {
			t.Fatal("the server's close never reached the client")
		}
		time.Sleep(time.Millisecond)
	}
	req, _ := tg.NewRequest("GET", "/ok", "", nil, nil)
	if resp, err := c.Do(ctx, req); err != nil || resp.Status != 200 {
		t.Errorf("after server close: %+v, %v", resp, err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tg, _ := ParseTarget("http://" + addr)
	req, _ := tg.NewRequest("GET", "/refused", "", nil, nil)
	_, err = NewConn(tg, nil).Do(context.Background(), req)
	if got := ErrorText(err); got != "ConnectionRefusedError(111, 'Connection refused')" {
		t.Errorf("refused: %q", got)
	}

	// A server answering garbage, and one closing without an answer.
	for _, tc := range []struct{ reply, want string }{
		{"garbage\r\n", `BadStatusLine('garbage\r\n')`}, // as Python's http.client: the whole line
		{"", "RemoteDisconnected('Remote end closed connection without response')"},
		{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "IncompleteRead(3 bytes read, 7 more expected)"},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(nc).ReadString('\n')
			nc.Write([]byte(tc.reply))
			nc.Close()
		}()
		tg, _ := ParseTarget("http://" + ln.Addr().String())
		req, _ := tg.NewRequest("GET", "/", "", nil, nil)
		_, err = NewConn(tg, nil).Do(context.Background(), req)
		<-done
		ln.Close()
		if got := ErrorText(err); got != tc.want {
			t.Errorf("reply %q: %q, want %q", tc.reply, got, tc.want)
		}
	}
	if got := HTTPErrorText(500, "Internal Server Error", "http://h/fail"); got != "HTTPError('500 Server Error: Internal Server Error for url: http://h/fail')" {
		t.Errorf("HTTPErrorText = %q", got)
	}
}

// A reason phrase from the target reaches the terminal only escaped: C0 and
// C1 controls and bidi overrides become Python's \x and \u escapes, as
// Python's repr writes them.
func TestHTTPErrorTextEscapesControls(t *testing.T) {
	t.Parallel()
	got := HTTPErrorText(500, "\x1b[2J\u009b2J\u202eevil", "http://h/x")
	want := `HTTPError('500 Server Error: \x1b[2J\x9b2J\u202eevil for url: http://h/x')`
	if got != want {
		t.Errorf("HTTPErrorText = %s, want %s", got, want)
	}
	if got := ErrorText(&badStatusLineError{"x\u0085\u2066y"}); got != `BadStatusLine('x\x85\u2066y')` {
		t.Errorf("bad status line = %s", got)
	}
}

func TestNewRequest(t *testing.T) {
	t.Parallel()
	tg, _ := ParseTarget("http://127.0.0.1:8001/base")
	req, err := tg.NewRequest("POST", "/p?q=1", "application/json", []Header{{"X-Id", "1"}, {"user-agent", "ua"}}, []byte("[1]"))
	if err != nil {
		t.Fatal(err)
	}
	want := "POST /base/p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:8001\r\nUser-Agent: ua\r\nAccept-Encoding: identity\r\nAccept: */*\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: 3\r\nX-Id: 1\r\n\r\n[1]"
	if string(req.raw) != want || req.URL != "http://127.0.0.1:8001/base/p?q=1" {
		t.Errorf("raw = %q url %q", req.raw, req.URL)
	}
	for _, p := range []string{"nope", "/a b"} {
		if _, err := tg.NewRequest("GET", p, "", nil, nil); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
	if _, err := ParseTarget("ftp://x"); err == nil || !strings.Contains(err.Error(), "want http") {
		t.Errorf("ParseTarget ftp: %v", err)
	}
}

func FuzzReadResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false)
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false)
	f.Add("HTTP/1.0 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", true)
	f.Fuzz(func(t *testing.T, s string, head bool) {
		br := bufio.NewReaderSize(strings.NewReader(s), 4096)
		resp, _, _, err := readResponse(br, head)
		if err == nil && (resp.Status < 100 || resp.Status > 999 || resp.BodyLen < 0) {
			t.Fatalf("resp %+v", resp)
		}
		if err != nil {
			_ = ErrorText(err)
		}
	})
}

// FuzzParseTarget: any --host value (or web form host) gives a target or an
// error, never a panic; a target's address always has a port.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8001", "https://example.com/base/", "http://[::1]:80", "ftp://x", "http://", "http://a b", "http://h:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		if _, port, err := net.SplitHostPort(tg.Addr); err != nil || port == "" {
			t.Fatalf("ParseTarget(%q).Addr = %q: %v", s, tg.Addr, err)
		}
		if strings.HasSuffix(tg.Base, "/") {
			t.Fatalf("ParseTarget(%q).Base = %q ends with /", s, tg.Base)
		}
	})
}

// FuzzRedirectLocation: a target's Location header gives the next request
// or an error with Locust's text, never a panic.
func FuzzRedirectLocation(f *testing.F) {
	for _, s := range []string{"/next", "http://other:81/x?y=1", "//h/p", "ftp://x/", "http://a\x7f/", "../up", "https://[::1]/", "http://h:bad/"} {
		f.Add(s, 302)
	}
	tg, _ := ParseTarget("http://127.0.0.1:8001")
	req, _ := tg.NewRequest("POST", "/start", "application/json", []Header{{"Authorization", "x"}}, []byte("[1]"))
	cur, _ := url.Parse(req.URL)
	f.Fuzz(func(t *testing.T, location string, status int) {
		_, _, _, err := redirectRequest(req, cur, status, location)
		if err != nil {
			_ = ErrorText(err)
		}
	})
}
