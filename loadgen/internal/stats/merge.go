package stats

import "time"

// Delta is statistics gathered elsewhere for one (method, name), such as a
// distributed worker's report, added with Merge. Times are exact except the
// response-time distribution, which is what the worker sent (Locust's
// rounded buckets, for instance).
type Delta struct {
	Method, Name string
	// Requests counts every request, failures included.
	Requests, Failures, ContentLength int64
	// TotalResponseTime is the sum; MinResponseTime and MaxResponseTime are
	// the extremes (used only when Requests > 0).
	TotalResponseTime, MinResponseTime, MaxResponseTime time.Duration
	// Last is when the latest request completed (zero: none).
	Last time.Time
	// PerSecond are the requests and failures that completed in each Unix
	// second.
	PerSecond []SecondCount
	// ResponseTimes is the distribution: Count requests took Value.
	ResponseTimes []ValueCount
}

// SecondCount is the number of requests and failures completed in the Unix
// second Unix.
type SecondCount struct{ Unix, Requests, Failures int64 }

// ValueCount is Count requests that took Value.
type ValueCount struct {
	Value time.Duration
	Count int64
}

// Merge adds d as if its requests had been recorded here. A merged request
// has no intended start: its intended figures are its normal ones. Safe for
// concurrent use, like Record.
func (s *Stats) Merge(d Delta) {
	if d.Requests <= 0 && d.Failures <= 0 {
		return
	}
	e := s.lookup(d.Method, d.Name)
	sh := e.lockShard()
	defer sh.mu.Unlock()
	if sh.h == nil {
		sh.h, sh.ih = newDense(), newDense()
	}
	for _, vc := range d.ResponseTimes {
		if vc.Count <= 0 {
			continue
		}
		i := countsIndex(micros(vc.Value))
		sh.h.c[i] += vc.Count
		sh.h.touch(i)
		sh.ih.c[i] += vc.Count
		sh.ih.touch(i)
	}
	x := &sh.d
	if d.Requests > 0 {
		lo, hi := int64(max(d.MinResponseTime, 0)), int64(max(d.MaxResponseTime, 0))
		if x.n == 0 || lo < x.minRT {
			x.minRT = lo
		}
		if x.n == 0 || lo < x.minIRT {
			x.minIRT = lo
		}
		x.maxRT = max(x.maxRT, hi)
		x.maxIRT = max(x.maxIRT, hi)
	}
	x.n += d.Requests
	x.fails += d.Failures
	x.content += d.ContentLength
	x.sumRT += int64(d.TotalResponseTime)
	x.sumIRT += int64(d.TotalResponseTime)
	if !d.Last.IsZero() {
		x.last = max(x.last, d.Last.UnixNano())
	}
	for _, sc := range d.PerSecond {
		x.addSec(sc.Unix, sc.Requests, sc.Failures)
	}
}

// MergeFailure adds n occurrences of a failure (method, name, error text).
func (s *Stats) MergeFailure(method, name, err string, n int64) {
	if n <= 0 {
		return
	}
	s.failMu.Lock()
	k := failKey{method, name, err}
	if i, ok := s.failures[k]; ok {
		s.failList[i].Occurrences += n
	} else {
		s.failures[k] = len(s.failList)
		s.failList = append(s.failList, Failure{Method: method, Name: name, Error: err, Occurrences: n})
	}
	s.failMu.Unlock()
}

// HistValue returns the smallest response time in d's histogram bucket (in
// whole microseconds). Recording HistValue(d) instead of d changes no
// percentile, so a distributed worker can send its response times as
// (HistValue, count) pairs and the master's Merge loses nothing.
func HistValue(d time.Duration) time.Duration {
	return time.Duration(lowestValueAt(int32(countsIndex(micros(d))))) * time.Microsecond
}
