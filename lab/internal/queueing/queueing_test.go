package queueing

import (
	"math"
	"testing"
	"time"
)

func TestBlocking(t *testing.T) {
	tests := []struct {
		name      string
		workers   int
		serviceMS float64
		wantBound bool
		wantCap   float64
	}{
		{"go service ≈ 91 ms", 8, 90.5, true, 88.397790},
		{"python original ≈ 100 ms", 8, 100, true, 80},
		{"unknown service time", 8, 0, false, 0},
		{"NaN service time", 8, math.NaN(), false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Blocking(tc.workers, tc.serviceMS, time.Second)
			if p.Bound != tc.wantBound || math.Abs(p.Capacity-tc.wantCap) > 1e-3 || math.Abs(p.Users-tc.wantCap) > 1e-3 {
				t.Errorf("got %+v, want bound=%v capacity %.3f", p, tc.wantBound, tc.wantCap)
			}
		})
	}
}

func TestServiceModelMS(t *testing.T) {
	got := ServiceModelMS(0.5, 2, ModelDelayMeanMS, 2*time.Millisecond, 5*time.Millisecond)
	if want := 0.5 + 2*(45+2) + 5.0; math.Abs(got-want) > 1e-9 {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestEventLoop(t *testing.T) {
	tests := []struct {
		name      string
		cpu       time.Duration
		modelCPU  time.Duration
		wantBound bool
		wantCap   float64
	}{
		{"no CPU cost", 0, 0, false, 0},
		{"scoring loop bound", 7500 * time.Microsecond, 2500 * time.Microsecond, true, 133.333333},
		{"model loop bound", time.Millisecond, 5 * time.Millisecond, true, 100},
		{"model only", 0, 4 * time.Millisecond, true, 125},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := EventLoop(1, tc.cpu, 1, 2, tc.modelCPU, time.Second)
			if p.Bound != tc.wantBound || math.Abs(p.Capacity-tc.wantCap) > 1e-3 {
				t.Errorf("got %+v, want bound=%v capacity %.3f", p, tc.wantBound, tc.wantCap)
			}
			if !tc.wantBound && p.Formula == "" {
				t.Error("empty formula")
			}
		})
	}
}

func TestMeasuredLoopCPU(t *testing.T) {
	if d, ok := MeasuredLoopCPU(0.75, 100); !ok || d != 7500*time.Microsecond {
		t.Errorf("got %v %v, want 7.5ms true", d, ok)
	}
	if _, ok := MeasuredLoopCPU(1, 0); ok {
		t.Error("zero requests accepted")
	}
}
