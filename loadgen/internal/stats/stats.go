package stats

import (
	"math/rand/v2"
	"runtime"
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
