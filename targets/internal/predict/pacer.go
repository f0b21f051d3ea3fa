package predict

import (
	"context"
	"sync/atomic"
	"time"
)

// Pacer sleeps for a requested duration, compensating for timer lateness: the Go
// runtime wakes a sleeper up to about a millisecond late (more under load), which
// would add itself to every model delay. Pacer keeps a moving average of how late
// its timers fire and asks for that much less, so that a model's answer takes the
// drawn delay on average. The zero value is ready; safe for concurrent use.
type Pacer struct {
	lateNS atomic.Int64 // moving average of timer lateness
}

// maxCompensation bounds the correction, whatever was observed.
const maxCompensation = 2 * time.Millisecond

// Sleep waits about d (or until ctx is done).
func (p *Pacer) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	ask := max(d-time.Duration(p.lateNS.Load()), 0)
	start := time.Now()
	if err := Sleep(ctx, ask); err != nil {
		return err
	}
	p.observe(time.Since(start) - ask)
	return nil
}

// observe folds one lateness sample into the moving average (weight 1/16).
func (p *Pacer) observe(late time.Duration) {
	late = min(max(late, 0), maxCompensation)
	for {
		old := p.lateNS.Load()
		next := NextLateness(time.Duration(old), late)
		if p.lateNS.CompareAndSwap(old, int64(next)) {
			return
		}
	}
}

// NextLateness is the moving average after one more sample.
func NextLateness(avg, sample time.Duration) time.Duration {
	return avg + (sample-avg)/16
}
