// Package locuststats keeps a Locust 2.12 worker's request statistics in
// the shape its master merges (locust/stats.py StatsEntry, RequestStats):
// per (method, name) and for the "Aggregated" total, exact counts, float-ms
// response time sums, min and max, per-second request and failure counts,
// and response times bucketed at record time with Python's round()
// (1 ms below 100 ms, then 10, 100 and 1000 ms buckets); failures keyed by
// Locust's sha256 error key. Report returns the delta since the previous
// report and starts a new one, as get_stripped_report does.
//
// A Recorder is safe for concurrent use.
package locuststats

import (
	"math"
	"sort"
	"sync"
	"time"

	"predictlab/internal/locustcsv"
	"predictlab/loadgen/internal/locustproto"
	"predictlab/loadgen/internal/stats"
)

// Bucket returns the key under which Locust files a response time of ms
// milliseconds: round(ms) below 100, round(ms, -1) below 1000, round(ms, -2)
// below 10000, else round(ms, -3), Python's round (halves to even, on the
// exact binary value). isInt is true when Python's key is an int (ms < 100;
// 99.6 gives the int 100), false when it is a float (150.0).
func Bucket(ms float64) (key float64, isInt bool) {
	switch {
	case ms < 100:
		return math.RoundToEven(ms), true
	case ms < 1000:
		return roundTo(ms, 10), false
	case ms < 10000:
		return roundTo(ms, 100), false
	default:
		return roundTo(ms, 1000), false
	}
}

// roundTo rounds x ≥ 0 to a multiple of unit (10, 100 or 1000), halves to
// the even multiple, deciding on x's exact value: lo is an integer no
// farther than unit below x and at least x/2 (x ≥ 100), so x-lo is exact.
func roundTo(x, unit float64) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	lo := math.Floor(x/unit) * unit
	if lo > x {
		lo -= unit
	} else if x-lo >= unit {
		lo += unit
	}
	d := x - lo
	switch {
	case d < unit/2:
		return lo
	case d > unit/2:
		return lo + unit
	case math.Mod(lo/unit, 2) == 0:
		return lo
	default:
		return lo + unit
	}
}

type key struct{ name, method string }

// entry is Locust's StatsEntry between two reports.
type entry struct {
	name, method string
	methodNone   bool // the total before the first Clear: method None
	startTime    float64
	last         float64 // 0 = None
	numRequests  int64
	numFailures  int64
	sumMS        float64
	minMS        float64 // valid when numRequests > 0
	maxMS        float64
	content      int64
	buckets      counts[float64] // the key's Python type (int or float) is set by its first insertion
	hdr          map[int64]int64 // µs (stats.HistValue) → count, when the master asked for it
	reqPerSec    counts[int64]
	failPerSec   counts[int64]
}

// counts is a Python dict of counts: keys in insertion order.
type counts[K int64 | float64] struct {
	idx  map[K]int
	keys []bucketKey[K]
}

type bucketKey[K int64 | float64] struct {
	k     K
	isInt bool
	n     int64
}

func (c *counts[K]) add(k K, isInt bool) {
	if i, ok := c.idx[k]; ok {
		c.keys[i].n++
		return
	}
	if c.idx == nil {
		c.idx = map[K]int{}
	}
	c.idx[k] = len(c.keys)
	c.keys = append(c.keys, bucketKey[K]{k, isInt, 1})
}

func (c *counts[K]) reset() { *c = counts[K]{} }

// dict returns the counts as a Map in insertion order.
func (c *counts[K]) dict() locustproto.Map {
	m := make(locustproto.Map, len(c.keys))
	for i, b := range c.keys {
		var k any = b.k
		if b.isInt {
			k = int64(b.k)
		}
		m[i] = locustproto.KV{Key: k, Value: b.n}
	}
	return m
}

func newEntry(name, method string, now float64) *entry {
	e := &entry{name: name, method: method}
	e.reset(now)
	return e
}

func (e *entry) reset(now float64) {
	e.startTime = now
	e.last = 0
	e.numRequests, e.numFailures = 0, 0
	e.sumMS, e.minMS, e.maxMS = 0, 0, 0
	e.content = 0
	e.buckets.reset()
	e.hdr = nil
	e.reqPerSec.reset()
	e.failPerSec.reset()
}

func (e *entry) log(end float64, ms float64, content int64, failed bool, hdrUS int64) {
	sec := int64(math.Floor(end))
	e.numRequests++
	e.reqPerSec.add(sec, true)
	e.last = end
	e.sumMS += ms
	if e.numRequests == 1 || ms < e.minMS {
		e.minMS = ms
	}
	e.maxMS = max(e.maxMS, ms)
	e.buckets.add(Bucket(ms))
	if hdrUS >= 0 {
		if e.hdr == nil {
			e.hdr = map[int64]int64{}
		}
		e.hdr[hdrUS]++
	}
	e.content += content
	if failed {
		e.numFailures++
		e.failPerSec.add(sec, true)
	}
}

// dict returns the entry as StatsEntry.serialize() writes it.
func (e *entry) dict() locustproto.Map {
	var method any = e.method
	if e.methodNone {
		method = nil
	}
	// An empty entry holds reset()'s ints: 0, 0 and None.
	var last, minRT any
	var sum, maxRT any = int64(0), int64(0)
	if e.last != 0 {
		last = e.last
	}
	if e.numRequests > 0 {
		minRT, sum, maxRT = e.minMS, e.sumMS, e.maxMS
	}
	return locustproto.Map{
		{Key: "name", Value: e.name},
		{Key: "method", Value: method},
		{Key: "last_request_timestamp", Value: last},
		{Key: "start_time", Value: e.startTime},
		{Key: "num_requests", Value: e.numRequests},
		{Key: "num_none_requests", Value: int64(0)},
		{Key: "num_failures", Value: e.numFailures},
		{Key: "total_response_time", Value: sum},
		{Key: "max_response_time", Value: maxRT},
		{Key: "min_response_time", Value: minRT},
		{Key: "total_content_length", Value: e.content},
		{Key: "response_times", Value: e.buckets.dict()},
		{Key: "num_reqs_per_sec", Value: e.reqPerSec.dict()},
		{Key: "num_fail_per_sec", Value: e.failPerSec.dict()},
	}
}

// HDRKey is the extra StatsEntry key under which a loadgen worker sends its
// exact response-time histogram, when its master asked for it: a list of
// [microseconds, count] pairs, microseconds being stats.HistValue of the
// response times. Locust's master ignores keys it does not know.
const HDRKey = "loadgen_hdr"

// hdrList returns the histogram as HDRKey's value, sorted by value.
func (e *entry) hdrList() []any {
	vs := make([]int64, 0, len(e.hdr))
	for v := range e.hdr {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = []any{v, e.hdr[v]}
	}
	return out
}

type failure struct {
	method, name, err string
	occurrences       int64
}

// Recorder is a worker's RequestStats. Create it with New.
type Recorder struct {
	now func() time.Time

	mu       sync.Mutex
	hdr      bool
	entries  map[key]*entry
	order    []*entry // insertion order, as Python's dict
	total    *entry
	errors   map[string]*failure
	errOrder []string
}

// New returns an empty Recorder whose clock is now (time.Now in production).
// Its total has method None until the first Clear, as Locust's.
func New(now func() time.Time) *Recorder {
	r := &Recorder{now: now}
	t := unix(now())
	r.total = newEntry("Aggregated", "", t)
	r.total.methodNone = true
	r.entries = map[key]*entry{}
	r.errors = map[string]*failure{}
	return r
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// SetHDR turns on (or off) the exact histogram each entry of the
// following reports carries under HDRKey, for a loadgen master.
func (r *Recorder) SetHDR(on bool) {
	r.mu.Lock()
	r.hdr = on
	r.mu.Unlock()
}

// Record adds one finished request (Locust's log_request, plus log_error
// when res.Err is set): its end time is res.Start + res.ResponseTime (now
// when Start is zero) and its response time res.ResponseTime in float ms.
func (r *Recorder) Record(res stats.Result) {
	var end float64
	if res.Start.IsZero() {
		end = unix(r.now())
	} else {
		end = unix(res.Start.Add(res.ResponseTime))
	}
	ms := float64(max(res.ResponseTime, 0)) / float64(time.Millisecond)
	failed := res.Err != ""
	hdrUS := int64(stats.HistValue(res.ResponseTime) / time.Microsecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.hdr {
		hdrUS = -1
	}
	k := key{res.Name, res.Method}
	e, ok := r.entries[k]
	if !ok {
		e = newEntry(res.Name, res.Method, unix(r.now()))
		r.entries[k] = e
		r.order = append(r.order, e)
	}
	e.log(end, ms, res.ContentLength, failed, hdrUS)
	r.total.log(end, ms, res.ContentLength, failed, -1)
	if failed {
		fk := locustcsv.FailureKey(res.Method, res.Name, res.Err)
		f, ok := r.errors[fk]
		if !ok {
			f = &failure{method: res.Method, name: res.Name, err: res.Err}
			r.errors[fk] = f
			r.errOrder = append(r.errOrder, fk)
		}
		f.occurrences++
	}
}

// Clear forgets every entry and error (Locust's clear_all, done when a
// worker starts a new test); the total's method becomes "".
func (r *Recorder) Clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total = newEntry("Aggregated", "", unix(r.now()))
	r.entries = map[key]*entry{}
	r.order = nil
	r.errors = map[string]*failure{}
	r.errOrder = nil
}

// Report is one stats report's payload and its totals.
type Report struct {
	// Data holds "stats", "stats_total" and "errors" in Locust's order; the
	// worker appends "user_classes_count" and "user_count".
	Data locustproto.Map
	// Requests and Failures are the report's Aggregated counts.
	Requests, Failures int64
}

// Report returns the statistics since the previous report and resets them
// (entries stay known, errors are dropped), as a Locust worker's
// report_to_master listener does: stats lists only the entries with
// requests or failures, stats_total is always there.
func (r *Recorder) Report() Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := unix(r.now())
	list := make([]any, 0, len(r.order))
	for _, e := range r.order {
		if e.numRequests == 0 && e.numFailures == 0 {
			continue
		}
		d := e.dict()
		if r.hdr {
			d = append(d, locustproto.KV{Key: HDRKey, Value: e.hdrList()})
		}
		list = append(list, d)
		e.reset(now)
	}
	rep := Report{Requests: r.total.numRequests, Failures: r.total.numFailures}
	total := r.total.dict()
	r.total.reset(now)
	errs := make(locustproto.Map, 0, len(r.errOrder))
	for _, k := range r.errOrder {
		f := r.errors[k]
		errs = append(errs, locustproto.KV{Key: k, Value: locustproto.Map{
			{Key: "name", Value: f.name},
			{Key: "method", Value: f.method},
			{Key: "error", Value: f.err},
			{Key: "occurrences", Value: f.occurrences},
		}})
	}
	r.errors = map[string]*failure{}
	r.errOrder = nil
	rep.Data = locustproto.Map{
		{Key: "stats", Value: list},
		{Key: "stats_total", Value: total},
		{Key: "errors", Value: errs},
	}
	return rep
}
