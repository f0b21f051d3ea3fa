package queueing

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestMVA(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		centers []Center
		n       int
		z       float64
		wantX   float64
	}{
		{"delays only: n / (D + Z)", []Center{{Demand: 0.09}, {Demand: 0.01}}, 8, 0, 80},
		{"one single server saturates at 1/D", []Center{{Demand: 0.01, Servers: 1}}, 50, 0, 100},
		// Two customers, one server D=1, think time 1: states by hand give X = 0.8.
		{"machine repairman n=2", []Center{{Demand: 1, Servers: 1}}, 2, 1, 0.8},
		{"as many servers as customers: no wait", []Center{{Demand: 0.09, Servers: 8}}, 8, 0, 8 / 0.09},
		{"multi-server saturates at m/D", []Center{{Demand: 0.09, Servers: 8}, {Demand: 0.0005}}, 200, 0, 8 / 0.09},
		{"no customers", []Center{{Demand: 1, Servers: 1}}, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x, r := MVA(tc.centers, tc.n, tc.z)
			if math.Abs(x-tc.wantX) > 1e-3*math.Max(1, tc.wantX) {
				t.Errorf("X = %.6f, want %.6f", x, tc.wantX)
			}
			if tc.n > 0 {
				// Little's law over the cycle: n = X × (Z + Σ R).
				sum := tc.z
				for _, v := range r {
					sum += v
				}
				if got := x * sum; math.Abs(got-float64(tc.n)) > 1e-6*float64(tc.n) {
					t.Errorf("X × cycle = %.6f, want n = %d", got, tc.n)
				}
			}
		})
	}
}

func sync(workers, modelWorkers int, cpu time.Duration) Network {
	return NewNetwork(Service{Style: StyleBlocking, Workers: workers, Loops: 1, CPU: cpu},
		Service{Style: StyleBlocking, Workers: modelWorkers, Loops: 1}, 2, 40*time.Millisecond, 50*time.Millisecond, 2)
}

func async(loops int, cpu time.Duration) Network {
	return NewNetwork(Service{Style: StyleEventLoop, Workers: 8, Loops: loops, CPU: cpu},
		Service{Style: StyleEventLoop, Workers: 8, Loops: 1}, 2, 40*time.Millisecond, 50*time.Millisecond, 2)
}

// TestPredictHandMeasured checks the network against measured figures, each
// within ±10 %, with the bottleneck the issue names; want is the model's own
// figure (±0.5 %), so a change to the model shows here. Without a CPU cost
// the figures were measured by hand at 782c17b (hey, 100 connections, 10 s,
// 2 cores). With one they are quick sweeps on the quiet 2-core VM since the
// cost burns the thread's CPU time (sync: --knob cpu-cost, 2026-11-30 04:57
// UTC; async: --knob loops --set cpu-cost=20, 06:03 UTC); the hand figures
// (65.5 and 98.9) came from a wall-clock spin that a descheduled worker
// finished anyway. The measured figures with a CPU cost (63.1, 49.5, 87.0)
// predate the burn's raw clock read, which cut its process CPU from 1.06 to
// 1.02 per ms burned (CPUCostFactor).
func TestPredictHandMeasured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		net        Network
		measured   float64
		want       float64
		bottleneck string
	}{
		{"sync W=4", sync(4, 8, 0), 43.6, 43.72, StationScoringPool},
		{"sync W=8 (defaults)", sync(8, 8, 0), 0, 87.43, StationScoringPool},
		{"sync W=16, model W=8", sync(16, 8, 0), 88.5, 88.9, StationModelPool},
		{"sync W=16, model W=16", sync(16, 16, 0), 174.8, 174.85, StationScoringPool},
		{"sync W=8, cpu-cost 20 ms", sync(8, 8, 20*time.Millisecond), 63.1, 66.21, StationScoringPool},
		{"sync W=32, cpu-cost 20 ms", sync(32, 32, 20*time.Millisecond), 0, 93.46, StationCPU},
		{"async L=1, cpu-cost 20 ms", async(1, 20*time.Millisecond), 49.5, 49.75, StationScoringLoop},
		{"async L=2, cpu-cost 20 ms", async(2, 20*time.Millisecond), 87.0, 93.46, StationCPU},
		{"async, no cost: only the CPU bounds it", async(1, 0), 0, 2000, StationCPU},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := tc.net.Predict()
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(c.PredictedRPS-tc.want) > 0.005*tc.want {
				t.Errorf("predicted %.2f req/s, want %.2f", c.PredictedRPS, tc.want)
			}
			if tc.measured > 0 && math.Abs(c.PredictedRPS-tc.measured) > 0.10*tc.measured {
				t.Errorf("predicted %.2f req/s is more than 10%% from the measured %.1f", c.PredictedRPS, tc.measured)
			}
			if c.Bottleneck != tc.bottleneck {
				t.Errorf("bottleneck %q, want %q (stations %+v)", c.Bottleneck, tc.bottleneck, c.Stations)
			}
			for _, s := range c.Stations {
				if c.PredictedRPS > s.CapacityRPS*(1+1e-9) {
					t.Errorf("predicted %.2f above station %s's capacity %.2f", c.PredictedRPS, s.Name, s.CapacityRPS)
				}
			}
			if !strings.HasPrefix(c.Explanation, tc.bottleneck+" is the bottleneck") {
				t.Errorf("explanation %q", c.Explanation)
			}
		})
	}
}

// TestCrossover: on 2 cores the event loop (L=1, capped at 1/c) beats the
// blocking pool (8 workers) at small CPU costs and loses past ≈ 12 ms.
func TestCrossover(t *testing.T) {
	t.Parallel()
	var cross time.Duration
	for c := time.Millisecond; c <= 30*time.Millisecond; c += 500 * time.Microsecond {
		s, _ := sync(8, 8, c).Predict()
		a, _ := async(1, c).Predict()
		if s.PredictedRPS > a.PredictedRPS {
			cross = c
			break
		}
	}
	if cross < 10*time.Millisecond || cross > 14*time.Millisecond {
		t.Errorf("crossover at %s, want between 10 and 14 ms", cross)
	}
}

func TestPredictWaits(t *testing.T) {
	t.Parallel()
	c, _ := sync(8, 8, 20*time.Millisecond).Predict()
	if c.CPUWaitMS < 1 || !strings.Contains(c.Explanation, "cores") {
		t.Errorf("want a wait for a core in %+v", c)
	}
	c, _ = sync(32, 8, 0).Predict()
	if c.ModelWaitMS < 10 {
		t.Errorf("32 workers on 8 model workers: model wait %.1f ms, want a long one", c.ModelWaitMS)
	}
}

func TestNetworkValidate(t *testing.T) {
	t.Parallel()
	bad := []Network{
		sync(0, 8, 0),
		async(0, 0),
		sync(8, 8, -time.Millisecond),
		func() Network { n := sync(8, 8, 0); n.Fanout = 0; return n }(),
		func() Network { n := sync(8, 8, 0); n.Cores = 0; return n }(),
		func() Network { n := sync(8, 8, 0); n.ModelDelayMax = time.Millisecond; return n }(),
		func() Network { n := sync(8, 8, 0); n.Model.Style = "threads"; return n }(),
	}
	for i, n := range bad {
		if _, err := n.Predict(); err == nil {
			t.Errorf("case %d: no error for %+v", i, n)
		}
	}
}
