//go:build !(linux || darwin)

package server

import (
	"context"
	"net"
)

// watchConn does not watch on this platform: requests are served to the end.
func watchConn(parent context.Context, _ net.Conn) (context.Context, func()) {
	return parent, func() {}
}
