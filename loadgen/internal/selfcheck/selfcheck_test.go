package selfcheck

import (
	"strings"
	"testing"
	"time"
)

func TestMonitor(t *testing.T) {
	t0 := time.Unix(1795761380, 0)
	cpu := time.Duration(0)
	var warned []string
	m := New(t0, func() (time.Duration, error) { return cpu, nil }, func(s string) { warned = append(warned, s) })

	cpu = 300 * time.Millisecond // 30% of the first second
	m.ObserveLag(2 * time.Millisecond)
	m.ObserveLag(1 * time.Millisecond)
	p := m.Tick(t0.Add(time.Second), 10)
	if p.CPUPercent != 30 || p.MaxLagMS != 2 || p.Users != 10 || p.Timestamp != 1795761381 {
		t.Fatalf("point = %+v", p)
	}
	if r := m.Report(); !r.Valid || len(warned) != 0 || !strings.HasPrefix(r.Summary(), "Self-check: valid") {
		t.Fatalf("report = %+v", r)
	}

	cpu += 950 * time.Millisecond
	m.ObserveLag(15 * time.Millisecond)
	m.Tick(t0.Add(2*time.Second), 10)
	cpu += 990 * time.Millisecond
	m.ObserveLag(20 * time.Millisecond)
	m.Tick(t0.Add(3*time.Second), 10)
	r := m.Report()
	if r.Valid || len(r.Warnings) != 2 || len(warned) != 2 || r.MaxCPUPercent != 99 || r.MaxScheduleLagMS != 20 || len(r.Timeline) != 3 {
		t.Fatalf("report = %+v warned=%q", r, warned)
	}
	if !m.CPUWarned() || !strings.Contains(r.Summary(), "NOT a valid") {
		t.Fatal("verdict")
	}
	if c, err := ProcessCPU(); err != nil || c < 0 {
		t.Fatalf("ProcessCPU = %v, %v", c, err)
	}
}
