// Package experiment runs one experiment: a loadgen child process against
// one target, writing Locust-format files with the seed's names, with its
// progress read from PREFIX_stats_history.csv while it runs.
package experiment

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"predictlab/internal/loadgenjson"
	"predictlab/internal/locustcsv"
	"predictlab/lab/internal/proc"
)

// Spec describes one loadgen invocation.
type Spec struct {
	// Name is the file base, e.g. "load_test_sync".
	Name      string
	Dir       string // run folder
	Loadgen   string // path of the loadgen binary
	Host      string // base URL of the target
	Users     int
	SpawnRate float64
	RunTime   time.Duration
	UserClass string
	// HTML adds --html DIR/NAME.html (off when the loadgen lacks the flag).
	HTML bool
	// FullHistory adds --csv-full-history (current-window percentiles).
	FullHistory bool
}

// Prefix is the --csv prefix (DIR/NAME).
func (s Spec) Prefix() string { return filepath.Join(s.Dir, s.Name) }

// Args is the loadgen command line (without the program name).
func (s Spec) Args() []string {
	a := []string{"--host", s.Host, "--headless",
		"-u", strconv.Itoa(s.Users),
		"-r", strconv.FormatFloat(s.SpawnRate, 'g', -1, 64),
		"-t", strconv.Itoa(int(s.RunTime/time.Second)) + "s",
		"--csv", s.Prefix()}
	if s.FullHistory {
		a = append(a, "--csv-full-history")
	}
	if s.HTML {
		a = append(a, "--html", s.Prefix()+".html")
	}
	return append(a, "--only-summary", "--json", s.UserClass)
}

// absolute returns s with its output directory and loadgen path made
// absolute (a bare program name is left to the PATH search).
func (s Spec) absolute() (Spec, error) {
	var err error
	if s.Dir, err = filepath.Abs(s.Dir); err != nil {
		return s, err
	}
	if strings.ContainsRune(s.Loadgen, filepath.Separator) {
		if s.Loadgen, err = filepath.Abs(s.Loadgen); err != nil {
			return s, err
		}
	}
	return s, nil
}

// hermeticEnv is the environment loadgen runs in: the lab's, without any
// LOCUST_* variable and with HOME set to home, an empty directory that is
// also its working directory. loadgen reads settings as Locust does, from
// LOCUST_* variables, ./locust.conf and ~/.locust.conf, for every flag the
// command line leaves out; a Locust user's own settings (a locustfile,
// tags, --reset-stats, a log file...) must not change the lab's runs.
func hermeticEnv(environ []string, home string) []string {
	env := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if strings.HasPrefix(kv, "LOCUST_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home)
}

// Progress is what a running experiment reports each second.
type Progress struct {
	Elapsed time.Duration
	Users   int
	RPS     float64 // completions per second over the last 2 s of the history
	P50     float64 // the history's 50% cell (NaN until there are requests)
	Fails   int64
}

// Outcome is a finished experiment.
type Outcome struct {
	Spec     Spec
	ExitCode int
	Started  time.Time
	Ended    time.Time
	// JSON is loadgen's --json document (nil if it printed none).
	JSON *Report
}

// Capabilities says which optional flags the loadgen binary accepts.
type Capabilities struct {
	HTML        bool
	FullHistory bool
	Stub        bool // the binary says "not yet implemented"
}

// Probe runs "loadgen --help" and reads which flags it offers.
func Probe(ctx context.Context, sup *proc.Supervisor, loadgen string) (Capabilities, error) {
	var out bytes.Buffer
	c, err := sup.Start("loadgen --help", loadgen, []string{"--help"}, &out, &out)
	if err != nil {
		return Capabilities{}, fmt.Errorf("probe loadgen: %w", err)
	}
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-c.Done():
	case <-ctx.Done():
		sup.Stop(c)
		return Capabilities{}, fmt.Errorf("probe loadgen: %w", ctx.Err())
	case <-t.C:
		sup.Stop(c)
	}
	s := out.String()
	return Capabilities{
		HTML:        strings.Contains(s, "--html"),
		FullHistory: strings.Contains(s, "--csv-full-history"),
		Stub:        strings.Contains(s, "not yet implemented"),
	}, nil
}

// Run starts loadgen for spec, calls progress about once a second with the
// history's last row, and waits for it to end. Cancelling ctx stops the
// child (SIGTERM, then SIGKILL). A non-zero exit because requests failed is
// data, not an error; any other failure (no result files) is.
func Run(ctx context.Context, sup *proc.Supervisor, spec Spec, progress func(Progress)) (Outcome, error) {
	out := Outcome{Spec: spec, Started: time.Now()}
	stdout, err := os.Create(spec.Prefix() + ".json")
	if err != nil {
		return out, fmt.Errorf("run %s: %w", spec.Name, err)
	}
	defer stdout.Close()
	logPath := filepath.Join(spec.Dir, "logs", spec.Name+".loadgen.log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return out, fmt.Errorf("run %s: %w", spec.Name, err)
	}
	stderr, err := os.Create(logPath)
	if err != nil {
		return out, fmt.Errorf("run %s: %w", spec.Name, err)
	}
	defer stderr.Close()
	home, err := os.MkdirTemp("", "predictlab-loadgen-")
	if err != nil {
		return out, fmt.Errorf("run %s: %w", spec.Name, err)
	}
	defer os.RemoveAll(home)
	abs, err := spec.absolute()
	if err != nil {
		return out, fmt.Errorf("run %s: %w", spec.Name, err)
	}
	c, err := sup.StartIn("loadgen "+spec.Name, abs.Loadgen, abs.Args(), home, hermeticEnv(os.Environ(), home), stdout, stderr)
	if err != nil {
		return out, fmt.Errorf("run %s: %w", spec.Name, err)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	histPath := spec.Prefix() + "_stats_history.csv"
loop:
	for {
		select {
		case <-c.Done():
			break loop
		case <-ctx.Done():
			sup.Stop(c)
			return out, fmt.Errorf("run %s: %w", spec.Name, ctx.Err())
		case <-tick.C:
			if progress != nil {
				p := LastProgress(histPath)
				p.Elapsed = time.Since(out.Started)
				progress(p)
			}
		}
	}
	out.Ended = time.Now()
	out.ExitCode = c.ExitCode()
	if r, err := ReadReport(spec.Prefix() + ".json"); err == nil {
		out.JSON = r
	}
	if _, err := os.Stat(spec.Prefix() + "_stats.csv"); err != nil || (out.ExitCode != 0 && out.ExitCode != 1) {
		return out, fmt.Errorf("run %s: loadgen exited with %d (%v); see %s: %s", spec.Name, out.ExitCode, c.Err(), logPath, tail(logPath, 3))
	}
	return out, nil
}

// LastProgress reads the last Aggregated row of a (possibly growing)
// history file; zero values when there is none yet.
func LastProgress(path string) Progress {
	p := Progress{P50: math.NaN()}
	f, err := os.Open(path)
	if err != nil {
		return p
	}
	defer f.Close()
	rows, err := locustcsv.ReadHistory(f)
	if err != nil {
		return p
	}
	var agg []locustcsv.HistoryRow
	for _, r := range rows {
		if r.Name == locustcsv.AggregatedName {
			agg = append(agg, r)
		}
	}
	if len(agg) == 0 {
		return p
	}
	r := agg[len(agg)-1]
	p = Progress{Users: r.UserCount, RPS: r.RequestsPerSec, P50: r.Percentiles[0], Fails: r.TotalFailureCount}
	// Completions per second over the last two rows: Locust's Requests/s
	// is a trailing 10 s average that lags a ramp.
	if len(agg) >= 3 {
		a := agg[len(agg)-3]
		if dt := r.Timestamp - a.Timestamp; dt > 0 {
			p.RPS = float64(r.TotalRequestCount-a.TotalRequestCount) / float64(dt)
		}
	}
	return p
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// loadgen's --json document; its types live in predictlab/internal/loadgenjson,
// shared with the loadgen that writes it.
type (
	// Entry is one entry of the "stats" or "intended" lists.
	Entry = loadgenjson.Entry
	// Tick is one second of loadgen's self-check timeline.
	Tick = loadgenjson.Point
	// SelfCheck is loadgen's verdict on its own validity.
	SelfCheck = loadgenjson.SelfCheck
	// Report is the whole document (Contract 2).
	Report = loadgenjson.Document
)

// Aggregated returns the "Aggregated" entry of list (nil if absent).
func Aggregated(list []Entry) *Entry { return loadgenjson.Aggregated(list) }

// ReadReport reads a --json document from path.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read loadgen json: %w", err)
	}
	return ParseReport(bytes.NewReader(b))
}

// ParseReport decodes a --json document.
func ParseReport(r io.Reader) (*Report, error) { return loadgenjson.Decode(r) }
