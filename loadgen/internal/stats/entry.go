package stats

import (
	"math"
	"time"
)

// Entry is the immutable statistics of one (method, name) pair, or of the
// "Aggregated" total, at the time of its Snapshot. Times are in milliseconds
// (float64) as Locust reports them. An Entry from IntendedEntries has the
// same counts and rates, but its response times run from the intended start.
type Entry struct {
	// Method is "" and Name "Aggregated" for the total.
	Method, Name string
	// NumRequests counts every request, failures included; NumFailures the failed ones.
	NumRequests, NumFailures int64
	// TotalResponseTime is the sum of all response times.
	TotalResponseTime time.Duration
	// MinResponseTime and MaxResponseTime are the raw extremes (0 with no requests).
	MinResponseTime, MaxResponseTime time.Duration
	// TotalContentLength is the sum of the body sizes.
	TotalContentLength int64
	// StartTime is when the statistics were last cleared; LastRequest is the
	// completion time of the most recent request of ANY entry (Locust's
	// global last_request_timestamp, which all rates use). Zero if none.
	StartTime, LastRequest time.Time

	hist      sparse // cumulative response times (µs buckets)
	histTotal int64

	hasCur   bool   // a rolling window exists (entry older than ~2 s)
	cur      sparse // rolling window (~10 s)
	curTotal int64
	curMax   time.Duration // raw max inside the window

	curRPS, curFPS float64
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Avg is the mean response time in ms (0 with no requests).
func (e *Entry) Avg() float64 {
	if e.NumRequests == 0 {
		return 0
	}
	return ms(e.TotalResponseTime) / float64(e.NumRequests)
}

// Min is the smallest response time in ms (0 with no requests).
func (e *Entry) Min() float64 { return ms(e.MinResponseTime) }

// Max is the largest response time in ms (0 with no requests).
func (e *Entry) Max() float64 { return ms(e.MaxResponseTime) }

// AvgContentSize is the mean body size in bytes (0 with no requests).
func (e *Entry) AvgContentSize() float64 {
	if e.NumRequests == 0 {
		return 0
	}
	return float64(e.TotalContentLength) / float64(e.NumRequests)
}

// FailRatio is NumFailures/NumRequests; 1 if there are failures but no
// requests, else 0 (Locust's fail_ratio).
func (e *Entry) FailRatio() float64 {
	if e.NumRequests == 0 {
		if e.NumFailures > 0 {
			return 1
		}
		return 0
	}
	return float64(e.NumFailures) / float64(e.NumRequests)
}

// clampedMS converts a histogram value (µs) to ms, never above max.
func clampedMS(us int64, max time.Duration) float64 {
	v := float64(us) / 1000
	if m := ms(max); v > m {
		return m
	}
	return v
}

// Percentile returns the response time (ms) at quantile p (0..1, e.g. 0.95)
// since the statistics were cleared: HdrHistogram's value with 3 significant
// digits, clamped to [Min, Max] as Locust clamps its median (the histogram
// counts whole microseconds, so without the clamp a single 1.3407 ms
// request would have a median of 1.340 ms, below its Min). It is 0 with no
// requests.
func (e *Entry) Percentile(p float64) float64 {
	if e.histTotal == 0 {
		return 0
	}
	return max(clampedMS(e.hist.quantile(p, e.histTotal), e.MaxResponseTime), e.Min())
}

// Median is Percentile(0.5). Unlike Locust's median_response_time it is not
// a 1/10/100 ms bucket value, but like it, it lies within [Min, Max]: with
// one request it is that request's exact time.
func (e *Entry) Median() float64 { return e.Percentile(0.5) }

// TotalRPS is NumRequests / (LastRequest - StartTime) in seconds, 0 if
// either time is missing (Locust's total_rps).
func (e *Entry) TotalRPS() float64 { return e.perSec(e.NumRequests) }

// TotalFailPerSec is TotalRPS for failures.
func (e *Entry) TotalFailPerSec() float64 { return e.perSec(e.NumFailures) }

func (e *Entry) perSec(n int64) float64 {
	if e.LastRequest.IsZero() || e.StartTime.IsZero() {
		return 0
	}
	d := e.LastRequest.Sub(e.StartTime).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(n) / d
}

// CurrentRPS is Locust's current_rps: the mean number of requests per
// second over the whole seconds [last-12, last-3], where last is the second
// of the most recent request of any entry; 0 for the first 3 seconds.
func (e *Entry) CurrentRPS() float64 { return e.curRPS }

// CurrentFailPerSec is CurrentRPS for failures.
func (e *Entry) CurrentFailPerSec() float64 { return e.curFPS }

// HasCurrentWindow reports whether the rolling ~10 s percentile window exists
// yet (Locust has none during an entry's first ~2 seconds and reports None,
// shown as 0).
func (e *Entry) HasCurrentWindow() bool { return e.hasCur }

// CurrentPercentile returns the response time (ms) at quantile p (0..1) over
// the last ~10 seconds (Locust's rolling window, here built from the last 10
// Ticks), never above the window's max. It is 0 when there is no window or
// no request in it.
func (e *Entry) CurrentPercentile(p float64) float64 {
	if !e.hasCur || e.curTotal == 0 {
		return 0
	}
	return clampedMS(e.cur.quantile(p, e.curTotal), e.curMax)
}

// CurrentCount is the number of requests inside the rolling window.
func (e *Entry) CurrentCount() int64 { return e.curTotal }

// currentRate implements Locust's current_rps over per-second counts.
func currentRate(counts func(sec int64) int64, last, start time.Time) float64 {
	if last.IsZero() {
		return 0
	}
	l := last.Unix()
	from := l - 12
	if s := start.Unix(); s > from {
		from = s
	}
	n := (l - 2) - from
	var sum int64
	for t := from; t < l-2; t++ {
		sum += counts(t)
	}
	return float64(sum) / math.Max(float64(n), 1)
}
