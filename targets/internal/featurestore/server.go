package featurestore

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Limits of the embedded server. A frame past them closes its connection: no
// client of the store sends anything near them, and they bound what a stranger
// can make the process allocate.
const (
	maxArgs      = 8       // arguments per command (SETNX key value is 3)
	maxBulk      = 4 << 10 // bytes per argument (a feature vector is ~60)
	maxLine      = 64      // bytes of a "*N" or "$N" line
	maxKeys      = 4096    // keys the store holds; SETNX past it is refused
	maxConns     = 1024    // connections at once; more are closed at once
	frameTimeout = 10 * time.Second
)

// Config configures an embedded store.
type Config struct {
	Addr     string // host:port; port 0 picks a free one
	Password string // "" = no AUTH
	Log      zerolog.Logger
}

// Server is the embedded feature store: a Redis-protocol (RESP2) server that
// knows only the commands the lab uses — PING, ECHO, GET, SETNX (and SET k v NX),
// AUTH, SELECT 0,
// CLIENT SETNAME/SETINFO, QUIT — and holds its data in memory. It is written
// for hostile input: every frame is bounded (maxArgs, maxBulk), a panic closes
// only its connection, nothing runs scripts, and Close returns once the
// connections are closed. Safe for concurrent use. Close it when done.
type Server struct {
	cfg Config

	mu   sync.Mutex // guards data
	data map[string][]byte

	connMu sync.Mutex // guards ln, conns, closed
	ln     net.Listener
	addr   string
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup // accept loop and connection handlers
}

// Start starts an embedded store on cfg.Addr, seeded with SeedData.
func Start(cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, data: map[string][]byte{}, conns: map[net.Conn]struct{}{}}
	for k, v := range SeedData() {
		s.data[k] = []byte(v)
	}
	if err := s.listen(cfg.Addr); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("start feature store on %s: %w", addr, err)
	}
	s.connMu.Lock()
	s.ln, s.addr, s.closed = ln, ln.Addr().String(), false
	s.connMu.Unlock()
	s.wg.Add(1)
	go s.accept(ln)
	return nil
}

// Addr is the host:port the store listens on.
func (s *Server) Addr() string {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	return s.addr
}

// URL is the store's redis:// URL, with the password when there is one.
func (s *Server) URL() string {
	if s.cfg.Password != "" {
		return "redis://:" + s.cfg.Password + "@" + s.Addr()
	}
	return "redis://" + s.Addr()
}

// Close stops listening, closes every connection and waits for their
// handlers, which end as soon as their connection is closed.
func (s *Server) Close() {
	s.connMu.Lock()
	if s.closed {
		s.connMu.Unlock()
		return
	}
	s.closed = true
	_ = s.ln.Close()
	for c := range s.conns {
		_ = c.Close()
	}
	s.connMu.Unlock()
	s.wg.Wait()
}

// Restart starts a closed store again on the same address, keeping its data.
func (s *Server) Restart() error {
	if err := s.listen(s.Addr()); err != nil {
		return fmt.Errorf("restart feature store: %w", err)
	}
	return nil
}

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // closed
		}
		s.connMu.Lock()
		if s.closed || len(s.conns) >= maxConns {
			s.connMu.Unlock()
			_ = c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.connMu.Unlock()
		go s.serve(c)
	}
}

// serve runs one connection until it closes or sends a bad frame.
func (s *Server) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		if v := recover(); v != nil {
			s.cfg.Log.Error().Interface("panic", v).Str("remote", c.RemoteAddr().String()).Msg("feature store connection panicked; closed")
		}
		s.connMu.Lock()
		delete(s.conns, c)
		s.connMu.Unlock()
		_ = c.Close()
	}()
	r := bufio.NewReaderSize(c, maxBulk+2)
	w := bufio.NewWriter(c)
	sess := session{authed: s.cfg.Password == ""}
	for {
		// Idle connections wait with no deadline (a client's pool keeps them);
		// once a frame has begun, all of it must come within frameTimeout.
		_ = c.SetReadDeadline(time.Time{})
		if _, err := r.Peek(1); err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(frameTimeout))
		args, err := readFrame(r)
		if err != nil {
			if errors.Is(err, errProtocol) {
				_, _ = w.WriteString("-ERR Protocol error: " + err.Error() + "\r\n")
				_ = w.Flush()
			}
			return
		}
		quit := s.exec(&sess, args, w)
		if r.Buffered() == 0 || quit {
			_ = c.SetWriteDeadline(time.Now().Add(frameTimeout))
			if err := w.Flush(); err != nil || quit {
				return
			}
		}
	}
}

// errProtocol marks a frame the server refuses.
var errProtocol = errors.New("invalid frame")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errProtocol}, args...)...)
}

// readFrame reads one command: a RESP array of 1 to maxArgs bulk strings of at
// most maxBulk bytes. Inline commands (a bare line) are refused, which also
// turns away HTTP requests sent by browsers to this port.
func readFrame(r *bufio.Reader) ([][]byte, error) {
	n, err := readHeader(r, '*')
	if err != nil {
		return nil, err
	}
	if n < 1 || n > maxArgs {
		return nil, protoErr("want 1 to %d arguments, got %d", maxArgs, n)
	}
	args := make([][]byte, n)
	for i := range args {
		l, err := readHeader(r, '$')
		if err != nil {
			return nil, err
		}
		if l < 0 || l > maxBulk {
			return nil, protoErr("argument length %d: want 0 to %d", l, maxBulk)
		}
		b := make([]byte, l+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		if !bytes.HasSuffix(b, []byte("\r\n")) {
			return nil, protoErr("argument not followed by CRLF")
		}
		args[i] = b[:l]
	}
	return args, nil
}

// readHeader reads a line "<kind><integer>\r\n" and returns the integer.
func readHeader(r *bufio.Reader, kind byte) (int, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || len(line) > maxLine {
		return 0, protoErr("line too long")
	}
	if err != nil {
		return 0, err
	}
	if len(line) < 4 || line[0] != kind || line[len(line)-2] != '\r' {
		return 0, protoErr("want %q and a length", kind)
	}
	n, err := strconv.Atoi(string(line[1 : len(line)-2]))
	if err != nil {
		return 0, protoErr("bad length")
	}
	return n, nil
}

// session is one connection's state.
type session struct{ authed bool }

// exec runs one command and writes its reply; it reports whether the client
// asked to quit.
func (s *Server) exec(sess *session, args [][]byte, w *bufio.Writer) (quit bool) {
	cmd := string(bytes.ToUpper(args[0]))
	args = args[1:]
	if !sess.authed && cmd != "AUTH" && cmd != "QUIT" && cmd != "HELLO" {
		writeErr(w, "NOAUTH Authentication required.")
		return false
	}
	switch {
	case cmd == "PING" && len(args) == 0:
		_, _ = w.WriteString("+PONG\r\n")
	case (cmd == "PING" || cmd == "ECHO") && len(args) == 1:
		writeBulk(w, args[0])
	case cmd == "GET" && len(args) == 1:
		s.mu.Lock()
		v, ok := s.data[string(args[0])]
		s.mu.Unlock()
		if !ok {
			_, _ = w.WriteString("$-1\r\n")
			return false
		}
		writeBulk(w, v)
	case cmd == "SETNX" && len(args) == 2,
		cmd == "SET" && len(args) == 3 && bytes.EqualFold(args[2], []byte("NX")):
		// Seeding adds keys and never overwrites one (go-redis sends SETNX as SET ... NX).
		s.mu.Lock()
		_, exists := s.data[string(args[0])]
		full := !exists && len(s.data) >= maxKeys
		if !exists && !full {
			s.data[string(args[0])] = bytes.Clone(args[1])
		}
		s.mu.Unlock()
		switch {
		case full:
			writeErr(w, fmt.Sprintf("ERR store full: at most %d keys", maxKeys))
		case exists && cmd == "SET":
			_, _ = w.WriteString("$-1\r\n")
		case exists:
			_, _ = w.WriteString(":0\r\n")
		case cmd == "SET":
			_, _ = w.WriteString("+OK\r\n")
		default:
			_, _ = w.WriteString(":1\r\n")
		}
	case cmd == "AUTH" && (len(args) == 1 || len(args) == 2):
		user, pw := "default", args[len(args)-1]
		if len(args) == 2 {
			user = string(args[0])
		}
		if s.cfg.Password == "" {
			writeErr(w, "ERR AUTH called without any password configured for the default user")
			return false
		}
		if user != "default" || subtle.ConstantTimeCompare(pw, []byte(s.cfg.Password)) != 1 {
			writeErr(w, "WRONGPASS invalid username-password pair or user is disabled.")
			return false
		}
		sess.authed = true
		_, _ = w.WriteString("+OK\r\n")
	case cmd == "SELECT" && len(args) == 1:
		if string(args[0]) != "0" {
			writeErr(w, "ERR DB index is out of range")
			return false
		}
		_, _ = w.WriteString("+OK\r\n")
	case cmd == "CLIENT" && len(args) >= 1:
		switch string(bytes.ToUpper(args[0])) {
		case "SETNAME", "SETINFO":
			_, _ = w.WriteString("+OK\r\n")
		default:
			writeErr(w, "ERR unsupported CLIENT subcommand")
		}
	case cmd == "QUIT":
		_, _ = w.WriteString("+OK\r\n")
		return true
	default:
		// HELLO too: clients then fall back to RESP2 and AUTH.
		writeErr(w, fmt.Sprintf("ERR unknown command or wrong number of arguments for %s", strconv.QuoteToASCII(truncate(cmd, 32))))
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func writeBulk(w *bufio.Writer, b []byte) {
	_, _ = w.WriteString("$" + strconv.Itoa(len(b)) + "\r\n")
	_, _ = w.Write(b)
	_, _ = w.WriteString("\r\n")
}

func writeErr(w *bufio.Writer, msg string) {
	_, _ = w.WriteString("-" + msg + "\r\n")
}
