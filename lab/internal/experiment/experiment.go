// Package experiment runs one experiment: a loadgen child process against
// one target (or a loadgen master and local loadgen workers speaking
// Locust's master/worker protocol), writing Locust-format files with the
// seed's names, with its progress read from PREFIX_stats_history.csv while
// it runs.
package experiment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// Workers, when above 0, runs the experiment as one loadgen master
	// (--master --expect-workers Workers, listening on
	// MasterHost:MasterPort) and Workers local `loadgen --worker`
	// children. The master writes the same files one process would.
	// 0 = one loadgen process.
	Workers int
	// MasterPort is the master's port for its workers (with Workers > 0).
	MasterPort int
}

// MasterHost is where a distributed experiment's master listens and its
// workers connect: the workers are local, and nothing else should join.
const MasterHost = "127.0.0.1"

// ExpectWorkersMaxWait bounds how long a master waits for its workers to
// register (they are local and usually take well under a second); after
// it the master gives up, exits 1 and the experiment fails.
const ExpectWorkersMaxWait = 60 * time.Second

// MasterListenWait bounds the wait for the master to listen before its
// workers start.
const MasterListenWait = 10 * time.Second

// WorkerExitWait is how long a worker may take to exit after its master
// has (the master's quit reaches it at once); then it is stopped.
const WorkerExitWait = 10 * time.Second

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
	if s.Workers > 0 {
		a = append(a, "--master", "--master-bind-host", MasterHost, "--master-bind-port", strconv.Itoa(s.MasterPort),
			"--expect-workers", strconv.Itoa(s.Workers), "--expect-workers-max-wait", strconv.Itoa(int(ExpectWorkersMaxWait/time.Second)))
	}
	return append(a, "--only-summary", "--json", s.UserClass)
}

// WorkerArgs is a worker's command line (without the program name), for a
// spec with Workers > 0. The worker offers the master's user class only;
// the host, user counts and run time come from the master.
func (s Spec) WorkerArgs() []string {
	return []string{"--worker", "--master-host", MasterHost, "--master-port", strconv.Itoa(s.MasterPort), s.UserClass}
}

// LogPath is the log file of the loadgen child (worker 0 = the single
// process or the master; worker i ≥ 1 = the i-th worker).
func (s Spec) LogPath(worker int) string { return filepath.Join(s.Dir, s.LogName(worker)) }

// LogName is LogPath relative to the run folder.
func (s Spec) LogName(worker int) string {
	if worker == 0 {
		return filepath.Join("logs", s.Name+".loadgen.log")
	}
	return filepath.Join("logs", fmt.Sprintf("%s.worker-%d.log", s.Name, worker))
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
	ExitCode int // loadgen's, or its master's
	Started  time.Time
	Ended    time.Time
	// JSON is loadgen's --json document (nil if it printed none).
	JSON *loadgenjson.Document
	// WorkerExits are the exit codes of a distributed experiment's
	// workers, in order (-1 = killed by a signal; nil for one process).
	WorkerExits []int
}

// Run starts loadgen for spec (with spec.Workers > 0, its master and then
// its workers), calls progress about once a second with the history's
// last row, and waits for it to end. Cancelling ctx stops every child
// (SIGTERM, then SIGKILL). A non-zero exit because requests failed is
// data, not an error; any other failure (no result files, a worker that
// fails while its master runs) is.
func Run(ctx context.Context, sup *proc.Supervisor, spec Spec, progress func(Progress)) (out Outcome, _ error) {
	out = Outcome{Spec: spec, Started: time.Now()}
	stdout, err := os.Create(spec.Prefix() + ".json")
	if err != nil {
		return out, fmt.Errorf("run %s: %w", spec.Name, err)
	}
	defer stdout.Close()
	logPath := spec.LogPath(0)
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
	env := hermeticEnv(os.Environ(), home)
	c, err := sup.StartIn("loadgen "+spec.Name, abs.Loadgen, abs.Args(), home, env, stdout, stderr)
	if err != nil {
		return out, fmt.Errorf("run %s: %w", spec.Name, err)
	}
	if spec.Workers > 0 {
		// A worker that finds no master waits 5 s before it dials again;
		// start them once the master listens. Should it not (it exited,
		// or is slow), they start anyway and the loop below sees why.
		_ = proc.WaitListening(ctx, c, spec.MasterPort, MasterListenWait)
	}
	workers, err := startWorkers(sup, abs, home, env)
	defer func() {
		for _, w := range workers {
			out.WorkerExits = append(out.WorkerExits, w.ExitCode()) // all stopped by now
		}
	}()
	every := append([]*proc.Child{c}, workers...)
	if err != nil {
		stopAll(sup, every)
		return out, fmt.Errorf("run %s: %w", spec.Name, err)
	}
	// A worker that fails while its master runs leaves the master short
	// of its users: the experiment is not the one asked for.
	failed := make(chan *proc.Child, len(workers))
	for _, w := range workers {
		go func() {
			select {
			case <-w.Done():
				if w.ExitCode() != 0 {
					failed <- w
				}
			case <-c.Done():
			}
		}()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	histPath := spec.Prefix() + "_stats_history.csv"
loop:
	for {
		select {
		case <-c.Done():
			break loop
		case w := <-failed:
			stopAll(sup, every)
			i := slices.Index(workers, w) + 1
			return out, fmt.Errorf("run %s: %s exited with %d (%v) while its master ran; see %s: %s", spec.Name, w.Name, w.ExitCode(), w.Err(), abs.LogPath(i), tail(abs.LogPath(i), 3))
		case <-ctx.Done():
			stopAll(sup, every)
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
	_, statErr := os.Stat(spec.Prefix() + "_stats.csv")
	ok := statErr == nil && (out.ExitCode == 0 || out.ExitCode == 1)
	if ok {
		// The master told its workers to quit before it wrote its files;
		// they are exiting already.
		waitAll(workers, WorkerExitWait)
	}
	stopAll(sup, workers)
	if !ok {
		return out, fmt.Errorf("run %s: loadgen exited with %d (%v); see %s: %s", spec.Name, out.ExitCode, c.Err(), logPath, tail(logPath, 3))
	}
	return out, nil
}

// startWorkers starts spec.Workers worker children, each logging to its
// own file. On error it returns the ones it started.
func startWorkers(sup *proc.Supervisor, spec Spec, home string, env []string) ([]*proc.Child, error) {
	var ws []*proc.Child
	for i := 1; i <= spec.Workers; i++ {
		f, err := os.Create(spec.LogPath(i))
		if err != nil {
			return ws, err
		}
		w, err := sup.StartIn(fmt.Sprintf("loadgen %s worker %d", spec.Name, i), spec.Loadgen, spec.WorkerArgs(), home, env, f, f)
		f.Close() // the child holds its own descriptor
		if err != nil {
			return ws, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// waitAll waits until every child has exited, for at most limit in all.
func waitAll(cs []*proc.Child, limit time.Duration) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for _, c := range cs {
		select {
		case <-c.Done():
		case <-t.C:
			return
		}
	}
}

// stopAll stops the children concurrently and waits for them all.
func stopAll(sup *proc.Supervisor, cs []*proc.Child) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sup.Stop(c)
		}()
	}
	wg.Wait()
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
