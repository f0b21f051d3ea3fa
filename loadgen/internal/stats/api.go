// Package stats is loadgen's statistics engine: it counts requests and
// failures per (method, name) plus an "Aggregated" total, keeps response
// times in HDR histograms (3 significant digits, microsecond units), computes
// Locust 2.12's derived values (total and current requests per second, the
// rolling-window percentiles, failures by error) and, beside every normal
// figure, the same figures measured from each request's intended start, which
// exposes coordinated omission.
//
// The runner calls Record for every finished request from any goroutine, Tick
// once per second, and Snapshot whenever it needs a consistent copy. All
// methods of Stats are safe for concurrent use; a Snapshot is immutable.
package stats

import (
	"time"
)

// Result is one finished request (or failure), handed to Stats.Record by the runner.
type Result struct {
	// Method and Name identify the stats entry (Locust's (method, name) key).
	Method, Name string
	// Start is when the request was about to be written (wall + monotonic).
	Start time.Time
	// Intended is when the schedule wanted the request sent; equal to Start
	// when there is no schedule. A zero Intended is treated as Start.
	Intended time.Time
	// ResponseTime runs from Start to the whole body read.
	ResponseTime time.Duration
	// ContentLength is the number of body bytes read (0 for a connection error).
	ContentLength int64
	// Err is "" for a success, else Locust-style error text, e.g.
	// "HTTPError('404 Client Error: Not Found for url: /x')".
	Err string
}

// Failure is one distinct (method, name, error) with its number of occurrences.
type Failure struct {
	Method, Name, Error string
	Occurrences         int64
}

// Exception is one distinct task exception (grouped by traceback).
type Exception struct {
	Count              int64
	Message, Traceback string
	// Nodes is Locust's ", "-joined node list; always "local" here.
	Nodes string
}

// HistoryPoint is one sample of the bounded chart history (Tick appends one
// per second; long runs are downsampled, so consecutive points may be more
// than a second apart). Percentiles are the current-window values in ms.
type HistoryPoint struct {
	Time                                                time.Time
	Users                                               int
	RPS, FailPerSec, P50, P95, IntendedP50, IntendedP95 float64
}

// Snapshot is a consistent, immutable copy of the statistics at Time.
type Snapshot struct {
	// Time is when the snapshot was taken; StartTime when stats were last
	// cleared (New or Reset).
	Time, StartTime time.Time
	// Users is the user count passed to the last Tick.
	Users int
	// Entries are sorted by (name, method) as Locust sorts them.
	Entries []*Entry
	// Total is the "Aggregated" entry (Method "", Name "Aggregated").
	Total *Entry
	// IntendedEntries and IntendedTotal are the same entries with response
	// times measured from the intended start.
	IntendedEntries []*Entry
	IntendedTotal   *Entry
	// Failures in first-occurrence order (the console's order).
	Failures []Failure
	// Exceptions in first-occurrence order.
	Exceptions []Exception
	// History is the bounded chart history.
	History []HistoryPoint
}
