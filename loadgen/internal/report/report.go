// Package report renders loadgen's HTML report: one self-contained file (CSS,
// chart code and data inlined, nothing fetched from the network) with the
// sections of Locust 2.12's report (run info, request statistics, response
// time percentiles, failures, exceptions, charts) plus what Locust lacks: the
// response time measured from the intended send time beside the measured one,
// and the generator's self-check verdict.
//
// Build a Data (by hand, or with FromSnapshot), then call Write. Data is a
// plain value; Write does not keep it and is safe to call concurrently.
package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"predictlab/loadgen/internal/ratio"
)

//go:embed assets/charts.js
var chartsJS string

//go:embed assets/base.css
var baseCSS string

//go:embed assets/report.js
var reportJS string

//go:embed assets/report.html.tmpl
var reportTmpl string

// ChartScript returns the dependency-free SVG chart code (global PLChart) that
// the report inlines; the web UI serves the same code.
func ChartScript() string { return chartsJS }

// BaseCSS returns the stylesheet shared by the report and the web UI.
func BaseCSS() string { return baseCSS }

// PercentileLabels returns the response-time percentiles of the report's
// "Response Time Statistics" table, as Locust's report shows them (not the
// CSV set).
func PercentileLabels() [8]string {
	return [8]string{"50%ile", "60%ile", "70%ile", "80%ile", "90%ile", "95%ile", "99%ile", "100%ile"}
}

// PercentileFractions returns the fractions matching PercentileLabels; Row.Percentiles
// holds the response times at these fractions.
func PercentileFractions() [8]float64 {
	return [8]float64{0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0}
}

// Data is everything one report shows. Times are wall-clock; the report prints
// them in UTC and converts them to the reader's local time in the browser.
type Data struct {
	Script       string        // the scenario file's base name, or "built-in"
	Host         string        // target host ("" → "None", as Locust)
	UserClasses  []string      // user classes run
	Users        int           // requested peak users (-u)
	SpawnRate    float64       // users started per second (-r)
	RunTime      time.Duration // requested run time (0 = none)
	Version      string        // loadgen version
	Start, End   time.Time     // test start and last request time
	Requests     []Row         // one per (name, method), sorted, then the Aggregated row
	Intended     []Row         // same rows, response time from the intended send time
	Failures     []Failure     // as Locust's failures table
	Exceptions   []Exception   // as Locust's exceptions table
	History      []Point       // chart data, one point per sample (bounded by the caller)
	SelfCheck    *SelfCheck    // nil = no verdict available
	DownloadLink bool          // show "Download the Report" (served from /stats/report)
	Ratios       ratio.Ratios  // "Final ratio": class and task shares when the test stopped
	// PercentileSource is where a distributed master's percentiles come from
	// (PercentilesExact or PercentilesBuckets); "" for one process (exact,
	// said nowhere, as before).
	PercentileSource string
}

// Sources of a distributed master's percentiles (Data.PercentileSource, and
// loadgenjson.Document.Percentiles).
const (
	// PercentilesExact: every worker was a loadgen worker and sent its
	// exact histogram, so the percentiles are those of one process.
	PercentilesExact = "exact"
	// PercentilesBuckets: some requests came from Python Locust workers,
	// which send only Locust's rounded response-time buckets.
	PercentilesBuckets = "locust_buckets"
)

// Row is one line of the statistics tables. Times are milliseconds.
type Row struct {
	Method, Name             string
	NumRequests, NumFailures int64
	Avg, Min, Max, Median    float64
	AvgContentSize           float64
	RPS, FailPerSec          float64    // total rates over the whole test
	Percentiles              [8]float64 // at PercentileFractions()
	Aggregated               bool       // the "Aggregated" row
}

// Failure is one distinct error.
type Failure struct {
	Method, Name, Error string
	Occurrences         int64
}

// Exception is one distinct exception raised by user code.
type Exception struct {
	Count                     int64
	Message, Traceback, Nodes string
}

// Point is one chart sample.
type Point struct {
	Time                     time.Time
	Users                    int
	RPS, FailPerSec          float64
	P50, P95                 float64 // current-window response time percentiles, ms
	IntendedP50, IntendedP95 float64 // the same, measured from the intended send time
}

// SelfCheck is the generator's verdict on its own measurements: was it able to
// send on schedule without saturating its CPU? Same fields as the --json
// "self_check" object.
type SelfCheck struct {
	Valid            bool
	MaxCPUPercent    float64
	MaxScheduleLagMs float64
	// LatePercent is the share of scheduled requests that left more than
	// 10 ms late (over 1% makes a run invalid).
	LatePercent float64
	Warnings    []string
	Timeline    []CheckPoint
	// TimelineNote, on a distributed master, says whose seconds Timeline
	// holds (TimelineWorkersNote), or why there are none
	// (TimelineNoneNote); "" for one process, whose own they are.
	TimelineNote string
}

// Notes on a distributed master's self-check timeline (SelfCheck.TimelineNote).
const (
	TimelineWorkersNote = "The self-check chart shows the loadgen workers, which sent the requests (the master process sends none): each second, the highest CPU and schedule lag of any worker, on the workers' clocks."
	TimelineNoneNote    = "No self-check chart: no worker sent a self-check (Python Locust workers send none), and the master process sends no requests, so its own CPU and schedule would say nothing about the generators."
)

// CheckPoint is one second of the self-check timeline.
type CheckPoint struct {
	Time       time.Time
	Users      int
	CPUPercent float64
	MaxLagMs   float64
}

// chartData is the JSON embedded in the report and served by the web UI:
// columns of equal length, times in unix seconds, null = no value.
type chartData struct {
	T     []int64    `json:"t"`
	Users []int      `json:"users"`
	RPS   []*float64 `json:"rps"`
	Fail  []*float64 `json:"fail"`
	P50   []*float64 `json:"p50"`
	P95   []*float64 `json:"p95"`
	IP50  []*float64 `json:"ip50"`
	IP95  []*float64 `json:"ip95"`
}

type checkData struct {
	T     []int64    `json:"t"`
	Users []int      `json:"users"`
	CPU   []*float64 `json:"cpu"`
	Lag   []*float64 `json:"lag"`
}

// Embedded is the data block the report's charts are drawn from (and what the
// golden tests pin down).
type Embedded struct {
	History   chartData  `json:"history"`
	SelfCheck *checkData `json:"self_check,omitempty"`
}

func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	r := math.Round(v*1000) / 1000
	return &r
}

// window is num(v), or null when v and other are both 0 (no window).
func window(v, other float64) *float64 {
	if v == 0 && other == 0 {
		return nil
	}
	return num(v)
}

// ChartJSON returns the history as the column JSON the chart code draws.
func ChartJSON(points []Point) ([]byte, error) {
	return json.Marshal(historyColumns(points))
}

func historyColumns(points []Point) chartData {
	c := chartData{T: []int64{}, Users: []int{}, RPS: []*float64{}, Fail: []*float64{},
		P50: []*float64{}, P95: []*float64{}, IP50: []*float64{}, IP95: []*float64{}}
	for _, p := range points {
		c.T = append(c.T, p.Time.Unix())
		c.Users = append(c.Users, p.Users)
		c.RPS = append(c.RPS, num(p.RPS))
		c.Fail = append(c.Fail, num(p.FailPerSec))
		// Both percentiles 0 means no window yet (no request in it): a gap,
		// not a fall to zero.
		c.P50 = append(c.P50, window(p.P50, p.P95))
		c.P95 = append(c.P95, window(p.P95, p.P50))
		c.IP50 = append(c.IP50, window(p.IntendedP50, p.IntendedP95))
		c.IP95 = append(c.IP95, window(p.IntendedP95, p.IntendedP50))
	}
	return c
}

// EmbeddedData returns the data block Write embeds for d.
func EmbeddedData(d *Data) Embedded {
	e := Embedded{History: historyColumns(d.History)}
	if d.SelfCheck != nil && len(d.SelfCheck.Timeline) > 0 {
		c := &checkData{T: []int64{}, Users: []int{}, CPU: []*float64{}, Lag: []*float64{}}
		for _, p := range d.SelfCheck.Timeline {
			c.T = append(c.T, p.Time.Unix())
			c.Users = append(c.Users, p.Users)
			c.CPU = append(c.CPU, num(p.CPUPercent))
			c.Lag = append(c.Lag, num(p.MaxLagMs))
		}
		e.SelfCheck = c
	}
	return e
}

// gapRow compares the measured and intended response times of one entry.
type gapRow struct {
	Method, Name string
	Aggregated   bool
	Measured     [4]float64 // median, p95, p99, max
	Intended     [4]float64
}

type view struct {
	*Data
	Title      string
	HostText   string
	Embedded   template.JS
	Gaps       []gapRow
	Total      *Row
	FailPct    float64
	HasHistory bool
	CSS        template.CSS
	ChartsJS   template.JS
	ReportJS   template.JS
	Labels     [8]string
	TasksJSON  string // Locust's data-tasks attribute: the ratios as json.dumps writes them
}

var funcs = template.FuncMap{
	// ms truncates a millisecond value to an int, as Locust's report does.
	"ms": func(v float64) string {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "N/A"
		}
		return strconv.FormatInt(int64(v), 10)
	},
	// rate rounds to one decimal, as Locust's round(x, 1).
	"rate": func(v float64) string { return strconv.FormatFloat(math.RoundToEven(v*10)/10, 'f', 1, 64) },
	"utc":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"f1":   func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"gap": func(measured, intended float64) string {
		d := intended - measured
		if d < 1 {
			return "0"
		}
		return "+" + strconv.FormatInt(int64(d), 10)
	},
	"bigGap": func(measured, intended float64) bool {
		return intended-measured >= 1 && intended > measured*1.1
	},
	"join":     strings.Join,
	"duration": fmtDuration,
	"spawn":    func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) },
	"pct":      func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"share":    share,
	"width": func(v float64) string {
		return strconv.FormatFloat(math.Round(min(max(v, 0), 1)*1000)/10, 'f', -1, 64) + "%"
	},
}

// share formats a ratio as Locust's report and web UI show it (tasks.js):
// JavaScript's (ratio * 100).toFixed(1) + "%". toFixed rounds the exact
// value of the double half up (6.25 gives "6.3", where Go's and Python's
// %.1f give "6.2").
func share(v float64) string {
	x := new(big.Float).SetPrec(200).SetFloat64(v * 100)
	neg := x.Sign() < 0
	x.Abs(x)
	x.Mul(x, big.NewFloat(10))
	x.Add(x, big.NewFloat(0.5))
	n, _ := x.Int(nil) // floor: x >= 0
	s := n.String()
	if len(s) < 2 {
		s = "0" + s
	}
	s = s[:len(s)-1] + "." + s[len(s)-1:]
	if neg && n.Sign() != 0 {
		s = "-" + s
	}
	return s + "%"
}

var tmpl = template.Must(template.New("report").Funcs(funcs).Parse(reportTmpl))

func fmtDuration(d time.Duration) string {
	if d <= 0 {
		return "unlimited"
	}
	return d.Round(time.Second).String()
}

// Write renders d as one self-contained HTML document on w.
func Write(w io.Writer, d *Data) error {
	emb, err := json.Marshal(EmbeddedData(d))
	if err != nil {
		return fmt.Errorf("encode chart data: %w", err)
	}
	v := view{
		Data:       d,
		Title:      "Test Report for " + titleName(d),
		HostText:   d.Host,
		Embedded:   template.JS(emb), //nolint:gosec // JSON produced by encoding/json (escapes <, >, &)
		HasHistory: len(d.History) > 0,
		CSS:        template.CSS(baseCSS), //nolint:gosec // our own embedded asset
		ChartsJS:   template.JS(chartsJS), //nolint:gosec // our own embedded asset
		ReportJS:   template.JS(reportJS), //nolint:gosec // our own embedded asset
		Labels:     PercentileLabels(),
		TasksJSON:  string(d.Ratios.JSON(ratio.ReportJSON)),
	}
	if v.HostText == "" {
		v.HostText = "None"
	}
	for i := range d.Requests {
		if d.Requests[i].Aggregated {
			v.Total = &d.Requests[i]
		}
	}
	if v.Total != nil && v.Total.NumRequests > 0 {
		v.FailPct = float64(v.Total.NumFailures) / float64(v.Total.NumRequests) * 100
	}
	v.Gaps = gaps(d.Requests, d.Intended)
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func titleName(d *Data) string {
	if d.Script != "" {
		return d.Script
	}
	if len(d.UserClasses) > 0 {
		return strings.Join(d.UserClasses, ", ")
	}
	return "loadgen"
}

func gaps(measured, intended []Row) []gapRow {
	type key struct{ m, n string }
	idx := make(map[key]*Row, len(intended))
	for i := range intended {
		idx[key{intended[i].Method, intended[i].Name}] = &intended[i]
	}
	var out []gapRow
	for _, r := range measured {
		in, ok := idx[key{r.Method, r.Name}]
		if !ok || r.NumRequests == 0 {
			continue
		}
		out = append(out, gapRow{
			Method: r.Method, Name: r.Name, Aggregated: r.Aggregated,
			Measured: [4]float64{r.Median, r.Percentiles[5], r.Percentiles[6], r.Max},
			Intended: [4]float64{in.Median, in.Percentiles[5], in.Percentiles[6], in.Max},
		})
	}
	return out
}

// ExpandPath replaces Locust's tags in an --html file name: {u} with the user
// count, {r} with the spawn rate and {t} with the run time in seconds.
func ExpandPath(path string, users int, spawnRate float64, runTime time.Duration) string {
	return strings.NewReplacer(
		"{u}", strconv.Itoa(users),
		"{r}", strconv.FormatFloat(spawnRate, 'g', -1, 64),
		"{t}", strconv.FormatInt(int64(runTime/time.Second), 10),
	).Replace(path)
}
