package sweep

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/queueing"
)

// Tolerance is the accuracy goal: a valid point within ±10 % of its prediction.
const Tolerance = 10.0

// byTarget returns the points of target tn, in sweep order.
func (r *Result) byTarget(tn string) []Point {
	var out []Point
	for _, p := range r.Points {
		if p.Target == tn {
			out = append(out, p)
		}
	}
	return out
}

// targets lists the targets present, in sweep order.
func (r *Result) targets() []string {
	var out []string
	for _, p := range r.Points {
		if len(out) == 0 || out[len(out)-1] != p.Target {
			out = append(out, p.Target)
		}
	}
	return out
}

// Display is how the report writes a point's measurement.
func (p Point) Display() string {
	switch {
	case p.Error != "":
		return "not measured"
	case p.GeneratorBound:
		return fmt.Sprintf("≥ %.1f (generator-bound)", p.MeasuredRPS)
	}
	return fmt.Sprintf("%.1f", p.MeasuredRPS)
}

// Verdict is the accuracy of one point in words.
func (p Point) Verdict() string {
	switch {
	case p.Error != "":
		return "no measurement: " + p.Error
	case p.GeneratorBound:
		return "the target kept up with all the load offered: a lower bound, not a capacity"
	case !p.Valid:
		return fmt.Sprintf("%+.1f %%, but loadgen's self-check judged the run invalid", p.ErrorPct())
	case math.Abs(p.ErrorPct()) <= Tolerance:
		return fmt.Sprintf("%+.1f %%: within ±%g %%", p.ErrorPct(), Tolerance)
	}
	dir := "more"
	if p.ErrorPct() < 0 {
		dir = "less"
	}
	note := p.serverNote()
	if p.Bottleneck == queueing.StationCPU {
		note = p.cpuNote()
	}
	return fmt.Sprintf("%+.1f %%: the model got the %s wrong: it does %s than %s says%s", p.ErrorPct(), p.Bottleneck, dir, p.formula(), note)
}

// ModelCPUMS is the CPU per request the model assumes across the processes
// (the CPU station's demand), in milliseconds.
func (p Point) ModelCPUMS() float64 {
	return msOf(Network(p.Settings, max(p.Capacity.Cores, 1)).CPUPerRequest())
}

// cpuNote compares the CPU the point's processes used per request, from
// /proc, with the model's, and says how busy the machine was and how much
// of it went to other processes: the CPU station's evidence.
func (p Point) cpuNote() string {
	c := p.CPU
	if c == nil {
		return " (CPU per request not measured)"
	}
	pr := c.PerRequestMS
	s := fmt.Sprintf(": measured %.1f ms of CPU per request across the processes (scoring %.1f, model %.1f, store %.2f, loadgen %.2f), the model %.1f ms; the machine was %s",
		pr.Total, pr.Scoring, pr.Model, pr.Store, pr.Loadgen, p.ModelCPUMS(), c.busyText())
	if cores := p.Capacity.Cores; cores > 0 && pr.Total > 0 {
		left := float64(cores) * (1 - c.OthersBusy)
		allows := left / pr.Total * 1000
		s += fmt.Sprintf("; what the others left of the %d cores allows %.2f / %.1f ms = %.1f req/s", cores, left, pr.Total, allows)
		// Which of the two took the difference, when the measured CPU
		// accounts for the measured rate.
		over := pr.Total/p.ModelCPUMS() - 1
		if math.Abs(allows-p.MeasuredRPS) <= Tolerance/100*p.MeasuredRPS {
			switch {
			case over > Tolerance/100:
				s += fmt.Sprintf(": the processes cost %.0f %% more CPU per request than the model says", over*100)
			case math.Abs(over) <= Tolerance/100 && c.OthersBusy >= 0.05:
				s += ": the processes cost what the model says, and other processes took the difference"
			}
		}
	}
	return s
}

// busyText is the machine's busy share in words, in shares of all its
// cores: "98 % busy, other processes 7 %" (steal named when there was any).
func (c *CPU) busyText() string {
	s := fmt.Sprintf("%.0f %% busy, other processes %.0f %%", c.MachineBusy*100, c.OthersBusy*100)
	if c.Steal >= 0.005 {
		s += fmt.Sprintf(", hypervisor steal %.0f %%", c.Steal*100)
	}
	return s
}

// ModelServerMS is the busy time per request the model expects of the
// scoring station: W / X for a pool (E[S] with the waits the MVA adds),
// c for an event loop.
func (p Point) ModelServerMS() float64 {
	if p.Settings.Style == queueing.StyleEventLoop {
		return msOf(p.Settings.Scoring.CPUCost + queueing.DefaultLoopCPU)
	}
	if p.PredictedRPS <= 0 {
		return 0
	}
	return float64(p.Settings.Scoring.Workers) / p.PredictedRPS * 1000
}

// serverNote compares the scoring station's busy time per request, from
// /metrics, with the model's.
func (p Point) serverNote() string {
	if p.Server.PerRequestMS <= 0 {
		return ""
	}
	load := ""
	switch cores := p.Capacity.Cores; {
	case p.CPU != nil:
		// Measured over the window itself: better than a load average.
		if p.CPU.OthersBusy >= 0.05 {
			load = fmt.Sprintf("; the machine was %s, so the services got less CPU than the model's whole cores", p.CPU.busyText())
		}
	case cores > 0 && p.LoadAvg > float64(cores):
		load = fmt.Sprintf("; the machine's load average was %.1f on %d cores, so the services got less CPU than the model's whole cores", p.LoadAvg, cores)
	}
	return fmt.Sprintf(" (/metrics: the %s was busy %.1f ms per request, the model expects %.1f ms%s)", p.Server.Station, p.Server.PerRequestMS, p.ModelServerMS(), load)
}

func (p Point) formula() string {
	for _, s := range p.Stations {
		if s.Name == p.Bottleneck {
			return s.Formula
		}
	}
	return "the model"
}

// Accuracy counts the points held against their prediction and those
// within Tolerance, and lists the others.
func (r *Result) Accuracy() (counted, within int, misses []Point) {
	for _, p := range r.Points {
		if !p.Counts() {
			continue
		}
		counted++
		if math.Abs(p.ErrorPct()) <= Tolerance {
			within++
		} else {
			misses = append(misses, p)
		}
	}
	return counted, within, misses
}

// value formats a knob value with its unit.
func (r *Result) value(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if r.Config.Knob.Unit != "" {
		s += " " + r.Config.Knob.Unit
	}
	return s
}

// Conclusion is the sweep's lesson in words, one paragraph per finding.
func (r *Result) Conclusion() []string {
	var out []string
	k := r.Knob
	for _, tn := range r.targets() {
		ps := r.byTarget(tn)
		if len(ps) == 0 {
			continue
		}
		var b strings.Builder
		first, last := ps[0], ps[len(ps)-1]
		fmt.Fprintf(&b, "**%s** (%s): from %s=%s to %s=%s the model predicts %.1f → %.1f req/s and the lab measured %s → %s.",
			tn, first.Settings.Style, k, first.Raw, k, last.Raw, first.PredictedRPS, last.PredictedRPS, first.Display(), last.Display())
		// Where the bottleneck moves.
		for i := 1; i < len(ps); i++ {
			if ps[i].Bottleneck != ps[i-1].Bottleneck {
				fmt.Fprintf(&b, " Between %s=%s and %s=%s the bottleneck moves from the %s to the %s",
					k, ps[i-1].Raw, k, ps[i].Raw, ps[i-1].Bottleneck, ps[i].Bottleneck)
				if ps[i].Counts() && ps[i-1].Counts() {
					fmt.Fprintf(&b, " (measured %.1f → %.1f req/s)", ps[i-1].MeasuredRPS, ps[i].MeasuredRPS)
				}
				b.WriteString(".")
				if ps[i].Bottleneck == queueing.StationModelPool && k == "workers" {
					fmt.Fprintf(&b, " Past that point more scoring workers do not help: the model pool (%s) is the limit; raise it too (--set model-workers=N).",
						formulaOf(ps[i], queueing.StationModelPool))
				}
			}
		}
		if first.Bottleneck == last.Bottleneck && len(ps) > 1 {
			fmt.Fprintf(&b, " The %s is the bottleneck throughout.", first.Bottleneck)
		}
		if last.Capacity.Explanation != "" {
			fmt.Fprintf(&b, " At %s=%s the %s.", k, last.Raw, last.Capacity.Explanation)
		}
		out = append(out, b.String())
	}
	if c := r.crossover(); c != "" {
		out = append(out, c)
	}
	counted, within, misses := r.Accuracy()
	var b strings.Builder
	switch {
	case counted == 0:
		b.WriteString("**Accuracy:** no point could be held against its prediction (every one was generator-bound, invalid or not measured).")
	case len(misses) == 0:
		fmt.Fprintf(&b, "**Accuracy:** all %d valid, target-bound points are within ±%g %% of the prediction.", counted, Tolerance)
	default:
		fmt.Fprintf(&b, "**Accuracy:** %d of %d valid, target-bound points are within ±%g %% of the prediction. Outside it:", within, counted, Tolerance)
		for _, p := range misses {
			fmt.Fprintf(&b, " %s %s=%s, %s;", p.Target, k, p.Raw, p.Verdict())
		}
		s := strings.TrimSuffix(b.String(), ";") + "."
		b.Reset()
		b.WriteString(s)
	}
	if n := r.generatorBound(); n > 0 {
		fmt.Fprintf(&b, " %d point(s) were generator-bound: the target completed everything the %d-user cap offered, so they show only a lower bound (≥).", n, r.Config.Timing.MaxUsers)
	}
	out = append(out, b.String())
	return out
}

func (r *Result) generatorBound() int {
	n := 0
	for _, p := range r.Points {
		if p.GeneratorBound && p.Error == "" {
			n++
		}
	}
	return n
}

func formulaOf(p Point, station string) string {
	for _, s := range p.Stations {
		if s.Name == station {
			return fmt.Sprintf("%s = %.1f req/s", s.Formula, s.CapacityRPS)
		}
	}
	return station
}

// crossover describes where the blocking and the event-loop targets swap
// places, measured and predicted, and what fixes the event loop's side.
func (r *Result) crossover() string {
	s, a := r.byTarget(string(targetsapi.Sync)), r.byTarget(string(targetsapi.Async))
	if len(s) == 0 || len(s) != len(a) {
		return ""
	}
	// measured: the first value where the order flips.
	var b strings.Builder
	flip := ""
	measured := func(p Point) bool { return p.Error == "" && p.MeasuredRPS > 0 }
	for i := 1; i < len(s); i++ {
		if !measured(s[i]) || !measured(a[i]) || !measured(s[i-1]) || !measured(a[i-1]) {
			continue
		}
		before := s[i-1].MeasuredRPS > a[i-1].MeasuredRPS
		after := s[i].MeasuredRPS > a[i].MeasuredRPS
		if before != after {
			winner := "the blocking pool (sync)"
			if !after {
				winner = "the event loop (async)"
			}
			flip = fmt.Sprintf("between %s=%s and %s=%s %s takes the lead (measured sync %s vs async %s req/s at %s)",
				r.Knob, s[i-1].Raw, r.Knob, s[i].Raw, winner, s[i].Display(), a[i].Display(), r.value(s[i].Value))
			for _, p := range []Point{s[i-1], a[i-1], s[i], a[i]} {
				if !p.Valid {
					flip += "; loadgen's self-check judged some of these four runs invalid"
					break
				}
			}
			break
		}
	}
	pred := ""
	if r.Knob == "cpu-cost" {
		if x, ok := r.predictedCrossover(); ok {
			pred = fmt.Sprintf("the model puts the crossover at c ≈ %.1f ms", x)
		}
	}
	if flip == "" && pred == "" {
		return ""
	}
	b.WriteString("**Crossover:** ")
	switch {
	case flip != "" && pred != "":
		fmt.Fprintf(&b, "%s; %s.", upperFirst(flip), pred)
	case flip != "":
		b.WriteString(upperFirst(flip) + ".")
	default:
		fmt.Fprintf(&b, "not seen in the measured values; %s.", pred)
	}
	if r.Knob == "cpu-cost" {
		loops := a[0].Settings.Scoring.Loops
		fmt.Fprintf(&b, " An event loop runs one request's CPU at a time, so with L = %d it is capped at L / c whatever the cores, while the blocking pool's %d workers use all %d cores (min(W / E[S], cores / c), with the workers queueing for the cores). The fix is one loop per core: --set loops=%d (targets --loops %d), which lifts the event loop's cap to %d / c until the cores themselves are the limit.",
			loops, s[0].Settings.Scoring.Workers, r.Config.Cores, r.Config.Cores, r.Config.Cores, r.Config.Cores)
	}
	return b.String()
}

// predictedCrossover scans the CPU cost where the model's sync capacity
// first exceeds its async capacity (other settings as the sweep's).
func (r *Result) predictedCrossover() (float64, bool) {
	s, a := r.byTarget(string(targetsapi.Sync)), r.byTarget(string(targetsapi.Async))
	if len(s) == 0 || len(a) == 0 {
		return 0, false
	}
	lo, hi := s[0].Value, s[len(s)-1].Value
	for _, p := range s {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	for x := lo; x <= hi; x += 0.1 {
		ps, pa := r.predictAt(string(targetsapi.Sync), x), r.predictAt(string(targetsapi.Async), x)
		if ps > 0 && pa > 0 && ps > pa {
			return x, true
		}
	}
	return 0, false
}

// predictAt is the model's capacity for target tn at knob value x
// (0 when the value cannot be built).
func (r *Result) predictAt(tn string, x float64) float64 {
	ps := r.byTarget(tn)
	if len(ps) == 0 {
		return 0
	}
	v, err := r.Config.Knob.Parse(strconv.FormatFloat(x, 'f', -1, 64))
	if err != nil {
		return 0
	}
	t := ps[0].Settings
	v.Apply(&t)
	c, err := Network(t, r.Config.Cores).Predict()
	if err != nil {
		return 0
	}
	return c.PredictedRPS
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
