package stats

import (
	"testing"
	"time"
)

// BenchmarkRecord measures the hot path: one Record per iteration into a
// known entry, from b.RunParallel goroutines (run with -cpu 1,2).
func BenchmarkRecord(b *testing.B) {
	s := New(time.Now)
	start := time.Now()
	r := Result{Method: "POST", Name: "/api/v1/ml/async/predict", Start: start, Intended: start,
		ResponseTime: 3 * time.Millisecond, ContentLength: 51}
	s.Record(r)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := r
		i := 0
		for pb.Next() {
			i++
			r.ResponseTime = time.Duration(i%5000) * time.Microsecond
			s.Record(r)
		}
	})
}

// BenchmarkRecordWithTicks is BenchmarkRecord with a Tick every 10,000
// records, so that the cost of draining shards is included.
func BenchmarkRecordWithTicks(b *testing.B) {
	s := New(time.Now)
	start := time.Now()
	r := Result{Method: "POST", Name: "/api/v1/ml/async/predict", Start: start, Intended: start,
		ResponseTime: 3 * time.Millisecond, ContentLength: 51}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r.ResponseTime = time.Duration(i%5000) * time.Microsecond
		s.Record(r)
		if i%10000 == 9999 {
			s.Tick(time.Now(), 50)
		}
	}
}

// BenchmarkTick measures one Tick with one busy entry.
func BenchmarkTick(b *testing.B) {
	s := New(time.Now)
	start := time.Now()
	r := Result{Method: "GET", Name: "/", Start: start, Intended: start, ResponseTime: time.Millisecond}
	b.ReportAllocs()
	for i := range b.N {
		for j := range 1000 {
			r.ResponseTime = time.Duration(j) * time.Microsecond * 7
			s.Record(r)
		}
		s.Tick(start.Add(time.Duration(i)*time.Second), 50)
	}
}
