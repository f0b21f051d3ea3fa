// Package jsonout builds the document loadgen prints on stdout with --json
// (Contract 2): Locust's /stats/requests entry fields plus total rates and a
// percentile map, for the normal and the intended-start statistics, beside
// the run's self-check, configuration, times and exit code.
package jsonout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"predictlab/internal/locustcsv"
	"predictlab/loadgen/internal/stats"
)

// Config is the "config" object: the run's settings as given.
type Config struct {
	Host        string   `json:"host"`
	Users       int      `json:"users"`
	SpawnRate   float64  `json:"spawn_rate"`
	RunTimeS    int64    `json:"run_time_s"` // 0 = no limit
	UserClasses []string `json:"user_classes"`
	Version     string   `json:"version"`
}

// Meta is what the caller adds to a Snapshot to make the document.
type Meta struct {
	// SelfCheck is marshalled as the "self_check" object; pass the runner's
	// self-check report (keys valid, max_cpu_percent, max_schedule_lag_ms,
	// warnings, timeline).
	SelfCheck any
	Config    Config
	// StartTime and EndTime of the run; zero means the Snapshot's StartTime
	// and Time.
	StartTime, EndTime time.Time
	ExitCode           int
}

// Document is the --json output.
type Document struct {
	Stats     []Entry `json:"stats"`
	Intended  []Entry `json:"intended"`
	SelfCheck any     `json:"self_check"`
	Config    Config  `json:"config"`
	StartTime float64 `json:"start_time"`
	EndTime   float64 `json:"end_time"`
	ExitCode  int     `json:"exit_code"`
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

// Percentiles are the response times at Locust's reported percentiles, in
// the order of locustcsv.Percentiles(); they marshal as an object with keys
// "50", "66", ..., "99.99", "100" in that order.
type Percentiles [locustcsv.NumPercentiles]float64

// percentileKeys are the JSON keys of Percentiles.
var percentileKeys = [locustcsv.NumPercentiles]string{"50", "66", "75", "80", "90", "95", "98", "99", "99.9", "99.99", "100"}

// MarshalJSON writes the ordered object.
func (p Percentiles) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, v := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, percentileKeys[i])
		b = append(b, ':')
		b = appendNumber(b, v)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads the object written by MarshalJSON.
func (p *Percentiles) UnmarshalJSON(data []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	for i, k := range percentileKeys {
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

// finite maps NaN and ±Inf (never expected) to 0 so that encoding cannot fail.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// Entries converts entries plus their total (last) into JSON entries.
func Entries(entries []*stats.Entry, total *stats.Entry) []Entry {
	out := make([]Entry, 0, len(entries)+1)
	for _, e := range entries {
		out = append(out, entry(e))
	}
	if total != nil {
		out = append(out, entry(total))
	}
	return out
}

func entry(e *stats.Entry) Entry {
	var p Percentiles
	for i, q := range locustcsv.Percentiles() {
		p[i] = finite(e.Percentile(q))
	}
	return Entry{
		Method:                  e.Method,
		Name:                    e.Name,
		NumRequests:             e.NumRequests,
		NumFailures:             e.NumFailures,
		AvgResponseTime:         finite(e.Avg()),
		MinResponseTime:         finite(e.Min()),
		MaxResponseTime:         finite(e.Max()),
		MedianResponseTime:      finite(e.Median()),
		NinetiethResponseTime:   finite(e.Percentile(0.9)),
		NinetyNinthResponseTime: finite(e.Percentile(0.99)),
		AvgContentLength:        finite(e.AvgContentSize()),
		CurrentRPS:              finite(e.CurrentRPS()),
		CurrentFailPerSec:       finite(e.CurrentFailPerSec()),
		TotalRPS:                finite(e.TotalRPS()),
		TotalFailPerSec:         finite(e.TotalFailPerSec()),
		Percentiles:             p,
	}
}

func unixFloat(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

// Build returns the document for the final snapshot s and the caller's meta.
func Build(s *stats.Snapshot, meta Meta) *Document {
	start, end := meta.StartTime, meta.EndTime
	if start.IsZero() {
		start = s.StartTime
	}
	if end.IsZero() {
		end = s.Time
	}
	cfg := meta.Config
	if cfg.UserClasses == nil {
		cfg.UserClasses = []string{}
	}
	return &Document{
		Stats:     Entries(s.Entries, s.Total),
		Intended:  Entries(s.IntendedEntries, s.IntendedTotal),
		SelfCheck: meta.SelfCheck,
		Config:    cfg,
		StartTime: unixFloat(start),
		EndTime:   unixFloat(end),
		ExitCode:  meta.ExitCode,
	}
}

// Write writes Build(s, meta) to w as indented JSON followed by a newline.
func Write(w io.Writer, s *stats.Snapshot, meta Meta) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Build(s, meta)); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
