// Package progress shows a lab run's progress: one line updated in place on
// a terminal, plain lines (at most one every Every) otherwise.
package progress

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"
)

// State is what the line shows.
type State struct {
	Target     string // "sync" or "async"
	Number     int    // experiment number
	Name       string // experiment name
	Index      int    // 1-based position of this experiment in the run
	Count      int    // experiments in the run
	Elapsed    time.Duration
	Length     time.Duration // this experiment's run time
	LabElapsed time.Duration
	LabTotal   time.Duration // planned experiment time of the whole lab
	Users      int
	RPS        float64
	P50        float64 // ms; NaN = none yet
}

// Line renders s as one line of text.
func Line(s State) string {
	left := s.Length - s.Elapsed
	if left < 0 {
		left = 0
	}
	labLeft := s.LabTotal - s.LabElapsed
	if labLeft < 0 {
		labLeft = 0
	}
	p50 := "—"
	if !math.IsNaN(s.P50) && s.P50 > 0 {
		p50 = fmt.Sprintf("%.0f ms", s.P50)
	}
	return fmt.Sprintf("[%d/%d] %s %d %s  %s/%s (%s left)  lab %s/%s (%s left)  users %d  %.1f req/s  p50 %s",
		s.Index, s.Count, s.Target, s.Number, s.Name, clock(s.Elapsed), clock(s.Length), clock(left),
		clock(s.LabElapsed), clock(s.LabTotal), clock(labLeft), s.Users, s.RPS, p50)
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// Printer writes progress lines and messages to w. Safe for concurrent use.
type Printer struct {
	w     io.Writer
	tty   bool
	every time.Duration

	mu      sync.Mutex
	last    time.Time
	pending bool // a progress line is on screen without a newline
	width   int
}

// New returns a Printer; tty selects in-place updates, and every is the
// least interval between plain lines when not a terminal.
func New(w io.Writer, tty bool, every time.Duration) *Printer {
	return &Printer{w: w, tty: tty, every: every}
}

// Update shows s (now is the caller's clock, for rate limiting).
func (p *Printer) Update(s State, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := Line(s)
	if p.tty {
		pad := ""
		if n := len(line); n < p.width {
			pad = strings.Repeat(" ", p.width-n)
		}
		p.width = len(line)
		fmt.Fprintf(p.w, "\r%s%s", line, pad)
		p.pending = true
		return
	}
	if !p.last.IsZero() && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	fmt.Fprintln(p.w, line)
}

// Printf writes a message on its own line (ending any in-place line).
func (p *Printer) Printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending {
		fmt.Fprintln(p.w)
		p.pending, p.width = false, 0
	}
	fmt.Fprintf(p.w, format, args...)
	if !strings.HasSuffix(format, "\n") {
		fmt.Fprintln(p.w)
	}
}

// Done ends an in-place line.
func (p *Printer) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending {
		fmt.Fprintln(p.w)
		p.pending, p.width = false, 0
	}
}
