package progress

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func state() State {
	return State{Target: "sync", Number: 2, Name: "load_test", Index: 2, Count: 8, Elapsed: 12 * time.Second, Length: 30 * time.Second,
		LabElapsed: 62 * time.Second, LabTotal: 160 * time.Second, Users: 120, RPS: 118.46, P50: 93.2}
}

func TestLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    func(State) State
		want string
	}{
		{"running", func(s State) State { return s },
			"[2/8] sync 2 load_test  0:12/0:30 (0:18 left)  lab 1:02/2:40 (1:38 left)  users 120  118.5 req/s  p50 93 ms"},
		{"no p50 yet, overrun", func(s State) State { s.P50 = math.NaN(); s.Elapsed = 31 * time.Second; return s },
			"[2/8] sync 2 load_test  0:31/0:30 (0:00 left)  lab 1:02/2:40 (1:38 left)  users 120  118.5 req/s  p50 —"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Line(tc.s(state())); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestPrinterTTY(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := New(&b, true, time.Hour)
	t0 := time.Unix(0, 0)
	p.Update(state(), t0)
	p.Update(state(), t0)
	p.Printf("experiment done")
	out := b.String()
	if strings.Count(out, "\r") != 2 || !strings.HasSuffix(out, "\nexperiment done\n") {
		t.Errorf("got %q", out)
	}
}

func TestPrinterPlain(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := New(&b, false, 5*time.Second)
	t0 := time.Unix(0, 0)
	for i := 0; i < 11; i++ {
		p.Update(state(), t0.Add(time.Duration(i)*time.Second))
	}
	p.Done()
	if n := strings.Count(b.String(), "\n"); n != 3 || strings.Contains(b.String(), "\r") {
		t.Errorf("got %d lines (want 3, at 0, 5 and 10 s): %q", n, b.String())
	}
}
