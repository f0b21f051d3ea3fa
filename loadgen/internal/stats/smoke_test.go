package stats

import (
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	t0 := time.Unix(1795761380, 0)
	s := New(func() time.Time { return t0 })
	s.Record(Result{Method: "GET", Name: "/a", Start: t0, Intended: t0.Add(-5 * time.Millisecond), ResponseTime: 40 * time.Millisecond, ContentLength: 51})
	s.Record(Result{Method: "GET", Name: "/a", Start: t0, Intended: t0, ResponseTime: 60 * time.Millisecond, Err: "x"})
	snap := s.Tick(t0.Add(time.Second), 3)
	if len(snap.Entries) != 1 || snap.Total.NumRequests != 2 || snap.Total.NumFailures != 1 {
		t.Fatalf("bad snapshot %+v", snap.Total)
	}
	if got := snap.Entries[0].Percentile(1); got != 60 {
		t.Errorf("p100 = %v", got)
	}
	if got := snap.IntendedEntries[0].Min(); got != 45 {
		t.Errorf("intended min = %v", got)
	}
}
