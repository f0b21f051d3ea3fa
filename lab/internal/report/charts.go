package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/breakpoint"
	"predictlab/lab/internal/jsonnum"
	"predictlab/lab/internal/results"
	"predictlab/lab/internal/scrape"
)

// Chart is one PNG: its file name, title, bytes, and a one-line caption
// saying what to look for in it.
type Chart struct {
	File    string
	Title   string
	Caption string
	PNG     []byte
}

var (
	syncColor  = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	asyncColor = color.RGBA{R: 255, G: 127, B: 14, A: 255}
)

func targetColor(name string) color.Color {
	if targetsapi.Target(name) == targetsapi.Async {
		return asyncColor
	}
	return syncColor
}

type series struct {
	name   string
	color  color.Color
	dashed bool
	xys    plotter.XYs
}

// panel makes one plot with the given series (NaN points are dropped).
func panel(title, ylabel string, ss []series) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.X.Label.Text = "seconds since the experiment started"
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.Padding = vg.Points(2)
	p.Y.Tick.Marker = CompactTicks{}
	p.X.Tick.Marker = CompactTicks{}
	p.Add(plotter.NewGrid())
	for _, s := range ss {
		xys := make(plotter.XYs, 0, len(s.xys))
		for _, v := range s.xys {
			if !math.IsNaN(v.Y) && !math.IsInf(v.Y, 0) {
				xys = append(xys, v)
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			continue
		}
		l.Color = s.color
		l.Width = vg.Points(1.5)
		if s.dashed {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	p.Y.Min = 0
	return p
}

// CompactTicks are gonum's default ticks labelled without trailing zeros (the report's
// charts and the sweep's use them).
type CompactTicks struct{}

// Ticks implements plot.Ticker.
func (CompactTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}

// stack draws panels under each other into one PNG.
func stack(ps []*plot.Plot, width, panelHeight vg.Length) ([]byte, error) {
	if len(ps) == 0 {
		return nil, fmt.Errorf("render chart: no panels")
	}
	// One time axis for every panel.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range ps {
		lo, hi = math.Min(lo, p.X.Min), math.Max(hi, p.X.Max)
	}
	for _, p := range ps {
		if lo < hi {
			p.X.Min, p.X.Max = lo, hi
		}
	}
	img := vgimg.NewWith(vgimg.UseWH(width, panelHeight*vg.Length(len(ps))), vgimg.UseDPI(110))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(ps), Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(10), PadY: vg.Points(10)}
	grid := make([][]*plot.Plot, len(ps))
	for i, p := range ps {
		grid[i] = []*plot.Plot{p}
	}
	canvases := plot.Align(grid, tiles, dc)
	for i := range ps {
		ps[i].Draw(canvases[i][0])
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render chart: %w", err)
	}
	return buf.Bytes(), nil
}

// completions gives per-second completions (Δ Total Request Count over 2 s).
func completions(h []results.HistPoint, t0 float64) plotter.XYs {
	var out plotter.XYs
	for i := 2; i < len(h); i++ {
		dt := float64(h[i].T - h[i-2].T)
		if dt <= 0 {
			continue
		}
		out = append(out, plotter.XY{X: float64(h[i].T) - t0, Y: float64(h[i].Total-h[i-2].Total) / dt})
	}
	return out
}

func histSeries(h []results.HistPoint, t0 float64, f func(results.HistPoint) float64) plotter.XYs {
	out := make(plotter.XYs, 0, len(h))
	for _, p := range h {
		out = append(out, plotter.XY{X: float64(p.T) - t0, Y: f(p)})
	}
	return out
}

func start(e *results.Experiment) float64 {
	if len(e.History) > 0 {
		return float64(e.History[0].T)
	}
	return float64(e.Started.Unix())
}

// ExperimentChart draws experiment n for every target on shared axes:
// req/s, median and p95, users over time.
func ExperimentChart(r *results.Results, n int) (*Chart, error) {
	var rps, lat, users []series
	name := ""
	cur := true
	for _, t := range sortedTargets(r.Targets) {
		e := t.Find(n)
		if e == nil || len(e.History) == 0 {
			continue
		}
		name = e.Name
		t0 := start(e)
		c := targetColor(t.Name)
		rps = append(rps, series{name: t.Name + " completed/s", color: c, xys: completions(e.History, t0)})
		lat = append(lat, series{name: t.Name + " median", color: c, xys: histSeries(e.History, t0, func(p results.HistPoint) float64 { return float64(p.P50) })},
			series{name: t.Name + " p95", color: c, dashed: true, xys: histSeries(e.History, t0, func(p results.HistPoint) float64 { return float64(p.P95) })})
		users = append(users, series{name: t.Name + " users", color: c, xys: histSeries(e.History, t0, func(p results.HistPoint) float64 { return float64(p.Users) })})
		cur = cur && e.History[len(e.History)-1].Current
	}
	if name == "" {
		return nil, nil
	}
	latTitle := "response time (current 10 s window)"
	if !cur {
		latTitle = "response time (cumulative percentiles)"
	}
	png, err := stack([]*plot.Plot{
		panel(fmt.Sprintf("experiment %d %s: requests completed per second", n, name), "req/s", rps),
		panel(latTitle, "ms", lat),
		panel("users", "users", users),
	}, 26*vg.Centimeter, 8*vg.Centimeter)
	if err != nil {
		return nil, err
	}
	return &Chart{File: name + ".png", Title: fmt.Sprintf("Experiment %d — %s", n, name), Caption: experimentCaption(n), PNG: png}, nil
}

// hasValid reports whether f gives a positive number for any point (a
// results.json written before a field existed reads it as 0).
func hasValid(pts []scrape.Point, f func(scrape.Point) jsonnum.Float) bool {
	for _, p := range pts {
		if v := f(p); v.Valid() && v > 0 {
			return true
		}
	}
	return false
}

// InternalsChart draws experiment n's server internals on the same time
// axis as the client median.
func InternalsChart(r *results.Results, n int) (*Chart, error) {
	var lat, workers, util, waits, loop []series
	name := ""
	for _, t := range sortedTargets(r.Targets) {
		e := t.Find(n)
		if e == nil {
			continue
		}
		t0 := start(e)
		c := targetColor(t.Name)
		if len(e.History) > 0 {
			name = e.Name
			lat = append(lat, series{name: t.Name + " client median", color: c, xys: histSeries(e.History, t0, func(p results.HistPoint) float64 { return float64(p.P50) })})
		}
		pts := e.Internals["scoring"]
		if len(pts) == 0 {
			continue
		}
		name = e.Name
		xy := func(f func(i int) jsonnum.Float) plotter.XYs {
			out := make(plotter.XYs, 0, len(pts))
			for i, p := range pts {
				out = append(out, plotter.XY{X: p.Time - t0, Y: float64(f(i))})
			}
			return out
		}
		if targetsapi.Style(t.Settings.Style) == targetsapi.Blocking {
			workers = append(workers,
				series{name: t.Name + " workers busy", color: c, xys: xy(func(i int) jsonnum.Float { return pts[i].WorkersBusy })},
				series{name: t.Name + " queue length", color: c, dashed: true, xys: xy(func(i int) jsonnum.Float { return pts[i].QueueLength })})
			if hasValid(pts, func(p scrape.Point) jsonnum.Float { return p.WorkersUtil }) {
				util = append(util, series{name: t.Name + " pool utilisation % (busy time)", color: c, xys: xy(func(i int) jsonnum.Float { return pts[i].WorkersUtil * 100 })})
			}
			if hasValid(pts, func(p scrape.Point) jsonnum.Float { return p.ServiceMS }) {
				waits = append(waits,
					series{name: t.Name + " service time", color: c, xys: xy(func(i int) jsonnum.Float { return pts[i].ServiceMS })},
					series{name: t.Name + " queue wait", color: c, dashed: true, xys: xy(func(i int) jsonnum.Float { return pts[i].QueueWaitMS })})
			}
		} else {
			loop = append(loop,
				series{name: t.Name + " loop busy %", color: c, xys: xy(func(i int) jsonnum.Float { return pts[i].LoopBusy * 100 })},
				series{name: t.Name + " loop lag ms", color: c, dashed: true, xys: xy(func(i int) jsonnum.Float { return pts[i].LoopLagMS })})
		}
	}
	if name == "" || (len(workers) == 0 && len(loop) == 0) {
		return nil, nil
	}
	ps := []*plot.Plot{panel(fmt.Sprintf("experiment %d %s: client median", n, name), "ms", lat)}
	if len(util) > 0 {
		ps = append(ps, panel("blocking scoring service: pool utilisation = busy time / (W × interval)", "%", util))
	}
	if len(workers) > 0 {
		ps = append(ps, panel("blocking scoring service: workers busy and queue length (gauges)", "count", workers))
	}
	if len(waits) > 0 {
		ps = append(ps, panel("blocking scoring service: queue wait beside service time, per request", "ms", waits))
	}
	if len(loop) > 0 {
		ps = append(ps, panel("event-loop scoring service: loop busy and lag", "% / ms", loop))
	}
	png, err := stack(ps, 26*vg.Centimeter, 7*vg.Centimeter)
	if err != nil {
		return nil, err
	}
	return &Chart{File: name + "_internals.png", Title: fmt.Sprintf("Experiment %d — server internals", n),
		Caption: "What to look for: client latency rising while the pool's utilisation sits at 100 % and its queue wait grows over a flat service time (blocking), or while the loop is busy and lags (event loop): the latency growth is all queueing inside the server.", PNG: png}, nil
}

// ThroughputChart draws experiment 2's completions and offered rate
// against users: the evidence for the breaking points.
func ThroughputChart(r *results.Results) (*Chart, error) {
	var ss []series
	for _, t := range sortedTargets(r.Targets) {
		a := t.Analysis
		if a == nil || a.Breakpoint == nil || len(a.Breakpoint.Steps) == 0 {
			continue
		}
		c := targetColor(t.Name)
		var done, offered plotter.XYs
		for _, s := range a.Breakpoint.Steps {
			done = append(done, plotter.XY{X: float64(s.Users), Y: s.Completed})
			offered = append(offered, plotter.XY{X: float64(s.Users), Y: s.Offered * 0.95})
		}
		ss = append(ss, series{name: t.Name + " completed/s", color: c, xys: done},
			series{name: t.Name + " 95% of offered", color: c, dashed: true, xys: offered})
	}
	if len(ss) == 0 {
		return nil, nil
	}
	p := panel("experiment 2: completions vs 95% of the offered rate", "req/s", ss)
	p.X.Label.Text = "users (when the requests were sent)"
	for _, t := range sortedTargets(r.Targets) {
		if a := t.Analysis; a != nil && a.Breakpoint != nil && a.Breakpoint.Reached && a.Breakpoint.At.Completed > 0 {
			addMarker(p, a.Breakpoint.At, targetColor(t.Name), t.Name+" breaking point")
		}
	}
	// Saturation: a vertical dotted line where latency reached half the
	// pacing interval (drawn after the axes know their range).
	for _, t := range sortedTargets(r.Targets) {
		a := t.Analysis
		if a == nil || a.Saturation == nil {
			continue
		}
		x := float64(a.Saturation.Users)
		if l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: math.Max(p.Y.Max, 1)}}); err == nil {
			l.Color = targetColor(t.Name)
			l.Width = vg.Points(1)
			l.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
			p.Add(l)
			p.Legend.Add(t.Name+" saturated (latency ≥ ½ pacing)", l)
		}
	}
	png, err := stack([]*plot.Plot{p}, 26*vg.Centimeter, 10*vg.Centimeter)
	if err != nil {
		return nil, err
	}
	return &Chart{File: "load_test_throughput.png", Title: "Experiment 2 — breaking points",
		Caption: "What to look for: where a target's completions (solid) fall below 95 % of the offered rate (dashed) for good; the dot marks its breaking point, drawn only when one was reached.", PNG: png}, nil
}

// experimentCaption says what to look for in experiment n's chart.
func experimentCaption(n int) string {
	switch n {
	case 2:
		return "What to look for: completions following the users up, then flattening while the median climbs — the target's capacity, with the extra users waiting in its queue."
	case 3:
		return "What to look for: a flat completion rate and a flat median at experiment 3's users (the breaking point when one was reached); a median that keeps rising means the load was above capacity."
	case 4:
		return "What to look for: how far the median climbs once users exceed capacity, and whether completions hold or fall off."
	}
	return ""
}

func addMarker(p *plot.Plot, s breakpoint.Step, c color.Color, label string) {
	sc, err := plotter.NewScatter(plotter.XYs{{X: float64(s.Users), Y: s.Completed}})
	if err != nil {
		return
	}
	sc.Color = c
	sc.Radius = vg.Points(5)
	p.Add(sc)
	p.Legend.Add(label, sc)
}

// Charts renders every chart the run has data for.
func Charts(r *results.Results) ([]Chart, error) {
	var out []Chart
	add := func(c *Chart, err error) error {
		if err != nil {
			return err
		}
		if c != nil {
			out = append(out, *c)
		}
		return nil
	}
	if err := add(ThroughputChart(r)); err != nil {
		return nil, err
	}
	for _, n := range []int{2, 3, 4} {
		if err := add(ExperimentChart(r, n)); err != nil {
			return nil, err
		}
		if err := add(InternalsChart(r, n)); err != nil {
			return nil, err
		}
	}
	return out, nil
}
