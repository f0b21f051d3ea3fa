package httpclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

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

	timeout   time.Duration // see SetTimeout; 0 = none
	idleSince time.Time     // end of the last exchange (monotonic)
}

// peekAfter is the idle time after which a keep-alive connection is checked
// before reuse (see exchange).
const peekAfter = time.Millisecond

// SetTimeout sets the request timeout, as python-requests' timeout=: a
// request fails with Locust's ReadTimeout text when sending it, or waiting
// for any part of the answer, takes longer than d (it bounds each wait,
// not the whole response). 0, the default, waits for ever, as Locust does.
// Call it before the first Do.
func (c *Conn) SetTimeout(d time.Duration) { c.timeout = max(d, 0) }

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
//
// As urllib3 under python-requests, a request is never sent twice once any
// of it may have reached the server (a POST must not run twice, and a
// server that closes on a request must show as a failure, not as the retry's
// success). A keep-alive connection the server closed while it was idle is
// found before sending (dropped) and replaced; only a send that wrote not a
// byte before failing is tried once more, on a fresh connection.
//
// The check costs a system call, so it is made only for a connection idle
// for peekAfter or more: a request sent straight after the previous answer
// cannot find a close the server has had no time to make (urllib3 would
// find nothing either), and a user in a tight loop keeps its one write and
// one read per request.
func (c *Conn) exchange(ctx context.Context, req *Request) (Response, error) {
	if c.c != nil && time.Since(c.idleSince) >= peekAfter && c.dropped() {
		c.drop()
	}
	defer func() { c.idleSince = time.Now() }()
	reused := c.c != nil
	resp, sent, err := c.roundTrip(ctx, req)
	if err != nil && reused && !sent && retryable(err) {
		resp, _, err = c.roundTrip(ctx, req)
	}
	return resp, err
}

// roundTrip sends req and reads its response. sent reports whether any
// byte of the request was written.
func (c *Conn) roundTrip(ctx context.Context, req *Request) (resp Response, sent bool, err error) {
	if c.c == nil {
		if err := c.dial(ctx); err != nil {
			return resp, false, err
		}
	}
	br := readerPool.Get().(*bufio.Reader)
	raw := c.raw
	var src io.Reader = c.c
	if raw != nil {
		src = raw
	}
	if c.timeout > 0 {
		_ = c.c.SetDeadline(time.Now().Add(c.timeout))
		src = &deadlineReader{r: src, c: c.c, d: c.timeout}
	}
	if raw != nil {
		raw.send(req.raw) // written by the first read
		br.Reset(src)
	} else {
		n, err := c.c.Write(req.raw)
		if err != nil {
			readerPool.Put(br)
			c.drop()
			return resp, n > 0, c.timedOut(err)
		}
		br.Reset(src)
	}
	resp, keep, _, err := readResponse(br, req.head)
	err = c.timedOut(err)
	if c.timeout > 0 && err == nil {
		_ = c.c.SetDeadline(time.Time{})
	}
	sent = raw == nil || raw.wrote > 0
	if br.Buffered() > 0 {
		keep = false
	}
	br.Reset(nil)
	readerPool.Put(br)
	if err != nil || !keep {
		c.drop()
	}
	return resp, sent, err
}

// deadlineReader moves the read deadline before each read: requests'
// timeout bounds each wait for data, not the whole answer.
type deadlineReader struct {
	r io.Reader
	c net.Conn
	d time.Duration
}

func (r *deadlineReader) Read(p []byte) (int, error) {
	_ = r.c.SetReadDeadline(time.Now().Add(r.d))
	return r.r.Read(p)
}

// timedOut wraps a deadline error of c's request timeout as a
// *timeoutError (Locust's ReadTimeout text).
func (c *Conn) timedOut(err error) error {
	if err != nil && c.timeout > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		return &timeoutError{t: c.t, d: c.timeout, err: err}
	}
	return err
}

// dropped reports whether the idle connection was closed by the server (or
// holds bytes nobody asked for), as urllib3's is_connection_dropped checks
// before reusing one: a non-blocking peek that finds end of file, an error
// or (plain HTTP) unexpected data. A TLS connection may hold a session
// ticket, so only its end of file or error counts.
func (c *Conn) dropped() bool {
	if c.raw != nil {
		return c.raw.dropped()
	}
	nc := c.c
	plain := true
	if tc, ok := nc.(*tls.Conn); ok {
		nc, plain = tc.NetConn(), false
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	var buf [1]byte
	dead := false
	err = rc.Control(func(fd uintptr) {
		// A raw call, as rawIO's: a non-blocking peek never waits.
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&buf[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		switch {
		case e == syscall.EAGAIN || e == syscall.EINTR:
		case e != 0, n == 0:
			dead = true
		default:
			dead = plain
		}
	})
	return err != nil || dead
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
