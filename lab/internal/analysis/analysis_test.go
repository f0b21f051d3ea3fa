package analysis

import (
	"testing"

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
