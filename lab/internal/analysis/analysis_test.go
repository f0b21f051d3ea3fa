package analysis

import (
	"math"
	"testing"
	"time"

	"predictlab/lab/internal/breakpoint"
	"predictlab/lab/internal/profile"
	"predictlab/lab/internal/results"
)

func TestMaxPerformanceUsers(t *testing.T) {
	t.Parallel()
	p, err := profile.Lookup("quick")
	if err != nil {
		t.Fatal(err)
	}
	pe, _ := p.Experiment(3)
	ramp := func(capacity float64) []results.HistPoint {
		var h []results.HistPoint
		var total, queue, sumLat float64
		users := 0
		for s := 0; s <= 30; s++ {
			done := min(float64(users)+queue, capacity)
			queue += float64(users) - done
			lat := 90 + 1000*queue/capacity
			total += done
			sumLat += done * lat
			h = append(h, results.HistPoint{T: int64(1000 + s), Users: users, Total: int64(total), TotalAvgMS: sumLat / max(total, 1)})
			users = min(300, users+10)
		}
		return h
	}
	tests := []struct {
		name     string
		exps     []*results.Experiment
		wantLo   int
		wantHi   int
		wantFrom string
	}{
		{"no experiment 2", nil, 300, 300, "profile (experiment 2 not run)"},
		{"saturates at 80 req/s", []*results.Experiment{{Number: 2, History: ramp(80)}}, 72, 88, "breaking point"},
		{"never saturates", []*results.Experiment{{Number: 2, History: ramp(1e6)}}, 300, 300, "largest count tested (breaking point not reached)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			users, from := MaxPerformanceUsers(&results.Target{Experiments: tc.exps}, pe.Users, p.Pacing)
			if users < tc.wantLo || users > tc.wantHi || from != tc.wantFrom {
				t.Errorf("got %d (%s), want %d..%d (%s)", users, from, tc.wantLo, tc.wantHi, tc.wantFrom)
			}
		})
	}
}

func TestFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stats *results.Summary
		want  string
	}{
		{"no statistics", nil, "no statistics"},
		{"no requests", &results.Summary{}, "0 requests"},
		{"all failed", &results.Summary{Requests: 40, Failures: 40}, "40 of 40 requests failed (100%)"},
		{"most failed", &results.Summary{Requests: 100, Failures: 51}, "51 of 100 requests failed (51%)"},
		{"half failed is still a result", &results.Summary{Requests: 100, Failures: 50}, ""},
		{"healthy", &results.Summary{Requests: 100, Failures: 1}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Failure(&results.Experiment{Stats: tc.stats}); got != tc.want {
				t.Errorf("Failure = %q, want %q", got, tc.want)
			}
		})
	}
}

// A failed experiment 2 gives no breaking point, and experiment 3 falls
// back to the profile's users instead of using it.
func TestFailedExperimentTwo(t *testing.T) {
	t.Parallel()
	var h []results.HistPoint
	for s := 0; s <= 20; s++ {
		h = append(h, results.HistPoint{T: int64(1000 + s), Users: 10 * s, Total: int64(100 * s), Failures: int64(100 * s), TotalAvgMS: 1})
	}
	e2 := &results.Experiment{Number: 2, History: h, Stats: &results.Summary{Requests: 2000, Failures: 2000}}
	e2.Failed = Failure(e2)
	tg := &results.Target{Experiments: []*results.Experiment{e2}}
	if bp, _ := BreakingPoint(tg, time.Second); bp != nil {
		t.Errorf("breaking point from a failed experiment: %+v", bp)
	}
	if users, from := MaxPerformanceUsers(tg, 300, time.Second); users != 300 || from != "profile (experiment 2 failed)" {
		t.Errorf("experiment 3 users = %d (%s)", users, from)
	}
}

func TestCheckExp3(t *testing.T) {
	t.Parallel()
	p, _ := profile.Lookup("quick")
	// hist: users all started at once, rate req/s in the first half and
	// rate2 in the second, mean latency lat then lat2 (cumulative average).
	hist := func(users int, rate, rate2, lat, lat2 float64) []results.HistPoint {
		var h []results.HistPoint
		var total, sum float64
		for s := 0; s <= 20; s++ {
			r, l := rate, lat
			if s > 10 {
				r, l = rate2, lat2
			}
			if s > 0 {
				total += r
				sum += r * l
			}
			h = append(h, results.HistPoint{T: int64(1000 + s), Users: users, Total: int64(total), TotalAvgMS: sum / max(total, 1)})
		}
		return h
	}
	tests := []struct {
		name       string
		target     profile.Target
		users      int
		h          []results.HistPoint
		pred       results.Analysis
		wantStable bool
		wantAbove  bool
		wantWaitMS float64
	}{
		{"steady sync below the prediction", p.Sync, 80, hist(80, 80, 80, 500, 520), results.Analysis{}, true, false,
			// 8 workers × 90.5 ms (model E[S]): k-th waits ⌊k/8⌋ × 90.5; mean over 80 = 4.5 × 90.5.
			4.5 * 90.5},
		{"sync whose second half slows", p.Sync, 80, hist(80, 80, 60, 500, 900), results.Analysis{}, false, false, 4.5 * 90.5},
		{"async with no CPU cost: no burst wait", p.Async, 120, hist(120, 120, 121, 48, 48), results.Analysis{}, true, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := &results.Target{Name: tc.target.Name, Settings: tc.target,
				Experiments: []*results.Experiment{{Number: 3, Users: tc.users, History: tc.h}}}
			a := tc.pred
			a.Prediction.Bound, a.Prediction.Users = true, 100
			c := checkExp3(tg, PartsOf(&results.Results{}, tg), &a)
			if c == nil {
				t.Fatal("no check")
			}
			if c.Stable != tc.wantStable || c.AbovePrediction != tc.wantAbove || math.Abs(c.BurstWaitMS-tc.wantWaitMS) > 0.01 {
				t.Errorf("got %+v; want stable %v, above %v, burst wait %.2f ms", c, tc.wantStable, tc.wantAbove, tc.wantWaitMS)
			}
		})
	}
	// Users above the predicted users are flagged.
	tg := &results.Target{Name: "sync", Settings: p.Sync, Experiments: []*results.Experiment{{Number: 3, Users: 120, History: hist(120, 88, 88, 900, 900)}}}
	a := results.Analysis{}
	a.Prediction.Bound, a.Prediction.Users = true, 88
	if c := checkExp3(tg, PartsOf(&results.Results{}, tg), &a); c == nil || !c.AbovePrediction || c.PredictedUsers != 88 {
		t.Errorf("120 users against 88 predicted not flagged: %+v", c)
	}
}

func TestSaturation(t *testing.T) {
	t.Parallel()
	steps := []breakpoint.Step{{Users: 100, LatencyMS: 60}, {Users: 200, LatencyMS: 320}, {Users: 250, LatencyMS: 554}, {Users: 300, LatencyMS: 900}}
	tests := []struct {
		name      string
		bp        *breakpoint.Result
		wantUsers int
	}{
		{"latency reaches half the pacing at 250 users", &breakpoint.Result{Steps: steps}, 250},
		{"never near the pacing", &breakpoint.Result{Steps: steps[:2]}, 0},
		{"no experiment 2", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := saturation(tc.bp, time.Second)
			switch {
			case tc.wantUsers == 0 && s != nil:
				t.Errorf("got %+v, want none", s)
			case tc.wantUsers > 0 && (s == nil || s.Users != tc.wantUsers || s.LimitMS != 500 || s.Rule == ""):
				t.Errorf("got %+v, want saturation at %d users, limit 500 ms", s, tc.wantUsers)
			}
		})
	}
}
