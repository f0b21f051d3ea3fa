// Package wait implements Locust's wait_time functions (constant, between,
// constant_pacing, constant_throughput) as pure arithmetic on times, so the
// runner's schedule can be tested without clocks.
//
// A Schedule is per user and not safe for concurrent use. Besides the time a
// user should start its next task, it keeps the *intended* start: for pacing
// waits the time the fixed-period schedule wanted the request sent, even when
// the previous task overran and the request can only go out late.
package wait

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind names a wait_time function.
type Kind int

// The wait_time functions of Locust 2.12 (user/wait_time.py).
const (
	Constant Kind = iota
	Between
	ConstantPacing
	ConstantThroughput
)

var kindNames = [...]string{"constant", "between", "constant_pacing", "constant_throughput"}

// String returns the Locust function name.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Spec is a wait_time function with its arguments in seconds (B only for Between;
// for ConstantThroughput A is tasks per second).
type Spec struct {
	Kind Kind    `json:"kind"`
	A    float64 `json:"a"`
	B    float64 `json:"b,omitempty"`
}

// String renders s in the scenario-file syntax, e.g. "between(1, 2)".
func (s Spec) String() string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	if s.Kind == Between {
		return fmt.Sprintf("between(%s, %s)", f(s.A), f(s.B))
	}
	return fmt.Sprintf("%s(%s)", s.Kind, f(s.A))
}

// Period is the start-to-start interval a pacing wait aims for, and 0 for the
// other kinds.
func (s Spec) Period() time.Duration {
	switch s.Kind {
	case ConstantPacing:
		return seconds(s.A)
	case ConstantThroughput:
		return seconds(1 / s.A)
	}
	return 0
}

// Parse reads "constant(s)", "between(a, b)", "constant_pacing(s)" or
// "constant_throughput(n)".
func Parse(text string) (Spec, error) {
	t := strings.TrimSpace(text)
	open := strings.IndexByte(t, '(')
	if open < 0 || !strings.HasSuffix(t, ")") {
		return Spec{}, fmt.Errorf("parse wait_time %q: want constant(s), between(a, b), constant_pacing(s) or constant_throughput(n)", text)
	}
	name := strings.TrimSpace(t[:open])
	var args []float64
	if inner := strings.TrimSpace(t[open+1 : len(t)-1]); inner != "" {
		for _, a := range strings.Split(inner, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(a), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1e9 {
				return Spec{}, fmt.Errorf("parse wait_time %q: argument %q is not a non-negative number of seconds", text, strings.TrimSpace(a))
			}
			args = append(args, v)
		}
	}
	var s Spec
	want := 1
	switch name {
	case "constant":
		s.Kind = Constant
	case "between":
		s.Kind, want = Between, 2
	case "constant_pacing":
		s.Kind = ConstantPacing
	case "constant_throughput":
		s.Kind = ConstantThroughput
	default:
		return Spec{}, fmt.Errorf("parse wait_time %q: unknown function %q (want constant, between, constant_pacing or constant_throughput)", text, name)
	}
	if len(args) != want {
		return Spec{}, fmt.Errorf("parse wait_time %q: %s takes %d argument(s), got %d", text, name, want, len(args))
	}
	s.A = args[0]
	if want == 2 {
		s.B = args[1]
		if s.B < s.A {
			return Spec{}, fmt.Errorf("parse wait_time %q: between(a, b) needs a <= b", text)
		}
	}
	if s.Kind == ConstantThroughput && s.A == 0 {
		return Spec{}, fmt.Errorf("parse wait_time %q: constant_throughput needs a rate above 0", text)
	}
	return s, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Schedule is one user's wait_time state. The zero value is not usable; use
// NewSchedule. Not safe for concurrent use.
type Schedule struct {
	spec    Spec
	period  time.Duration
	started bool
	target  time.Time // pacing: the last wake-up target (Locust's last_run + last_wait)
}

// NewSchedule returns the state of one user waiting with spec.
func NewSchedule(spec Spec) *Schedule {
	return &Schedule{spec: spec, period: spec.Period()}
}

// Next is called when a task has finished at now, with rnd a uniform random
// number in [0, 1) (used by Between only). It returns the intended start of the
// next task. The user sleeps until then; a time at or before now means "start
// at once, already late by now−intended".
//
// Pacing follows Locust: the first wait is the full period; later targets are
// the previous target plus the period, so task starts are one period apart. When
// a task overruns, the next one starts at once and the schedule restarts from
// now (Locust resets last_run), but the returned intended time stays on the old
// schedule so the lateness shows up in the intended-latency statistics.
func (s *Schedule) Next(now time.Time, rnd float64) time.Time {
	switch s.spec.Kind {
	case Constant:
		return now.Add(seconds(s.spec.A))
	case Between:
		return now.Add(seconds(s.spec.A + rnd*(s.spec.B-s.spec.A)))
	}
	if !s.started {
		s.started = true
		s.target = now.Add(s.period)
		return s.target
	}
	t := s.target.Add(s.period)
	if t.Before(now) {
		s.target = now
	} else {
		s.target = t
	}
	return t
}
