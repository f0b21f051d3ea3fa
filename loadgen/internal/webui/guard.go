package webui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// The web UI can start load against any host, so it must only obey its own
// page and the user's scripts, never another web page the user has open:
//
//   - The Host header must name this server (a loopback name, an address it
//     listens on, or a name given with AllowedHosts). A page of another site
//     whose DNS name was rebound to 127.0.0.1 sends its own name, and is
//     refused: it can neither drive nor read the UI.
//   - State-changing routes (POST /swarm, GET /stop, GET /stats/reset)
//     refuse requests that a browser marks as coming from another site
//     (Sec-Fetch-Site, else Origin, else Referer), and a browser's request
//     must carry the page's CSRF token. Scripts such as curl send none of
//     these headers, so Locust's HTTP contract works for them unchanged.
//   - No page may frame the UI (clickjacking).

// csrfHeader carries the page's CSRF token on the page's own fetches;
// csrfField carries it in the start form.
const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf_token"
)

// maxFormBytes bounds a POST /swarm body (its form is a few short fields).
const maxFormBytes = 64 << 10

// hostPolicy decides which Host header values name this server.
type hostPolicy struct {
	any   bool            // AllowedHosts holds "*"
	names map[string]bool // lower-case host names and IP literals (no port)
	// anyLocalIP allows every address of this machine's interfaces (the UI
	// listens on all of them).
	anyLocalIP bool
}

// newHostPolicy returns the policy of a UI listening on listenHost
// (Options.Host: "" loopback, "*" all interfaces, else an address or name)
// with the extra names of allowed.
func newHostPolicy(listenHost string, allowed []string) hostPolicy {
	p := hostPolicy{names: map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}}
	switch listenHost {
	case "", "127.0.0.1", "localhost", "::1":
	case "*":
		p.anyLocalIP = true
		if h, err := os.Hostname(); err == nil && h != "" {
			p.names[normHost(h)] = true
		}
	default:
		p.names[normHost(listenHost)] = true
		if h, err := os.Hostname(); err == nil && h != "" {
			p.names[normHost(h)] = true
		}
	}
	for _, a := range allowed {
		a = strings.TrimSpace(a)
		if a == "*" {
			p.any = true
		} else if a != "" {
			p.names[normHost(a)] = true
		}
	}
	return p
}

// normHost lower-cases a host (no port), drops IPv6 brackets and a
// trailing dot.
func normHost(h string) string {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// hostOnly is the host part of a Host header value.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return normHost(h)
	}
	return normHost(hostport)
}

// allows reports whether a request with this Host header is for this server.
// An empty Host (HTTP/1.0) cannot come from a browser and is allowed.
func (p hostPolicy) allows(hostport string) bool {
	if p.any || hostport == "" {
		return true
	}
	h := hostOnly(hostport)
	if p.names[h] {
		return true
	}
	ip := net.ParseIP(h)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	return p.anyLocalIP && isLocalIP(ip)
}

// isLocalIP reports whether ip is an address of one of this machine's
// interfaces (read at each call: interfaces come and go).
func isLocalIP(ip net.IP) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// newCSRFToken returns a random token for the page.
func newCSRFToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// guard wraps the whole UI: framing forbidden, foreign Host headers refused.
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		if !s.hosts.allows(r.Host) {
			s.refuse(w, r, fmt.Sprintf("Host %q is not an address of this web UI; to open it under that name, start loadgen with --web-allowed-hosts %s", r.Host, hostOnly(r.Host)))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// sameSite wraps a state-changing route: a request a browser sends on
// behalf of another site is refused, and a browser's request must carry the
// page's CSRF token.
func (s *Server) sameSite(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.checkSameSite(r); err != "" {
			s.refuse(w, r, err)
			return
		}
		h(w, r)
	}
}

// checkSameSite returns why r must be refused, or "".
func (s *Server) checkSameSite(r *http.Request) string {
	sfs := r.Header.Get("Sec-Fetch-Site")
	switch sfs {
	case "", "same-origin":
	case "none": // typed into the address bar or a bookmark: the user's own
		return ""
	default: // same-site, cross-site: another page of this or another site
		return "cross-site request refused (Sec-Fetch-Site: " + sfs + ")"
	}
	origin := r.Header.Get("Origin")
	switch {
	case origin != "":
		if !sameHost(origin, r.Host) {
			return "cross-origin request refused (Origin: " + origin + ")"
		}
	case r.Header.Get("Referer") != "":
		if ref := r.Header.Get("Referer"); !sameHost(ref, r.Host) {
			return "cross-origin request refused (Referer from another site)"
		}
	}
	// A browser's request (it says where it comes from) must also carry the
	// page's token; a script that sends none of these headers need not.
	if sfs == "" && origin == "" {
		return ""
	}
	tok := r.Header.Get(csrfHeader)
	if tok == "" && r.Method == http.MethodPost {
		tok = r.PostFormValue(csrfField)
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.csrf)) != 1 {
		return "missing or wrong CSRF token: reload the page"
	}
	return ""
}

// sameHost reports whether the URL u (an Origin or Referer) names host (a
// Host header value, with its port).
func sameHost(u, host string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return false // includes Origin: null
	}
	return strings.EqualFold(p.Host, host)
}

// refuse answers 403: JSON for POST /swarm (the page and Locust scripts read
// its message), text elsewhere.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, msg string) {
	s.opts.Log.Warn().Str("path", r.URL.Path).Str("host", r.Host).Str("origin", r.Header.Get("Origin")).
		Str("sec_fetch_site", r.Header.Get("Sec-Fetch-Site")).Msg("web UI request refused: " + msg)
	if r.Method == http.MethodPost && r.URL.Path == "/swarm" {
		writeJSON(w, http.StatusForbidden, map[string]any{"success": false, "message": msg})
		return
	}
	http.Error(w, msg, http.StatusForbidden)
}
