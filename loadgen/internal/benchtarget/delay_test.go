package main

import (
	"sync"
	"testing"
	"time"
)

// The delayer never answers early, whatever the mix of lengths and arrivals.
// (How late it is, is measured by make bench, not asserted here.)
func TestDelayerNeverEarly(t *testing.T) {
	l := newDelayer()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := time.Duration(1+i%3*4) * time.Millisecond
			for range 3 {
				start := time.Now()
				l.Sleep(d)
				if got := time.Since(start); got < d {
					t.Errorf("Sleep(%v) returned after %v", d, got)
				}
			}
		}()
	}
	wg.Wait()
	l.Sleep(0)
	l.Sleep(-time.Second)
}
