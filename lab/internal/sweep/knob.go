// Package sweep runs `lab sweep`: one knob of the services over several
// values, for one or both targets. At each value it predicts the target's
// capacity from a network of queues (package queueing), starts the
// services with that setting, measures the capacity as the sustained rate
// of successful completions under a load offered above the prediction,
// stops them, and finally writes sweep.json, summary.md, index.html and
// sweep.png beside every point's Locust-format files.
package sweep

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/profile"
)

// Knob is a setting of the services a sweep can vary.
type Knob struct {
	Name string
	// Unit is the unit of a value on the chart's axis ("" for counts).
	Unit string
	// Axis labels the chart's x axis.
	Axis string
	// Targets are the targets the knob changes anything for, the default
	// of --targets.
	Targets []string
	// parse reads one value: its number on the axis and how it changes a
	// target's settings.
	parse func(s string) (float64, func(*profile.Target), error)
}

// Knobs lists every knob, in the order of the help text.
func Knobs() []Knob {
	count := func(min int, set func(*profile.Target, int)) func(string) (float64, func(*profile.Target), error) {
		return func(s string) (float64, func(*profile.Target), error) {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < min {
				return 0, nil, fmt.Errorf("want a whole number ≥ %d", min)
			}
			return float64(n), func(t *profile.Target) { set(t, n) }, nil
		}
	}
	both := []string{string(targetsapi.Sync), string(targetsapi.Async)}
	return []Knob{
		{Name: "workers", Axis: "scoring workers W", Targets: []string{string(targetsapi.Sync)},
			parse: count(1, func(t *profile.Target, n int) { t.Scoring.Workers = n })},
		{Name: "model-workers", Axis: "model workers W_m", Targets: []string{string(targetsapi.Sync)},
			parse: count(1, func(t *profile.Target, n int) { t.Model.Workers = n })},
		{Name: "loops", Axis: "scoring event loops L", Targets: []string{string(targetsapi.Async)},
			parse: count(1, func(t *profile.Target, n int) { t.Scoring.Loops = n })},
		{Name: "cpu-cost", Unit: "ms", Axis: "scoring CPU cost per request c (ms)", Targets: both,
			parse: func(s string) (float64, func(*profile.Target), error) {
				d, err := millis(s)
				if err != nil {
					return 0, nil, err
				}
				return msOf(d), func(t *profile.Target) { t.Scoring.CPUCost = d }, nil
			}},
		{Name: "model-delay", Unit: "ms", Axis: "mean model delay E[D] (ms)", Targets: both,
			parse: func(s string) (float64, func(*profile.Target), error) {
				lo, hi, ok := strings.Cut(s, "-")
				if !ok {
					hi = lo
				}
				a, err := millis(lo)
				if err != nil {
					return 0, nil, err
				}
				b, err := millis(hi)
				if err != nil {
					return 0, nil, err
				}
				if b < a {
					return 0, nil, fmt.Errorf("want MIN-MAX with MIN ≤ MAX")
				}
				return msOf(a+b) / 2, func(t *profile.Target) { t.Model.ModelDelayMin, t.Model.ModelDelayMax = a, b }, nil
			}},
		{Name: "fanout", Axis: "model calls per request (fanout)", Targets: both,
			parse: count(1, func(t *profile.Target, n int) { t.Scoring.Fanout = n })},
	}
}

// LookupKnob returns the knob called name.
func LookupKnob(name string) (Knob, error) {
	var names []string
	for _, k := range Knobs() {
		if k.Name == name {
			return k, nil
		}
		names = append(names, k.Name)
	}
	return Knob{}, fmt.Errorf("look up knob %q: unknown (choose one of %s)", name, strings.Join(names, ", "))
}

// KnobHelp is one line per knob for --help.
func KnobHelp() string {
	help := map[string]string{
		"workers":       "blocking scoring pool size W (sync)",
		"model-workers": "blocking model pool size W_m (sync)",
		"loops":         "event loops L of the scoring service (async)",
		"cpu-cost":      "scoring CPU per request: milliseconds (20) or a duration (2.5ms)",
		"model-delay":   "model delay: MIN-MAX uniform (40-50, in ms, or 40ms-50ms) or one fixed delay (45)",
		"fanout":        "model calls per scoring request",
	}
	var b strings.Builder
	for _, k := range Knobs() {
		fmt.Fprintf(&b, "  %-14s %s; default targets %s\n", k.Name, help[k.Name], strings.Join(k.Targets, ","))
	}
	return b.String()
}

// Setting is one parsed value of a knob.
type Setting struct {
	Knob  string
	Raw   string  // as written
	Value float64 // on the chart's axis
	apply func(*profile.Target)
}

// Apply changes t's settings to s.
func (s Setting) Apply(t *profile.Target) { s.apply(t) }

// Parse reads one value of k.
func (k Knob) Parse(raw string) (Setting, error) {
	raw = strings.TrimSpace(raw)
	v, apply, err := k.parse(raw)
	if err != nil {
		return Setting{}, fmt.Errorf("parse %s value %q: %w", k.Name, raw, err)
	}
	return Setting{Knob: k.Name, Raw: raw, Value: v, apply: apply}, nil
}

// ParseValues reads --values: comma-separated, at least one, no repeats.
func (k Knob) ParseValues(list string) ([]Setting, error) {
	var out []Setting
	var seen []float64
	for _, f := range strings.Split(list, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		s, err := k.Parse(f)
		if err != nil {
			return nil, err
		}
		if slices.Contains(seen, s.Value) {
			return nil, fmt.Errorf("parse --values: %s %q given twice", k.Name, s.Raw)
		}
		seen = append(seen, s.Value)
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("parse --values: no values for %s", k.Name)
	}
	return out, nil
}

// ParseSet reads one --set KNOB=VALUE.
func ParseSet(kv string) (Setting, error) {
	name, val, ok := strings.Cut(kv, "=")
	if !ok {
		return Setting{}, fmt.Errorf("parse --set %q: want KNOB=VALUE", kv)
	}
	k, err := LookupKnob(strings.TrimSpace(name))
	if err != nil {
		return Setting{}, fmt.Errorf("parse --set %q: %w", kv, err)
	}
	return k.Parse(val)
}

// millis reads a duration, a bare number being milliseconds.
func millis(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || math.IsNaN(f) || f > 1e6 {
			return 0, fmt.Errorf("want 0 ≤ milliseconds ≤ 1000000")
		}
		return time.Duration(f * float64(time.Millisecond)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want milliseconds (20) or a duration (20ms)")
	}
	return d, nil
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
