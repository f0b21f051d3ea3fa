// Package loadgenjson is the document loadgen prints on stdout with --json
// (a contract between loadgen and the lab): Locust's /stats/requests entry fields plus total rates and a
// percentile map, for the normal and the intended-start statistics, beside
// loadgen's self-check, the run's configuration, times and exit code.
//
// The types here are the contract: loadgen's writer (loadgen/internal/jsonout)
// encodes them and the lab reads them back with Decode. Field order is the
// document's key order. The values are plain data, safe to share once built.
package loadgenjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"predictlab/internal/locustcsv"
)

// Document is the whole --json output.
type Document struct {
	// Stats holds one entry per (method, name), the "Aggregated" entry last.
	Stats []Entry `json:"stats"`
	// Intended has the same shape, response times measured from each
	// request's intended start.
	Intended []Entry `json:"intended"`
	// SelfCheck is loadgen's verdict on its own validity; nil when absent.
	SelfCheck *SelfCheck `json:"self_check"`
	Config    Config     `json:"config"`
	// StartTime and EndTime are Unix times in seconds.
	StartTime float64 `json:"start_time"`
	EndTime   float64 `json:"end_time"`
	ExitCode  int     `json:"exit_code"`
	// PercentileSource, on a distributed master only, says where the
	// percentiles come from: "exact" (loadgen workers' full histograms) or
	// "locust_buckets" (some from Python workers' rounded buckets).
	PercentileSource string `json:"percentile_source,omitempty"`
}

// Entry is one element of "stats" or "intended". Times are ms.
type Entry struct {
	Method                  string      `json:"method"`
	Name                    string      `json:"name"`
	NumRequests             int64       `json:"num_requests"`
	NumFailures             int64       `json:"num_failures"`
	AvgResponseTime         float64     `json:"avg_response_time"`
	MinResponseTime         float64     `json:"min_response_time"`
	MaxResponseTime         float64     `json:"max_response_time"`
	MedianResponseTime      float64     `json:"median_response_time"`
	NinetiethResponseTime   float64     `json:"ninetieth_response_time"`
	NinetyNinthResponseTime float64     `json:"ninety_ninth_response_time"`
	AvgContentLength        float64     `json:"avg_content_length"`
	CurrentRPS              float64     `json:"current_rps"`
	CurrentFailPerSec       float64     `json:"current_fail_per_sec"`
	TotalRPS                float64     `json:"total_rps"`
	TotalFailPerSec         float64     `json:"total_fail_per_sec"`
	Percentiles             Percentiles `json:"percentiles"`
}

// Config is the "config" object: the run's settings as given.
type Config struct {
	Host        string   `json:"host"`
	Users       int      `json:"users"`
	SpawnRate   float64  `json:"spawn_rate"`
	RunTimeS    int64    `json:"run_time_s"` // 0 = no limit
	UserClasses []string `json:"user_classes"`
	// Tags and ExcludeTags are -T/--tags and -E/--exclude-tags (absent when
	// not given); EqualWeights is --equal-weights (absent when false).
	Tags         []string `json:"tags,omitempty"`
	ExcludeTags  []string `json:"exclude_tags,omitempty"`
	EqualWeights bool     `json:"equal_weights,omitempty"`
	// RequestTimeoutS is --request-timeout in seconds (absent when off).
	RequestTimeoutS float64 `json:"request_timeout_s,omitempty"`
	// ConfigFiles are the config files that were read (~/.locust.conf,
	// ./locust.conf, --config), lowest precedence first; absent when none.
	ConfigFiles []string `json:"config_files,omitempty"`
	Version     string   `json:"version"`
}

// LateMS and LatePercent define a late run: a request is late when it leaves
// more than LateMS after its schedule, and a run whose late requests exceed
// LatePercent of its scheduled ones (its 99th percentile of lag is above
// LateMS) fell behind.
const (
	LateMS      = 10
	LatePercent = 1
)

// SelfCheck is the "self_check" object: whether the generator kept up.
type SelfCheck struct {
	Valid            bool    `json:"valid"`
	MaxCPUPercent    float64 `json:"max_cpu_percent"`
	MaxScheduleLagMS float64 `json:"max_schedule_lag_ms"`
	// ScheduledRequests counts the requests that had a schedule (every one
	// but a user's first); LateRequests those that left more than LateMS
	// behind it.
	ScheduledRequests int64 `json:"scheduled_requests"`
	LateRequests      int64 `json:"late_requests"`
	// MaxStartLagMS is how late users' first requests left after their
	// spawn time (spawning many users at once); reported, not a verdict.
	MaxStartLagMS float64  `json:"max_start_lag_ms"`
	Warnings      []string `json:"warnings"`
	// Timeline has one point per second, whose points TimelineSource says.
	Timeline []Point `json:"timeline"`
	// TimelineSource says whose seconds Timeline holds: "" for one
	// process (its own), TimelineWorkers or TimelineNone on a distributed
	// master.
	TimelineSource string `json:"timeline_source,omitempty"`
	// Worker, on a distributed master, names the loadgen worker whose
	// verdict and figures these are (the worst one); "" when they are the
	// master process's own or for one process.
	Worker string `json:"worker,omitempty"`
}

// TimelineSource values of a distributed master, whose own process sends
// no requests: its CPU and lag would say nothing about the generators.
const (
	// TimelineWorkers: each point merges the loadgen workers' same second:
	// the highest CPU, schedule lag and start lag of any of them, the
	// scheduled and late requests of the one with the largest late share,
	// and all their users. Seconds are the workers' clocks.
	TimelineWorkers = "workers"
	// TimelineNone: no worker sent a self-check (only Python workers), so
	// the timeline is empty.
	TimelineNone = "none"
)

// Point is one second of the self-check timeline.
type Point struct {
	Timestamp         int64   `json:"timestamp"` // Unix seconds
	Users             int     `json:"users"`
	CPUPercent        float64 `json:"cpu_percent"`
	MaxLagMS          float64 `json:"max_lag_ms"`
	ScheduledRequests int64   `json:"scheduled_requests"`
	LateRequests      int64   `json:"late_requests"`
	// MaxStartLagMS is the same for first requests after a spawn.
	MaxStartLagMS float64 `json:"max_start_lag_ms"`
}

// TooLate reports whether more than LatePercent of n requests are late.
func TooLate(late, n int64) bool { return late*100 > n*LatePercent }

// LatePercentOf is late as a percentage of n (0 when n is 0).
func LatePercentOf(late, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(late) * 100 / float64(n)
}

// Summary is the one-line verdict loadgen prints at the end of a run.
func (s SelfCheck) Summary() string {
	figures := fmt.Sprintf("generator CPU max %.1f%%, schedule lag max %.1f ms", s.MaxCPUPercent, s.MaxScheduleLagMS)
	if s.LateRequests > 0 {
		figures += fmt.Sprintf(", %d of %d requests (%.2f%%) more than %d ms late", s.LateRequests, s.ScheduledRequests,
			LatePercentOf(s.LateRequests, s.ScheduledRequests), LateMS)
	}
	if s.MaxStartLagMS > 10 {
		figures += fmt.Sprintf(", first requests up to %.1f ms after their user's spawn", s.MaxStartLagMS)
	}
	if s.Worker != "" {
		figures = "worst worker " + s.Worker + ": " + figures
	}
	if s.Valid {
		return "Self-check: valid measurement (" + figures + ")"
	}
	return "Self-check: NOT a valid measurement, the load generator fell behind (" + figures + ")"
}

// Percentiles are the response times at Locust's reported percentiles, in
// the order of locustcsv.Percentiles(); they marshal as an object with the
// keys of PercentileKeys in that order.
type Percentiles [locustcsv.NumPercentiles]float64

// PercentileKeys are the JSON keys of Percentiles, in order.
var PercentileKeys = [locustcsv.NumPercentiles]string{"50", "66", "75", "80", "90", "95", "98", "99", "99.9", "99.99", "100"}

// MarshalJSON writes the ordered object; NaN and ±Inf are written as 0.
func (p Percentiles) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, v := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, PercentileKeys[i])
		b = append(b, ':')
		b = appendNumber(b, v)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads the object written by MarshalJSON; missing keys are 0.
func (p *Percentiles) UnmarshalJSON(data []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	for i, k := range PercentileKeys {
		p[i] = m[k]
	}
	return nil
}

func appendNumber(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, '0')
	}
	out, _ := json.Marshal(v)
	return append(b, out...)
}

// Aggregated returns the "Aggregated" entry of list (nil if absent).
func Aggregated(list []Entry) *Entry {
	for i := range list {
		if list[i].Name == locustcsv.AggregatedName {
			return &list[i]
		}
	}
	return nil
}

// Decode reads one document from r. A document without "stats" is an error.
func Decode(r io.Reader) (*Document, error) {
	var d Document
	if err := json.NewDecoder(r).Decode(&d); err != nil {
		return nil, fmt.Errorf("decode loadgen json: %w", err)
	}
	if d.Stats == nil {
		return nil, errors.New("decode loadgen json: no stats")
	}
	return &d, nil
}
