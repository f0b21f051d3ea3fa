package stats

import (
	"math/rand/v2"
	"testing"
	"time"
)

// Merging two halves of a sample, each given with its exact distribution,
// gives the same statistics as recording the whole sample in one place.
func TestMergeEqualsRecord(t *testing.T) {
	t.Parallel()
	base := time.Unix(1700000000, 0)
	clock := func() time.Time { return base.Add(10 * time.Second) }
	one, merged := New(clock), New(clock)
	rnd := rand.New(rand.NewPCG(1, 2))
	halves := [2]map[time.Duration]int64{{}, {}}
	var deltas [2]Delta
	for i := range 2000 {
		rt := time.Duration(rnd.IntN(200000)) * time.Microsecond
		start := base.Add(time.Duration(i) * 3 * time.Millisecond)
		res := Result{Method: "GET", Name: "/x", Start: start, Intended: start, ResponseTime: rt, ContentLength: 7}
		if i%50 == 0 {
			res.Err = "boom"
		}
		one.Record(res)
		h := i % 2
		d := &deltas[h]
		if d.Requests == 0 || rt < d.MinResponseTime {
			d.MinResponseTime = rt
		}
		d.MaxResponseTime = max(d.MaxResponseTime, rt)
		d.Requests++
		d.ContentLength += 7
		d.TotalResponseTime += rt
		if res.Err != "" {
			d.Failures++
		}
		end := start.Add(rt)
		if end.After(d.Last) {
			d.Last = end
		}
		sec := end.Unix()
		if n := len(d.PerSecond); n == 0 || d.PerSecond[n-1].Unix != sec {
			d.PerSecond = append(d.PerSecond, SecondCount{Unix: sec})
		}
		d.PerSecond[len(d.PerSecond)-1].Requests++
		if res.Err != "" {
			d.PerSecond[len(d.PerSecond)-1].Failures++
		}
		halves[h][rt]++
	}
	for h := range 2 {
		deltas[h].Method, deltas[h].Name = "GET", "/x"
		for v, n := range halves[h] {
			deltas[h].ResponseTimes = append(deltas[h].ResponseTimes, ValueCount{v, n})
		}
		merged.Merge(deltas[h])
		merged.MergeFailure("GET", "/x", "boom", deltas[h].Failures)
	}
	a, b := one.Snapshot(), merged.Snapshot()
	for _, p := range []float64{0.5, 0.66, 0.9, 0.95, 0.99, 0.999, 1} {
		if x, y := a.Total.Percentile(p), b.Total.Percentile(p); x != y {
			t.Errorf("p%v: one process %v, merged %v", p, x, y)
		}
	}
	if a.Total.NumRequests != b.Total.NumRequests || a.Total.NumFailures != b.Total.NumFailures ||
		a.Total.Avg() != b.Total.Avg() || a.Total.Min() != b.Total.Min() || a.Total.Max() != b.Total.Max() ||
		a.Total.TotalContentLength != b.Total.TotalContentLength || !a.Total.LastRequest.Equal(b.Total.LastRequest) ||
		a.Total.CurrentRPS() != b.Total.CurrentRPS() {
		t.Errorf("one process %+v\nmerged %+v", *a.Total, *b.Total)
	}
	if len(b.Failures) != 1 || b.Failures[0].Occurrences != a.Failures[0].Occurrences {
		t.Errorf("failures: one process %+v, merged %+v", a.Failures, b.Failures)
	}
}

// HistValue keeps every value in its bucket: the bucket of HistValue(d) is
// d's, and HistValue is the smallest value there.
func TestHistValue(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, 999 * time.Nanosecond, time.Microsecond, 2047 * time.Microsecond,
		2049 * time.Microsecond, 12345678 * time.Nanosecond, 3 * time.Second, 2 * time.Hour} {
		v := HistValue(d)
		if countsIndex(micros(v)) != countsIndex(micros(d)) || v > max(d, 0) && micros(d) < histHighest {
			t.Errorf("HistValue(%v) = %v: other bucket or above", d, v)
		}
		if i := countsIndex(micros(v)); i > 0 && countsIndex(micros(v)-1) == i {
			t.Errorf("HistValue(%v) = %v is not its bucket's smallest value", d, v)
		}
	}
}
