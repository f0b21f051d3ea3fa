package profile

import (
	"strings"
	"testing"
	"time"
)

func TestProfiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		wantSeconds time.Duration // per target, all experiments
		loadUsers   int
	}{
		{"full", 800 * time.Second, 300},
		{"quick", 80 * time.Second, 300},
		{"smoke", 13 * time.Second, 30},
		{"seed", 800 * time.Second, 300},
		{"cpu", 80 * time.Second, 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Lookup(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := p.Duration(nil); got != tc.wantSeconds {
				t.Errorf("duration = %v, want %v", got, tc.wantSeconds)
			}
			e, _ := p.Experiment(2)
			if e.Users != tc.loadUsers || float64(e.Users)/e.SpawnRate > e.RunTime.Seconds() {
				t.Errorf("load test %+v does not reach %d users within its run time", e, tc.loadUsers)
			}
		})
	}
}

func TestLookupUnknown(t *testing.T) {
	t.Parallel()
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), "quick") {
		t.Errorf("got %v, want an error listing the profiles", err)
	}
}

func TestSeedCosts(t *testing.T) {
	t.Parallel()
	p, _ := Lookup("seed")
	if p.Sync.Scoring.CPUCost != 5*time.Millisecond || p.Async.Scoring.CPUCost != 7500*time.Microsecond || p.Reference == nil {
		t.Errorf("seed costs not set: %+v %+v", p.Sync.Scoring, p.Async.Scoring)
	}
	if !strings.Contains(Help(), "smoke") {
		t.Error("help does not mention smoke")
	}
}

func TestCPUProfilePastCrossover(t *testing.T) {
	t.Parallel()
	p, err := Lookup("cpu")
	if err != nil {
		t.Fatal(err)
	}
	if p.Sync.Scoring.CPUCost != CPUCrossoverCost || p.Async.Scoring.CPUCost != CPUCrossoverCost || p.Async.Scoring.Loops != 1 {
		t.Errorf("cpu profile costs: sync %+v async %+v", p.Sync.Scoring, p.Async.Scoring)
	}
}
