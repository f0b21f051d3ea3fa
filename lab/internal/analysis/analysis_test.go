package analysis

import (
	"testing"
	"time"

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
