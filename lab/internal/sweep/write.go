package sweep

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"predictlab/lab/internal/queueing"
)

//go:embed assets/index.html.tmpl
var indexTemplate string

var page = template.Must(template.New("index").Parse(indexTemplate))

// Write writes sweep.json, sweep.png, summary.md and index.html into dir.
func Write(dir string, r *Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("write sweep.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sweep.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write sweep.json: %w", err)
	}
	var png []byte
	if len(r.Points) > 0 {
		if png, err = r.Chart(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "sweep.png"), png, 0o644); err != nil {
			return fmt.Errorf("write sweep.png: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.md"), []byte(r.Markdown(png != nil)), 0o644); err != nil {
		return fmt.Errorf("write summary.md: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "index.html"))
	if err != nil {
		return fmt.Errorf("write index.html: %w", err)
	}
	if err := page.Execute(f, r.view(png)); err != nil {
		f.Close()
		return fmt.Errorf("write index.html: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write index.html: %w", err)
	}
	return nil
}

// stationNames are the table's station columns, in the model's order.
var stationNames = []string{queueing.StationScoringPool, queueing.StationScoringLoop, queueing.StationModelPool,
	queueing.StationModelLoop, queueing.StationCPU}

// row is one point as the tables show it.
type row struct {
	Target, Value, Predicted, Bottleneck, Measured, Verdict, Users, Median, SelfCheck, Load, File, Server string
	// CPU is the processes' CPU per request, measured / model; Machine the
	// machine's busy share over the same window.
	CPU, Machine string
	Stations     []string
	Explanation  string
	Miss         bool
}

func (r *Result) rows() []row {
	var out []row
	for _, p := range r.Points {
		w := row{Target: p.Target, Value: p.Raw, Predicted: fmt.Sprintf("%.1f", p.PredictedRPS), Bottleneck: p.Bottleneck,
			Measured: p.Display(), Verdict: p.Verdict(), Users: fmt.Sprint(p.Users), Median: "–", SelfCheck: "–",
			Load: "–", File: p.File, Explanation: p.Capacity.Explanation, Server: "–",
			Miss: p.Counts() && math.Abs(p.ErrorPct()) > Tolerance}
		if !math.IsNaN(p.MedianMS) && p.MedianMS > 0 {
			w.Median = fmt.Sprintf("%.0f", p.MedianMS)
		}
		if sc := p.SelfCheck; sc != nil {
			v := "valid"
			if !sc.Valid {
				v = "invalid"
			}
			w.SelfCheck = fmt.Sprintf("%s (CPU ≤ %.0f %%)", v, sc.MaxCPUPercent)
		}
		if p.Server.PerRequestMS > 0 {
			w.Server = fmt.Sprintf("%.1f / %.1f", p.Server.PerRequestMS, p.ModelServerMS())
		}
		w.CPU, w.Machine = "not measured", "not measured"
		if p.Error == "" && p.CPU != nil {
			w.CPU = fmt.Sprintf("%.1f / %.1f", p.CPU.PerRequestMS.Total, p.ModelCPUMS())
			w.Machine = p.CPU.busyText()
		}
		if p.LoadAvg > 0 {
			w.Load = fmt.Sprintf("%.1f", p.LoadAvg)
		}
		for _, name := range stationNames {
			cell := ""
			for _, s := range p.Stations {
				if s.Name == name {
					cell = fmt.Sprintf("%.1f", s.CapacityRPS)
				}
			}
			w.Stations = append(w.Stations, cell)
		}
		out = append(out, w)
	}
	return out
}

// Method states how each point was measured and predicted, as bullets.
func (r *Result) Method() []string {
	t := r.Config.Timing
	return []string{
		fmt.Sprintf("Each point starts a fresh embedded feature store, model and scoring service (bin/targets children, as `make lab` does) with that setting, runs bin/loadgen against the scoring service for %s (profile %s), then stops them.", t.RunTime, t.Name),
		fmt.Sprintf("Offered load: max(%g × predicted, predicted + 10) req/s as users under constant_pacing(%s), at most %d users, all started within %s, so the target is driven past its predicted capacity.", Headroom, r.Pacing, t.MaxUsers, t.Ramp),
		fmt.Sprintf("Capacity = the sustained completion rate: successful requests per second (difference of the cumulative request count minus failures, the breaking-point rule's completion measure, successes only) from %s after the last user started to the end of the run.", t.Warmup),
		"Generator-bound (shown as ≥ X): the target completed at least 95 % of what was offered, or loadgen used ≥ 90 % CPU; the limit was then the load, not the target. Valid: loadgen's own self-check verdict (CPU, schedule lag).",
		fmt.Sprintf("Prediction (package queueing): every station gets a capacity — scoring pool W / E[S], model pool W_m / (E[D] × fanout), each event loop L / c, the CPU cores / CPU per request (%d cores) — and the smallest names the bottleneck. A blocking pool is also solved as a closed network by exact mean-value analysis (its W workers queue for the cores), which can only lower the prediction. Added costs (measured on the lab's 2-core machine): feature fetch %s, %s CPU per request across all processes, %s per request on a scoring loop, %s per call on a model loop, and %.2f ms of process CPU per ms of configured CPU cost.",
			r.Config.Cores, queueing.DefaultFeatureFetch, queueing.DefaultRequestCPU, queueing.DefaultLoopCPU, queueing.DefaultModelLoopCPU, queueing.CPUCostFactor),
		"The CPU cost is busy work that spins until its thread's own CPU clock has advanced by c (Linux): a worker descheduled while spinning does not count that time, so the cores are a real queue and cores / CPU per request a hard bound.",
		"CPU ms/request (Linux): each process's CPU time (utime + stime from /proc/PID/stat: the scoring and model services, the feature store, loadgen) read every 250 ms, taken between the readings nearest the measurement window's ends and divided by the requests the scoring service answered between them (its /metrics counter); beside it the model's CPU per request. Machine: the share of all cores' time that was not idle over the same window (/proc/stat; iowait counts as idle), the part of it the four processes do not account for (other processes, the lab's own included), and the hypervisor's steal when there was any.",
		"Scoring busy ms/request: the scoring service's own counters over the same window (workers' busy seconds for a pool, loops' busy seconds for an event loop, per request answered), beside what the model expects (W / predicted rate for a pool, c for a loop).",
		fmt.Sprintf("The machine is shared: the load average column shows what else ran (%d cores); points at a high load are noisier, and a CPU-bound station gets less than the whole cores the model assumes.", r.Env.CPUs),
	}
}

// Markdown renders summary.md; withChart links sweep.png.
func (r *Result) Markdown(withChart bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# predictlab sweep: %s\n\n", r.Knob)
	if r.Status != "complete" {
		fmt.Fprintf(&b, "> **This sweep %s:** %s. The points below are those measured before it stopped.\n\n", r.Status, r.Error)
	}
	fmt.Fprintf(&b, "`%s` — %s, %s; %d CPUs (%s), commit %s.\n\n", strings.Join(r.Config.Command, " "),
		r.Started.UTC().Format("2006-01-02 15:04 UTC"), r.Ended.Sub(r.Started).Round(time.Second), r.Env.CPUs, r.Env.CPUModel, r.Env.GitCommit)
	if len(r.Config.Sets) > 0 {
		var sets []string
		for _, s := range r.Config.Sets {
			sets = append(sets, s.Knob+"="+s.Raw)
		}
		fmt.Fprintf(&b, "Fixed for the whole sweep: %s.\n\n", strings.Join(sets, ", "))
	}
	b.WriteString("## Conclusion\n\n")
	for _, p := range r.Conclusion() {
		b.WriteString(p + "\n\n")
	}
	if withChart {
		fmt.Fprintf(&b, "![capacity vs %s](sweep.png)\n\n", r.Knob)
		b.WriteString("What to look for: each measured point (circle) on its target's dashed predicted line; a bend in the line is the bottleneck moving to another station (labelled at each point); a ring is a run loadgen's self-check judged invalid; a triangle is a lower bound (generator-bound).\n\n")
	}
	b.WriteString("## Points: measured vs predicted\n\n")
	fmt.Fprintf(&b, "| target | %s | predicted req/s | bottleneck | measured req/s | vs prediction | users | median ms | scoring busy ms/request, measured / model | CPU ms/request, measured / model | machine | loadgen self-check | load avg |\n", r.Knob)
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, w := range r.rows() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w.Target, w.Value, w.Predicted, w.Bottleneck,
			w.Measured, w.Verdict, w.Users, w.Median, w.Server, w.CPU, w.Machine, w.SelfCheck, w.Load)
	}
	b.WriteString("\n## Stations: each one's capacity (req/s)\n\n")
	fmt.Fprintf(&b, "| target | %s | %s |\n|---|---|%s\n", r.Knob, strings.Join(stationNames, " | "), strings.Repeat("---|", len(stationNames)))
	for _, w := range r.rows() {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", w.Target, w.Value, strings.Join(w.Stations, " | "))
	}
	b.WriteString("\n")
	for _, w := range r.rows() {
		if w.Explanation != "" {
			fmt.Fprintf(&b, "- %s %s=%s: %s.\n", w.Target, r.Knob, w.Value, w.Explanation)
		}
	}
	b.WriteString("\n## How this was measured and predicted\n\n")
	for _, m := range r.Method() {
		b.WriteString("- " + m + "\n")
	}
	b.WriteString("\n## Files\n\n`sweep.json` (knob, points), `sweep.png`, `index.html`, this file, and per point the Locust-format files ")
	b.WriteString("`FILE_stats.csv`, `FILE_stats_history.csv`, `FILE_failures.csv`, `FILE_exceptions.csv`, `FILE.html`, loadgen's `FILE.json`, and `logs/`:\n\n")
	for _, w := range r.rows() {
		fmt.Fprintf(&b, "- %s %s=%s: `%s`\n", w.Target, r.Knob, w.Value, w.File)
	}
	return b.String()
}

// segment is a piece of a paragraph, bold or not (the conclusion marks
// bold with ** as Markdown does).
type segment struct {
	Text string
	Bold bool
}

type indexView struct {
	Title      string
	Status     string
	Command    string
	Meta       string
	Conclusion [][]segment
	Chart      template.URL
	Knob       string
	Stations   []string
	Rows       []row
	Method     []string
}

func (r *Result) view(png []byte) indexView {
	v := indexView{Title: "predictlab sweep: " + r.Knob, Command: strings.Join(r.Config.Command, " "), Knob: r.Knob,
		Stations: stationNames, Rows: r.rows(), Method: r.Method(),
		Meta: fmt.Sprintf("%s, %s; %d CPUs (%s), commit %s", r.Started.UTC().Format("2006-01-02 15:04 UTC"),
			r.Ended.Sub(r.Started).Round(time.Second), r.Env.CPUs, r.Env.CPUModel, r.Env.GitCommit)}
	if r.Status != "complete" {
		v.Status = fmt.Sprintf("This sweep %s: %s. The points below are those measured before it stopped.", r.Status, r.Error)
	}
	for _, p := range r.Conclusion() {
		var segs []segment
		for i, s := range strings.Split(p, "**") {
			if s != "" {
				segs = append(segs, segment{Text: s, Bold: i%2 == 1})
			}
		}
		v.Conclusion = append(v.Conclusion, segs)
	}
	if png != nil {
		// The PNG is our own bytes, base64-encoded: a safe data URL.
		v.Chart = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	return v
}
