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
type rawIO struct {
	rc      syscall.RawConn
	p       []byte
	n       int
	errno   syscall.Errno
	readFn  func(fd uintptr) bool
	writeFn func(fd uintptr) bool
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
	return r
}

func (r *rawIO) read(fd uintptr) bool {
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
	r.p, r.n, r.errno = p, 0, 0
	err := r.rc.Read(r.readFn)
	r.p = nil
	if err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: syscall.Errno(r.errno)}
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
