//go:build linux || darwin

package server

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"
)

// errClientGone is the cancel cause of a request whose client closed its
// connection.
var errClientGone = errors.New("client closed the connection")

// watchConn returns a context that is cancelled when the peer of conn closes it
// (fasthttp, unlike net/http, does not notice while a handler runs), and a stop
// func that the handler must call before it returns, after which conn is
// fasthttp's alone again.
//
// It waits in the runtime's poller for conn to become readable and then peeks
// (MSG_PEEK, so no byte is taken from fasthttp): end of file or an error means
// the client is gone; data means a pipelined request, and watching stops. stop
// wakes the wait with a read deadline in the past; fasthttp sets its own
// deadline before it reads again.
func watchConn(parent context.Context, conn net.Conn) (context.Context, func()) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return parent, func() {}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return parent, func() {}
	}
	ctx, cancel := context.WithCancelCause(parent)
	done := make(chan struct{})
	go func() {
		defer close(done)
		gone := false
		var buf [1]byte
		_ = rc.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				return false // nothing yet: wait until readable (or the deadline)
			}
			gone = n == 0 || err != nil
			return true
		})
		if gone {
			cancel(errClientGone)
		}
	}()
	return ctx, func() {
		_ = conn.SetReadDeadline(time.Unix(1, 0))
		<-done
		cancel(nil)
	}
}
