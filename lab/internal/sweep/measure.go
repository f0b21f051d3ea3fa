package sweep

import (
	"fmt"
	"math"
	"time"

	"predictlab/internal/locustcsv"
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
