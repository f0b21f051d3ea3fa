package stats_test

import (
	"fmt"
	"time"

	"predictlab/loadgen/internal/stats"
)

// The runner records every finished request, ticks once per second and
// takes the final snapshot at the end.
func Example() {
	t0 := time.Unix(1795762056, 0)
	now := t0
	s := stats.New(func() time.Time { return now })

	start := t0.Add(100 * time.Millisecond)
	s.Record(stats.Result{
		Method: "POST", Name: "/api/v1/ml/async/predict",
		Start:         start,
		Intended:      start.Add(-5 * time.Millisecond), // the schedule wanted it 5 ms earlier
		ResponseTime:  42 * time.Millisecond,
		ContentLength: 51,
	})
	now = t0.Add(time.Second)
	snap := s.Tick(now, 150) // once per second: feed csvout.Tick, and console every 2 s

	e := snap.Entries[0]
	fmt.Println(e.Method, e.Name, e.NumRequests, e.Max(), snap.IntendedEntries[0].Max(), snap.Total.Name)
	// Output: POST /api/v1/ml/async/predict 1 42 47 Aggregated
}
