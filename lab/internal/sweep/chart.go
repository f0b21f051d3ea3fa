package sweep

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
	"predictlab/lab/internal/report"
)

var (
	syncColor  = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	asyncColor = color.RGBA{R: 255, G: 127, B: 14, A: 255}
)

func targetColor(tn string) color.Color {
	if tn == string(targetsapi.Async) {
		return asyncColor
	}
	return syncColor
}

// grid is the knob values the predicted line is drawn through: every
// whole number for a count knob (the pool bounds have kinks there), 120
// steps for a millisecond knob.
func (r *Result) grid() []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range r.Points {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	if math.IsInf(lo, 0) {
		return nil
	}
	var xs []float64
	if r.Config.Knob.Unit == "" {
		for x := lo; x <= hi; x++ {
			xs = append(xs, x)
		}
		return xs
	}
	const steps = 120
	for i := 0; i <= steps; i++ {
		xs = append(xs, lo+(hi-lo)*float64(i)/steps)
	}
	return xs
}

// Chart draws capacity against the knob: per target the predicted line
// (dashed), the measured points (filled circles; a ring when loadgen's
// self-check judged the run invalid; a triangle when generator-bound, a
// lower bound), and each point's bottleneck.
func (r *Result) Chart() ([]byte, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Capacity vs %s: measured points on the predicted line", r.Knob)
	p.X.Label.Text = r.Config.Knob.Axis
	p.Y.Label.Text = "capacity (successful requests/s)"
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.Padding = vg.Points(2)
	p.X.Tick.Marker = report.CompactTicks{}
	p.Y.Tick.Marker = report.CompactTicks{}
	p.Add(plotter.NewGrid())
	xs := r.grid()
	top := r.chartTop()
	for _, tn := range r.targets() {
		ps := r.byTarget(tn)
		col := targetColor(tn)
		var line plotter.XYs
		for _, x := range xs {
			if y := r.predictAt(tn, x); y > 0 {
				line = append(line, plotter.XY{X: x, Y: y})
			}
		}
		if len(line) == 0 {
			for _, pt := range ps {
				line = append(line, plotter.XY{X: pt.Value, Y: pt.PredictedRPS})
			}
		}
		if l, err := plotter.NewLine(line); err == nil {
			l.Color, l.Width = col, vg.Points(1.5)
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			p.Add(l)
			p.Legend.Add(tn+" predicted", l)
		}
		var meas, invalid, bound plotter.XYs
		var labels plotter.XYLabels
		for _, pt := range ps {
			labels.XYs = append(labels.XYs, plotter.XY{X: pt.Value, Y: math.Min(pt.PredictedRPS, top)})
			labels.Labels = append(labels.Labels, " "+pt.Bottleneck)
			switch {
			case pt.Error != "":
			case pt.GeneratorBound:
				bound = append(bound, plotter.XY{X: pt.Value, Y: pt.MeasuredRPS})
			case !pt.Valid:
				invalid = append(invalid, plotter.XY{X: pt.Value, Y: pt.MeasuredRPS})
			default:
				meas = append(meas, plotter.XY{X: pt.Value, Y: pt.MeasuredRPS})
			}
		}
		if len(meas) > 0 {
			if s, err := plotter.NewScatter(meas); err == nil {
				s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
				p.Add(s)
				p.Legend.Add(tn+" measured", s)
			}
		}
		if len(invalid) > 0 {
			if s, err := plotter.NewScatter(invalid); err == nil {
				s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(4), Shape: draw.RingGlyph{}}
				p.Add(s)
				p.Legend.Add(tn+" measured, self-check invalid", s)
			}
		}
		if len(bound) > 0 {
			if s, err := plotter.NewScatter(bound); err == nil {
				s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(4.5), Shape: draw.TriangleGlyph{}}
				p.Add(s)
				p.Legend.Add(tn+" ≥ (generator-bound)", s)
			}
		}
		if l, err := plotter.NewLabels(labels); err == nil {
			for i := range l.TextStyle {
				l.TextStyle[i].Color = col
				l.TextStyle[i].Font.Size = vg.Points(8)
				l.TextStyle[i].Rotation = math.Pi / 12
			}
			p.Add(l)
		}
	}
	// A range wider than 8× (an event loop with no CPU cost beside one
	// at 20 ms) reads better on a log axis: the crossover stays visible.
	if lo := r.chartBottom(); lo > 0 && math.Min(p.Y.Max, top)/lo > 8 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.Y.Min = lo / 1.3
		p.Y.Max = math.Min(p.Y.Max, top) * 1.5
		p.Y.Label.Text += ", log scale"
	} else {
		p.Y.Min = 0
		p.Y.Max = math.Min(p.Y.Max, top) * 1.12 // room for the labels
	}
	// Room on both sides so the first and last points are not on the frame.
	pad := math.Max((p.X.Max-p.X.Min)*0.04, 0.5)
	p.X.Min, p.X.Max = p.X.Min-pad, p.X.Max+3*pad
	img := vgimg.NewWith(vgimg.UseWH(9*vg.Inch, 5.5*vg.Inch), vgimg.UseDPI(110))
	p.Draw(draw.New(img))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("draw sweep chart: %w", err)
	}
	return buf.Bytes(), nil
}

// chartTop is the highest capacity worth the y axis: predictions far above
// every measurement (an event loop with no CPU cost predicts thousands of
// req/s the generator never offers) would flatten the rest.
func (r *Result) chartTop() float64 {
	meas := 0.0
	for _, p := range r.Points {
		meas = math.Max(meas, p.MeasuredRPS)
	}
	if meas == 0 {
		return math.Inf(1)
	}
	top := meas
	for _, p := range r.Points {
		if p.PredictedRPS <= 2*meas {
			top = math.Max(top, p.PredictedRPS)
		}
	}
	return top * 1.1
}

// chartBottom is the smallest positive capacity drawn.
func (r *Result) chartBottom() float64 {
	lo := math.Inf(1)
	for _, p := range r.Points {
		for _, v := range []float64{p.MeasuredRPS, p.PredictedRPS} {
			if v > 0 {
				lo = math.Min(lo, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return 0
	}
	return lo
}

// logTicks label a log axis at 1, 2 and 5 of every decade (gonum's
// LogTicks label powers of ten only).
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for d := math.Pow(10, math.Floor(math.Log10(min))); d <= max; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := d * m; v >= min && v <= max {
				ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
			}
		}
	}
	return ts
}
