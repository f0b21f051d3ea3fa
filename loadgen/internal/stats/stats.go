package stats

import (
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// windowTicks is the length of the rolling percentile window, in Ticks.
	windowTicks = 10
	// minWindowTicks is how many Ticks an entry must have lived before it
	// has a rolling window (Locust: none during the first ~2 s).
	minWindowTicks = 2
	// secRing is the number of per-second request counters kept (>= 13 for
	// current_rps's [last-12, last-3] window, plus slack for late records).
	secRing = 32
	// maxHistory bounds Snapshot.History; when exceeded the history is
	// halved by keeping every other point, and later points are taken at
	// twice the interval.
	maxHistory = 2048
)

type key struct{ method, name string }

type failKey struct{ method, name, err string }

// secCount is the number of requests and failures that completed in one
// Unix second.
type secCount struct{ sec, n, f int64 }

// Stats accumulates request statistics. It is safe for concurrent use; the
// zero value is not usable, call New.
//
// Record is the hot path: it takes one of a few per-entry shard locks (chosen
// at random, skipping busy ones), so concurrent recorders rarely contend, and
// it does not allocate once the (method, name) entry exists. Tick and
// Snapshot drain the shards into the central state.
type Stats struct {
	now    func() time.Time
	shards int

	// reg is the (method, name) → entry registry, replaced copy-on-write
	// under regMu so that Record reads it with one atomic load.
	reg   atomic.Pointer[map[key]*entry]
	regMu sync.Mutex

	// mu guards the central state below and the central part of entries.
	mu        sync.Mutex
	startTime time.Time
	ticks     int64
	users     int
	history   []HistoryPoint
	histEvery int64  // append a history point every histEvery ticks
	scratch   *dense // reusable sums for build
	iscratch  *dense
	cscratch  *dense
	icscratch *dense

	failMu   sync.Mutex
	failures map[failKey]int // index into failList
	failList []Failure

	excMu   sync.Mutex
	excIdx  map[string]int
	excList []Exception
}

// entry is one (method, name) pair: shards written by Record, and the
// central, drained state guarded by Stats.mu.
type entry struct {
	method, name string
	mask         uint32
	shards       []shard

	// Central state (Stats.mu).
	d        data   // drained counters
	cum, icm *dense // cumulative response times / from intended start, nil until used
	tick     *dense // drained this tick (normal), nil until used
	itick    *dense // drained this tick (intended)
	tickMax  int64  // raw max (ns) drained this tick
	itickMax int64
	win      [windowTicks]slice
	iwin     [windowTicks]slice
	ticks    int64  // Ticks seen since the entry was created
	spare    *dense // an empty array to swap into a shard
	ispare   *dense
}

// slice is one Tick's worth of response times.
type slice struct {
	b   sparse
	max int64 // ns
}

// shard is one lock-protected part of an entry, padded to its own cache lines.
type shard struct {
	mu sync.Mutex
	d  data
	h  *dense // response times since the last drain (µs)
	ih *dense // from the intended start
	_  [64]byte
}

// data are the counters of an entry (or of a shard since its last drain).
type data struct {
	n, fails, content int64
	sumRT, sumIRT     int64 // ns
	minRT, maxRT      int64 // ns; min valid when n > 0
	minIRT, maxIRT    int64
	last              int64 // Unix ns of the latest completion, 0 = none
	secs              [secRing]secCount
}

func (d *data) addSec(sec, n, f int64) {
	s := &d.secs[uint64(sec)%secRing]
	if s.sec != sec {
		if s.sec > sec {
			return // older than the ring: irrelevant to current_rps
		}
		*s = secCount{sec: sec}
	}
	s.n += n
	s.f += f
}

func (d *data) count(sec int64) (n, f int64) {
	s := &d.secs[uint64(sec)%secRing]
	if s.sec != sec {
		return 0, 0
	}
	return s.n, s.f
}

// merge adds o into d.
func (d *data) merge(o *data) {
	if o.n == 0 {
		return
	}
	if d.n == 0 || o.minRT < d.minRT {
		d.minRT = o.minRT
	}
	if d.n == 0 || o.minIRT < d.minIRT {
		d.minIRT = o.minIRT
	}
	d.maxRT = max(d.maxRT, o.maxRT)
	d.maxIRT = max(d.maxIRT, o.maxIRT)
	d.n += o.n
	d.fails += o.fails
	d.content += o.content
	d.sumRT += o.sumRT
	d.sumIRT += o.sumIRT
	d.last = max(d.last, o.last)
	for i := range o.secs {
		if s := o.secs[i]; s.n != 0 || s.f != 0 {
			d.addSec(s.sec, s.n, s.f)
		}
	}
}

// New returns empty statistics whose clock is now (time.Now in production,
// a fake in tests). The start time is now().
func New(now func() time.Time) *Stats {
	s := &Stats{
		now:       now,
		shards:    min(nextPow2(2*runtime.GOMAXPROCS(0)), 16),
		histEvery: 1,
		failures:  map[failKey]int{},
		excIdx:    map[string]int{},
		scratch:   newDense(),
		iscratch:  newDense(),
		cscratch:  newDense(),
		icscratch: newDense(),
	}
	m := map[key]*entry{}
	s.reg.Store(&m)
	s.startTime = now()
	return s
}

func (s *Stats) newEntry(k key) *entry {
	return &entry{
		method: k.method,
		name:   k.name,
		mask:   uint32(s.shards - 1),
		shards: make([]shard, s.shards),
	}
}

// lookup returns the entry for (method, name), creating it if needed.
func (s *Stats) lookup(method, name string) *entry {
	if e, ok := (*s.reg.Load())[key{method, name}]; ok {
		return e
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	old := *s.reg.Load()
	if e, ok := old[key{method, name}]; ok {
		return e
	}
	m := make(map[key]*entry, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	e := s.newEntry(key{method, name})
	m[key{method, name}] = e
	s.reg.Store(&m)
	return e
}

// lockShard locks and returns a shard of e, preferring an idle one.
func (e *entry) lockShard() *shard {
	i := rand.Uint32()
	for j := uint32(0); j <= e.mask; j++ {
		sh := &e.shards[(i+j)&e.mask]
		if sh.mu.TryLock() {
			return sh
		}
	}
	sh := &e.shards[i&e.mask]
	sh.mu.Lock()
	return sh
}

// Record adds one finished request (or failure) to the statistics. Failures
// are requests too: they count in NumRequests and contribute response times.
// Safe for concurrent use; cheap and allocation-free for a known entry.
func (s *Stats) Record(r Result) {
	rt := max(int64(r.ResponseTime), 0)
	irt := rt
	if !r.Intended.IsZero() && !r.Start.IsZero() {
		if lag := int64(r.Start.Sub(r.Intended)); lag > 0 {
			irt += lag
		}
	}
	var end int64
	if r.Start.IsZero() {
		end = s.now().UnixNano()
	} else {
		end = r.Start.UnixNano() + rt
	}
	sec := floorDiv(end, int64(time.Second))
	var f int64
	if r.Err != "" {
		f = 1
	}

	e := s.lookup(r.Method, r.Name)
	sh := e.lockShard()
	if sh.h == nil {
		sh.h, sh.ih = newDense(), newDense()
	}
	sh.h.record(micros(time.Duration(rt)))
	sh.ih.record(micros(time.Duration(irt)))
	d := &sh.d
	if d.n == 0 || rt < d.minRT {
		d.minRT = rt
	}
	if d.n == 0 || irt < d.minIRT {
		d.minIRT = irt
	}
	d.maxRT = max(d.maxRT, rt)
	d.maxIRT = max(d.maxIRT, irt)
	d.n++
	d.fails += f
	d.content += r.ContentLength
	d.sumRT += rt
	d.sumIRT += irt
	d.last = max(d.last, end)
	d.addSec(sec, 1, f)
	sh.mu.Unlock()

	if f != 0 {
		s.recordFailure(r.Method, r.Name, r.Err)
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func (s *Stats) recordFailure(method, name, err string) {
	s.failMu.Lock()
	k := failKey{method, name, err}
	if i, ok := s.failures[k]; ok {
		s.failList[i].Occurrences++
	} else {
		s.failures[k] = len(s.failList)
		s.failList = append(s.failList, Failure{Method: method, Name: name, Error: err, Occurrences: 1})
	}
	s.failMu.Unlock()
}

// RecordException records an exception raised by a task (not a request
// failure), grouped by traceback as Locust does; the first message is kept.
func (s *Stats) RecordException(msg, traceback string) {
	s.excMu.Lock()
	if i, ok := s.excIdx[traceback]; ok {
		s.excList[i].Count++
	} else {
		s.excIdx[traceback] = len(s.excList)
		s.excList = append(s.excList, Exception{Count: 1, Message: msg, Traceback: traceback, Nodes: "local"})
	}
	s.excMu.Unlock()
}

// Reset clears all statistics, failures, exceptions and the history, and
// sets the start time to now (--reset-stats, the web UI's reset). Known
// (method, name) entries stay listed with zero requests, as in Locust. A
// Record racing with Reset may land before or after it.
func (s *Stats) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regMu.Lock()
	old := *s.reg.Load()
	m := make(map[key]*entry, len(old))
	for k := range old {
		m[k] = s.newEntry(k)
	}
	s.reg.Store(&m)
	s.regMu.Unlock()

	s.startTime = s.now()
	s.ticks = 0
	s.history = nil
	s.histEvery = 1

	s.failMu.Lock()
	s.failures = map[failKey]int{}
	s.failList = nil
	s.failMu.Unlock()

	s.excMu.Lock()
	s.excIdx = map[string]int{}
	s.excList = nil
	s.excMu.Unlock()
}

// drain moves every shard's data into the entry's central state. Caller
// holds s.mu.
func (e *entry) drain() {
	for i := range e.shards {
		sh := &e.shards[i]
		sh.mu.Lock()
		if sh.d.n == 0 {
			sh.mu.Unlock()
			continue
		}
		d := sh.d
		h, ih := sh.h, sh.ih
		// Swap in empty arrays so the lock is held only briefly.
		sh.h, sh.ih = e.spare, e.ispare
		if sh.h == nil {
			sh.h, sh.ih = newDense(), newDense()
		}
		e.spare, e.ispare = nil, nil
		sh.d = data{}
		sh.mu.Unlock()

		e.d.merge(&d)
		e.tickMax = max(e.tickMax, d.maxRT)
		e.itickMax = max(e.itickMax, d.maxIRT)
		if e.tick == nil {
			e.tick, e.itick = newDense(), newDense()
			e.cum, e.icm = newDense(), newDense()
		}
		e.cum.addDense(h)
		e.tick.addDense(h)
		e.icm.addDense(ih)
		e.itick.addDense(ih)
		h.reset()
		ih.reset()
		e.spare, e.ispare = h, ih
	}
}

// rotate closes the current tick: its response times become the newest
// slice of the rolling window. Caller holds s.mu.
func (e *entry) rotate() {
	pos := e.ticks % windowTicks
	var b, ib sparse
	if e.tick != nil {
		b, ib = e.tick.take(), e.itick.take()
	}
	e.win[pos] = slice{b: b, max: e.tickMax}
	e.iwin[pos] = slice{b: ib, max: e.itickMax}
	e.tickMax, e.itickMax = 0, 0
	e.ticks++
}

// Tick drains the recorders, advances the rolling windows by one slice,
// appends a (bounded) history point and returns the new Snapshot. The runner
// calls it once per second with the current time and live user count.
func (s *Stats) Tick(now time.Time, users int) *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = users
	entries := s.sortedEntries()
	for _, e := range entries {
		e.drain()
		e.rotate()
	}
	s.ticks++
	snap := s.build(now, entries)
	if (s.ticks-1)%s.histEvery == 0 {
		s.history = append(s.history, HistoryPoint{
			Time:        now,
			Users:       users,
			RPS:         snap.Total.CurrentRPS(),
			FailPerSec:  snap.Total.CurrentFailPerSec(),
			P50:         snap.Total.CurrentPercentile(0.5),
			P95:         snap.Total.CurrentPercentile(0.95),
			IntendedP50: snap.IntendedTotal.CurrentPercentile(0.5),
			IntendedP95: snap.IntendedTotal.CurrentPercentile(0.95),
		})
		if len(s.history) > maxHistory {
			// A new array: earlier snapshots share the old one.
			kept := make([]HistoryPoint, 0, maxHistory+1)
			for i := 0; i < len(s.history); i += 2 {
				kept = append(kept, s.history[i])
			}
			s.history = kept
			s.histEvery *= 2
		}
	}
	snap.History = s.sharedHistory()
	return snap
}

// Snapshot returns a consistent copy of the statistics now, including every
// request recorded so far. It does not advance the rolling windows (their
// values are as of the last Tick). Safe to call while recording goes on.
func (s *Stats) Snapshot() *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	entries := s.sortedEntries()
	for _, e := range entries {
		e.drain()
	}
	snap := s.build(s.now(), entries)
	snap.History = s.sharedHistory()
	return snap
}

// sharedHistory returns the history without copying it: the slice is capped
// at its length, and points are only ever appended after it or compacted
// into a new array, so the caller's view never changes. Caller holds s.mu.
func (s *Stats) sharedHistory() []HistoryPoint {
	return s.history[:len(s.history):len(s.history)]
}

// sortedEntries returns the entries sorted by (name, method).
func (s *Stats) sortedEntries() []*entry {
	m := *s.reg.Load()
	out := make([]*entry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		return out[i].method < out[j].method
	})
	return out
}

// build assembles a Snapshot from the drained central state. Caller holds s.mu.
func (s *Stats) build(now time.Time, entries []*entry) *Snapshot {
	var lastNS int64
	for _, e := range entries {
		lastNS = max(lastNS, e.d.last)
	}
	var last time.Time
	if lastNS != 0 {
		last = time.Unix(0, lastNS)
	}
	snap := &Snapshot{Time: now, StartTime: s.startTime, Users: s.users}
	var total data
	cumScratch, icumScratch := s.cscratch, s.icscratch
	// With a single entry (the usual case) the Aggregated histograms are
	// that entry's: the immutable sparse slices are shared, not rebuilt.
	single := len(entries) == 1
	for _, e := range entries {
		n, in := s.entryPair(e, last)
		snap.Entries = append(snap.Entries, n)
		snap.IntendedEntries = append(snap.IntendedEntries, in)
		total.merge(&e.d)
		if !single {
			cumScratch.add(n.hist)
			icumScratch.add(in.hist)
		}
	}
	// Aggregated: the sum of all entries (Locust keeps an independent
	// entry fed with every request, which is the same).
	tn := &Entry{Method: "", Name: "Aggregated", StartTime: s.startTime, LastRequest: last}
	ti := &Entry{Method: "", Name: "Aggregated", StartTime: s.startTime, LastRequest: last}
	fill(tn, ti, &total)
	if single {
		tn.hist, tn.histTotal = snap.Entries[0].hist, snap.Entries[0].histTotal
		ti.hist, ti.histTotal = snap.IntendedEntries[0].hist, snap.IntendedEntries[0].histTotal
	} else {
		tn.hist = cumScratch.take()
		tn.histTotal = tn.hist.total()
		ti.hist = icumScratch.take()
		ti.histTotal = ti.hist.total()
	}
	tn.curRPS = currentRate(func(sec int64) int64 { n, _ := total.count(sec); return n }, last, s.startTime)
	tn.curFPS = currentRate(func(sec int64) int64 { _, f := total.count(sec); return f }, last, s.startTime)
	ti.curRPS, ti.curFPS = tn.curRPS, tn.curFPS
	if s.ticks >= minWindowTicks && single && snap.Entries[0].hasCur {
		// The entry's window covers the same slices as the total's would.
		n, in := snap.Entries[0], snap.IntendedEntries[0]
		tn.hasCur, ti.hasCur = true, true
		tn.cur, tn.curTotal, tn.curMax = n.cur, n.curTotal, n.curMax
		ti.cur, ti.curTotal, ti.curMax = in.cur, in.curTotal, in.curMax
	} else if s.ticks >= minWindowTicks {
		tn.hasCur, ti.hasCur = true, true
		for _, e := range entries {
			k := min(e.ticks, windowTicks)
			for j := int64(0); j < k; j++ {
				sl, isl := e.win[(e.ticks-1-j)%windowTicks], e.iwin[(e.ticks-1-j)%windowTicks]
				s.scratch.add(sl.b)
				s.iscratch.add(isl.b)
				tn.curMax = max(tn.curMax, time.Duration(sl.max))
				ti.curMax = max(ti.curMax, time.Duration(isl.max))
			}
		}
		tn.cur = s.scratch.take()
		tn.curTotal = tn.cur.total()
		ti.cur = s.iscratch.take()
		ti.curTotal = ti.cur.total()
	}
	snap.Total, snap.IntendedTotal = tn, ti

	s.failMu.Lock()
	snap.Failures = append([]Failure(nil), s.failList...)
	s.failMu.Unlock()
	s.excMu.Lock()
	snap.Exceptions = append([]Exception(nil), s.excList...)
	s.excMu.Unlock()
	return snap
}

// fill sets the counters of a normal/intended Entry pair from d.
func fill(n, in *Entry, d *data) {
	for _, x := range []*Entry{n, in} {
		x.NumRequests = d.n
		x.NumFailures = d.fails
		x.TotalContentLength = d.content
	}
	if d.n > 0 {
		n.TotalResponseTime = time.Duration(d.sumRT)
		n.MinResponseTime = time.Duration(d.minRT)
		n.MaxResponseTime = time.Duration(d.maxRT)
		in.TotalResponseTime = time.Duration(d.sumIRT)
		in.MinResponseTime = time.Duration(d.minIRT)
		in.MaxResponseTime = time.Duration(d.maxIRT)
	}
}

// entryPair builds the normal and intended Entry of e. Caller holds s.mu.
func (s *Stats) entryPair(e *entry, last time.Time) (*Entry, *Entry) {
	n := &Entry{Method: e.method, Name: e.name, StartTime: s.startTime, LastRequest: last}
	in := &Entry{Method: e.method, Name: e.name, StartTime: s.startTime, LastRequest: last}
	fill(n, in, &e.d)
	if e.cum != nil {
		n.hist = e.cum.sparse()
		n.histTotal = n.hist.total()
		in.hist = e.icm.sparse()
		in.histTotal = in.hist.total()
	}
	n.curRPS = currentRate(func(sec int64) int64 { c, _ := e.d.count(sec); return c }, last, s.startTime)
	n.curFPS = currentRate(func(sec int64) int64 { _, f := e.d.count(sec); return f }, last, s.startTime)
	in.curRPS, in.curFPS = n.curRPS, n.curFPS
	if e.ticks >= minWindowTicks {
		n.hasCur, in.hasCur = true, true
		k := min(e.ticks, windowTicks)
		for j := int64(0); j < k; j++ {
			sl, isl := e.win[(e.ticks-1-j)%windowTicks], e.iwin[(e.ticks-1-j)%windowTicks]
			s.scratch.add(sl.b)
			s.iscratch.add(isl.b)
			n.curMax = max(n.curMax, time.Duration(sl.max))
			in.curMax = max(in.curMax, time.Duration(isl.max))
		}
		n.cur = s.scratch.take()
		n.curTotal = n.cur.total()
		in.cur = s.iscratch.take()
		in.curTotal = in.cur.total()
	}
	return n, in
}
