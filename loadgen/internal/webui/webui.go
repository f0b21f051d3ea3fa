// Package webui is loadgen's live web UI: a page to start, watch, edit and
// stop a test, and Locust 2.12's HTTP contract (POST /swarm, GET /stop,
// /stats/reset, /stats/requests, /tasks, the CSV downloads and /stats/report) so
// scripts written for Locust's web UI work unchanged.
//
// Create a Server with New, then either mount Handler on your own server or
// call Serve / ListenAndServe, which return when their context is cancelled
// (after a graceful shutdown). All methods are safe for concurrent use.
//
// Differences from Locust on purpose: the default listen address is
// 127.0.0.1 (not all interfaces), there is no Access-Control-Allow-Origin: *
// header, and bad form values are refused with a JSON message instead of a
// server error (nothing starts).
package webui

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/ratio"
	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/stats"
)

// Runner is what the web UI needs from the load generator engine.
// Implementations must be safe for concurrent use.
type Runner interface {
	// Start starts a test, or changes the user count and spawn rate of the
	// running one. host is the target base URL. runTime > 0 stops the test
	// that long after this call; 0 means no (new) limit.
	Start(users int, spawnRate float64, host string, runTime time.Duration) error
	// Stop stops the test (users are stopped, statistics kept).
	Stop()
	// ResetStats clears the statistics and the exceptions.
	ResetStats()
	// State is one of Locust's runner states: ready, spawning, running,
	// cleanup, stopping, stopped.
	State() string
	// UserCount is the number of live users.
	UserCount() int
	// Snapshot returns the current statistics.
	Snapshot() *stats.Snapshot
}

// Worker is one distributed worker as Locust's /stats/requests lists it.
type Worker struct {
	ID          string  `json:"id"`
	State       string  `json:"state"`
	UserCount   int     `json:"user_count"`
	CPUUsage    float64 `json:"cpu_usage"`
	MemoryUsage int64   `json:"memory_usage"`
}

// CSV writes the content of Locust's CSV files from a snapshot (the same
// bytes as PREFIX_stats.csv, PREFIX_failures.csv, PREFIX_exceptions.csv).
type CSV interface {
	Stats(w io.Writer, s *stats.Snapshot) error
	Failures(w io.Writer, s *stats.Snapshot) error
	Exceptions(w io.Writer, s *stats.Snapshot) error
}

// ReportFunc builds the HTML report's data from a snapshot and the run's
// current settings (host, users, self-check...).
type ReportFunc func(s *stats.Snapshot) *report.Data

// Options configure a Server. Runner, CSV and Report are required.
type Options struct {
	// Host and Port to listen on. Host "" means 127.0.0.1; "*" means all
	// interfaces (Locust's default). Port 0 picks a free port.
	Host string
	Port int
	// Auth is "user:password" to require HTTP Basic on every route except
	// /static/; "" for none.
	Auth string
	// AllowedHosts are extra names (or IP literals) the Host header may
	// carry, beyond the loopback names and the addresses the UI listens on
	// (--web-allowed-hosts); "*" allows any.
	AllowedHosts []string
	// Form defaults: users, spawn rate, target host and run time (0 = none).
	Users     int
	SpawnRate float64
	Target    string
	RunTime   time.Duration
	// FullHistoryCSV is the path of PREFIX_stats_history.csv when the run
	// writes the full history (--csv --csv-full-history); "" otherwise.
	FullHistoryCSV string
	// Version is shown on the page.
	Version string

	Runner Runner
	CSV    CSV
	Report ReportFunc
	// Ratios returns the task ratios GET /tasks answers and the "Current
	// ratio" tab shows (Locust's: from the running users per class); nil
	// answers no classes. Called from request goroutines.
	Ratios func() ratio.Ratios
	// Workers, when set (a distributed master), lists the workers that
	// /stats/requests answers under "workers", as Locust's master does.
	// Called from request goroutines.
	Workers func() []Worker
	Log     zerolog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CacheFor is how long a snapshot is reused between polls (default 1 s;
	// negative = never). Start, stop and reset always take a fresh one.
	CacheFor time.Duration
}

// Server is the web UI. Create it with New.
type Server struct {
	opts       Options
	user, pass []byte
	handler    http.Handler
	hosts      hostPolicy
	csrf       string // the page's CSRF token, for the life of the server

	mu       sync.Mutex
	target   string // current target host
	snap     *stats.Snapshot
	snapAt   time.Time
	started  bool // a test was started at least once
	listener net.Listener
}

// ErrAuthFormat is returned by New for a malformed Options.Auth; its text is
// Locust's message.
var ErrAuthFormat = errors.New("Credentials supplied with --web-auth should have the format: username:password")

// New checks opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Runner == nil || opts.CSV == nil || opts.Report == nil {
		return nil, errors.New("create web UI: Runner, CSV and Report are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CacheFor == 0 {
		opts.CacheFor = time.Second
	}
	s := &Server{opts: opts, target: opts.Target, hosts: newHostPolicy(opts.Host, opts.AllowedHosts), csrf: newCSRFToken()}
	if opts.Auth != "" {
		user, pass, ok := strings.Cut(opts.Auth, ":")
		if !ok || user == "" {
			return nil, ErrAuthFormat
		}
		s.user, s.pass = []byte(user), []byte(pass)
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the UI's HTTP handler (authentication included).
func (s *Server) Handler() http.Handler { return s.handler }

// ListenAddr is the host:port the server listens on when started with
// ListenAndServe, from Options.Host and Options.Port.
func (s *Server) ListenAddr() string {
	host := s.opts.Host
	switch host {
	case "":
		host = "127.0.0.1"
	case "*":
		host = ""
	}
	return net.JoinHostPort(host, strconv.Itoa(s.opts.Port))
}

// Listen opens the listening socket (so the caller can report the address
// before serving). Call Serve next.
func (s *Server) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.ListenAddr())
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.ListenAddr(), err)
	}
	return ln, nil
}

// URL returns the address users should open for listener ln.
func URL(ln net.Listener) string {
	addr := ln.Addr().String()
	if host, port, err := net.SplitHostPort(addr); err == nil && (host == "::" || host == "0.0.0.0") {
		addr = net.JoinHostPort("0.0.0.0", port)
	}
	return "http://" + addr
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully
// (up to 5 s for in-flight requests) and closes ln. It returns nil after a
// shutdown caused by ctx.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Timeouts so that slow or stalled clients cannot hold connections (and
	// file descriptors, which the users need) for long: the whole request
	// within 30 s, the answer (the largest is /stats/report) within 60 s.
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve web UI: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	if err != nil {
		return fmt.Errorf("shut down web UI: %w", err)
	}
	return nil
}

// ListenAndServe is Listen followed by Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := s.Listen()
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Target returns the current target host (the form's, once a test started).
func (s *Server) Target() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.target
}

// snapshot returns a cached snapshot not older than CacheFor.
func (s *Server) snapshot(fresh bool) *stats.Snapshot {
	now := s.opts.Now()
	s.mu.Lock()
	if !fresh && s.snap != nil && s.opts.CacheFor > 0 && now.Sub(s.snapAt) < s.opts.CacheFor && !now.Before(s.snapAt) {
		snap := s.snap
		s.mu.Unlock()
		return snap
	}
	s.mu.Unlock()
	snap := s.opts.Runner.Snapshot()
	s.mu.Lock()
	s.snap, s.snapAt = snap, now
	s.mu.Unlock()
	return snap
}

func (s *Server) invalidate() {
	s.mu.Lock()
	s.snap = nil
	s.mu.Unlock()
}

// authorized wraps h with HTTP Basic authentication when configured.
func (s *Server) authorized(h http.Handler) http.Handler {
	if s.user == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.checkAuth(r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", `Basic realm=""`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) checkAuth(header string) bool {
	enc, ok := strings.CutPrefix(header, "Basic ")
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return false
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return false
	}
	u := subtle.ConstantTimeCompare([]byte(user), s.user)
	p := subtle.ConstantTimeCompare([]byte(pass), s.pass)
	return u&p == 1
}

// swarmRequest is a parsed and validated POST /swarm form.
type swarmRequest struct {
	users     int
	spawnRate float64
	host      string
	runTime   time.Duration
	hasRun    bool
}

// maxUsers bounds user_count to something a single generator could run.
const maxUsers = 1_000_000

// runTimeMessage is Locust's answer to a bad run_time.
const runTimeMessage = "Valid run_time formats are : 20, 20s, 3m, 2h, 1h20m, 3h30m10s, etc."

// parseSwarm validates the form; the error text is shown to the user.
func parseSwarm(form func(string) (string, bool), currentHost string, parseSpan func(string) (time.Duration, error)) (swarmRequest, error) {
	var req swarmRequest
	uc, ok := form("user_count")
	if !ok || strings.TrimSpace(uc) == "" {
		return req, errors.New("Number of users is required (a whole number, e.g. 10).")
	}
	n, err := strconv.Atoi(strings.TrimSpace(uc))
	if err != nil || n < 0 || n > maxUsers {
		return req, fmt.Errorf("Number of users must be a whole number from 0 to %d, not %q.", maxUsers, uc)
	}
	req.users = n
	sr, ok := form("spawn_rate")
	if !ok || strings.TrimSpace(sr) == "" {
		return req, errors.New("Spawn rate is required (users started per second, e.g. 1 or 0.5).")
	}
	rate, err := strconv.ParseFloat(strings.TrimSpace(sr), 64)
	if err != nil || math.IsNaN(rate) || math.IsInf(rate, 0) || rate <= 0 {
		return req, fmt.Errorf("Spawn rate must be a number above 0, not %q.", sr)
	}
	req.spawnRate = rate
	req.host = currentHost
	if h, ok := form("host"); ok {
		h = strings.TrimSpace(strings.NewReplacer("<", "", ">", "").Replace(h))
		if h != "" {
			req.host = h
		}
	}
	if req.host == "" {
		return req, errors.New("Host is required, e.g. http://127.0.0.1:8001.")
	}
	if !strings.HasPrefix(req.host, "http://") && !strings.HasPrefix(req.host, "https://") {
		return req, fmt.Errorf("Host must start with http:// or https://, not %q.", req.host)
	}
	if rt, ok := form("run_time"); ok && strings.TrimSpace(rt) != "" {
		d, err := parseSpan(strings.TrimSpace(rt))
		if err != nil {
			return req, errRunTime
		}
		req.runTime, req.hasRun = d, true
	}
	return req, nil
}

var errRunTime = errors.New(runTimeMessage)

// pythonTime formats t as Python's time.time() would (for file names).
func pythonTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', -1, 64)
}
