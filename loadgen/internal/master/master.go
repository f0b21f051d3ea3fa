// Package master is loadgen as the master of a Locust 2.12 distributed test:
// it listens for workers (loadgen's or Locust's own Python workers, Debian's
// empty version string included), tracks them by heartbeat as Locust does
// (missing after about 4 s without one), spreads the users over them with
// package dispatch, sends the spawn messages, and merges every worker's
// statistics report into a stats.Stats, so that loadgen's console tables,
// CSV files, HTML report and web UI show the whole test.
//
// A Master is safe for concurrent use. Listen starts its goroutines; Close
// stops them and waits for them.
package master

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/dispatch"
	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/locustproto"
	"predictlab/loadgen/internal/locustrpc"
	"predictlab/loadgen/internal/locuststats"
	"predictlab/loadgen/internal/runner"
	"predictlab/loadgen/internal/stats"
	"predictlab/loadgen/internal/users"
)

// Locust 2.12.1's master timing (runners.py).
const (
	HeartbeatInterval = 1 * time.Second
	// HeartbeatLiveness beats may be missed; one more and the worker is
	// missing (about 4 s).
	HeartbeatLiveness = 3
	// heartbeatDead is the liveness at which a missing worker is removed
	// (about 64 s after its last beat).
	heartbeatDead = -60
	// reportWait is how long the master waits after a ramp for the workers'
	// reports to add up to the target.
	reportWait = time.Second
)

// Worker states as the master knows them.
const (
	StateReady    = "ready"
	StateSpawning = "spawning"
	StateRunning  = "running"
	StateMissing  = "missing"
)

// Options configure a Master.
type Options struct {
	// BindAddr is host:port to listen on ("*" or "" host: every interface).
	BindAddr string
	// Classes are the test's user classes (names and weights are sent).
	Classes []users.Class
	// Stats receives the workers' reports.
	Stats *stats.Stats
	// Log is the base logger (the master logs as locust.runners).
	Log zerolog.Logger
	// EnableRebalancing redistributes users when a worker goes missing.
	EnableRebalancing bool
	// QuitOnStop makes Stop tell the workers to quit (a headless run ends
	// with the test) instead of only stopping their users.
	QuitOnStop bool
	// StopTimeout is sent to the workers (0 = None).
	StopTimeout time.Duration
	// ParsedOptions are sent in every spawn (the workers read tags and
	// exclude_tags from them).
	ParsedOptions locustproto.Map
	// HeartbeatInterval is the liveness check period (0 = 1 s; tests
	// shorten it).
	HeartbeatInterval time.Duration
}

// Worker is what the master knows of one worker.
type Worker struct {
	ID      string
	Index   int64
	State   string
	CPU     float64
	Memory  int64
	Users   map[string]int64 // user_classes_count as last reported
	beats   int
	warned  bool
	version string
}

// Master is a running master. Create it with Listen.
type Master struct {
	opts   Options
	log    zerolog.Logger
	srv    *locustrpc.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	workers     map[string]*Worker
	indexes     map[string]int64
	disp        *dispatch.Dispatcher
	host        string
	target      int
	rate        float64
	running     bool // a test is spawning or running
	dispatching bool
	rampCancel  context.CancelFunc
	rampDone    chan struct{}
	onSpawned   func()
	changed     chan struct{} // closed and replaced on every worker event
	lastSpawnTS float64
	answered    map[string]bool // workers that said client_stopped or quit since the last Stop began
	// stopped are the workers that said client_stopped and not yet client_ready again:
	// out of workers, but still connected, so a quit must reach them too (a Quit right
	// after a Stop otherwise misses the worker whose client_ready is still on its way).
	stopped  map[string]bool
	bucketed bool // some report had only Locust's buckets (warned once)
	// checks are this test's workers' self-checks (the latest verdict and
	// every second sent), by id, kept after a worker quits (its final
	// report is the test's last word); Check is nil for a worker whose
	// reports carry none (a Python worker).
	checks map[string]*WorkerCheck
}

// Listen binds the master's socket and starts serving workers.
func Listen(opts Options) (*Master, error) {
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = HeartbeatInterval
	}
	addr := opts.BindAddr
	if h, p, ok := strings.Cut(addr, ":"); ok && (h == "*" || h == "") {
		addr = ":" + p
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := locustrpc.Listen(ctx, addr)
	if err != nil {
		cancel()
		return nil, err
	}
	m := &Master{
		opts: opts, log: locustlog.Named(opts.Log, "locust.runners"), srv: srv, cancel: cancel,
		workers: map[string]*Worker{}, indexes: map[string]int64{}, changed: make(chan struct{}),
		answered: map[string]bool{}, stopped: map[string]bool{}, checks: map[string]*WorkerCheck{},
	}
	m.wg.Add(2)
	go m.receive()
	go m.checkHeartbeats(ctx)
	return m, nil
}

// SetStats sets where the workers' reports go (a new test's statistics);
// reports arriving before any are set are dropped.
func (m *Master) SetStats(st *stats.Stats) {
	m.mu.Lock()
	m.opts.Stats = st
	m.mu.Unlock()
}

// Addr is the address the master listens on.
func (m *Master) Addr() string { return m.srv.Addr().String() }

// Close stops serving (without telling the workers) and waits for the
// master's goroutines.
func (m *Master) Close() {
	m.mu.Lock()
	m.stopRampLocked()
	m.mu.Unlock()
	m.cancel()
	m.srv.Close()
	m.wg.Wait()
}

// notifyLocked wakes everyone waiting for a worker event. Caller holds mu.
func (m *Master) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// Workers returns a copy of the known workers, sorted by index.
func (m *Master) Workers() []Worker {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Worker, 0, len(m.workers))
	for _, w := range m.workers {
		c := *w
		c.Users = map[string]int64{}
		for k, v := range w.Users {
			c.Users[k] = v
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// Exact reports whether every request merged so far came with a loadgen
// worker's exact histogram (true before any report); false once a worker
// (a Python one) sent only Locust's rounded response-time buckets.
func (m *Master) Exact() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.bucketed
}

// activeLocked returns the ids of the ready, spawning and running workers.
func (m *Master) activeLocked() []string {
	var ids []string
	for id, w := range m.workers {
		if w.State != StateMissing {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func (m *Master) readyCountLocked() int {
	n := 0
	for _, w := range m.workers {
		if w.State == StateReady {
			n++
		}
	}
	return n
}

// ErrGaveUp is returned by WaitForWorkers when maxWait passed first.
var ErrGaveUp = errors.New("gave up waiting for workers to connect")

// WaitForWorkers waits until n workers are ready (Locust's --expect-workers
// in headless mode), logging every second as Locust does; maxWait > 0 gives
// up after that long.
func (m *Master) WaitForWorkers(ctx context.Context, n int, maxWait time.Duration) error {
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	mainLog := locustlog.Named(m.opts.Log, "root")
	for {
		m.mu.Lock()
		ready := m.readyCountLocked()
		m.mu.Unlock()
		if ready >= n {
			return nil
		}
		if maxWait > 0 && time.Since(start) > maxWait {
			return ErrGaveUp
		}
		mainLog.Info().Msgf("Waiting for workers to be ready, %d of %d connected", ready, n)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (m *Master) send(id string, msg locustproto.Message) {
	if err := m.srv.Send(id, msg); err != nil {
		m.log.Debug().Msgf("send %s to %s: %s", msg.Type, id, err)
	}
}

// receive handles the workers' messages until the socket closes.
func (m *Master) receive() {
	defer m.wg.Done()
	for {
		id, msg, err := m.srv.Recv()
		if errors.Is(err, locustrpc.ErrClosed) {
			return
		}
		if err != nil {
			m.log.Error().Msgf("RPCError when receiving from client: %s. Will reset client %s.", err, id)
			if id != "" {
				m.send(id, locustproto.Message{Type: locustproto.TypeReconnect, NodeID: id})
			}
			continue
		}
		m.handle(id, msg)
	}
}

func (m *Master) handle(id string, msg locustproto.Message) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.notifyLocked()
	node := msg.NodeID
	switch msg.Type {
	case locustproto.TypeClientReady:
		delete(m.stopped, id)
		m.clientReadyLocked(id, msg.Data)
	case locustproto.TypeHeartbeat:
		w, ok := m.workers[node]
		if !ok {
			return
		}
		data, _ := msg.Data.(locustproto.Map)
		state, _ := get[string](data, "state")
		w.beats = HeartbeatLiveness
		if w.State == StateMissing {
			m.log.Info().Msgf("Worker %s self-healed with heartbeat, setting state to %s.", node, state)
			if m.disp != nil {
				m.disp.AddWorker(node)
				m.restartLocked()
			}
		}
		if state != "" {
			w.State = state
		}
		w.CPU = number(data, "current_cpu_usage")
		if mem, ok := get[int64](data, "current_memory_usage"); ok {
			w.Memory = mem
		}
		if !w.warned && w.CPU > 90 {
			w.warned = true
			m.log.Warn().Msgf("Worker %s (index %d) exceeded cpu threshold (will only log this once per worker)", node, w.Index)
		}
	case locustproto.TypeStats:
		data, _ := msg.Data.(locustproto.Map)
		if m.opts.Stats != nil {
			m.mergeLocked(data)
		}
		if w, ok := m.workers[node]; ok {
			if uc, ok := get[locustproto.Map](data, "user_classes_count"); ok {
				w.Users = counts(uc)
			}
			c := m.checks[node]
			sc, checked := locuststats.DecodeSelfCheck(data)
			users, _ := get[int64](data, "user_count")
			// A worker without users (a loadgen worker before its first
			// spawn) says nothing of its generator: it is not a Python
			// worker's unchecked one.
			if c == nil && (checked || users > 0) {
				c = &WorkerCheck{ID: node, Index: w.Index}
				m.checks[node] = c
			}
			if checked {
				c.add(sc)
			}
		}
	case locustproto.TypeSpawning:
		if w, ok := m.workers[node]; ok {
			w.State = StateSpawning
		}
	case locustproto.TypeSpawningComplete:
		if w, ok := m.workers[node]; ok {
			w.State = StateRunning
			data, _ := msg.Data.(locustproto.Map)
			if uc, ok := get[locustproto.Map](data, "user_classes_count"); ok {
				w.Users = counts(uc)
			}
		}
	case locustproto.TypeClientStopped:
		m.answered[node] = true
		w, ok := m.workers[node]
		if !ok {
			m.log.Warn().Msgf("Received %s message from an unknown worker: %s.", msg.Type, node)
			return
		}
		delete(m.workers, node)
		m.stopped[node] = true
		if m.disp != nil {
			m.disp.RemoveWorker(node)
			m.restartLocked()
		}
		m.log.Info().Msgf("Worker %s (index %d) reported that it has stopped, removing from running workers", node, w.Index)
	case locustproto.TypeQuit:
		m.answered[node] = true
		delete(m.stopped, node)
		w, ok := m.workers[node]
		if !ok {
			return
		}
		delete(m.workers, node)
		if m.disp != nil {
			m.disp.RemoveWorker(node)
			m.restartLocked()
		}
		m.log.Info().Msgf("Worker '%s' (index %d) quit. %d workers ready.", node, w.Index, m.readyCountLocked())
		if len(m.activeLocked()) == 0 && m.running {
			m.log.Info().Msg("The last worker quit, stopping test.")
		}
	case locustproto.TypeException:
		data, _ := msg.Data.(locustproto.Map)
		text, _ := get[string](data, "msg")
		tb, _ := get[string](data, "traceback")
		if m.opts.Stats != nil {
			m.opts.Stats.RecordException(text, tb)
		}
	default:
		m.log.Warn().Msgf("Unknown message type received from worker %s: %s", node, msg.Type)
	}
}

func (m *Master) clientReadyLocked(id string, data any) {
	version, _ := data.(string)
	switch {
	case data == nil || data == false || data == int64(0):
		m.log.Error().Msgf("An old (pre 2.0) worker tried to connect (%s). That's not going to work.", id)
		return
	case version == "" && data == "":
		// Debian's python3-locust 2.12.1 has an empty version string;
		// Locust's own master rejects it as pre-2.0.
		m.log.Warn().Msgf("A worker (%s) with an empty version string connected (Debian's python3-locust 2.12.1 sends one); accepting it as 2.12", id)
	case data == int64(-1) || version == locustproto.Version:
	case len(version) >= 4 && version[:4] == locustproto.Version[:4]:
		m.log.Debug().Msgf("A worker (%s) running a different patch version (%s) connected, master version is %s", id, version, locustproto.Version)
	default:
		m.log.Warn().Msgf("A worker (%s) running a different version (%v) connected, master version is %s", id, data, locustproto.Version)
	}
	idx, ok := m.indexes[id]
	if !ok {
		idx = int64(len(m.indexes))
		m.indexes[id] = idx
	}
	// The extra key asks a loadgen worker for its exact histograms (a
	// Python worker reads only "index").
	ack := locustproto.Ack(id, idx)
	ack.Data = append(ack.Data.(locustproto.Map), locustproto.KV{Key: "loadgen", Value: locustproto.Map{{Key: "hdr", Value: int64(1)}}})
	m.send(id, ack)
	m.workers[id] = &Worker{ID: id, Index: idx, State: StateReady, beats: HeartbeatLiveness, Users: map[string]int64{}, version: version}
	if m.disp != nil {
		m.disp.AddWorker(id)
		m.restartLocked()
	}
	m.log.Info().Msgf("Worker %s (index %d) reported as ready. %d workers connected.", id, idx, len(m.activeLocked()))
}

// checkHeartbeats is Locust's heartbeat_worker: every interval each
// worker's liveness drops by one; below 0 it is missing.
func (m *Master) checkHeartbeats(ctx context.Context) {
	defer m.wg.Done()
	t := time.NewTicker(m.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.mu.Lock()
		changed := false
		for id, w := range m.workers {
			w.beats--
			switch {
			case w.beats < heartbeatDead:
				delete(m.workers, id)
				changed = true
				if m.disp != nil && !m.opts.EnableRebalancing {
					m.disp.RemoveWorker(id)
					m.restartLocked()
				}
			case w.beats < 0 && w.State != StateMissing:
				m.log.Info().Msgf("Worker %s failed to send heartbeat, setting state to missing.", id)
				w.State = StateMissing
				w.Users = map[string]int64{}
				changed = true
				if m.disp != nil && m.opts.EnableRebalancing {
					m.disp.RemoveWorker(id)
					m.restartLocked()
				}
				if len(m.activeLocked()) == 0 && m.running {
					m.log.Info().Msg("The last worker went missing, stopping test.")
				}
			}
		}
		if changed {
			m.notifyLocked()
		}
		m.mu.Unlock()
	}
}

// restartLocked re-dispatches a running test after the workers changed
// (Locust does it on every join and leave).
func (m *Master) restartLocked() {
	if m.running && !m.dispatching && len(m.activeLocked()) > 0 {
		m.startLocked(m.target, m.rate)
	}
}

// SetHost sets the host sent in spawn messages ("" = None).
func (m *Master) SetHost(host string) {
	m.mu.Lock()
	m.host = host
	m.mu.Unlock()
}

// SetOnSpawned sets the function called each time a ramp has completed.
func (m *Master) SetOnSpawned(f func()) {
	m.mu.Lock()
	m.onSpawned = f
	m.mu.Unlock()
}

// Start spreads users over the workers at rate users per second (the
// dispatch runs in the background), or changes the running test's count.
func (m *Master) Start(n int, rate float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.startLocked(n, rate)
}

// newTestLocked forgets what described the previous test (a web UI master
// runs many): the workers' self-checks, and whether a Python worker's
// buckets were merged (its statistics are reset with the new test).
func (m *Master) newTestLocked() {
	m.checks = map[string]*WorkerCheck{}
	m.bucketed = false
}

func (m *Master) startLocked(n int, rate float64) {
	active := m.activeLocked()
	if len(active) == 0 {
		m.log.Warn().Msg("You can't start a distributed test before at least one worker processes has connected")
		return
	}
	m.stopRampLocked()
	if !m.running {
		m.newTestLocked()
	}
	m.target, m.rate = n, rate
	if m.disp == nil {
		m.disp = dispatch.New(active, m.opts.Classes)
	}
	m.log.Info().Msgf("Sending spawn jobs of %d users at %.2f spawn rate to %d ready workers", n, rate, len(active))
	if rate/float64(len(active)) > 100 {
		m.log.Warn().Msg("Your selected spawn rate is very high (>100/worker), and this is known to sometimes cause issues. Do you really need to ramp up that fast?")
	}
	m.running = true
	m.disp.NewDispatch(n, rate)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	m.rampCancel, m.rampDone = cancel, done
	m.dispatching = true
	go m.ramp(ctx, done)
}

// stopRampLocked cancels a dispatch in progress and waits for it. Caller
// holds mu, which is released while waiting.
func (m *Master) stopRampLocked() {
	if m.rampCancel == nil {
		return
	}
	m.rampCancel()
	done := m.rampDone
	m.rampCancel, m.rampDone = nil, nil
	m.mu.Unlock()
	<-done
	m.mu.Lock()
}

// ramp sends each dispatch iteration's spawn messages, pausing between
// them, then waits up to a second for the workers' reports to add up.
func (m *Master) ramp(ctx context.Context, done chan struct{}) {
	defer close(done)
	timer := time.NewTimer(0)
	<-timer.C
	defer timer.Stop()
	for {
		m.mu.Lock()
		if ctx.Err() != nil {
			m.mu.Unlock()
			return
		}
		dist, ok := m.disp.Next()
		wait := m.disp.Wait()
		if ok {
			m.sendSpawnsLocked(dist)
		} else {
			m.dispatching = false
		}
		m.mu.Unlock()
		if !ok {
			break
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
	}
	deadline := time.Now().Add(reportWait)
	prefix := "All users spawned"
	for {
		m.mu.Lock()
		reached := m.userCountLocked() == m.target
		ch := m.changed
		m.mu.Unlock()
		if reached {
			break
		}
		left := time.Until(deadline)
		if left <= 0 {
			prefix = "Spawning is complete and report waittime is expired, but not all reports received from workers"
			break
		}
		timer.Reset(left)
		select {
		case <-ch:
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
		case <-ctx.Done():
			return
		}
	}
	m.mu.Lock()
	counts := m.classCountsLocked()
	f := m.onSpawned
	m.mu.Unlock()
	m.log.Info().Msgf("%s: %s (%d total users)", prefix, runner.ClassCountsJSON(counts), sum(counts))
	if f != nil {
		f()
	}
}

func (m *Master) sendSpawnsLocked(dist dispatch.Distribution) {
	ts := float64(time.Now().UnixNano()) / 1e9
	if ts <= m.lastSpawnTS { // workers drop a spawn not newer than the last
		ts = m.lastSpawnTS + 1e-6
	}
	m.lastSpawnTS = ts
	var host, stopTimeout any
	if m.host != "" {
		host = m.host
	}
	if m.opts.StopTimeout > 0 {
		stopTimeout = m.opts.StopTimeout.Seconds()
	}
	for id, classes := range dist {
		uc := make(map[string]int64, len(classes))
		for k, v := range classes {
			uc[k] = int64(v)
		}
		m.send(id, locustproto.Message{Type: locustproto.TypeSpawn, NodeID: id, Data: locustproto.Map{
			{Key: "timestamp", Value: ts},
			{Key: "user_classes_count", Value: locustproto.SortedCounts(uc)},
			{Key: "host", Value: host},
			{Key: "stop_timeout", Value: stopTimeout},
			{Key: "parsed_options", Value: m.opts.ParsedOptions},
		}})
	}
}

// Stop ends the test: each worker gets stop (or quit, with QuitOnStop) and
// the master waits, at most 10 s, until every worker has answered (a
// loadgen worker's last report comes before its answer).
func (m *Master) Stop() {
	m.mu.Lock()
	m.stopRampLocked()
	m.running = false
	m.dispatching = false
	m.disp = nil
	typ := locustproto.TypeStop
	if m.opts.QuitOnStop {
		typ = locustproto.TypeQuit
	}
	waiting := map[string]bool{}
	m.answered = map[string]bool{}
	for id, w := range m.workers {
		if w.State == StateMissing {
			continue
		}
		m.send(id, locustproto.Message{Type: typ, NodeID: id})
		waiting[id] = true
	}
	if typ == locustproto.TypeQuit {
		for id := range m.stopped {
			if _, in := m.workers[id]; !in {
				m.send(id, locustproto.Message{Type: typ, NodeID: id})
				waiting[id] = true
			}
		}
	}
	// A worker still owes an answer unless it gave one, went missing, or left altogether.
	owes := func(id string) bool {
		if m.answered[id] {
			return false
		}
		if w, ok := m.workers[id]; ok {
			return w.State != StateMissing
		}
		return m.stopped[id]
	}
	deadline := time.After(10 * time.Second)
	for {
		left := 0
		for id := range waiting {
			if owes(id) {
				left++
			}
		}
		if left == 0 {
			break
		}
		ch := m.changed
		m.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			m.mu.Lock()
			m.log.Warn().Msgf("%d workers did not answer %s within 10 s", left, typ)
			m.mu.Unlock()
			return
		}
		m.mu.Lock()
	}
	m.mu.Unlock()
}

// Quit tells every worker to quit and waits (at most 2 s) for them.
func (m *Master) Quit() {
	m.mu.Lock()
	quitOnStop := m.opts.QuitOnStop
	m.opts.QuitOnStop = true
	m.mu.Unlock()
	m.Stop()
	m.mu.Lock()
	m.opts.QuitOnStop = quitOnStop
	m.mu.Unlock()
}

// UserCount is the sum of the users the workers report.
func (m *Master) UserCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.userCountLocked()
}

func (m *Master) userCountLocked() int {
	n := 0
	for _, w := range m.workers {
		for _, c := range w.Users {
			n += int(c)
		}
	}
	return n
}

// ClassCounts is the users per class the workers report (classes with users).
func (m *Master) ClassCounts() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.classCountsLocked()
}

func (m *Master) classCountsLocked() map[string]int {
	out := map[string]int{}
	for _, w := range m.workers {
		for k, c := range w.Users {
			if c > 0 {
				out[k] += int(c)
			}
		}
	}
	return out
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func get[T any](m locustproto.Map, key string) (T, bool) {
	v, _ := m.Get(key)
	t, ok := v.(T)
	return t, ok
}

func number(m locustproto.Map, key string) float64 {
	switch v, _ := m.Get(key); x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return 0
}

func counts(m locustproto.Map) map[string]int64 {
	out := make(map[string]int64, len(m))
	for _, kv := range m {
		k, ok1 := kv.Key.(string)
		n, ok2 := kv.Value.(int64)
		if ok1 && ok2 {
			out[k] = n
		}
	}
	return out
}

// mergeLocked adds a worker's stats payload to the statistics: each entry
// with requests, and its errors. stats_total is not used: the Aggregated
// row is the sum of the entries, which is the same.
func (m *Master) mergeLocked(data locustproto.Map) {
	list, _ := get[[]any](data, "stats")
	for _, e := range list {
		em, ok := e.(locustproto.Map)
		if !ok {
			continue
		}
		if d, exact, ok := delta(em); ok {
			m.opts.Stats.Merge(d)
			if !exact && d.Requests > 0 && !m.bucketed {
				m.bucketed = true
				m.log.Warn().Msg("A worker sends only Locust's rounded response-time buckets (a Python worker): percentiles are approximated from them")
			}
		}
	}
	errs, _ := get[locustproto.Map](data, "errors")
	for _, kv := range errs {
		em, ok := kv.Value.(locustproto.Map)
		if !ok {
			continue
		}
		method, _ := get[string](em, "method")
		name, _ := get[string](em, "name")
		text, _ := get[string](em, "error")
		n, _ := get[int64](em, "occurrences")
		m.opts.Stats.MergeFailure(method, name, text, n)
	}
}

// ms converts Locust's float milliseconds, to the nearest nanosecond.
func ms(v float64) time.Duration { return time.Duration(math.Round(v * float64(time.Millisecond))) }

// delta converts one StatsEntry dict to a stats.Delta. The response-time
// distribution is a loadgen worker's exact histogram (exact is true), else
// Locust's buckets (1 ms below 100 ms, 10 ms below 1 s, …).
func delta(e locustproto.Map) (d stats.Delta, exact, ok bool) {
	if d.Name, ok = get[string](e, "name"); !ok {
		return d, false, false
	}
	d.Method, _ = get[string](e, "method")
	d.Requests, _ = get[int64](e, "num_requests")
	d.Failures, _ = get[int64](e, "num_failures")
	d.ContentLength, _ = get[int64](e, "total_content_length")
	d.TotalResponseTime = ms(number(e, "total_response_time"))
	d.MaxResponseTime = ms(number(e, "max_response_time"))
	d.MinResponseTime = ms(number(e, "min_response_time"))
	if last := number(e, "last_request_timestamp"); last > 0 {
		d.Last = time.Unix(0, int64(last*1e9))
	}
	reqs, _ := get[locustproto.Map](e, "num_reqs_per_sec")
	fails, _ := get[locustproto.Map](e, "num_fail_per_sec")
	secs := map[int64]*stats.SecondCount{}
	var order []int64
	for _, kv := range reqs {
		s, ok1 := kv.Key.(int64)
		n, ok2 := kv.Value.(int64)
		if ok1 && ok2 {
			secs[s] = &stats.SecondCount{Unix: s, Requests: n}
			order = append(order, s)
		}
	}
	for _, kv := range fails {
		s, ok1 := kv.Key.(int64)
		n, ok2 := kv.Value.(int64)
		if !ok1 || !ok2 {
			continue
		}
		if secs[s] == nil {
			secs[s] = &stats.SecondCount{Unix: s}
			order = append(order, s)
		}
		secs[s].Failures = n
	}
	for _, s := range order {
		d.PerSecond = append(d.PerSecond, *secs[s])
	}
	if hdr, found := get[[]any](e, locuststats.HDRKey); found {
		for _, p := range hdr {
			pair, _ := p.([]any)
			if len(pair) != 2 {
				continue
			}
			us, ok1 := pair[0].(int64)
			n, ok2 := pair[1].(int64)
			if ok1 && ok2 {
				d.ResponseTimes = append(d.ResponseTimes, stats.ValueCount{Value: time.Duration(us) * time.Microsecond, Count: n})
			}
		}
		return d, true, true
	}
	rts, _ := get[locustproto.Map](e, "response_times")
	for _, kv := range rts {
		var v float64
		switch k := kv.Key.(type) {
		case int64:
			v = float64(k)
		case float64:
			v = k
		default:
			continue
		}
		n, _ := kv.Value.(int64)
		d.ResponseTimes = append(d.ResponseTimes, stats.ValueCount{Value: ms(v), Count: n})
	}
	return d, false, true
}
