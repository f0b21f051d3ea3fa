package httpclient

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"predictlab/internal/pyfmt"
)

// MaxRedirects is how many redirects one request follows, python-requests'
// Session.max_redirects. When the response after the last of them is a
// redirect again, Do fails with TooManyRedirects('Exceeded 30 redirects.').
const MaxRedirects = 30

// maxOtherHosts bounds the connections a user keeps to hosts that redirects
// led to (requests keeps a pool per host); the oldest is closed beyond it.
const maxOtherHosts = 4

// isRedirect reports whether status is one python-requests follows (when the
// response has a Location header).
func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// tooManyRedirectsError is requests' TooManyRedirects.
type tooManyRedirectsError struct{ max int }

func (e *tooManyRedirectsError) Error() string {
	return fmt.Sprintf("exceeded %d redirects", e.max)
}

// invalidRedirectError is a Location that cannot be followed. text is the
// error's Python repr (requests' InvalidSchema or InvalidURL).
type invalidRedirectError struct{ location, text string }

func (e *invalidRedirectError) Error() string {
	return "follow redirect to " + e.location + ": " + e.text
}

func invalidURL(location string, err error) *invalidRedirectError {
	return &invalidRedirectError{location: location, text: "InvalidURL(" + pyfmt.Repr(err.Error()) + ")"}
}

// followRedirects follows the redirect resp answered to req, as
// requests.Session.resolve_redirects does: up to MaxRedirects hops; 301
// turns POST into GET, 302 and 303 turn anything but HEAD into GET, and all
// three drop the body and its Content-Type; 307 and 308 resend the same
// method and body. A hop to the user's own host (scheme, host and port) uses
// the user's connection; other hosts get a keep-alive connection of their own.
// The returned response is the last one, with its URL.
func (c *Conn) followRedirects(ctx context.Context, req *Request, resp Response) (Response, error) {
	cur := req
	curURL, err := url.Parse(req.URL)
	if err != nil {
		resp.URL = req.URL
		return resp, invalidURL(req.URL, err)
	}
	for hops := 0; ; hops++ {
		if hops >= MaxRedirects {
			return Response{Status: resp.Status, Reason: resp.Reason, URL: cur.URL},
				&tooManyRedirectsError{max: MaxRedirects}
		}
		next, nextURL, target, err := redirectRequest(cur, curURL, resp.Status, resp.location)
		if err != nil {
			return Response{Status: resp.Status, Reason: resp.Reason, URL: cur.URL}, err
		}
		conn, err := c.connFor(target)
		if err != nil {
			return Response{URL: next.URL}, err
		}
		resp, err = conn.exchange(ctx, next)
		resp.URL = next.URL
		if err != nil || resp.location == "" || !isRedirect(resp.Status) {
			resp.location = ""
			return resp, err
		}
		cur, curURL = next, nextURL
	}
}

// redirectRequest builds the request that follows a status redirect to
// location from cur (whose URL is curURL).
func redirectRequest(cur *Request, curURL *url.URL, status int, location string) (*Request, *url.URL, *Target, error) {
	ref, err := url.Parse(location)
	if err != nil {
		return nil, nil, nil, invalidURL(location, err)
	}
	next := curURL.ResolveReference(ref)
	if next.Scheme != "http" && next.Scheme != "https" || next.Host == "" {
		return nil, nil, nil, &invalidRedirectError{location: location,
			text: "InvalidSchema(" + pyfmt.Repr("No connection adapters were found for "+pyfmt.Repr(next.String())) + ")"}
	}
	if next.Fragment == "" && curURL.Fragment != "" {
		next.Fragment = curURL.Fragment // requests carries the fragment over
	}
	if next.Path == "" {
		next.Path = "/"
	}
	target, err := ParseTarget(next.Scheme + "://" + next.Host)
	if err != nil {
		return nil, nil, nil, invalidURL(location, err)
	}

	method := cur.Method
	switch {
	case status == 303 && method != "HEAD", status == 302 && method != "HEAD", status == 301 && method == "POST":
		method = "GET"
	}
	keepBody := status == 307 || status == 308
	stripAuth := shouldStripAuth(curURL, next)
	headers := make([]Header, 0, len(cur.headers))
	for _, h := range cur.headers {
		switch {
		case !keepBody && (strings.EqualFold(h.Key, "Content-Type") || strings.EqualFold(h.Key, "Content-Length") ||
			strings.EqualFold(h.Key, "Transfer-Encoding")):
		case stripAuth && strings.EqualFold(h.Key, "Authorization"):
		default:
			headers = append(headers, h)
		}
	}
	contentType, body := cur.contentType, cur.body
	if !keepBody {
		contentType, body = "", nil
	}
	path := next.EscapedPath()
	if next.RawQuery != "" {
		path += "?" + strings.ReplaceAll(next.RawQuery, " ", "%20")
	}
	req, err := target.NewRequest(method, path, contentType, headers, body)
	if err != nil {
		return nil, nil, nil, invalidURL(location, err)
	}
	req.URL = next.String()
	return req, next, target, nil
}

// shouldStripAuth is requests' SessionRedirectMixin.should_strip_auth: the
// Authorization header is dropped when a redirect leaves the host, its scheme
// or its port, except for an upgrade from http to https on standard ports.
func shouldStripAuth(from, to *url.URL) bool {
	if !strings.EqualFold(from.Hostname(), to.Hostname()) {
		return true
	}
	fromPort, toPort := from.Port(), to.Port()
	if from.Scheme == "http" && (fromPort == "" || fromPort == "80") &&
		to.Scheme == "https" && (toPort == "" || toPort == "443") {
		return false
	}
	defaultPort := map[string]string{"http": "80", "https": "443"}[from.Scheme]
	if from.Scheme == to.Scheme && (fromPort == "" || fromPort == defaultPort) && (toPort == "" || toPort == defaultPort) {
		return false
	}
	return fromPort != toPort || from.Scheme != to.Scheme
}

// connFor returns the connection for a hop to t: c itself for c's own host,
// else a connection of c's to that host, created on first use.
func (c *Conn) connFor(t *Target) (*Conn, error) {
	if t.TLS == c.t.TLS && strings.EqualFold(t.Addr, c.t.Addr) {
		return c, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted {
		return nil, errAborted
	}
	for _, o := range c.others {
		if t.TLS == o.t.TLS && strings.EqualFold(t.Addr, o.t.Addr) {
			return o, nil
		}
	}
	o := NewConn(t, c.budget)
	o.timeout = c.timeout
	others := make([]*Conn, 0, maxOtherHosts)
	if len(c.others) >= maxOtherHosts {
		c.others[0].Close() // idle: Do's goroutine is the only user of others
		others = append(others, c.others[1:]...)
	} else {
		others = append(others, c.others...)
	}
	c.others = append(others, o)
	return o, nil
}

// closeOthers closes the connections to other hosts. Call it from the
// goroutine that calls Do.
func (c *Conn) closeOthers() {
	c.mu.Lock()
	others := c.others
	c.others = nil
	c.mu.Unlock()
	for _, o := range others {
		o.Close()
	}
}
