package httpclient

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// rawIO reads and writes a plain TCP connection with raw system calls on its
// non-blocking socket, through syscall.RawConn so the runtime's poller still
// parks the goroutine when the socket is not ready (EAGAIN).
//
// A raw call does not tell the Go scheduler it entered the kernel. A
// loopback write runs the receiver's TCP stack inside the call (tens of
// microseconds), and with ordinary calls the runtime's monitor thread keeps
// taking the processor away from such "long" system calls and handing it to
// another thread: a context switch or two per request. A non-blocking socket
// call never waits, so holding the processor for its duration is safe.
// A request is written from inside the first read's callback (send), so each
// request costs one write and one read call.
type rawIO struct {
	rc    syscall.RawConn
	p     []byte
	n     int
	errno syscall.Errno
	// pending is a request that the next Read writes before it waits for
	// the reply, wrote how much of it is written (see send).
	pending []byte
	wrote   int
	readFn  func(fd uintptr) bool
	writeFn func(fd uintptr) bool
	peekFn  func(fd uintptr)
	dead    bool // set by peek
}

func newRawIO(nc net.Conn) *rawIO {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawIO{rc: rc}
	r.readFn = r.read
	r.writeFn = r.write
	r.peekFn = r.peek
	return r
}

func (r *rawIO) read(fd uintptr) bool {
	if r.pending != nil {
		for r.wrote < len(r.pending) {
			n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&r.pending[r.wrote])), uintptr(len(r.pending)-r.wrote))
			switch e {
			case 0:
				r.wrote += int(n)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return true // Read finishes the write, waiting for room
			default:
				r.pending, r.errno = nil, e
				return true
			}
		}
		r.pending = nil
		return false // the whole request is out: wait for the reply
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
	if e == syscall.EAGAIN {
		return false
	}
	if e == syscall.EINTR {
		return r.read(fd)
	}
	r.n, r.errno = int(n), e
	return true
}

// Read implements io.Reader for bufio.
func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		r.p, r.n, r.errno = p, 0, 0
		err := r.rc.Read(r.readFn)
		r.p = nil
		if err != nil {
			r.pending = nil
			return 0, err
		}
		if r.errno != 0 {
			return 0, &net.OpError{Op: "read", Net: "tcp", Err: syscall.Errno(r.errno)}
		}
		if r.pending == nil {
			break
		}
		rest := r.pending[r.wrote:] // the socket buffer is full: write the rest, then read
		r.pending = nil
		if err := r.writeAll(rest); err != nil {
			return 0, err
		}
	}
	if r.n == 0 {
		return 0, io.EOF
	}
	return r.n, nil
}

func (r *rawIO) write(fd uintptr) bool {
	for r.n < len(r.p) {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&r.p[r.n])), uintptr(len(r.p)-r.n))
		switch e {
		case 0:
			r.n += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			r.errno = e
			return true
		}
	}
	return true
}

// dropped is Conn.dropped for a plain TCP connection, without allocating:
// a non-blocking peek finds end of file, an error or unexpected data.
func (r *rawIO) dropped() bool {
	r.dead = false
	if err := r.rc.Control(r.peekFn); err != nil {
		return true
	}
	return r.dead
}

func (r *rawIO) peek(fd uintptr) {
	var buf [1]byte
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&buf[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	_ = n // 0 (end of file) or 1 (unexpected data): dead either way
	r.dead = e != syscall.EAGAIN && e != syscall.EINTR
}

// send makes the next Read write b before it reads. Writing from inside the
// read callback means the poller's read readiness is reset before the request
// leaves, so the reply cannot be missed and the callback can wait for it
// without first trying a read that would find nothing (EAGAIN): one write
// and one read system call per request.
func (r *rawIO) send(b []byte) {
	r.pending, r.wrote = b, 0
}

// writeAll writes all of b.
func (r *rawIO) writeAll(b []byte) error {
	r.p, r.n, r.errno = b, 0, 0
	err := r.rc.Write(r.writeFn)
	r.p = nil
	if err != nil {
		return err
	}
	if r.errno != 0 {
		return &net.OpError{Op: "write", Net: "tcp", Err: syscall.Errno(r.errno)}
	}
	return nil
}
