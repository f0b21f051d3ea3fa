package stats

import (
	"sort"
	"time"
)

// Draining the recorders' shards into the central state, the once-a-second
// Tick (rolling windows, history) and building immutable Snapshots.

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
