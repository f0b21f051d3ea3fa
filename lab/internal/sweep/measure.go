package sweep

import (
	"fmt"
	"math"
	"time"

	"predictlab/internal/locustcsv"
	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/profile"
	"predictlab/lab/internal/scrape"
)

// Row is one second of a point's history: the Aggregated row of
// PREFIX_stats_history.csv.
type Row struct {
	Time     float64 // Unix seconds
	Users    int
	Total    int64 // cumulative requests (successes and failures)
	Failures int64 // cumulative failures
}

// Rows picks the Aggregated rows of a history.
func Rows(h []locustcsv.HistoryRow) []Row {
	var out []Row
	for _, r := range h {
		if r.Name == locustcsv.AggregatedName {
			out = append(out, Row{Time: float64(r.Timestamp), Users: r.UserCount, Total: r.TotalRequestCount, Failures: r.TotalFailureCount})
		}
	}
	return out
}

// Measured is a point's measured capacity.
type Measured struct {
	// RPS is the sustained completion rate: successful requests per second
	// over the window, the breaking-point rule's completion measure
	// (differences of the cumulative count) with failures left out.
	RPS float64
	// OfferedRPS is what the users offered: users / pacing.
	OfferedRPS float64
	// From and To bound the window (Unix seconds); Failures counts the
	// window's failed requests.
	From, To float64
	Failures int64
	// MinRPS and MaxRPS are the slowest and fastest 2-second steps inside
	// the window, to show how steady the rate was.
	MinRPS, MaxRPS float64
}

// KeptUp reports whether the target completed (nearly) everything offered:
// then the load, not the target, was the limit, and RPS is only a lower
// bound of the capacity.
func (m Measured) KeptUp() bool { return m.RPS >= 0.95*m.OfferedRPS }

// Measure computes the sustained completion rate of a history whose users
// all started by the first row carrying the largest user count: the window
// opens warmup after that row (the queue has filled and the rate settled)
// and closes at the last row before users were stopped.
func Measure(rows []Row, pacing, warmup time.Duration) (Measured, error) {
	for len(rows) > 1 && rows[len(rows)-1].Users < rows[len(rows)-2].Users {
		rows = rows[:len(rows)-1] // ramp-down rows written while stopping
	}
	users := 0
	for _, r := range rows {
		users = max(users, r.Users)
	}
	if users == 0 {
		return Measured{}, fmt.Errorf("measure capacity: no users in the history")
	}
	full := -1
	for i, r := range rows {
		if r.Users == users {
			full = i
			break
		}
	}
	start := -1
	for i := full; i < len(rows); i++ {
		if rows[i].Time >= rows[full].Time+warmup.Seconds() {
			start = i
			break
		}
	}
	if start < 0 || len(rows)-1-start < 2 {
		return Measured{}, fmt.Errorf("measure capacity: fewer than 2 s of history after the %s warm-up", warmup)
	}
	a, b := rows[start], rows[len(rows)-1]
	dt := b.Time - a.Time
	ok := (b.Total - b.Failures) - (a.Total - a.Failures)
	m := Measured{RPS: float64(ok) / dt, OfferedRPS: float64(users) / pacing.Seconds(), From: a.Time, To: b.Time,
		Failures: b.Failures - a.Failures, MinRPS: math.Inf(1)}
	for i := start + 2; i < len(rows); i++ {
		p, q := rows[i-2], rows[i]
		if d := q.Time - p.Time; d > 0 {
			r := float64((q.Total-q.Failures)-(p.Total-p.Failures)) / d
			m.MinRPS, m.MaxRPS = math.Min(m.MinRPS, r), math.Max(m.MaxRPS, r)
		}
	}
	if math.IsInf(m.MinRPS, 1) {
		m.MinRPS = m.RPS
	}
	return m, nil
}

// ServerTime is the time the scoring service's executor spent per request
// over a window, from its /metrics counters: for a blocking pool the
// workers' busy seconds per request (E[S], waits for a core included),
// for an event loop the loops' busy seconds per request (c).
type ServerTime struct {
	// Station is the station it measures (scoring pool or event loop).
	Station string
	// PerRequestMS is busy time per completed request; 0 = unknown.
	PerRequestMS float64
	// CapacityRPS is the station's capacity with that time: W / E[S] or L / c.
	CapacityRPS float64
}

// ServerTimeOf computes ServerTime from the samples taken within [from, to]
// (Unix seconds) for a scoring service with settings t.
func ServerTimeOf(samples []scrape.Sample, t profile.Target, from, to float64) ServerTime {
	var in []scrape.Sample
	for _, s := range samples {
		if u := float64(s.Time.UnixNano()) / 1e9; u >= from-0.5 && u <= to+1 {
			in = append(in, s)
		}
	}
	busy, servers := targetsapi.MetricWorkersBusySeconds, t.Scoring.Workers
	st := ServerTime{Station: "scoring pool"}
	if t.Style == "eventloop" {
		busy, servers, st.Station = targetsapi.MetricLoopBusySeconds, t.Scoring.Loops, "scoring event loop"
	}
	b := scrape.Delta(in, busy)
	n := scrape.Delta(in, targetsapi.MetricRequestDuration+"_count")
	if math.IsNaN(b) || math.IsNaN(n) || n <= 0 || b <= 0 {
		return ServerTime{}
	}
	st.PerRequestMS = b / n * 1000
	st.CapacityRPS = float64(servers) / (b / n)
	return st
}
