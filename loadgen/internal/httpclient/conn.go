package httpclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Budget caps the connections one process keeps open (its file descriptor
// limit). When more users exist than descriptors, users about to sleep for a
// long wait give their connection back (see Conn.Park). Safe for concurrent use.
type Budget struct {
	open atomic.Int64
	high int64
}

// NewBudget returns a budget that asks users to park connections when more than
// high are open. high <= 0 means no limit.
func NewBudget(high int64) *Budget { return &Budget{high: high} }

// Open is the number of connections open now.
func (b *Budget) Open() int64 { return b.open.Load() }

func (b *Budget) tight() bool { return b.high > 0 && b.open.Load() > b.high }

// Response is the outcome of one request.
type Response struct {
	// Status is the HTTP status, 0 when no response was read.
	Status int
	// Reason is the reason phrase of the status line.
	Reason string
	// BodyLen is the number of body bytes read (of the final response when
	// redirects were followed).
	BodyLen int64
	// URL is the URL of the final response: the request's URL unless a
	// redirect was followed (requests' Response.url, used in error texts).
	URL string

	location string // the Location header of a 3xx response
}

// Conn is one user's keep-alive connection. Do must be called from one
// goroutine at a time; Abort may be called from any goroutine.
type Conn struct {
	t      *Target
	budget *Budget
	tlsCfg *tls.Config

	mu      sync.Mutex // guards c and others against Abort; Do is the only writer
	c       net.Conn
	raw     *rawIO // c's raw system-call path (see rawio.go); nil for TLS
	aborted bool
	others  []*Conn // connections to other hosts that redirects led to
}

// NewConn returns a connection to t, dialled lazily. budget may be nil.
func NewConn(t *Target, budget *Budget) *Conn {
	c := &Conn{t: t, budget: budget}
	if t.TLS {
		c.tlsCfg = &tls.Config{ServerName: t.ServerName}
	}
	return c
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

// Do sends req and reads the whole response, following redirects as
// python-requests does (see redirect.go). A non-nil error means the
// request failed below HTTP (connection refused, reset, malformed response,
// too many redirects...); use ErrorText for its Locust-style text. The
// connection is kept for the next call when the response allows it.
func (c *Conn) Do(ctx context.Context, req *Request) (Response, error) {
	resp, err := c.exchange(ctx, req)
	if err == nil && resp.location != "" && isRedirect(resp.Status) {
		return c.followRedirects(ctx, req, resp)
	}
	resp.URL = req.URL
	return resp, err
}

// exchange sends req on c's own connection and reads one response.
func (c *Conn) exchange(ctx context.Context, req *Request) (Response, error) {
	reused := c.c != nil
	resp, got, err := c.roundTrip(ctx, req)
	if err != nil && reused && !got && retryable(err) {
		// A stale keep-alive connection (closed by the server while idle):
		// like urllib3, dial a fresh one and send once more.
		resp, _, err = c.roundTrip(ctx, req)
	}
	return resp, err
}

func (c *Conn) roundTrip(ctx context.Context, req *Request) (resp Response, gotBytes bool, err error) {
	if c.c == nil {
		if err := c.dial(ctx); err != nil {
			return resp, false, err
		}
	}
	br := readerPool.Get().(*bufio.Reader)
	if c.raw != nil {
		c.raw.send(req.raw) // written by the first read
		br.Reset(c.raw)
	} else {
		if _, err := c.c.Write(req.raw); err != nil {
			readerPool.Put(br)
			c.drop()
			return resp, false, err
		}
		br.Reset(c.c)
	}
	resp, keep, gotBytes, err := readResponse(br, req.head)
	if br.Buffered() > 0 {
		keep = false
	}
	br.Reset(nil)
	readerPool.Put(br)
	if err != nil || !keep {
		c.drop()
	}
	return resp, gotBytes, err
}

func retryable(err error) bool {
	return errors.Is(err, errRemoteDisconnected) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF)
}

func (c *Conn) dial(ctx context.Context) error {
	var d net.Dialer
	if c.t.loopback != nil && c.budget != nil {
		if k := c.budget.open.Load() / connsPerSource; k > 0 {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, byte(k>>8), byte(1+k))}
			d.Control = bindNoPort
		}
	}
	dial := d.DialContext
	if c.t.Dial != nil {
		dial = c.t.Dial
	}
	nc, err := dial(ctx, "tcp", c.t.Addr)
	if err != nil {
		return err
	}
	if c.tlsCfg != nil {
		tc := tls.Client(nc, c.tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return err
		}
		nc = tc
	}
	c.mu.Lock()
	if c.aborted {
		c.mu.Unlock()
		nc.Close()
		return errAborted
	}
	c.c = nc
	c.raw = newRawIO(nc)
	c.mu.Unlock()
	if c.budget != nil {
		c.budget.open.Add(1)
	}
	return nil
}

func (c *Conn) drop() {
	c.mu.Lock()
	nc := c.c
	c.c, c.raw = nil, nil
	c.mu.Unlock()
	if nc != nil {
		closeNow(nc)
		if c.budget != nil {
			c.budget.open.Add(-1)
		}
	}
}

// connsPerSource is how many connections to a loopback target share one
// source address. Linux picks a connect() port by scanning the ephemeral range
// for a free (source, port, destination) tuple; with tens of thousands of
// connections from 127.0.0.1 to one port the scan makes each connect() cost
// hundreds of microseconds. Beyond this many open connections, loadgen dials
// from further loopback addresses (127.0.0.2, ...), each with its own tuples.
const connsPerSource = 2048

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT so that binding the source address
// leaves the port choice to connect(), which only needs a unique 4-tuple.
func bindNoPort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT from linux/in.h.
const ipBindAddressNoPort = 24

// closeNow closes nc without leaving it in TIME_WAIT (SO_LINGER 0: the
// kernel sends RST instead of FIN). Loadgen only closes connections that are
// idle or abandoned, and with tens of thousands of users on loopback the
// TIME_WAIT sockets of a normal close would exhaust the ephemeral ports and
// make every connect() scan for a free one.
func closeNow(nc net.Conn) {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	nc.Close()
}

// Park closes the idle connection if the budget is tight and the user is
// about to wait at least a second; the next Do dials again. Call it only
// between requests.
func (c *Conn) Park(wait time.Duration) {
	if c.budget != nil && wait >= time.Second && c.budget.tight() {
		c.drop()
		c.closeOthers()
	}
}

// Connect dials the connection if there is none, so that the next Do
// starts by writing its request. Like k6's http_req_connecting, connection
// set-up is kept out of a request's response time; the time from the
// request's intended start still includes it. Call it from the goroutine
// that calls Do.
func (c *Conn) Connect(ctx context.Context) error {
	if c.c != nil {
		return nil
	}
	return c.dial(ctx)
}

// Close closes the connection. Call it from the goroutine that calls Do.
func (c *Conn) Close() {
	c.drop()
	c.closeOthers()
}

// Abort closes the connection from any goroutine, interrupting a request in
// flight, and makes later dials fail. Used to kill users at stop.
func (c *Conn) Abort() {
	c.mu.Lock()
	c.aborted = true
	nc := c.c
	others := c.others
	c.mu.Unlock()
	if nc != nil {
		closeNow(nc) // Do's goroutine sees an error and drops (and uncounts) it
	}
	for _, o := range others {
		o.Abort()
	}
}

// readResponse reads one response (skipping 1xx) and its body.
func readResponse(br *bufio.Reader, head bool) (resp Response, keep, gotBytes bool, err error) {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if len(line) == 0 && !gotBytes && (err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)) {
				return resp, false, false, errRemoteDisconnected
			}
			if err == io.EOF {
				err = errRemoteDisconnected
			}
			return resp, false, len(line) > 0, err
		}
		gotBytes = true
		status, reason, minor, ok := parseStatusLine(line)
		if !ok {
			return resp, false, true, &badStatusLineError{line: string(line)} // Python keeps the CRLF
		}
		resp.Status = status
		var cl int64 = -1
		chunked, closeConn := false, minor == 0
		for {
			h, err := br.ReadSlice('\n')
			if err != nil {
				if err == bufio.ErrBufferFull {
					return resp, false, true, &protocolError{"header line too long"}
				}
				if err == io.EOF {
					err = errRemoteDisconnected
				}
				return resp, false, true, err
			}
			h = trimCRLF(h)
			if len(h) == 0 {
				break
			}
			colon := indexByte(h, ':')
			if colon <= 0 {
				return resp, false, true, &protocolError{"malformed header line"}
			}
			name, val := h[:colon], trimSpace(h[colon+1:])
			switch {
			case equalFold(name, "content-length"):
				n, ok := parseDecimal(val)
				if !ok {
					return resp, false, true, &protocolError{"invalid Content-Length"}
				}
				cl = n
			case equalFold(name, "transfer-encoding"):
				chunked = containsFold(val, "chunked")
			case status >= 300 && status < 400 && equalFold(name, "location"):
				resp.location = string(val)
			case equalFold(name, "connection"):
				if containsFold(val, "close") {
					closeConn = true
				} else if containsFold(val, "keep-alive") {
					closeConn = false
				}
			}
		}
		if status >= 100 && status < 200 && status != 101 {
			continue // interim response
		}
		resp.Reason = reason
		switch {
		case head || status == 204 || status == 304 || (status >= 100 && status < 200):
		case chunked:
			n, err := readChunked(br)
			resp.BodyLen = n
			if err != nil {
				return resp, false, true, err
			}
		case cl >= 0:
			n, err := br.Discard(int(cl))
			resp.BodyLen = int64(n)
			if err != nil {
				return resp, false, true, &incompleteReadError{read: int64(n), more: cl - int64(n)}
			}
		default:
			n, err := io.Copy(io.Discard, br)
			resp.BodyLen = n
			return resp, false, true, err
		}
		return resp, !closeConn, true, nil
	}
}

func readChunked(br *bufio.Reader) (int64, error) {
	var total int64
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return total, &incompleteReadError{read: total}
		}
		line = trimCRLF(line)
		if i := indexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, ok := parseHex(trimSpace(line))
		if !ok {
			return total, &protocolError{"invalid chunk size"}
		}
		if size == 0 {
			for { // trailers
				t, err := br.ReadSlice('\n')
				if err != nil {
					return total, &incompleteReadError{read: total}
				}
				if len(trimCRLF(t)) == 0 {
					return total, nil
				}
			}
		}
		n, err := br.Discard(int(size))
		total += int64(n)
		if err != nil {
			return total, &incompleteReadError{read: total, more: size - int64(n)}
		}
		if crlf, err := br.ReadSlice('\n'); err != nil || len(trimCRLF(crlf)) != 0 {
			return total, &protocolError{"missing CRLF after chunk"}
		}
	}
}

// parseStatusLine parses "HTTP/1.x SSS Reason\r\n".
func parseStatusLine(line []byte) (status int, reason string, minor int, ok bool) {
	line = trimCRLF(line)
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' {
		return 0, "", 0, false
	}
	minor = int(line[7] - '0')
	for _, ch := range line[9:12] {
		if ch < '0' || ch > '9' {
			return 0, "", 0, false
		}
		status = status*10 + int(ch-'0')
	}
	if status < 100 {
		return 0, "", 0, false
	}
	if len(line) > 12 {
		if line[12] != ' ' {
			return 0, "", 0, false
		}
		reason = reasonString(line[13:])
	}
	return status, reason, minor, true
}

var commonReasons = []string{"OK", "Not Found", "Internal Server Error", "Service Unavailable", "Bad Request", "Created", "No Content"}

// reasonString avoids allocating for the common reason phrases.
func reasonString(b []byte) string {
	for _, r := range commonReasons {
		if string(b) == r {
			return r
		}
	}
	return string(b)
}

func trimCRLF(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if equalFold(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= lower(c) && lower(c) <= 'f':
			d = lower(c) - 'a' + 10
		default:
			return 0, false
		}
		n = n*16 + int64(d)
	}
	return n, true
}
