// Package breakpoint finds where a target stops keeping up, from the
// per-second history of a ramped load test (experiment 2).
//
// The rule (throughput, the seed's own reading): completions per second are
// taken from differences of the cumulative successful requests (Total
// Request Count minus Total Failure Count) over a short window, and compared with the rate the users offered when those requests
// were sent (users × 1/pacing, the users shifted back by the window's mean
// latency). The breaking point is the largest user count whose step still
// completes at least Threshold (95%) of the offered rate, before the first
// sustained failure (Sustain consecutive failing steps). The latency knee is
// the first user count whose latency exceeds KneeFactor × experiment 1's
// median.
//
// Everything here is a pure function of its inputs.
package breakpoint

import (
	"fmt"
	"math"
	"time"

	"predictlab/lab/internal/jsonnum"
)

// Point is one row of a stats history (the Aggregated row of one second).
type Point struct {
	Time       float64 // Unix seconds
	Users      int
	Total      int64   // cumulative completed requests (Total Request Count)
	Failures   int64   // cumulative failures
	TotalAvgMS float64 // cumulative average response time (Total Average Response Time)
	// MedianMS and P95MS are the history's percentile cells; Current says
	// whether they are Locust's current (≈10 s window) percentiles
	// (--csv-full-history) or cumulative ones (the default). NaN = N/A.
	MedianMS, P95MS float64
	Current         bool
	RPS             float64 // the Requests/s column (Locust's trailing average)
}

// Config holds the rule's parameters.
type Config struct {
	Pacing     time.Duration // the user class's constant_pacing (1 s)
	Window     int           // rows in a completion window (2)
	Threshold  float64       // completions must reach this share of the offered rate (0.95)
	Sustain    int           // consecutive failing steps that end the search (5: rides out a brief stall)
	KneeFactor float64       // knee when latency > KneeFactor × BaselineMedianMS (2)
	// BaselineMedianMS is experiment 1's median; 0 disables the knee.
	BaselineMedianMS float64
}

// DefaultConfig returns the stated rule's parameters.
func DefaultConfig(baselineMedianMS float64) Config {
	return Config{Pacing: time.Second, Window: 2, Threshold: 0.95, Sustain: 5, KneeFactor: 2,
		BaselineMedianMS: baselineMedianMS}
}

// Validate reports a parameter out of range.
func (c Config) Validate() error {
	if c.Pacing <= 0 || c.Window < 1 || c.Threshold <= 0 || c.Threshold > 1 || c.Sustain < 1 || c.KneeFactor <= 1 {
		return fmt.Errorf("validate breakpoint config: pacing>0, window≥1, 0<threshold≤1, sustain≥1, knee factor>1 required")
	}
	return nil
}

// Step is the rule evaluated over one window.
type Step struct {
	Time      float64       `json:"time"`       // end of the window (Unix seconds)
	UsersNow  int           `json:"users_now"`  // users at the end of the window
	Users     int           `json:"users"`      // users when the window's requests were sent (shifted back)
	Offered   float64       `json:"offered"`    // req/s the users offered (shifted window)
	Completed float64       `json:"completed"`  // req/s answered successfully in the window
	LatencyMS float64       `json:"latency_ms"` // mean latency of the window's completions
	MedianMS  jsonnum.Float `json:"median_ms"`  // the history's median cell at the end of the window (NaN = N/A)
	OK        bool          `json:"ok"`         // Completed ≥ Threshold × Offered
}

// Result is the outcome of Find.
type Result struct {
	Steps []Step `json:"steps"`
	// Reached is false when no sustained failure happened within MaxUsers.
	Reached bool `json:"reached"`
	// Users is the breaking point; when not Reached it is MaxUsers.
	Users int `json:"users"`
	// At is the step at the breaking point (zero when there is none).
	At Step `json:"at"`
	// MedianMS is the latency reported at the breaking point: the
	// history's current median when it has one, else the window's mean.
	MedianMS   float64 `json:"median_ms"`
	MedianKind string  `json:"median_kind"`
	MaxUsers   int     `json:"max_users"`
	// PeakThroughput is the largest completion rate over any window.
	PeakThroughput float64 `json:"peak_throughput"`
	// Knee is the first user count whose latency exceeded KneeFactor ×
	// BaselineMedianMS (0 with KneeReached false when it never did).
	KneeReached   bool    `json:"knee_reached"`
	KneeUsers     int     `json:"knee_users"`
	KneeLatencyMS float64 `json:"knee_latency_ms"`
	KneeLimitMS   float64 `json:"knee_limit_ms"`
	// KneeByMedianUsers is the first user count whose history median cell
	// (Locust's 10 s window, which trails a fast ramp) exceeded the limit;
	// 0 when it never did or the history has no current percentiles.
	KneeByMedianUsers int `json:"knee_by_median_users"`
}

// Find applies the rule to a history (rows in time order).
func Find(points []Point, c Config) (Result, error) {
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	r := Result{MedianKind: "mean of the window"}
	for _, p := range trimRampDown(points) {
		if p.Users > r.MaxUsers {
			r.MaxUsers = p.Users
		}
	}
	pacing := c.Pacing.Seconds()
	r.Steps = Steps(points, c.Window, pacing, c.Threshold)
	for _, s := range r.Steps {
		if s.Completed > r.PeakThroughput {
			r.PeakThroughput = s.Completed
		}
	}
	// Breaking point: the largest passing user count before the first run
	// of Sustain failing steps.
	fails := 0
	best := -1
	brokeAt := -1
	for i, s := range r.Steps {
		if s.OK {
			fails = 0
			if best < 0 || s.Users >= r.Steps[best].Users {
				best = i
			}
			continue
		}
		fails++
		if fails >= c.Sustain {
			brokeAt = i
			break
		}
	}
	r.Reached = brokeAt >= 0
	if best >= 0 {
		r.At = r.Steps[best]
		r.MedianMS = r.At.LatencyMS
		if len(points) > 0 && points[0].Current && r.At.MedianMS.Valid() && r.At.MedianMS > 0 {
			r.MedianMS = float64(r.At.MedianMS)
			r.MedianKind = "current median (10 s window)"
		}
	}
	switch {
	case r.Reached && best >= 0:
		r.Users = r.At.Users
	case r.Reached:
		r.Users = 0 // failed from the first step
	default:
		r.Users = r.MaxUsers
	}
	if c.BaselineMedianMS > 0 {
		r.KneeLimitMS = c.KneeFactor * c.BaselineMedianMS
		for _, s := range r.Steps {
			if s.LatencyMS > r.KneeLimitMS {
				r.KneeReached, r.KneeUsers, r.KneeLatencyMS = true, s.Users, s.LatencyMS
				break
			}
		}
		if len(points) > 0 && points[0].Current {
			for _, s := range r.Steps {
				if s.MedianMS.Valid() && float64(s.MedianMS) > r.KneeLimitMS {
					r.KneeByMedianUsers = s.Users
					break
				}
			}
		}
	}
	return r, nil
}

// Steps evaluates the throughput rule for every window of w rows. Windows
// with no offered load (no users yet) are skipped.
func Steps(points []Point, w int, pacing, threshold float64) []Step {
	points = trimRampDown(points)
	var steps []Step
	for i := w; i < len(points); i++ {
		a, b := points[i-w], points[i]
		dt := b.Time - a.Time
		dn := float64(b.Total - a.Total) // every answer: the latency average covers them all
		// Only successful answers complete a request: a failing target
		// answers fast (a 502 in a millisecond) and must not look as if
		// it kept up.
		ok := float64((b.Total - b.Failures) - (a.Total - a.Failures))
		if dt <= 0 || dn < 0 {
			continue
		}
		ok = max(ok, 0)
		lat := b.TotalAvgMS
		if dn > 0 {
			lat = (b.TotalAvgMS*float64(b.Total) - a.TotalAvgMS*float64(a.Total)) / dn
		}
		if lat < 0 || math.IsNaN(lat) {
			lat = 0
		}
		lag := lat / 1000
		offered := meanUsers(points, a.Time-lag, b.Time-lag) / pacing
		if offered <= 0 {
			continue
		}
		// The step's user count is the one the comparison used: the mean
		// users over the shifted window (offered rate × pacing).
		s := Step{Time: b.Time, UsersNow: b.Users, Users: int(math.Round(offered * pacing)),
			Offered: offered, Completed: ok / dt, LatencyMS: lat, MedianMS: jsonnum.Float(b.MedianMS)}
		s.OK = s.Completed >= threshold*s.Offered
		steps = append(steps, s)
	}
	return steps
}

// meanUsers integrates the user count over (from, to] and divides by its
// length. Over a row's second (points[j-1].Time, points[j].Time] the count
// is taken as the mean of the two rows' counts: users spawned during that
// second sent for part of it, and the spawner's phase relative to the
// history writer is unknown. Before the first row there are no users;
// after the last row its count holds.
func meanUsers(points []Point, from, to float64) float64 {
	if to <= from || len(points) == 0 {
		return 0
	}
	var area float64
	for j := 1; j < len(points); j++ {
		lo, hi := math.Max(points[j-1].Time, from), math.Min(points[j].Time, to)
		if hi > lo {
			area += float64(points[j-1].Users+points[j].Users) / 2 * (hi - lo)
		}
	}
	last := points[len(points)-1]
	if to > last.Time {
		area += float64(last.Users) * (to - math.Max(last.Time, from))
	}
	return area / (to - from)
}

// trimRampDown drops the trailing rows written while users were being
// stopped at the end of the run (their count falls below the row before).
func trimRampDown(points []Point) []Point {
	for len(points) > 1 && points[len(points)-1].Users < points[len(points)-2].Users {
		points = points[:len(points)-1]
	}
	return points
}

// LittleUsers is Little's law for a closed loop with constant pacing:
// users ≈ throughput × (latency + think time), where the think time is what
// is left of the pacing interval (zero once latency exceeds it).
func LittleUsers(throughput, latencyMS float64, pacing time.Duration) float64 {
	r := latencyMS / 1000
	z := math.Max(0, pacing.Seconds()-r)
	return throughput * (r + z)
}
