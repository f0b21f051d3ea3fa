// Package locustrpc carries locustproto messages between a Locust master and
// its workers the way Locust 2.12's rpc/zmqrpc.py does: each worker has one
// ZeroMQ DEALER whose identity is its node id, connected to the master's
// ROUTER (default port 5557); every message is one frame of msgpack, with
// no delimiter frame. ZeroMQ is go-zeromq/zmq4, pure Go (ZMTP 3, NULL
// security), which interoperates with the pyzmq/libzmq 4.3 of Debian's
// python3-locust.
//
// Unlike pyzmq, a Conn does not reconnect behind the caller's back: when the
// master goes away, Recv fails and the caller decides (loadgen's worker stops
// its users, re-dials and registers again).
package locustrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"time"

	"github.com/go-zeromq/zmq4"

	"predictlab/loadgen/internal/locustproto"
)

// SendTimeout bounds one Send: a master that does not read for this long is
// treated as gone.
const SendTimeout = 5 * time.Second

// Conn is a worker's connection to its master. Send and Recv may be called
// from different goroutines (one sender at a time, one receiver); Close
// makes a blocked Recv return.
type Conn interface {
	// Send writes one message; it fails when the connection is gone.
	Send(m locustproto.Message) error
	// Recv blocks for the next message; it fails when the connection is
	// gone or closed. A message that does not decode is an error that
	// wraps locustproto.ErrMalformed; the connection stays usable.
	Recv() (locustproto.Message, error)
	// Close ends the connection.
	Close() error
}

// DialFunc opens a worker's connection to the master at addr (host:port)
// with the worker's node id as its ZeroMQ identity.
type DialFunc func(ctx context.Context, addr, nodeID string) (Conn, error)

var _ DialFunc = Dial

// Addr joins a host and port as Dial and Listen take them ("[::1]:5557").
func Addr(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// quiet discards zmq4's own log lines; errors reach the caller instead.
var quiet = log.New(io.Discard, "", 0)

// Dial connects a DEALER to tcp://addr once (no retries: the caller has
// Locust's connect loop). ctx and 5 s bound the connect only; the
// connection lives until Close.
func Dial(ctx context.Context, addr, nodeID string) (Conn, error) {
	// zmq4 ties a socket's life to its context: give it its own.
	sctx, cancel := context.WithCancel(context.Background())
	d := zmq4.NewDealer(sctx,
		zmq4.WithID(zmq4.SocketIdentity(nodeID)),
		zmq4.WithDialerMaxRetries(0),
		zmq4.WithDialerTimeout(5*time.Second),
		zmq4.WithTimeout(SendTimeout),
		zmq4.WithLogger(quiet))
	stop := context.AfterFunc(ctx, cancel)
	err := d.Dial("tcp://" + addr)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		d.Close()
		cancel()
		return nil, fmt.Errorf("connect to master %s: %w", addr, err)
	}
	return &dealer{s: d, cancel: cancel}, nil
}

type dealer struct {
	s      zmq4.Socket
	cancel context.CancelFunc
}

func (d *dealer) Send(m locustproto.Message) error {
	b, err := locustproto.Encode(m)
	if err != nil {
		return err
	}
	if err := d.s.Send(zmq4.NewMsg(b)); err != nil {
		return fmt.Errorf("send %s: %w", m.Type, err)
	}
	return nil
}

func (d *dealer) Recv() (locustproto.Message, error) {
	msg, err := d.s.Recv()
	if err != nil {
		return locustproto.Message{}, fmt.Errorf("receive from master: %w", err)
	}
	if len(msg.Frames) != 1 {
		return locustproto.Message{}, fmt.Errorf("receive from master: %w: %d frames", locustproto.ErrMalformed, len(msg.Frames))
	}
	return locustproto.Decode(msg.Frames[0])
}

func (d *dealer) Close() error {
	err := d.s.Close()
	d.cancel()
	return err
}

// Server is a master's ROUTER socket. Recv and Send may be called from
// different goroutines (one receiver; senders serialised by the caller or
// not, zmq4 locks).
type Server struct {
	s zmq4.Socket
}

// Listen binds a ROUTER on tcp://addr ("host:port"; port 0 picks a free one,
// see Server.Addr). The socket lives until ctx is done or Close.
func Listen(ctx context.Context, addr string) (*Server, error) {
	r := zmq4.NewRouter(ctx, zmq4.WithTimeout(SendTimeout), zmq4.WithLogger(quiet))
	if err := r.Listen("tcp://" + addr); err != nil {
		r.Close()
		return nil, fmt.Errorf("bind master socket %s: %w", addr, err)
	}
	return &Server{s: r}, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.s.Addr() }

// ErrClosed is returned by Recv once the server is closed.
var ErrClosed = errors.New("master socket closed")

// Recv returns the next message and the routing id of the worker that sent
// it. A message that does not decode returns the id and an error wrapping
// locustproto.ErrMalformed (Locust answers it with reconnect).
func (s *Server) Recv() (string, locustproto.Message, error) {
	msg, err := s.s.Recv()
	if err != nil {
		return "", locustproto.Message{}, fmt.Errorf("receive from workers: %w: %w", ErrClosed, err)
	}
	if len(msg.Frames) != 2 {
		return "", locustproto.Message{}, fmt.Errorf("receive from workers: %w: %d frames", locustproto.ErrMalformed, len(msg.Frames))
	}
	id := string(msg.Frames[0])
	m, err := locustproto.Decode(msg.Frames[1])
	return id, m, err
}

// Send writes m to the worker whose routing id is id.
func (s *Server) Send(id string, m locustproto.Message) error {
	b, err := locustproto.Encode(m)
	if err != nil {
		return err
	}
	if err := s.s.Send(zmq4.NewMsgFrom([]byte(id), b)); err != nil {
		return fmt.Errorf("send %s to %s: %w", m.Type, id, err)
	}
	return nil
}

// Close unbinds the socket and closes every connection.
func (s *Server) Close() error { return s.s.Close() }
