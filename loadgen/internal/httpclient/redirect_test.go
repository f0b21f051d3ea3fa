package httpclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// seen is what the /echo handler of a redirect test server last received.
type seen struct {
	mu                              sync.Mutex
	method, ctype, body, auth, host string
	hits                            int
}

func (s *seen) get() (method, ctype, body, auth string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.method, s.ctype, s.body, s.auth
}

// redirectServer answers /to/<status>?loc=<location> with that redirect,
// /loop with a redirect to itself, /echo with 200 and a 7-byte body (and
// records the request in rec), and 404 for anything else.
func redirectServer(t *testing.T, rec *seen) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.hits++
		rec.mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/to/"):
			code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/to/"))
			if loc := r.URL.Query().Get("loc"); loc != "" {
				w.Header().Set("Location", loc)
			}
			w.WriteHeader(code)
			w.Write([]byte("redirecting")) // read and discarded, not counted
		case r.URL.Path == "/loop":
			w.Header().Set("Location", "/loop")
			w.WriteHeader(http.StatusFound)
		case r.URL.Path == "/echo":
			rec.mu.Lock()
			rec.method, rec.ctype, rec.body, rec.auth, rec.host = r.Method, r.Header.Get("Content-Type"), string(body), r.Header.Get("Authorization"), r.Host
			rec.mu.Unlock()
			w.Write([]byte("landed!"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	var rec, otherRec seen
	srv := redirectServer(t, &rec)
	other := redirectServer(t, &otherRec)
	tg, err := ParseTarget(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	auth := []Header{{"Authorization", "Bearer x"}}
	tests := []struct {
		name, method, path string
		headers            []Header
		wantStatus         int
		wantLen            int64
		wantURL            string // after srv.URL, or absolute
		// what /echo received (on other when onOther)
		wantMethod, wantCtype, wantBody, wantAuth string
		onOther                                   bool
	}{
		{name: "302 relative, POST becomes GET without body", method: "POST", path: "/to/302?loc=/echo",
			wantStatus: 200, wantLen: 7, wantURL: "/echo", wantMethod: "GET"},
		{name: "301 POST becomes GET", method: "POST", path: "/to/301?loc=/echo",
			wantStatus: 200, wantLen: 7, wantURL: "/echo", wantMethod: "GET"},
		{name: "301 PUT stays PUT but loses its body", method: "PUT", path: "/to/301?loc=/echo",
			wantStatus: 200, wantLen: 7, wantURL: "/echo", wantMethod: "PUT"},
		{name: "303 PUT becomes GET", method: "PUT", path: "/to/303?loc=/echo",
			wantStatus: 200, wantLen: 7, wantURL: "/echo", wantMethod: "GET"},
		{name: "302 HEAD stays HEAD", method: "HEAD", path: "/to/302?loc=/echo",
			wantStatus: 200, wantLen: 0, wantURL: "/echo", wantMethod: "HEAD"},
		{name: "307 keeps method and body", method: "POST", path: "/to/307?loc=/echo", headers: auth,
			wantStatus: 200, wantLen: 7, wantURL: "/echo", wantMethod: "POST", wantCtype: "application/json",
			wantBody: "[1, 2]", wantAuth: "Bearer x"},
		{name: "308 keeps method and body", method: "PATCH", path: "/to/308?loc=../echo",
			wantStatus: 200, wantLen: 7, wantURL: "/echo", wantMethod: "PATCH", wantCtype: "application/json",
			wantBody: "[1, 2]"},
		{name: "chain of two to a 404", method: "GET", path: "/to/302?loc=/to/307%3Floc%3D/final",
			wantStatus: 404, wantLen: 19, wantURL: "/final"},
		{name: "absolute Location to another host drops Authorization", method: "POST", headers: auth,
			path: "/to/307?loc=" + other.URL + "/echo", wantStatus: 200, wantLen: 7, wantURL: other.URL + "/echo",
			wantMethod: "POST", wantCtype: "application/json", wantBody: "[1, 2]", onOther: true},
		{name: "3xx without Location is the answer", method: "GET", path: "/to/302",
			wantStatus: 302, wantLen: 11, wantURL: "/to/302"},
		{name: "304 is not a redirect", method: "GET", path: "/to/304?loc=/echo",
			wantStatus: 304, wantLen: 0, wantURL: "/to/304?loc=/echo"},
	}
	budget := NewBudget(0)
	c := NewConn(tg, budget)
	defer c.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []*seen{&rec, &otherRec} {
				r.mu.Lock()
				r.method = ""
				r.mu.Unlock()
			}
			req, err := tg.NewRequest(tt.method, tt.path, "application/json", tt.headers, []byte("[1, 2]"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(context.Background(), req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			wantURL := tt.wantURL
			if strings.HasPrefix(wantURL, "/") {
				wantURL = srv.URL + wantURL
			}
			if resp.Status != tt.wantStatus || resp.BodyLen != tt.wantLen || resp.URL != wantURL {
				t.Errorf("got status %d len %d url %s; want %d %d %s", resp.Status, resp.BodyLen, resp.URL,
					tt.wantStatus, tt.wantLen, wantURL)
			}
			if tt.wantMethod == "" {
				return
			}
			r := &rec
			if tt.onOther {
				r = &otherRec
			}
			method, ctype, body, gotAuth := r.get()
			if method != tt.wantMethod || ctype != tt.wantCtype || body != tt.wantBody || gotAuth != tt.wantAuth {
				t.Errorf("/echo got %s ctype %q body %q auth %q; want %s %q %q %q", method, ctype, body, gotAuth,
					tt.wantMethod, tt.wantCtype, tt.wantBody, tt.wantAuth)
			}
		})
	}
	// Same-host hops reused the user's connection; the other host got one of its own.
	if n := budget.Open(); n != 2 {
		t.Errorf("open connections = %d, want 2", n)
	}
	c.Close()
	if n := budget.Open(); n != 0 {
		t.Errorf("open connections after Close = %d, want 0", n)
	}
}

func TestTooManyRedirects(t *testing.T) {
	t.Parallel()
	var rec seen
	srv := redirectServer(t, &rec)
	tg, _ := ParseTarget(srv.URL)
	c := NewConn(tg, nil)
	defer c.Close()
	req, _ := tg.NewRequest("GET", "/loop", "", nil, nil)
	resp, err := c.Do(context.Background(), req)
	if got := ErrorText(err); got != "TooManyRedirects('Exceeded 30 redirects.')" {
		t.Errorf("ErrorText = %q (resp %+v)", got, resp)
	}
	rec.mu.Lock()
	hits := rec.hits
	rec.mu.Unlock()
	if hits != MaxRedirects+1 { // the request and 30 redirects, as requests
		t.Errorf("server saw %d requests, want %d", hits, MaxRedirects+1)
	}
}

// TestRedirectHopCount: a chain of exactly MaxRedirects hops ends well.
func TestRedirectHopCount(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/%d", n-1), http.StatusFound)
			return
		}
		w.Write([]byte("done"))
	}))
	defer srv.Close()
	tg, _ := ParseTarget(srv.URL)
	c := NewConn(tg, nil)
	defer c.Close()
	for _, tc := range []struct {
		hops    int
		wantErr bool
	}{{MaxRedirects, false}, {MaxRedirects + 1, true}} {
		req, _ := tg.NewRequest("GET", fmt.Sprintf("/%d", tc.hops), "", nil, nil)
		resp, err := c.Do(context.Background(), req)
		if (err != nil) != tc.wantErr || (!tc.wantErr && (resp.BodyLen != 4 || resp.URL != srv.URL+"/0")) {
			t.Errorf("%d hops: %+v, %v", tc.hops, resp, err)
		}
	}
}

func TestRedirectErrorTexts(t *testing.T) {
	t.Parallel()
	tests := []struct{ location, want string }{
		{"ftp://x/y", `InvalidSchema("No connection adapters were found for 'ftp://x/y'")`},
		{"http://[::1", `InvalidURL(`},
	}
	cur, _ := ParseTarget("http://127.0.0.1:1")
	req, _ := cur.NewRequest("GET", "/", "", nil, nil)
	for _, tt := range tests {
		u, _ := url.Parse(req.URL)
		_, _, _, err := redirectRequest(req, u, 302, tt.location)
		if got := ErrorText(err); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.location, got, tt.want)
		}
	}
}

func TestShouldStripAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to string
		want     bool
	}{
		{"http://a/x", "http://a/y", false},
		{"http://a/x", "http://b/y", true},
		{"http://a/x", "https://a/y", false},
		{"http://a:80/x", "https://a:443/y", false},
		{"http://a:8000/x", "https://a/y", true},
		{"http://a/x", "http://a:80/y", false},
		{"http://a:1/x", "http://a:2/y", true},
		{"https://a/x", "http://a/y", true},
	}
	for _, tt := range tests {
		from, _ := url.Parse(tt.from)
		to, _ := url.Parse(tt.to)
		if got := shouldStripAuth(from, to); got != tt.want {
			t.Errorf("%s -> %s: %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}
