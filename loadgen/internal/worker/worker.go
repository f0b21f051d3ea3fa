// Package worker is loadgen as a worker of a Locust 2.12 master (a real
// `locust --master` or `loadgen --master`): it registers with client_ready,
// beats every second with its state, CPU and memory, runs the users each
// spawn message asks for (absolute counts per class, the master's host and
// tags), reports Locust-shaped statistics deltas every 3 s, and honours
// stop, quit (final report first) and reconnect.
//
// Beyond Locust 2.12's Python worker, which keeps loading and never
// re-registers: when the master is unreachable the worker stops its users,
// then dials again and re-registers with the same id when it is back. At
// exit it logs one line of totals, "sent N requests, F failures in K
// reports (final report: n)".
//
// Run owns every goroutine it starts and returns after they have ended.
package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/httpclient"
	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/locustproto"
	"predictlab/loadgen/internal/locustrpc"
	"predictlab/loadgen/internal/locuststats"
	"predictlab/loadgen/internal/runner"
	"predictlab/loadgen/internal/selfcheck"
	"predictlab/loadgen/internal/stats"
	"predictlab/loadgen/internal/users"
)

// Locust 2.12.1's timing (runners.py).
const (
	HeartbeatInterval = 1 * time.Second
	ReportInterval    = 3 * time.Second
	ConnectTimeout    = 5 * time.Second
	ConnectRetries    = 60
)

// Options configure a worker.
type Options struct {
	// MasterAddr is the master's host:port.
	MasterAddr string
	// NodeID is the worker's id; "" makes Locust's hostname_<32 hex>.
	NodeID string
	// Classes are every user class the worker knows (the master names the
	// ones to run), before any tag filtering.
	Classes []users.Class
	// Host is --host, used when a spawn carries no host.
	Host string
	// Log is the base logger (the worker logs as locust.runners and
	// locust.main).
	Log zerolog.Logger
	// Dial connects to the master; nil is locustrpc.Dial.
	Dial locustrpc.DialFunc
	// Version is announced in client_ready; "" is locustproto.Version.
	Version string
	// Seed and ConnBudget are passed to the runners.
	Seed       uint64
	ConnBudget int64
	// Timing; zero values are Locust's (tests shorten them).
	HeartbeatInterval, ReportInterval, ConnectTimeout time.Duration
	// ConnectRetries is how many registration attempts (ConnectTimeout
	// each) are made before giving up; 0 is Locust's 60.
	ConnectRetries int
	// ExtraWaitAfterStop is added to the stop timeout before the worker
	// says client_ready again after a stop (Locust's
	// LOCUST_WORKER_ADDITIONAL_WAIT_BEFORE_READY_AFTER_STOP).
	ExtraWaitAfterStop time.Duration
}

// NewNodeID returns Locust's worker id for this host: hostname_<uuid4 hex>.
// The part before the first "_" is read by the master as the machine.
func NewNodeID() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80
	return h + "_" + hex.EncodeToString(b[:])
}

// ErrConnect is returned when the master could not be reached in
// ConnectRetries attempts.
var ErrConnect = errors.New("failed to connect to the Locust master")

// Worker is one worker process's state. Create it with New and call Run once.
type Worker struct {
	opts    Options
	id      string
	runLog  zerolog.Logger
	mainLog zerolog.Logger
	rec     *locuststats.Recorder
	cpu     cpuMeter
	// check is the current test's generator self-check; runners' users
	// feed it concurrently (ObserveLag), Run's goroutine ticks and reads it.
	check atomic.Pointer[selfcheck.Monitor]
	// sendCheck: the master is a loadgen master (it asked for exact
	// histograms), so stats messages also carry the self-check.
	sendCheck bool

	// exceptions queues user exceptions for the main loop to send.
	exceptions chan [2]string

	// Main-loop state (only Run's goroutine touches it).
	state       string
	lastSpawn   float64
	host        string
	stopTimeout time.Duration
	runners     map[string]*runner.Runner // per class name
	targets     map[string]int64          // per known class
	index       int64

	// Totals for the closing log line (written by Run's goroutine only;
	// atomic for Totals).
	sent, failed, reports, final atomic.Int64

	mu      sync.Mutex
	dropped int64 // exceptions not queued (the queue was full)
}

// New returns a worker; it does nothing until Run.
func New(opts Options) *Worker {
	if opts.Dial == nil {
		opts.Dial = locustrpc.Dial
	}
	if opts.Version == "" {
		opts.Version = locustproto.Version
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = HeartbeatInterval
	}
	if opts.ReportInterval <= 0 {
		opts.ReportInterval = ReportInterval
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = ConnectTimeout
	}
	if opts.ConnectRetries <= 0 {
		opts.ConnectRetries = ConnectRetries
	}
	id := opts.NodeID
	if id == "" {
		id = NewNodeID()
	}
	return &Worker{
		opts: opts, id: id,
		runLog:     locustlog.Named(opts.Log, "locust.runners"),
		mainLog:    locustlog.Named(opts.Log, "locust.main"),
		rec:        locuststats.New(time.Now),
		exceptions: make(chan [2]string, 256),
		state:      locustproto.StateReady,
		targets:    map[string]int64{},
		index:      -1,
	}
}

// Totals returns what the worker has reported so far: requests, failures
// and stats messages sent. Safe to call while Run runs.
func (w *Worker) Totals() (requests, failures, reports int64) {
	return w.sent.Load(), w.failed.Load(), w.reports.Load()
}

// ID is the worker's node id.
func (w *Worker) ID() string { return w.id }

// outcome is why serve returned.
type outcome int

const (
	outcomeDone outcome = iota // quit from the master, or ctx cancelled: exit
	outcomeLost                // the master is unreachable: stop users, register again
)

// Run registers with the master and serves it until the master says quit or
// ctx is cancelled (both return nil, after the final report and a quit
// message), or the master cannot be reached (ErrConnect).
func (w *Worker) Run(ctx context.Context) error {
	defer w.stopUsers()
	defer w.logTotals()
	for {
		conn, err := w.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted before (re)registering: nothing to report to
			}
			return err
		}
		if w.serve(ctx, conn) == outcomeDone {
			return nil
		}
	}
}

func (w *Worker) logTotals() {
	w.runLog.Info().Msgf("sent %d requests, %d failures in %d reports (final report: %d)", w.sent.Load(), w.failed.Load(), w.reports.Load(), w.final.Load())
}

// connect dials and registers (client_ready, then an ack within
// ConnectTimeout), as Locust's connect_to_master retries.
func (w *Worker) connect(ctx context.Context) (locustrpc.Conn, error) {
	for attempt := 1; ; attempt++ {
		conn, err := w.register(ctx)
		if err == nil {
			return conn, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := fmt.Sprintf("Failed to connect to master %s, retry %d/%d.", w.opts.MasterAddr, attempt, w.opts.ConnectRetries)
		if attempt < 3 {
			w.runLog.Debug().Msg(msg)
		} else {
			w.runLog.Warn().Msg(msg)
		}
		if attempt >= w.opts.ConnectRetries {
			return nil, fmt.Errorf("%w %s: %w", ErrConnect, w.opts.MasterAddr, err)
		}
	}
}

// register makes one attempt; it takes ConnectTimeout when the master is
// not there.
func (w *Worker) register(ctx context.Context) (locustrpc.Conn, error) {
	start := time.Now()
	wait := func() {
		t := time.NewTimer(time.Until(start.Add(w.opts.ConnectTimeout)))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	dctx, cancel := context.WithTimeout(ctx, w.opts.ConnectTimeout)
	defer cancel()
	conn, err := w.opts.Dial(dctx, w.opts.MasterAddr, w.id)
	if err != nil {
		wait()
		return nil, err
	}
	if err := conn.Send(locustproto.ClientReady(w.id, w.opts.Version)); err != nil {
		conn.Close()
		wait()
		return nil, err
	}
	type result struct {
		m   locustproto.Message
		err error
	}
	got := make(chan result, 1)
	go func() {
		for {
			m, err := conn.Recv()
			if err == nil && m.Type != locustproto.TypeAck {
				continue // nothing else is expected before the ack
			}
			got <- result{m, err}
			return
		}
	}()
	t := time.NewTimer(w.opts.ConnectTimeout)
	defer t.Stop()
	select {
	case r := <-got:
		if r.err != nil {
			conn.Close()
			wait()
			return nil, r.err
		}
		if i, ok := locustproto.AckIndex(r.m.Data); ok {
			w.index = i
		}
		// A loadgen master asks for the exact histograms in its ack.
		ack, _ := r.m.Data.(locustproto.Map)
		_, hdr := ack.Get("loadgen")
		w.rec.SetHDR(hdr)
		w.sendCheck = hdr
		w.runLog.Info().Msgf("Registered with master %s as %s (index %d)", w.opts.MasterAddr, w.id, w.index)
		return conn, nil
	case <-t.C:
		conn.Close()
		<-got
		return nil, fmt.Errorf("no ack from master %s in %s", w.opts.MasterAddr, w.opts.ConnectTimeout)
	case <-ctx.Done():
		conn.Close()
		<-got
		return nil, ctx.Err()
	}
}

// received is one message or the receive error that ends a connection.
type received struct {
	m   locustproto.Message
	err error
}

// serve runs one registered connection.
func (w *Worker) serve(ctx context.Context, conn locustrpc.Conn) outcome {
	msgs := make(chan received, 16)
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		for {
			m, err := conn.Recv()
			if errors.Is(err, locustproto.ErrMalformed) {
				w.runLog.Warn().Msgf("Discarded a message from master that does not decode: %s", err)
				continue
			}
			msgs <- received{m, err}
			if err != nil {
				return
			}
		}
	}()
	// closeConn ends the connection and waits for the receiver.
	closeConn := func() {
		conn.Close()
		for {
			select {
			case <-msgs:
			case <-recvDone:
				return
			}
		}
	}

	beat := time.NewTicker(w.opts.HeartbeatInterval)
	defer beat.Stop()
	report := time.NewTicker(w.opts.ReportInterval)
	defer report.Stop()
	var readyTimer <-chan time.Time // pending client_ready after a stop

	lost := func(err error) outcome {
		w.runLog.Warn().Msgf("Lost the connection to master %s (%s); stopping users until it is back (sent %d requests so far)",
			w.opts.MasterAddr, err, w.sent.Load())
		closeConn()
		w.stopUsers()
		w.state = locustproto.StateReady
		// The test these belonged to is gone with its master.
		w.rec.Clear()
		return outcomeLost
	}
	for {
		select {
		case <-ctx.Done():
			w.stopUsers()
			w.finalReport(conn)
			_ = conn.Send(locustproto.Quit(w.id))
			closeConn()
			return outcomeDone
		case r := <-msgs:
			if r.err != nil {
				return lost(r.err)
			}
			switch m := r.m; m.Type {
			case locustproto.TypeAck:
				if i, ok := locustproto.AckIndex(m.Data); ok {
					w.index = i
				}
			case locustproto.TypeSpawn:
				if err := w.spawn(conn, m.Data); err != nil {
					if errors.Is(err, locustproto.ErrMalformed) {
						w.runLog.Error().Msg(err.Error())
						continue
					}
					return lost(err)
				}
			case locustproto.TypeStop:
				w.stopUsers()
				w.state = locustproto.StateReady
				// Beyond Locust: the stopped users' last requests reach the
				// master now, not with the next 3-s report.
				if err := w.sendReport(conn); err != nil {
					return lost(err)
				}
				if err := conn.Send(locustproto.ClientStopped(w.id)); err != nil {
					return lost(err)
				}
				readyTimer = time.After(w.stopWait())
			case locustproto.TypeQuit:
				w.runLog.Info().Msg("Got quit message from master, shutting down...")
				w.stopUsers()
				w.finalReport(conn)
				_ = conn.Send(locustproto.Quit(w.id))
				closeConn()
				return outcomeDone
			case locustproto.TypeReconnect:
				w.runLog.Warn().Msg("Received reconnect message from master. Resetting RPC connection.")
				closeConn()
				c, err := w.register(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return outcomeDone
					}
					w.stopUsers()
					w.state = locustproto.StateReady
					w.rec.Clear()
					return outcomeLost
				}
				return w.serve(ctx, c)
			default:
				w.runLog.Warn().Msgf("Unknown message type received: %s", m.Type)
			}
		case <-readyTimer:
			readyTimer = nil
			if err := conn.Send(locustproto.ClientReady(w.id, w.opts.Version)); err != nil {
				return lost(err)
			}
		case now := <-beat.C:
			if mon := w.check.Load(); mon != nil && w.state != locustproto.StateReady {
				mon.Tick(now, int(w.userCount()))
			}
			cpu, rss := w.cpu.sample()
			if err := conn.Send(locustproto.Heartbeat(w.id, w.state, cpu, rss)); err != nil {
				return lost(err)
			}
		case <-report.C:
			if err := w.sendReport(conn); err != nil {
				return lost(err)
			}
		case e := <-w.exceptions:
			if err := conn.Send(locustproto.Exception(w.id, e[0], e[1])); err != nil {
				return lost(err)
			}
		}
	}
}

// stopWait is how long Locust's worker sleeps after a stop before it says
// client_ready again: the stop timeout (plus
// LOCUST_WORKER_ADDITIONAL_WAIT_BEFORE_READY_AFTER_STOP seconds).
func (w *Worker) stopWait() time.Duration {
	return w.stopTimeout + w.opts.ExtraWaitAfterStop
}

// sendReport sends one stats delta.
func (w *Worker) sendReport(conn locustrpc.Conn) error {
	rep := w.rec.Report()
	data := append(rep.Data,
		locustproto.KV{Key: "user_classes_count", Value: w.classCounts()},
		locustproto.KV{Key: "user_count", Value: w.userCount()})
	if mon := w.check.Load(); mon != nil && w.sendCheck {
		// The seconds since the last report let the master chart the
		// workers, which generate the load, rather than its own process.
		sc := mon.Verdict()
		sc.Timeline = mon.TakeRecent()
		data = append(data, locustproto.KV{Key: locuststats.SelfCheckKey, Value: locuststats.EncodeSelfCheck(sc)})
	}
	if err := conn.Send(locustproto.Message{Type: locustproto.TypeStats, Data: data, NodeID: w.id}); err != nil {
		return err
	}
	w.sent.Add(rep.Requests)
	w.failed.Add(rep.Failures)
	w.reports.Add(1)
	return nil
}

// finalReport sends the last delta before quitting (Locust's worker does on
// quit; loadgen also on Ctrl-C) and logs what it held.
func (w *Worker) finalReport(conn locustrpc.Conn) {
	before := w.sent.Load()
	if err := w.sendReport(conn); err != nil {
		w.runLog.Error().Msgf("Could not send the final report: %s", err)
		return
	}
	w.final.Store(w.sent.Load() - before)
}

// classCounts is Locust's user_classes_count: every known class, with the
// users running now.
func (w *Worker) classCounts() locustproto.Map {
	counts := make(map[string]int64, len(w.opts.Classes))
	for _, c := range w.opts.Classes {
		counts[c.Name] = w.targets[c.Name]
	}
	return locustproto.SortedCounts(counts)
}

func (w *Worker) userCount() int64 {
	var n int64
	for _, c := range w.targets {
		n += c
	}
	return n
}

// spawn applies a spawn message: Locust's WorkerRunner.worker "spawn" branch
// and start_worker.
func (w *Worker) spawn(conn locustrpc.Conn, data any) error {
	if err := conn.Send(locustproto.Spawning(w.id)); err != nil {
		return err
	}
	s, err := locustproto.ParseSpawn(data)
	if err != nil {
		return err
	}
	if s.Timestamp <= w.lastSpawn {
		w.runLog.Info().Msg("Discard spawn message with older or equal timestamp than timestamp of previous spawn message")
		return nil
	}
	w.lastSpawn = s.Timestamp
	if w.state != locustproto.StateRunning && w.state != locustproto.StateSpawning {
		// A new test: fresh statistics and self-check, the master's host,
		// tags and stop timeout.
		w.rec.Clear()
		w.check.Store(selfcheck.New(time.Now(), nil, nil, nil))
		host := w.opts.Host
		if s.HasHost && s.Host != "" {
			host = s.Host
		}
		if err := w.newRunners(host, s); err != nil {
			w.runLog.Error().Msg(err.Error())
			w.queueException(err.Error(), "")
		}
	}
	w.state = locustproto.StateSpawning

	known := map[string]bool{}
	for _, c := range w.opts.Classes {
		known[c.Name] = true
	}
	want := map[string]int64{}
	for _, cc := range s.Classes {
		if !known[cc.Name] {
			if cc.Count > 0 {
				msg := fmt.Sprintf("Unknown user class %q: this worker knows %s", cc.Name, strings.Join(classNames(w.opts.Classes), ", "))
				w.runLog.Error().Msg(msg)
				w.queueException(msg, "  loadgen worker: spawn message names user class "+cc.Name+"\n")
			}
			continue
		}
		want[cc.Name] = cc.Count
	}
	for name, n := range want {
		r := w.runners[name]
		if r == nil {
			continue // no runner: the host was unusable (reported above)
		}
		if n == w.targets[name] {
			continue
		}
		// All at once: the master paces the ramp.
		r.Start(int(n), float64(max(n-w.targets[name], w.targets[name]-n, 1)))
		w.targets[name] = n
	}
	if len(w.runners) == 0 {
		for name := range want {
			w.targets[name] = 0
		}
	}
	counts := w.classCounts()
	if err := conn.Send(locustproto.SpawningComplete(w.id, counts, w.userCount())); err != nil {
		return err
	}
	w.runLog.Info().Msgf("Spawned %s (%d total users)", countsJSON(counts), w.userCount())
	w.state = locustproto.StateRunning
	return nil
}

// newRunners replaces the runners by one per known class against host, its
// tasks filtered by the spawn's tags.
func (w *Worker) newRunners(host string, s locustproto.Spawn) error {
	w.stopUsers()
	w.runners = map[string]*runner.Runner{}
	if host == "" {
		return fmt.Errorf("You must specify the base host. Either in the host attribute in the User class, or on the command line using the --host option.")
	}
	target, err := httpclient.ParseTarget(host)
	if err != nil {
		return fmt.Errorf("start users: %w", err)
	}
	classes := users.FilterTags(w.opts.Classes, s.Tags, s.ExcludeTags)
	stopTimeout := time.Duration(s.StopTimeout * float64(time.Second))
	w.stopTimeout = stopTimeout
	nclass := int64(len(classes))
	for i := range classes {
		r, err := runner.New(runner.Options{
			Classes: classes[i : i+1], Target: target, Stats: recorder{w}, StopTimeout: stopTimeout,
			Log: zerolog.Nop(), Seed: w.opts.Seed + uint64(i), ConnBudget: w.opts.ConnBudget / max(nclass, 1),
			Lag: w.observeLag,
		})
		if err != nil {
			return fmt.Errorf("start users: %w", err)
		}
		w.runners[classes[i].Name] = r
	}
	w.host = host
	return nil
}

// stopUsers stops every user (honouring the stop timeout) and waits for them.
func (w *Worker) stopUsers() {
	var wg sync.WaitGroup
	for _, r := range w.runners {
		wg.Add(1)
		go func() { defer wg.Done(); r.Stop() }()
	}
	wg.Wait()
	clear(w.targets)
}

func (w *Worker) queueException(msg, tb string) {
	select {
	case w.exceptions <- [2]string{msg, tb}:
	default:
		w.mu.Lock()
		w.dropped++
		w.mu.Unlock()
	}
}

// recorder feeds the users' results to the worker's Locust statistics and
// their exceptions to the master.
// observeLag feeds the current test's self-check (runner.Options.Lag).
func (w *Worker) observeLag(d time.Duration, first bool) {
	if mon := w.check.Load(); mon != nil {
		mon.ObserveLag(d, first)
	}
}

type recorder struct{ w *Worker }

var _ runner.Recorder = recorder{}

func (r recorder) Record(res stats.Result) { r.w.rec.Record(res) }

func (r recorder) RecordException(msg, traceback string) { r.w.queueException(msg, traceback) }

func classNames(cs []users.Class) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	sort.Strings(out)
	return out
}

// countsJSON renders counts as Locust logs them: {"A": 1, "B": 2}.
func countsJSON(m locustproto.Map) string {
	counts := map[string]int{}
	for _, kv := range m {
		counts[kv.Key.(string)] = int(kv.Value.(int64))
	}
	return runner.ClassCountsJSON(counts)
}

// cpuMeter measures the process's CPU use between two samples.
type cpuMeter struct {
	lastCPU  time.Duration
	lastWall time.Time
}

// sample returns the CPU used since the previous sample in percent of one
// core, and the resident memory in bytes.
func (c *cpuMeter) sample() (float64, int64) {
	now := time.Now()
	cpu, _ := processCPU()
	var pct float64
	if !c.lastWall.IsZero() {
		if wall := now.Sub(c.lastWall); wall > 0 {
			pct = float64(cpu-c.lastCPU) / float64(wall) * 100
		}
	}
	c.lastCPU, c.lastWall = cpu, now
	return math.Round(pct*10) / 10, rss()
}
