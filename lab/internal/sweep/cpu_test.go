package sweep

import (
	"context"
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	"predictlab/lab/internal/scrape"
)

func TestParseProcessStat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		stat string
		want uint64
		bad  bool
	}{
		{"targets", "4242 (targets) S 1 4242 4242 0 -1 4194560 1234 0 0 0 2071 301 0 0 20 0 9 0 12345 1 2 3", 2372, false},
		{"a command name with spaces and parentheses", "77 (a (b) c) R 1 77 77 0 -1 0 0 0 0 0 5 7 0 0 20 0 1 0 1", 12, false},
		{"truncated", "77 (x) R 1 77 77 0", 0, true},
		{"no command name", "77 x R 1 77 77 0 -1 0 0 0 0 0 5 7 0 0", 0, true},
		{"not a number", "77 (x) R 1 77 77 0 -1 0 0 0 0 0 five 7 0 0", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseProcessStat([]byte(tc.stat))
			if tc.bad {
				if err == nil {
					t.Fatalf("no error, got %d", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestParseMachineStat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		stat string
		want machineCPU
		bad  bool
	}{
		{"ten fields: guest time not counted twice", "cpu  173504 10 64917 252848 562 0 3819 5150 900 0\ncpu0 86411 0 32382 127144 106 0 1784 2521 0 0\n",
			machineCPU{Total: 173504 + 10 + 64917 + 252848 + 562 + 3819 + 5150, Idle: 252848 + 562, Steal: 5150}, false},
		{"old kernel without steal", "cpu 100 0 50 800 50\n", machineCPU{Total: 1000, Idle: 850}, false},
		{"not the cpu line", "intr 12345\n", machineCPU{}, true},
		{"not a number", "cpu 1 2 x 4 5 6 7 8\n", machineCPU{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseMachineStat([]byte(tc.stat))
			if tc.bad {
				if err == nil {
					t.Fatalf("no error, got %+v", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// fakeProc is a /proc whose counters advance at fixed rates: per second of
// its clock, scoring 180 ticks, model 8, store 2, loadgen 1 (of 200 ticks
// on 2 cores); the machine is idle 6 ticks a second and steals 1.
type fakeProc struct{ sec float64 }

func (f *fakeProc) ReadFile(path string) ([]byte, error) {
	tick := func(rate float64) string { return strconv.FormatUint(uint64(math.Round(rate*f.sec)), 10) }
	proc := func(rate float64) []byte {
		return []byte("1 (targets) S 1 1 1 0 -1 0 0 0 0 0 " + tick(rate) + " 0 0 0 20 0 1 0 1")
	}
	switch path {
	case "/proc/stat":
		// user 193, idle 6, steal 1 ticks per second.
		return []byte("cpu " + tick(193) + " 0 0 " + tick(6) + " 0 0 0 " + tick(1) + " 0 0\n"), nil
	case "/proc/10/stat":
		return proc(180), nil
	case "/proc/11/stat":
		return proc(8), nil
	case "/proc/12/stat":
		return proc(2), nil
	case "/proc/13/stat":
		return proc(1), nil
	}
	return nil, errors.New("no such file")
}

func TestCPUOf(t *testing.T) {
	t.Parallel()
	f := &fakeProc{}
	r := cpuReader{ReadFile: f.ReadFile}
	pids := map[string]int{RoleScoring: 10, RoleModel: 11, RoleStore: 12, RoleLoadgen: 13}
	base := time.Unix(1000, 0)
	var samples []cpuSample
	for i := 0; i <= 40; i++ { // every 250 ms for 10 s
		f.sec = float64(i) / 4
		s, err := r.sample(base.Add(time.Duration(i)*250*time.Millisecond), pids)
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, s)
	}
	// Window 1002.1-1009.9 s: the readings at 1002 and 1010 s (8 s). The
	// scoring service's counter, scraped at half seconds, says 100 req/s;
	// loadgen says 90 (its window's edges differ): the counter between the
	// readings is the divisor, so scoring's 1.8 CPU-s/s is 18 ms per request.
	var scraped []scrape.Sample
	for i := 0; i <= 12; i++ {
		at := base.Add(500*time.Millisecond + time.Duration(i)*time.Second)
		scraped = append(scraped, scrape.Sample{Time: at, Values: map[string]float64{scrape.RequestsCount: 100 * (float64(i) + 0.5)}})
	}
	near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
	tests := []struct {
		name    string
		scraped []scrape.Sample
		perReq  float64 // ms of scoring CPU per request
	}{
		{"requests from the scoring service's counter", scraped, 18},
		{"no /metrics: loadgen's rate", nil, 20},
	}
	for _, tc := range tests {
		c := CPUOf(samples, tc.scraped, 1002.1, 1009.9, 90)
		if c == nil {
			t.Fatalf("%s: no CPU", tc.name)
		}
		k := tc.perReq / 18 // the other processes scale alike
		pr := c.PerRequestMS
		if !near(pr.Scoring, tc.perReq) || !near(pr.Model, 0.8*k) || !near(pr.Store, 0.2*k) || !near(pr.Loadgen, 0.1*k) ||
			!near(pr.Total, 19.1*k) || !near(c.Seconds, 8) || !near(c.Requests, 800/k) {
			t.Errorf("%s: per request %+v, %v requests over %.2f s", tc.name, pr, c.Requests, c.Seconds)
		}
		// 194 of 200 ticks busy; the four used 191; steal 1.
		if !near(c.MachineBusy, 0.97) || !near(c.OthersBusy, 0.015) || !near(c.Steal, 0.005) {
			t.Errorf("%s: machine busy %v, others %v, steal %v", tc.name, c.MachineBusy, c.OthersBusy, c.Steal)
		}
	}
	// A process missing at one end (loadgen not yet running) or no /proc: not measured.
	delete(samples[8].Procs, RoleLoadgen)
	if c := CPUOf(samples, scraped, 1002.1, 1009.9, 90); c != nil {
		t.Errorf("loadgen unread at the window's start, got %+v", c)
	}
	if c := CPUOf(nil, scraped, 1002, 1010, 90); c != nil {
		t.Errorf("no samples, got %+v", c)
	}
}

func TestCPUSamplerWithoutProc(t *testing.T) {
	t.Parallel()
	s := cpuSampler{reader: cpuReader{ReadFile: func(string) ([]byte, error) { return nil, errors.New("no /proc") }},
		interval: time.Millisecond, pids: func() map[string]int { return nil }}
	if got := s.run(context.Background()); got != nil {
		t.Errorf("got %d samples without /proc", len(got))
	}
}
