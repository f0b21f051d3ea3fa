package wait

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Spec
		wantErr string
	}{
		{"constant(0)", Spec{Kind: Constant}, ""},
		{" constant( 1.5 ) ", Spec{Kind: Constant, A: 1.5}, ""},
		{"between(1, 2)", Spec{Kind: Between, A: 1, B: 2}, ""},
		{"constant_pacing(1)", Spec{Kind: ConstantPacing, A: 1}, ""},
		{"constant_throughput(4)", Spec{Kind: ConstantThroughput, A: 4}, ""},
		{"between(2, 1)", Spec{}, "a <= b"},
		{"between(1)", Spec{}, "takes 2"},
		{"constant(-1)", Spec{}, "non-negative"},
		{"constant(x)", Spec{}, "non-negative"},
		{"sleep(1)", Spec{}, "unknown function"},
		{"constant", Spec{}, "want constant"},
		{"constant_throughput(0)", Spec{}, "above 0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse = %+v, %v; want %+v", got, err, tt.want)
			}
			if back, err := Parse(got.String()); err != nil || back != got {
				t.Fatalf("round trip %q = %+v, %v", got.String(), back, err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"constant(0)", "between(1, 2)", "constant_pacing(1)", "constant_throughput(2)", "x("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := Parse(s)
		if err != nil {
			return
		}
		if spec.A < 0 || spec.B < 0 || (spec.Kind == Between && spec.B < spec.A) {
			t.Fatalf("Parse(%q) = %+v", s, spec)
		}
	})
}

var t0 = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

func TestScheduleConstantAndBetween(t *testing.T) {
	t.Parallel()
	c := NewSchedule(Spec{Kind: Constant, A: 0.5})
	if got := c.Next(ms(100), 0.9); !got.Equal(ms(600)) {
		t.Errorf("constant: %v", got.Sub(t0))
	}
	b := NewSchedule(Spec{Kind: Between, A: 1, B: 3})
	if got := b.Next(ms(0), 0.25); !got.Equal(ms(1500)) {
		t.Errorf("between: %v", got.Sub(t0))
	}
}

// TestSchedulePacing follows Locust's constant_pacing(1) step by step: the first
// wait is the full period, later ones keep one start per second, an overrun
// starts the next task at once and restarts the schedule from there.
func TestSchedulePacing(t *testing.T) {
	t.Parallel()
	s := NewSchedule(Spec{Kind: ConstantPacing, A: 1})
	steps := []struct {
		taskEnd, wantIntended int // ms
	}{
		{50, 1050},   // task 1 ran 0..50 ms: full period after it
		{1100, 2050}, // task 2 started 1050, took 50 ms
		{2060, 3050}, // overshoot of the sleep does not shift the schedule
		{5000, 4050}, // task 4 (3050..5000) overran: intended 4050, start at once (late by 950 ms)
		{5040, 6000}, // schedule restarted at 5000
	}
	for i, st := range steps {
		if got := s.Next(ms(st.taskEnd), 0); !got.Equal(ms(st.wantIntended)) {
			t.Fatalf("step %d: intended %v, want %dms", i, got.Sub(t0), st.wantIntended)
		}
	}
	th := NewSchedule(Spec{Kind: ConstantThroughput, A: 4})
	if got := th.Next(ms(10), 0); !got.Equal(ms(260)) {
		t.Errorf("throughput: %v", got.Sub(t0))
	}
}
