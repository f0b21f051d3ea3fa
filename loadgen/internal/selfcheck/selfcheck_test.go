package selfcheck

import (
	"strings"
	"testing"
	"time"
)

func TestMonitor(t *testing.T) {
	t0 := time.Unix(1795761380, 0)
	cpu := time.Duration(0)
	var warned, infos []string
	m := New(t0, func() (time.Duration, error) { return cpu, nil }, func(s string) { warned = append(warned, s) },
		func(s string) { infos = append(infos, s) })

	cpu = 300 * time.Millisecond // 30% of the first second
	m.ObserveLag(2*time.Millisecond, false)
	m.ObserveLag(1*time.Millisecond, false)
	// 500 users spawned at once: their first requests leave late, which is
	// reported but is no schedule lag.
	m.ObserveLag(25*time.Millisecond, true)
	m.ObserveLag(12*time.Millisecond, true)
	p := m.Tick(t0.Add(time.Second), 10)
	if p.CPUPercent != 30 || p.MaxLagMS != 2 || p.MaxStartLagMS != 25 || p.Users != 10 || p.Timestamp != 1795761381 {
		t.Fatalf("point = %+v", p)
	}
	if r := m.Report(); !r.Valid || len(warned) != 0 || r.MaxStartLagMS != 25 ||
		r.Summary() != "Self-check: valid measurement (generator CPU max 30.0%, schedule lag max 2.0 ms, first requests up to 25.0 ms after their user's spawn)" {
		t.Fatalf("report = %+v, summary %q", r, r.Summary())
	}
	if len(infos) != 1 || !strings.Contains(infos[0], "first requests left up to 25.0 ms after their spawn time") {
		t.Fatalf("infos = %q", infos)
	}

	cpu += 950 * time.Millisecond
	m.ObserveLag(15*time.Millisecond, false)
	m.ObserveLag(30*time.Millisecond, true) // logged once only
	m.Tick(t0.Add(2*time.Second), 10)
	cpu += 990 * time.Millisecond
	m.ObserveLag(20*time.Millisecond, false)
	m.Tick(t0.Add(3*time.Second), 10)
	r := m.Report()
	if r.Valid || len(r.Warnings) != 2 || len(warned) != 2 || len(infos) != 1 || r.MaxCPUPercent != 99 ||
		r.MaxScheduleLagMS != 20 || r.MaxStartLagMS != 30 || len(r.Timeline) != 3 {
		t.Fatalf("report = %+v warned=%q", r, warned)
	}
	if !m.CPUWarned() || !strings.Contains(r.Summary(), "NOT a valid") {
		t.Fatal("verdict")
	}
	if c, err := ProcessCPU(); err != nil || c < 0 {
		t.Fatalf("ProcessCPU = %v, %v", c, err)
	}
}
