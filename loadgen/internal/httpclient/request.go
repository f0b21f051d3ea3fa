// Package httpclient is loadgen's lean HTTP/1.1 client. Every simulated user
// owns one Conn: a keep-alive connection, like a python-requests Session,
// dialled on first use and re-dialled when the server closes it. Requests are
// serialised once (Request) and written with one syscall; responses are parsed
// with pooled buffers, so an idle user holds no buffer memory.
//
// Response time runs on the monotonic clock from just before the connection is
// dialled or the request written to after the whole body is read. Failures are
// reported with the error strings Locust 2.12 records (ErrorText, HTTPErrorText).
package httpclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"predictlab/internal/pyfmt"
	"strconv"
	"strings"
	"time"
)

// Target is the host under test, parsed from --host.
type Target struct {
	// Base is the URL as given, without a trailing slash.
	Base string
	// Addr is host:port to dial.
	Addr string
	// TLS is true for https.
	TLS bool
	// ServerName is the host name for TLS and the Host header's host part.
	ServerName string
	// Dial, when set, opens connections instead of a net.Dialer (tests use
	// it to make connection set-up slow); nil in normal use.
	Dial       func(ctx context.Context, network, addr string) (net.Conn, error)
	hostHeader string
	pathPrefix string
	loopback   net.IP // the target's address when it is a literal 127.x.x.x
}

// ParseTarget parses a base URL such as "http://127.0.0.1:8001".
func ParseTarget(host string) (*Target, error) {
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("parse host %q: %w", host, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("parse host %q: want http://host[:port] or https://host[:port]", host)
	}
	t := &Target{Base: strings.TrimRight(host, "/"), TLS: u.Scheme == "https", ServerName: u.Hostname(),
		hostHeader: u.Host, pathPrefix: strings.TrimRight(u.EscapedPath(), "/")}
	port := u.Port()
	if port == "" {
		port = "80"
		if t.TLS {
			port = "443"
		}
	}
	t.Addr = net.JoinHostPort(u.Hostname(), port)
	// url.Parse lets through hosts no dialer takes ("http://]" has host "]"), and an empty
	// name would dial this machine: requests refuses both as an invalid URL, so do we.
	if _, _, err := net.SplitHostPort(t.Addr); err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("parse host %q: no valid host name in it", host)
	}
	if ip := net.ParseIP(u.Hostname()).To4(); ip != nil && ip[0] == 127 {
		t.loopback = ip
	}
	return t, nil
}

// Header is one extra request header.
type Header struct{ Key, Value string }

// Request is a pre-serialised HTTP/1.1 request. It is immutable and may be
// shared by any number of users.
type Request struct {
	// Method and URL are the request's method and full URL (for error texts).
	Method, URL string
	raw         []byte
	head        bool
	// what a redirect needs to build the next request (see redirect.go)
	contentType string
	headers     []Header
	body        []byte
}

// UserAgent is sent with every request unless a header overrides it.
const UserAgent = "predictlab-loadgen"

// NewRequest serialises a request for path (which must start with "/") on t.
// contentType, when not empty, is sent as Content-Type; headers override the
// defaults of the same name.
func (t *Target) NewRequest(method, path, contentType string, headers []Header, body []byte) (*Request, error) {
	if method == "" || strings.ContainsAny(method, " \r\n") {
		return nil, fmt.Errorf("build request: bad method %q", method)
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n") {
		return nil, fmt.Errorf("build request: path %q must start with / and hold no spaces", path)
	}
	type kv struct{ k, v string }
	hs := []kv{{"Host", t.hostHeader}, {"User-Agent", UserAgent}, {"Accept-Encoding", "identity"},
		{"Accept", "*/*"}, {"Connection", "keep-alive"}}
	if contentType != "" {
		hs = append(hs, kv{"Content-Type", contentType})
	}
	if len(body) > 0 || method == "POST" || method == "PUT" || method == "PATCH" {
		hs = append(hs, kv{"Content-Length", strconv.Itoa(len(body))})
	}
	for _, h := range headers {
		if h.Key == "" || strings.ContainsAny(h.Key+h.Value, "\r\n") || strings.ContainsAny(h.Key, " :") {
			return nil, fmt.Errorf("build request: bad header %q", h.Key)
		}
		replaced := false
		for i := range hs {
			if strings.EqualFold(hs[i].k, h.Key) {
				hs[i].v, replaced = h.Value, true
			}
		}
		if !replaced {
			hs = append(hs, kv{h.Key, h.Value})
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s%s HTTP/1.1\r\n", method, t.pathPrefix, path)
	for _, h := range hs {
		fmt.Fprintf(&b, "%s: %s\r\n", h.k, h.v)
	}
	b.WriteString("\r\n")
	b.Write(body)
	return &Request{Method: method, URL: t.Base + path, raw: b.Bytes(), head: method == "HEAD",
		contentType: contentType, headers: headers, body: body}, nil
}

// Errors for malformed or cut-short responses.
var (
	errRemoteDisconnected = errors.New("remote end closed connection without response")
	errAborted            = errors.New("connection aborted by the runner")
)

type badStatusLineError struct{ line string }

// timeoutError is a request that took longer than the request timeout.
type timeoutError struct {
	t   *Target
	d   time.Duration
	err error
}

func (e *timeoutError) Error() string { return "request timeout after " + e.d.String() }
func (e *timeoutError) Unwrap() error { return e.err }

// text is Locust's failure text for python-requests' read timeout (checked
// with requests 2.28 and urllib3 1.26): ReadTimeout(ReadTimeoutError(
// "HTTPConnectionPool(host='127.0.0.1', port=8001): Read timed out. (read
// timeout=5.0)")).
func (e *timeoutError) text() string {
	host, port, _ := net.SplitHostPort(e.t.Addr)
	pool := "HTTPConnectionPool"
	if e.t.TLS {
		pool = "HTTPSConnectionPool"
	}
	msg := fmt.Sprintf("%s(host=%s, port=%s): Read timed out. (read timeout=%s)", pool, pyfmt.Repr(host), port, pyfmt.Float(e.d.Seconds()))
	return "ReadTimeout(ReadTimeoutError(" + pyfmt.Repr(msg) + "))"
}

func (e *badStatusLineError) Error() string { return "bad status line " + strconv.Quote(e.line) }

type incompleteReadError struct{ read, more int64 }

func (e *incompleteReadError) Error() string {
	return fmt.Sprintf("incomplete read: %d bytes read, %d more expected", e.read, e.more)
}

type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }
