package webui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A page of another site must not drive the UI: not by a form posted to
// /swarm, an <img> on /stop or /stats/reset, nor through DNS rebinding (a
// foreign Host). Scripts without browser headers, and the page itself, may.
func TestCrossSiteRequestsRefused(t *testing.T) {
	t.Parallel()
	const self = "127.0.0.1:8089"
	form := url.Values{"user_count": {"20"}, "spawn_rate": {"20"}, "host": {"http://127.0.0.1:18101"}}
	srv, _ := newTestServer(t, nil)
	tok := srv.csrf
	tests := []struct {
		name, method, path, host string
		header                   map[string]string
		withToken                bool // the form carries the page's token
		want                     int
	}{
		// Locust's scripts and curl: no Origin, no Sec-Fetch-*.
		{"curl swarm", "POST", "/swarm", self, nil, false, 200},
		{"curl stop", "GET", "/stop", self, nil, false, 200},
		{"curl reset", "GET", "/stats/reset", self, nil, false, 200},
		{"curl read via localhost", "GET", "/stats/requests", "localhost:8089", nil, false, 200},
		{"curl read via [::1]", "GET", "/stats/requests", "[::1]:8089", nil, false, 200},
		// The page itself (same origin, with the token).
		{"page swarm", "POST", "/swarm", self, map[string]string{"Origin": "http://" + self, "Sec-Fetch-Site": "same-origin"}, true, 200},
		{"page stop", "GET", "/stop", self, map[string]string{"Sec-Fetch-Site": "same-origin", csrfHeader: tok}, false, 200},
		{"page reset", "GET", "/stats/reset", self, map[string]string{"Sec-Fetch-Site": "same-origin", csrfHeader: tok}, false, 200},
		{"address bar stop", "GET", "/stop", self, map[string]string{"Sec-Fetch-Site": "none"}, false, 200},
		// The review's attacks.
		{"cross-site form", "POST", "/swarm", self, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, false, 403},
		{"cross-site form with a stolen-looking token", "POST", "/swarm", self, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, true, 403},
		{"old browser form (Origin only)", "POST", "/swarm", self, map[string]string{"Origin": "https://evil.example"}, false, 403},
		{"null origin", "POST", "/swarm", self, map[string]string{"Origin": "null"}, false, 403},
		{"img stop", "GET", "/stop", self, map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "image"}, false, 403},
		{"img reset", "GET", "/stats/reset", self, map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "image"}, false, 403},
		{"same-site sibling", "GET", "/stop", self, map[string]string{"Sec-Fetch-Site": "same-site"}, false, 403},
		{"old browser img with Referer", "GET", "/stop", self, map[string]string{"Referer": "https://evil.example/page"}, false, 403},
		{"same-origin browser without token", "POST", "/swarm", self, map[string]string{"Origin": "http://" + self, "Sec-Fetch-Site": "same-origin"}, false, 403},
		{"localhost page posting to 127.0.0.1", "POST", "/swarm", self, map[string]string{"Origin": "http://localhost:8089", "Sec-Fetch-Site": "cross-site"}, true, 403},
		// DNS rebinding: the attacker's name in the Host header.
		{"rebound read", "GET", "/stats/requests", "rebind.attacker.example:8089", nil, false, 403},
		{"rebound swarm", "POST", "/swarm", "rebind.attacker.example:8089", map[string]string{"Origin": "http://rebind.attacker.example:8089", "Sec-Fetch-Site": "same-origin"}, true, 403},
		{"rebound page", "GET", "/", "rebind.attacker.example", nil, false, 403},
		{"rebound static", "GET", "/static/app.js", "rebind.attacker.example:8089", nil, false, 403},
		{"foreign IP literal", "GET", "/stats/requests", "203.0.113.9:8089", nil, false, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, fr := newTestServer(t, nil)
			srv.csrf = tok
			var body *strings.Reader
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if tt.withToken {
				f.Set(csrfField, tok)
			}
			if tt.method == "POST" {
				body = strings.NewReader(f.Encode())
			} else {
				body = strings.NewReader("")
			}
			req := httptest.NewRequest(tt.method, tt.path, body)
			req.Host = tt.host
			if tt.method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			fr.mu.Lock()
			starts, stops, resets := len(fr.starts), fr.stops, fr.resets
			fr.mu.Unlock()
			if tt.want == 403 {
				if starts+stops+resets != 0 {
					t.Fatalf("refused request still acted: %d starts, %d stops, %d resets", starts, stops, resets)
				}
				if tt.method == "POST" && !strings.Contains(rec.Header().Get("Content-Type"), "application/json") {
					t.Errorf("POST /swarm refusal is not JSON: %q", rec.Header().Get("Content-Type"))
				}
			}
			if rec.Header().Get("X-Frame-Options") != "DENY" {
				t.Errorf("X-Frame-Options %q", rec.Header().Get("X-Frame-Options"))
			}
		})
	}
}

// --web-allowed-hosts opens the UI under more names; "*" under any.
func TestAllowedHosts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		listen  string
		allowed []string
		host    string
		want    bool
	}{
		{"", nil, "127.0.0.1:8089", true},
		{"", nil, "LOCALHOST:8089", true},
		{"", nil, "[::1]:8089", true},
		{"", nil, "127.0.0.2", true},
		{"", nil, "", true},
		{"", nil, "loadgen.lan:8089", false},
		{"", []string{"loadgen.lan"}, "loadgen.lan:8089", true},
		{"", []string{"loadgen.lan"}, "loadgen.lan.:8089", true},
		{"", []string{"*"}, "anything.example", true},
		{"192.0.2.7", nil, "192.0.2.7:8089", true},
		{"192.0.2.7", nil, "192.0.2.8:8089", false},
		{"*", nil, "evil.example:8089", false},
	}
	for _, tt := range tests {
		if got := newHostPolicy(tt.listen, tt.allowed).allows(tt.host); got != tt.want {
			t.Errorf("listen %q allowed %v: Host %q allowed = %v, want %v", tt.listen, tt.allowed, tt.host, got, tt.want)
		}
	}
}

// The page carries the token its own requests need.
func TestPageCarriesCSRFToken(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, nil)
	rec := do(t, srv.Handler(), "GET", "/", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `name="csrf-token" content="`+srv.csrf+`"`) ||
		!strings.Contains(rec.Body.String(), `name="csrf_token" value="`+srv.csrf+`"`) {
		t.Fatalf("page lacks the token %s", srv.csrf)
	}
}

// A /swarm body is bounded (a form of a few fields).
func TestSwarmBodyBounded(t *testing.T) {
	t.Parallel()
	srv, fr := newTestServer(t, nil)
	big := "user_count=1&spawn_rate=1&pad=" + strings.Repeat("x", maxFormBytes)
	req := httptest.NewRequest("POST", "/swarm", strings.NewReader(big))
	req.Host = "127.0.0.1:8089"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || len(fr.starts) != 0 {
		t.Fatalf("status %d, starts %v", rec.Code, fr.starts)
	}
}

// With --web-auth, a browser that has logged in sends its cached Basic
// credentials along with a cross-site form: the credentials do not make the
// request the user's.
func TestCrossSiteWithCachedCredentials(t *testing.T) {
	t.Parallel()
	srv, fr := newTestServer(t, func(o *Options) { o.Auth = "alice:s3cret" })
	form := url.Values{"user_count": {"20"}, "spawn_rate": {"20"}, "host": {"http://127.0.0.1:18101"}}
	req := httptest.NewRequest("POST", "/swarm", strings.NewReader(form.Encode()))
	req.Host = "127.0.0.1:8089"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.SetBasicAuth("alice", "s3cret")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || len(fr.starts) != 0 {
		t.Fatalf("status %d, starts %v", rec.Code, fr.starts)
	}
	// The same user from a script still gets in.
	rec = do(t, srv.Handler(), "GET", "/stop", nil, "alice", "s3cret")
	if rec.Code != http.StatusOK || fr.stops != 1 {
		t.Fatalf("script with credentials: %d, %d stops", rec.Code, fr.stops)
	}
}
