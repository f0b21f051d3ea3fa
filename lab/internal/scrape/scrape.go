// Package scrape samples the targets' Prometheus /metrics once per interval
// and turns the samples into per-second series of server internals: workers
// busy and queue length for a blocking service, loop busy ratio and lag for
// an event loop.
package scrape

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/jsonnum"
)

// Series names read from /metrics beyond targetsapi's plain metric names:
// the _sum and _count series of its histograms.
const (
	loopLagSum     = targetsapi.MetricLoopLag + targetsapi.SuffixSum
	loopLagCount   = targetsapi.MetricLoopLag + targetsapi.SuffixCount
	queueWaitSum   = targetsapi.MetricQueueWait + targetsapi.SuffixSum
	queueWaitCount = targetsapi.MetricQueueWait + targetsapi.SuffixCount
	// RequestsCount is the number of answered requests (the duration
	// histogram's _count).
	RequestsCount = targetsapi.MetricRequestDuration + targetsapi.SuffixCount
	requestsSum   = targetsapi.MetricRequestDuration + targetsapi.SuffixSum
)

// Parse reads the Prometheus text exposition format and returns, for each
// metric name, the sum of its samples over all label sets. Histogram
// buckets are skipped; _sum and _count are kept. Malformed lines are skipped.
func Parse(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ \t"); i >= 0 {
			name, rest = line[:i], line[i:]
		} else {
			continue
		}
		if strings.HasSuffix(name, "_bucket") {
			continue
		}
		if strings.HasPrefix(rest, "{") {
			j := closingBrace(rest)
			if j < 0 {
				continue
			}
			rest = rest[j+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil || math.IsNaN(v) {
			continue
		}
		out[name] += v
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("parse metrics: %w", err)
	}
	return out, nil
}

// closingBrace finds the '}' ending a label set, skipping quoted values.
func closingBrace(s string) int {
	inQuote, esc := false, false
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && inQuote:
			esc = true
		case c == '"':
			inQuote = !inQuote
		case c == '}' && !inQuote:
			return i
		}
	}
	return -1
}

// Sample is one scrape.
type Sample struct {
	Time   time.Time
	Values map[string]float64
}

// Scraper samples one service's /metrics.
type Scraper struct {
	// Service names the scraped service (e.g. "sync scoring").
	Service string
	// URL is the full metrics URL.
	URL      string
	Interval time.Duration
	Client   *http.Client
}

// Run scrapes every Interval until ctx ends and returns the samples taken.
// Failed scrapes are skipped (a busy server may miss one).
func (s Scraper) Run(ctx context.Context) []Sample {
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: s.Interval}
	}
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	var out []Sample
	for {
		if v, err := s.once(ctx, client); err == nil {
			out = append(out, Sample{Time: time.Now(), Values: v})
		}
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
	}
}

func (s Scraper) once(ctx context.Context, client *http.Client) (map[string]float64, error) {
	return Read(ctx, client, s.URL)
}

// StatusError is a scrape answered with a status other than 200 (404: the
// service exports no metrics there).
type StatusError struct {
	URL  string
	Code int
}

func (e *StatusError) Error() string { return fmt.Sprintf("scrape %s: status %d", e.URL, e.Code) }

// Read scrapes url once and returns its metrics (summed over label sets,
// as Parse does).
func Read(ctx context.Context, client *http.Client, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{URL: url, Code: resp.StatusCode}
	}
	return Parse(resp.Body)
}

// Point is one second of server internals. Fields a style does not export
// are NaN.
type Point struct {
	Time         float64       `json:"t"` // Unix seconds
	Inflight     jsonnum.Float `json:"inflight"`
	WorkersBusy  jsonnum.Float `json:"workers_busy"`
	WorkersTotal jsonnum.Float `json:"workers_total"`
	QueueLength  jsonnum.Float `json:"queue_length"`
	// QueueWaitMS is the mean queue wait of requests that left the queue
	// since the previous sample.
	QueueWaitMS jsonnum.Float `json:"queue_wait_ms"`
	// LoopBusy is the loop busy ratio (0..1 per loop).
	LoopBusy     jsonnum.Float `json:"loop_busy"`
	LoopRunqueue jsonnum.Float `json:"loop_runqueue"`
	// LoopLagMS is the mean loop lag measured since the previous sample.
	LoopLagMS jsonnum.Float `json:"loop_lag_ms"`
	// RPS is requests finished per second since the previous sample.
	RPS jsonnum.Float `json:"rps"`
	// LoopCPUPerReqMS is loop busy time per finished request since the
	// previous sample (NaN without requests).
	LoopCPUPerReqMS jsonnum.Float `json:"loop_cpu_per_req_ms"`
	// WorkersUtil is the pool's true utilisation since the previous
	// sample: workers' busy seconds / (workers × interval), from the
	// busy-time counter rather than a once-a-second gauge.
	WorkersUtil jsonnum.Float `json:"workers_util"`
	// ServerMS is the mean time requests answered since the previous
	// sample spent in the server (arrival to answer); ServiceMS is that
	// minus their mean queue wait (NaN when either is unknown).
	ServerMS  jsonnum.Float `json:"server_ms"`
	ServiceMS jsonnum.Float `json:"service_ms"`
}

// Series turns samples into per-interval points (the first sample only
// seeds the differences).
func Series(samples []Sample) []Point {
	var out []Point
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		dt := b.Time.Sub(a.Time).Seconds()
		if dt <= 0 {
			continue
		}
		get := func(m map[string]float64, k string) jsonnum.Float {
			if v, ok := m[k]; ok {
				return jsonnum.Float(v)
			}
			return jsonnum.NaN()
		}
		diff := func(k string) jsonnum.Float { return get(b.Values, k) - get(a.Values, k) }
		ratio := func(num, den string, scale float64) jsonnum.Float {
			d := diff(den)
			if !(d > 0) {
				return jsonnum.NaN()
			}
			return diff(num) / d * jsonnum.Float(scale)
		}
		p := Point{Time: float64(b.Time.UnixNano()) / 1e9,
			Inflight:     get(b.Values, targetsapi.MetricInflight),
			WorkersBusy:  get(b.Values, targetsapi.MetricWorkersBusy),
			WorkersTotal: get(b.Values, targetsapi.MetricWorkersTotal),
			QueueLength:  get(b.Values, targetsapi.MetricQueueLength),
			QueueWaitMS:  ratio(queueWaitSum, queueWaitCount, 1000),
			LoopBusy:     get(b.Values, targetsapi.MetricLoopBusyRatio),
			LoopRunqueue: get(b.Values, targetsapi.MetricLoopRunqueue),
			LoopLagMS:    ratio(loopLagSum, loopLagCount, 1000),
			RPS:          diff(RequestsCount) / jsonnum.Float(dt),
		}
		p.LoopCPUPerReqMS = ratio(targetsapi.MetricLoopBusySeconds, RequestsCount, 1000)
		p.WorkersUtil = jsonnum.NaN()
		if w := p.WorkersTotal; w > 0 {
			p.WorkersUtil = diff(targetsapi.MetricWorkersBusySeconds) / (w * jsonnum.Float(dt))
		}
		p.ServerMS = ratio(requestsSum, RequestsCount, 1000)
		p.ServiceMS = p.ServerMS - p.QueueWaitMS
		out = append(out, p)
	}
	return out
}

// Delta is a counter's increase from the first to the last sample (NaN
// when it is missing).
func Delta(samples []Sample, name string) float64 {
	if len(samples) < 2 {
		return math.NaN()
	}
	a, okA := samples[0].Values[name]
	b, okB := samples[len(samples)-1].Values[name]
	if !okA || !okB {
		return math.NaN()
	}
	return b - a
}
