package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// fakeClock is a settable clock for New.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var t0 = time.Unix(1000, 0)

func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func newTest() (*Stats, *fakeClock) {
	c := &fakeClock{t: t0}
	return New(c.now), c
}

// req is a successful request that completes at end (seconds after t0).
func req(method, name string, end float64, rt time.Duration) Result {
	start := sec(end).Add(-rt)
	return Result{Method: method, Name: name, Start: start, Intended: start, ResponseTime: rt, ContentLength: 51}
}

func TestSparseMatchesLibrary(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	h := newHist()
	for range 20000 {
		_ = h.RecordValue(int64(rng.ExpFloat64() * 50000))
	}
	_ = h.RecordValue(histHighest)
	s := sparseOf(h)
	for _, q := range []float64{0, 0.001, 0.1, 0.5, 0.66, 0.9, 0.99, 0.999, 0.9999, 1} {
		if got, want := s.quantile(q, s.total()), h.ValueAtQuantile(q*100); got != want {
			t.Errorf("q=%v: got %d, want %d", q, got, want)
		}
	}
	// The index <-> value mapping agrees with the library (a sample of buckets).
	for i := 0; i < len(s); i += max(1, len(s)/60) {
		b := s[i]
		one := newHist()
		_ = one.RecordValue(lowestValueAt(b.idx))
		if got := sparseOf(one); len(got) != 1 || got[0].idx != b.idx {
			t.Fatalf("value %d: index %v, want %d", lowestValueAt(b.idx), got, b.idx)
		}
		if hi := highestValueAt(b.idx); hi != one.ValueAtQuantile(100) {
			t.Fatalf("idx %d: highest %d, library %d", b.idx, hi, one.ValueAtQuantile(100))
		}
	}
	var _ *hdr.Histogram = h
}

// The recorders' counts index is the library's, for every bucket boundary
// and random values across the whole range.
func TestCountsIndexMatchesLibrary(t *testing.T) {
	t.Parallel()
	check := func(v int64) {
		t.Helper()
		one := newHist()
		if err := one.RecordValue(v); err != nil {
			t.Fatalf("library refused %d: %v", v, err)
		}
		want := -1
		for i, n := range one.Export().Counts {
			if n != 0 {
				want = i
			}
		}
		if got := countsIndex(v); got != want {
			t.Fatalf("countsIndex(%d) = %d, library %d", v, got, want)
		}
	}
	for _, v := range []int64{0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 1 << 20, histHighest - 1, histHighest} {
		check(v)
	}
	for shift := 11; shift < 32; shift++ {
		for _, d := range []int64{-1, 0, 1} {
			if v := int64(1)<<shift + d; v <= histHighest {
				check(v)
			}
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		check(rng.Int64N(histHighest + 1))
		check(int64(rng.ExpFloat64() * 50000))
	}
}

func TestPercentileAccuracy(t *testing.T) {
	t.Parallel()
	s, _ := newTest()
	rng := rand.New(rand.NewPCG(3, 4))
	var exact []float64
	for i := range 5000 {
		rt := time.Duration(rng.ExpFloat64()*80*float64(time.Millisecond)) + 300*time.Microsecond
		if i%100 == 0 {
			rt += 2 * time.Second
		}
		s.Record(req("GET", "/x", 1, rt))
		exact = append(exact, float64(rt)/float64(time.Millisecond))
	}
	slices.Sort(exact)
	e := s.Snapshot().Entries[0]
	for _, q := range []float64{0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1} {
		want := exact[rank(q, int64(len(exact)))-1]
		got := e.Percentile(q)
		tol := want / 1024
		if want < 1000 {
			tol = math.Min(tol, 1) // never coarser than 1 ms below 1 s
		}
		if got < want || got > want+tol+0.001 {
			t.Errorf("q=%v: got %v, exact %v (tolerance %v)", q, got, want, tol)
		}
		if got > e.Max() {
			t.Errorf("q=%v: %v above max %v", q, got, e.Max())
		}
	}
	if got := e.Percentile(1); got != e.Max() {
		t.Errorf("p100 = %v, want max %v", got, e.Max())
	}
}

func TestCountsAndFailures(t *testing.T) {
	t.Parallel()
	s, _ := newTest()
	s.Record(req("GET", "/b", 0.5, 10*time.Millisecond))
	s.Record(req("POST", "/a", 0.6, 30*time.Millisecond))
	f := req("GET", "/b", 0.7, 20*time.Millisecond)
	f.Err, f.ContentLength = "HTTPError('404 Client Error: Not Found for url: /b')", 0
	s.Record(f)
	f2 := f
	f2.Err = "ConnectionRefusedError(111, 'Connection refused')"
	s.Record(f2)
	s.Record(f)
	s.RecordException("boom", "tb1")
	s.RecordException("boom again", "tb1")
	s.RecordException("other", "tb2")

	snap := s.Snapshot()
	if len(snap.Entries) != 2 || snap.Entries[0].Name != "/a" || snap.Entries[1].Name != "/b" {
		t.Fatalf("entries not sorted by name: %v", names(snap.Entries))
	}
	b := snap.Entries[1]
	if b.NumRequests != 4 || b.NumFailures != 3 {
		t.Errorf("/b: %d requests, %d failures", b.NumRequests, b.NumFailures)
	}
	if b.Min() != 10 || b.Max() != 20 || b.Avg() != 17.5 || b.AvgContentSize() != 12.75 || b.FailRatio() != 0.75 {
		t.Errorf("/b: min %v max %v avg %v size %v ratio %v", b.Min(), b.Max(), b.Avg(), b.AvgContentSize(), b.FailRatio())
	}
	tot := snap.Total
	if tot.Name != "Aggregated" || tot.Method != "" || tot.NumRequests != 5 || tot.NumFailures != 3 || tot.Max() != 30 || tot.Min() != 10 {
		t.Errorf("total: %+v", tot)
	}
	if got := tot.Percentile(1); got != 30 {
		t.Errorf("total p100 = %v", got)
	}
	wantF := []Failure{
		{"GET", "/b", "HTTPError('404 Client Error: Not Found for url: /b')", 2},
		{"GET", "/b", "ConnectionRefusedError(111, 'Connection refused')", 1},
	}
	if !slices.Equal(snap.Failures, wantF) {
		t.Errorf("failures = %v", snap.Failures)
	}
	wantE := []Exception{{2, "boom", "tb1", "local"}, {1, "other", "tb2", "local"}}
	if !slices.Equal(snap.Exceptions, wantE) {
		t.Errorf("exceptions = %v", snap.Exceptions)
	}
}

// near reports whether a percentile is want up to the histogram's bucket
// width (3 significant digits).
func near(got, want float64) bool { return math.Abs(got-want) <= want/1000 }

func names(es []*Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Method+" "+e.Name)
	}
	return out
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	s, _ := newTest()
	snap := s.Tick(t0, 0)
	tot := snap.Total
	if tot.NumRequests != 0 || tot.Avg() != 0 || tot.Median() != 0 || tot.TotalRPS() != 0 || tot.CurrentRPS() != 0 ||
		tot.Percentile(0.95) != 0 || tot.FailRatio() != 0 || len(snap.Entries) != 0 {
		t.Errorf("empty total: %+v", tot)
	}
}

func TestRates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		lastSecond          int // requests complete in seconds 0..lastSecond (10 per second)
		wantCurrent         float64
		wantCurrentB        float64
		wantTotal, wantFail float64
	}{
		// Locust: 0 until 3 whole seconds are behind the last request.
		{"first seconds", 2, 0, 0, 30 / 2.5, 3 / 2.5},
		{"one second in window", 3, 10, 1, 40 / 3.5, 4 / 3.5},
		// Window [last-12, last-3] = 10 seconds: 7..16 for last=19.
		{"full window", 19, 10, 0, 200 / 19.5, 20 / 19.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTest()
			for sc := 0; sc <= tt.lastSecond; sc++ {
				for i := range 10 {
					r := req("GET", "/a", float64(sc)+0.5, time.Millisecond)
					if i == 0 {
						r.Err = "e"
					}
					s.Record(r)
				}
				if sc < 4 {
					s.Record(req("GET", "/b", float64(sc)+0.1, time.Millisecond)) // /b: 1 per second, first 4 s only
				}
			}
			snap := s.Snapshot()
			a := snap.Entries[0]
			if math.Abs(a.CurrentRPS()-tt.wantCurrent) > 1e-9 {
				t.Errorf("current rps = %v, want %v", a.CurrentRPS(), tt.wantCurrent)
			}
			if math.Abs(a.CurrentFailPerSec()-tt.wantCurrent/10) > 1e-9 {
				t.Errorf("current fail/s = %v, want %v", a.CurrentFailPerSec(), tt.wantCurrent/10)
			}
			if b := snap.Entries[1]; math.Abs(b.CurrentRPS()-tt.wantCurrentB) > 1e-9 {
				t.Errorf("/b current rps = %v, want %v (anchored on the global last request)", b.CurrentRPS(), tt.wantCurrentB)
			}
			if math.Abs(a.TotalRPS()-tt.wantTotal) > 1e-9 || math.Abs(a.TotalFailPerSec()-tt.wantFail) > 1e-9 {
				t.Errorf("total rps = %v, fail/s %v, want %v, %v", a.TotalRPS(), a.TotalFailPerSec(), tt.wantTotal, tt.wantFail)
			}
		})
	}
}

func TestCurrentWindow(t *testing.T) {
	t.Parallel()
	s, _ := newTest()
	var snap *Snapshot
	for tick := 1; tick <= 22; tick++ {
		rt := 10 * time.Millisecond
		if tick > 12 {
			rt = 100 * time.Millisecond
		}
		for range 5 {
			s.Record(req("GET", "/a", float64(tick)-0.5, rt))
		}
		snap = s.Tick(sec(float64(tick)), 7)
		e := snap.Entries[0]
		switch tick {
		case 1:
			if e.HasCurrentWindow() || e.CurrentPercentile(0.5) != 0 || snap.Total.HasCurrentWindow() {
				t.Errorf("tick 1: window exists already")
			}
		case 2:
			if !e.HasCurrentWindow() || !near(e.CurrentPercentile(0.5), 10) || e.CurrentCount() != 10 {
				t.Errorf("tick 2: p50 %v, count %d", e.CurrentPercentile(0.5), e.CurrentCount())
			}
		case 15:
			// Window = ticks 6..15: 7 of 10 ms, 3 of 100 ms.
			if !near(e.CurrentPercentile(0.5), 10) || e.CurrentPercentile(0.95) != 100 || e.CurrentCount() != 50 {
				t.Errorf("tick 15: p50 %v p95 %v count %d", e.CurrentPercentile(0.5), e.CurrentPercentile(0.95), e.CurrentCount())
			}
		}
	}
	e := snap.Entries[0]
	if e.CurrentPercentile(0.5) != 100 || !near(e.CurrentPercentile(0.01), 100) {
		t.Errorf("last window: p50 %v, p1 %v, want only 100 ms", e.CurrentPercentile(0.5), e.CurrentPercentile(0.01))
	}
	if !near(e.Percentile(0.5), 10) || !near(snap.Total.Percentile(0.5), 10) {
		t.Errorf("cumulative p50 = %v", e.Percentile(0.5))
	}
	if got := snap.Total.CurrentPercentile(0.95); got != 100 {
		t.Errorf("total current p95 = %v", got)
	}
	if len(snap.History) != 22 {
		t.Fatalf("history has %d points", len(snap.History))
	}
	last := snap.History[21]
	if last.Users != 7 || last.P50 != 100 || last.P95 != 100 || last.RPS != 5 || !last.Time.Equal(sec(22)) {
		t.Errorf("last history point = %+v", last)
	}
}

func TestIntended(t *testing.T) {
	t.Parallel()
	s, _ := newTest()
	r := req("GET", "/a", 1, 40*time.Millisecond)
	r.Intended = r.Start.Add(-15 * time.Millisecond) // sent 15 ms late
	s.Record(r)
	r2 := req("GET", "/a", 1, 20*time.Millisecond)
	r2.Intended = r2.Start.Add(5 * time.Millisecond) // early: no negative lag
	s.Record(r2)
	r3 := req("GET", "/a", 1, 30*time.Millisecond)
	r3.Intended = time.Time{} // unset = Start
	s.Record(r3)
	snap := s.Snapshot()
	n, in := snap.Entries[0], snap.IntendedEntries[0]
	if n.Max() != 40 || n.Avg() != 30 {
		t.Errorf("normal max %v avg %v", n.Max(), n.Avg())
	}
	if in.Max() != 55 || in.Min() != 20 || in.Avg() != 35 || in.Percentile(1) != 55 || in.NumRequests != 3 {
		t.Errorf("intended max %v min %v avg %v p100 %v", in.Max(), in.Min(), in.Avg(), in.Percentile(1))
	}
	if snap.IntendedTotal.Max() != 55 || snap.IntendedTotal.Name != "Aggregated" {
		t.Errorf("intended total %+v", snap.IntendedTotal)
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	s, c := newTest()
	f := req("GET", "/a", 1, time.Millisecond)
	f.Err = "e"
	s.Record(f)
	s.RecordException("m", "tb")
	s.Tick(sec(1), 1)
	c.set(sec(5))
	s.Reset()
	snap := s.Snapshot()
	if len(snap.Entries) != 1 || snap.Entries[0].NumRequests != 0 || snap.Total.NumRequests != 0 ||
		len(snap.Failures) != 0 || len(snap.Exceptions) != 0 || len(snap.History) != 0 || !snap.StartTime.Equal(sec(5)) {
		t.Errorf("after reset: %+v", snap)
	}
	s.Record(req("GET", "/a", 6, time.Millisecond))
	if got := s.Snapshot().Total.NumRequests; got != 1 {
		t.Errorf("after reset and one request: %d", got)
	}
}

func TestHistoryBounded(t *testing.T) {
	t.Parallel()
	s, _ := newTest()
	var snap *Snapshot
	for i := 1; i <= 3*maxHistory; i++ {
		snap = s.Tick(sec(float64(i)), i)
	}
	h := snap.History
	if len(h) > maxHistory || len(h) < maxHistory/2 {
		t.Fatalf("history has %d points", len(h))
	}
	if !h[0].Time.Equal(sec(1)) {
		t.Errorf("first point at %v", h[0].Time)
	}
	for i := 1; i < len(h); i++ {
		if d := h[i].Time.Sub(h[i-1].Time); d != 4*time.Second {
			t.Fatalf("points %d and %d are %v apart, want 4s", i-1, i, d)
		}
	}
}

func TestConcurrentRecord(t *testing.T) {
	t.Parallel()
	s, _ := newTest()
	const workers, each = 4, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				s.Record(req("GET", []string{"/a", "/b"}[(w+i)%2], 1, time.Duration(i+1)*time.Microsecond))
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 5 {
			s.Tick(sec(float64(i)), 0)
			_ = s.Snapshot()
		}
	}()
	wg.Wait()
	snap := s.Snapshot()
	if snap.Total.NumRequests != workers*each || snap.Total.Percentile(1) != 0.5 || snap.Total.Min() != 0.001 {
		t.Errorf("total %d requests, p100 %v, min %v", snap.Total.NumRequests, snap.Total.Percentile(1), snap.Total.Min())
	}
	var sum int64
	for _, e := range snap.Entries {
		sum += e.NumRequests
	}
	if sum != workers*each {
		t.Errorf("entries sum to %d", sum)
	}
}

// TestPercentileWithinMinMax checks that percentiles, the median included,
// stay within the raw [Min, Max] even though the histogram counts whole
// microseconds (Locust clamps its median the same way).
func TestPercentileWithinMinMax(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rts  []time.Duration
	}{
		{"one request, sub-microsecond part", []time.Duration{1340723 * time.Nanosecond}},
		{"two close requests", []time.Duration{2501900 * time.Microsecond / 1000, 2501950 * time.Microsecond / 1000}},
		{"slow ones", []time.Duration{2514300 * time.Microsecond, 2514900 * time.Microsecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTest()
			for i, rt := range tt.rts {
				s.Record(req("GET", "/x", 1+float64(i)/10, rt))
			}
			e := s.Snapshot().Entries[0]
			for _, q := range []float64{0, 0.01, 0.5, 0.9, 1} {
				if p := e.Percentile(q); p < e.Min() || p > e.Max() {
					t.Errorf("Percentile(%v) = %v outside [%v, %v]", q, p, e.Min(), e.Max())
				}
			}
			if len(tt.rts) == 1 && e.Median() != e.Min() {
				t.Errorf("single request: Median %v, want its exact time %v", e.Median(), e.Min())
			}
		})
	}
}

// TestFailureKindsBounded is the review's R14: a target answering each
// request with a new reason phrase must not add a failure row per request.
// Past MaxFailureKinds distinct texts, an entry's new ones count in one
// "(other)" row; every failure is still counted.
func TestFailureKindsBounded(t *testing.T) {
	t.Parallel()
	st := New(func() time.Time { return t0 })
	const n = 3 * MaxFailureKinds
	for i := range n {
		r := req("GET", "/x", 1, time.Millisecond)
		r.Err = fmt.Sprintf("HTTPError('500 Server Error: E%d for url: /x')", i)
		st.Record(r)
	}
	r := req("POST", "/y", 1, time.Millisecond)
	r.Err = "HTTPError('500 Server Error: new for url: /y')"
	st.Record(r)
	snap := st.Snapshot()
	if len(snap.Failures) != MaxFailureKinds+2 {
		t.Fatalf("%d failure rows, want %d", len(snap.Failures), MaxFailureKinds+2)
	}
	var total, other int64
	for _, f := range snap.Failures {
		total += f.Occurrences
		if f.Error == OtherFailures {
			other += f.Occurrences
		}
	}
	if total != n+1 || other != n-MaxFailureKinds+1 || snap.Total.NumFailures != n+1 {
		t.Fatalf("occurrences %d (other %d), failures %d; want %d (other %d)", total, other, snap.Total.NumFailures, n+1, n-MaxFailureKinds+1)
	}
}
