// Package session is one load test's life cycle around a runner.Runner: it
// starts a test (clearing the statistics as Locust does), arms the run-time
// limit counted from the ramp start, resets the statistics once spawning
// completes when asked, stops the test, and drives the once-a-second clock
// (statistics windows, self-check, CSV history, console tables).
//
// The headless command and the web UI drive the same Session; it implements
// webui.Runner. All methods are safe for concurrent use.
//
// RunHeadless and RunWeb are a whole run of the command around a Session:
// outputs opened first, the tick loop writing the CSV history and console
// tables, the test started at once (headless, --autostart) or from the web
// UI, stopped by its run-time limit, --autoquit or a signal, then the final
// CSV, --html, tables and --json written.
package session

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/httpclient"
	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/runner"
	"predictlab/loadgen/internal/selfcheck"
	"predictlab/loadgen/internal/stats"
	"predictlab/loadgen/internal/users"
)

// Runner states, as Locust names them.
const (
	StateReady    = "ready"
	StateSpawning = "spawning"
	StateRunning  = "running"
	StateStopping = "stopping"
	StateStopped  = "stopped"
)

// Options configure a Session.
type Options struct {
	Classes     []users.Class
	StopTimeout time.Duration
	// RequestTimeout: see runner.Options.
	RequestTimeout time.Duration
	// ResetStats resets the statistics each time spawning completes.
	ResetStats bool
	Stats      *stats.Stats
	Monitor    *selfcheck.Monitor
	// Log is the base logger; the session logs as locust.runners / locust.main.
	Log  zerolog.Logger
	Seed uint64
	// ConnBudget: see runner.Options.
	ConnBudget int64
	// NewEngine, when set, makes the engine that runs the users instead of
	// a runner.Runner in this process (a distributed master's workers).
	NewEngine EngineFunc
	// OnTimeLimit runs (in its own goroutine) when a run-time limit expires.
	// The headless command shuts down; nil means the session stops the test.
	OnTimeLimit func()
}

// Engine runs a test's users: a *runner.Runner, or a distributed master
// whose workers run them. Its methods are safe for concurrent use.
type Engine interface {
	// Start ramps to n users at rate users per second and returns at once.
	Start(n int, rate float64)
	// Stop stops every user and returns when they have stopped.
	Stop()
	UserCount() int
	ClassCounts() map[string]int
}

var _ Engine = (*runner.Runner)(nil)

// EngineFunc makes the engine of a test against host that records into st
// and calls onSpawned each time a ramp has completed.
type EngineFunc func(host string, st *stats.Stats, onSpawned func()) (Engine, error)

// Session is one load test. Create it with New.
type Session struct {
	opts    Options
	runLog  zerolog.Logger
	mainLog zerolog.Logger

	// ctl serialises Start and Stop for their whole length: a Start during a
	// Stop (which can wait up to the stop timeout) waits for it, and so
	// never adds users the Stop does not stop, nor a runner it does not
	// know. mu, which the readers take, is not held across those waits.
	ctl sync.Mutex

	mu     sync.Mutex
	r      Engine
	host   string
	state  atomic.Pointer[string] // written under mu, except spawning→running (CAS, no lock: see spawned)
	limit  *time.Timer
	gen    uint64 // bumped by Start and Stop: a run-time limit of an older test is ignored
	closed bool
}

// New returns a session in state "ready".
func New(opts Options) *Session {
	s := &Session{opts: opts,
		runLog: locustlog.Named(opts.Log, "locust.runners"), mainLog: locustlog.Named(opts.Log, "locust.main")}
	s.setState(StateReady)
	return s
}

// Start starts a test with users at spawnRate against host, or changes the
// user count of the running one. runTime > 0 stops the test that long after
// this call (the ramp counts toward it). A Start while a Stop is under way
// waits for it to finish, then starts a new test.
func (s *Session) Start(users int, spawnRate float64, host string, runTime time.Duration) error {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("start test: session closed")
	}
	if s.r == nil || host != s.host {
		if s.r != nil {
			s.stopLocked()
		}
		r, err := s.newEngine(host)
		if err != nil {
			return fmt.Errorf("start test: %w", err)
		}
		s.r, s.host = r, host
	}
	if st := s.State(); st != StateSpawning && st != StateRunning {
		s.opts.Stats.Reset() // Locust clears the stats when a test starts
	}
	s.setState(StateSpawning)
	if s.limit != nil {
		s.limit.Stop()
		s.limit = nil
	}
	s.gen++
	if runTime > 0 {
		gen := s.gen
		s.limit = time.AfterFunc(runTime, func() { s.timeLimit(gen) })
	}
	s.r.Start(users, spawnRate)
	return nil
}

// newEngine makes the engine for host: Options.NewEngine's, or a runner.
func (s *Session) newEngine(host string) (Engine, error) {
	if s.opts.NewEngine != nil {
		return s.opts.NewEngine(host, s.opts.Stats, s.spawned)
	}
	target, err := httpclient.ParseTarget(host)
	if err != nil {
		return nil, err
	}
	return runner.New(runner.Options{
		Classes: s.opts.Classes, Target: target, Stats: s.opts.Stats, StopTimeout: s.opts.StopTimeout,
		RequestTimeout: s.opts.RequestTimeout, Log: s.runLog, Lag: s.lagFunc(), Seed: s.opts.Seed, ConnBudget: s.opts.ConnBudget,
		OnSpawned: s.spawned,
	})
}

func (s *Session) lagFunc() func(time.Duration, bool) {
	if s.opts.Monitor == nil {
		return nil
	}
	return s.opts.Monitor.ObserveLag
}

// spawned is the runner's OnSpawned callback. It must not take s.mu: Start
// holds it while replacing a ramp, and waits for the ramp goroutine.
func (s *Session) spawned() {
	if cur := s.state.Load(); *cur == StateSpawning {
		running := StateRunning
		s.state.CompareAndSwap(cur, &running)
	}
	if s.opts.ResetStats {
		s.runLog.Info().Msg("Resetting stats")
		s.opts.Stats.Reset()
	}
}

func (s *Session) timeLimit(gen uint64) {
	s.mu.Lock()
	stale := gen != s.gen
	s.mu.Unlock()
	if stale {
		return // the test it was armed for was stopped or restarted
	}
	if s.opts.OnTimeLimit != nil {
		s.opts.OnTimeLimit()
		return
	}
	s.mainLog.Info().Msg("Time limit reached. Stopping Locust")
	s.Stop()
}

// Stop stops the running test (honouring the stop timeout) and waits for
// its users. Statistics are kept.
func (s *Session) Stop() {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Session) stopLocked() {
	s.gen++
	if s.limit != nil {
		s.limit.Stop()
		s.limit = nil
	}
	if st := s.State(); s.r == nil || (st != StateSpawning && st != StateRunning) {
		return
	}
	s.setState(StateStopping)
	r := s.r
	s.mu.Unlock()
	r.Stop()
	s.mu.Lock()
	s.setState(StateStopped)
	if s.opts.Monitor != nil && s.opts.Monitor.CPUWarned() {
		s.runLog.Warn().Msg(selfcheck.CPUEndWarning)
	}
}

// ResetStats clears the statistics.
func (s *Session) ResetStats() { s.opts.Stats.Reset() }

// State is the Locust runner state.
func (s *Session) State() string {
	return *s.state.Load()
}

func (s *Session) setState(st string) { s.state.Store(&st) }

// UserCount is the number of live users.
func (s *Session) UserCount() int {
	s.mu.Lock()
	r := s.r
	s.mu.Unlock()
	if r == nil {
		return 0
	}
	return r.UserCount()
}

// ClassCounts is the live users per class.
func (s *Session) ClassCounts() map[string]int {
	s.mu.Lock()
	r := s.r
	s.mu.Unlock()
	if r == nil {
		return map[string]int{}
	}
	return r.ClassCounts()
}

// Snapshot returns the current statistics.
func (s *Session) Snapshot() *stats.Snapshot { return s.opts.Stats.Snapshot() }

// Host is the current target host.
func (s *Session) Host() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.host
}

// TickFunc receives the snapshot of each one-second tick. n counts ticks
// from 0 (the tick at Loop's start).
type TickFunc func(n int, snap *stats.Snapshot)

// Loop ticks once per second from its call until ctx is done: it advances
// the statistics (stats.Tick), closes a self-check window and calls each fn
// in order. The first tick happens at once. Loop returns when ctx is done.
func (s *Session) Loop(ctx context.Context, fns ...TickFunc) {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for n := 0; ; n++ {
		now := time.Now()
		users := s.UserCount()
		if s.opts.Monitor != nil && n > 0 {
			s.opts.Monitor.Tick(now, users)
		}
		snap := s.opts.Stats.Tick(now, users)
		for _, fn := range fns {
			fn(n, snap)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
