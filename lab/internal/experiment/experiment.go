// Package experiment runs one experiment: a loadgen child process against
// one target, writing Locust-format files with the seed's names, with its
// progress read from PREFIX_stats_history.csv while it runs.
package experiment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"predictlab/internal/loadgenjson"
	"predictlab/lab/internal/proc"
	"predictlab/lab/internal/results"
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
	// HTML adds --html DIR/NAME.html.
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

// Progress is what a running experiment reports each second: the time
// since it started and the history's latest row.
type Progress struct {
	Elapsed time.Duration
	results.Latest
}

// Outcome is a finished experiment.
type Outcome struct {
	Spec     Spec
	ExitCode int
	Started  time.Time
	Ended    time.Time
	// JSON is loadgen's --json document (nil if it printed none).
	JSON *loadgenjson.Document
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
				progress(Progress{Elapsed: time.Since(out.Started), Latest: results.ReadLatest(histPath)})
			}
		}
	}
	out.Ended = time.Now()
	out.ExitCode = c.ExitCode()
	if r, err := results.ReadLoadgenJSON(spec.Prefix() + ".json"); err == nil {
		out.JSON = r
	}
	if _, err := os.Stat(spec.Prefix() + "_stats.csv"); err != nil || (out.ExitCode != 0 && out.ExitCode != 1) {
		return out, fmt.Errorf("run %s: loadgen exited with %d (%v); see %s: %s", spec.Name, out.ExitCode, c.Err(), logPath, tail(logPath, 3))
	}
	return out, nil
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
