package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"predictlab/internal/cli"
	"predictlab/internal/loadgenjson"
	"predictlab/loadgen/internal/config"
	"predictlab/loadgen/internal/jsonout"
	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/ratio"
	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/selfcheck"
	"predictlab/loadgen/internal/stats"
	"predictlab/loadgen/internal/users"
	"predictlab/loadgen/internal/webui"
)

// Test is what a whole run (RunHeadless or RunWeb) needs from the command:
// its validated settings, the chosen user classes and where to write.
type Test struct {
	Config  *config.Config
	Classes []users.Class
	// Log is the base logger of Locust's log lines.
	Log zerolog.Logger
	// Stderr receives the console tables and bare lines; Stdout the --json
	// document (and, on a terminal, gives the tables' width).
	Stderr, Stdout io.Writer
	// Version is the version shown where Locust shows its own
	// ("Starting Locust VERSION", the report, --json).
	Version string
	// NewEngine, when set, runs the users elsewhere (loadgen --master's
	// workers); nil runs them in this process.
	NewEngine EngineFunc
	// Workers, when set, lists a master's workers for the web UI.
	Workers func() []webui.Worker
	// PercentileSource, when set (a master), says where the percentiles
	// come from (report.PercentilesExact or report.PercentilesBuckets), for
	// the HTML report and --json; called once the test has ended.
	PercentileSource func() string
	// SelfCheck, when set (a master), turns the master process's own
	// self-check into the run's: the worst worker's verdict and the
	// workers' timeline, since the master process sends no requests;
	// called once the test has ended, and by the web UI while it runs.
	SelfCheck func(own loadgenjson.SelfCheck) loadgenjson.SelfCheck
	// BeforeAutostart, when set (a master), runs before --autostart starts
	// the test from the web UI, which is already serving: Locust's master
	// waits there for --expect-workers to be ready. An error other than
	// ctx's ends the run with it.
	BeforeAutostart func(ctx context.Context) error
}

// failed is the error of a run that could not start or finish for a reason
// already logged: Locust's exit code 1, no further line.
func failed() error { return cli.Exit(1, nil) }

// exitFor is the error of a run that finished with the results' exit code.
func exitFor(code int) error {
	if code == 0 {
		return nil
	}
	return cli.Exit(code, nil)
}

// newTest returns the statistics and self-check monitor of a headless or web
// run, and the session options that use them (OnTimeLimit left to the caller).
func newTest(t *Test) (*stats.Stats, *selfcheck.Monitor, Options) {
	st := stats.New(time.Now)
	mon := selfcheck.New(time.Now(), nil, func(msg string) { t.Log.Warn().Msg(msg) },
		func(msg string) { t.Log.Info().Msg(msg) })
	return st, mon, Options{
		Classes: t.Classes, StopTimeout: t.Config.StopTimeout, RequestTimeout: t.Config.RequestTimeout, ResetStats: t.Config.ResetStats,
		Stats: st, Monitor: mon, Log: t.Log, Seed: uint64(time.Now().UnixNano()),
		ConnBudget: ConnBudget(), NewEngine: t.NewEngine,
	}
}

// ConnBudget is the number of connections kept open before users park idle
// ones: the file descriptor limit minus a reserve.
func ConnBudget() int64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil || lim.Cur == 0 {
		return 0
	}
	return max(int64(lim.Cur)*9/10-64, 64)
}

// logSignal logs Locust's "Got SIGINT signal" when a signal stopped the run.
func logSignal(ctx context.Context, mainLog zerolog.Logger) {
	if sig := cli.Signal(ctx); sig != nil {
		mainLog.Info().Msgf("Got %s signal", SignalName(sig))
	}
}

// SignalName is the C name of a signal ("SIGINT"), as Python's
// signal.Signals names it in Locust's log.
func SignalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

// result is everything the final outputs need.
type result struct {
	cfg        *config.Config
	snap       *stats.Snapshot
	selfCheck  loadgenjson.SelfCheck
	start, end time.Time
	exitCode   int
	classes    []string
	version    string
	// percentiles is report.Info.PercentileSource, for --json.
	percentiles string
}

// finish writes the outputs of a test that ran from start to end, once the
// session's tick loop has ended: the CSV files, the --html report, the final
// tables, with logSelfCheck the self-check summary, then the --json document.
// Each is written whatever happened to the others. It returns the exit code
// the results call for (cfg.ExitCodeOnError if any request failed or a user
// raised) and the errors writing the CSV, HTML or JSON output. A --json
// reader that went away (a closed pipe) is only logged: the files are
// complete, and nobody is left to read the document.
func finish(t *Test, st *stats.Stats, mon *selfcheck.Monitor, out *outputs, info report.Info,
	classes []string, start, end time.Time, logSelfCheck bool) (int, error) {
	cfg := t.Config
	mainLog := locustlog.Named(t.Log, "locust.main")
	snap := st.Tick(end, 0)
	check := mon.Report()
	if t.SelfCheck != nil {
		check = t.SelfCheck(check)
	}
	code := 0
	if snap.Total.NumFailures > 0 || len(snap.Exceptions) > 0 {
		code = cfg.ExitCodeOnError
	}
	res := &result{cfg: cfg, snap: snap, selfCheck: check, start: start, end: end, exitCode: code,
		classes: classes, version: t.Version, percentiles: info.PercentileSource}
	ferr := out.final(res)
	if ferr != nil {
		mainLog.Error().Msg(ferr.Error())
	}
	if err := writeHTMLReport(cfg, snap, check, info, mainLog); err != nil {
		mainLog.Error().Msg(err.Error())
		ferr = errors.Join(ferr, err)
	}
	mainLog.Info().Msgf("Shutting down (exit code %d)", code)
	out.finalTables(res)
	if logSelfCheck {
		scLog := locustlog.Named(t.Log, "loadgen.selfcheck")
		if check.Valid {
			scLog.Info().Msg(check.Summary())
		} else {
			scLog.Warn().Msg(check.Summary())
		}
	}
	if err := out.json(res); errors.Is(err, syscall.EPIPE) {
		mainLog.Warn().Msg("--json: stdout is closed (its reader went away); the document was not printed")
	} else if err != nil {
		ferr = errors.Join(ferr, err)
	}
	if ferr != nil {
		return code, fmt.Errorf("write results: %w", ferr)
	}
	return code, nil
}

// WarnNoTasks logs Locust's warning for each class without tasks, with or
// without -T/-E filtering (Locust always filters, so always warns).
func WarnNoTasks(logger zerolog.Logger, classes []users.Class) {
	for _, c := range classes {
		if len(c.Tasks) == 0 {
			logger.Warn().Msgf("%s had no tasks left after filtering, instantiating it will fail!", c.Name)
		}
	}
}

func classNames(cs []users.Class) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// RatioClasses describes classes for package ratio, each task under its
// RatioName.
func RatioClasses(classes []users.Class) []ratio.Class {
	out := make([]ratio.Class, len(classes))
	for i, c := range classes {
		out[i] = ratio.Class{Name: c.Name, Weight: c.Weight}
		for _, t := range c.Tasks {
			out[i].Tasks = append(out[i].Tasks, ratio.Task{Name: t.RatioName(), Weight: t.Weight})
		}
	}
	return out
}

// reportInfo is the run information the HTML report shows.
func reportInfo(t *Test, host string, users int, rate float64, runTime time.Duration, classes []string) report.Info {
	script := ""
	if t.Config.ScenarioFile != "" {
		script = filepath.Base(t.Config.ScenarioFile)
	}
	i := report.Info{Script: script, Host: host, UserClasses: classes, Users: users, SpawnRate: rate,
		RunTime: runTime, Version: t.Version}
	if t.PercentileSource != nil {
		i.PercentileSource = t.PercentileSource()
	}
	return i
}

// writeHTMLReport writes the --html report (if asked) at the end of a run,
// after a run-time limit, Ctrl-C or SIGTERM alike. Like Locust it logs
// "writing html report to file: PATH" and does not create the directory.
func writeHTMLReport(cfg *config.Config, snap *stats.Snapshot, check loadgenjson.SelfCheck, info report.Info, log zerolog.Logger) error {
	if cfg.HTMLFile == "" {
		return nil
	}
	path := report.ExpandPath(cfg.HTMLFile, info.Users, info.SpawnRate, info.RunTime)
	log.Info().Msgf("writing html report to file: %s", path)
	var buf bytes.Buffer
	if err := report.Write(&buf, report.FromSnapshot(snap, info, report.FromSelfCheck(check))); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// writeJSON prints the --json document for a finished run.
func writeJSON(w io.Writer, res *result) error {
	return jsonout.Write(w, res.snap, jsonout.Meta{
		SelfCheck: res.selfCheck,
		Config: loadgenjson.Config{
			Host: res.cfg.Host, Users: res.cfg.Users, SpawnRate: res.cfg.SpawnRate,
			RunTimeS: int64(res.cfg.RunTime / time.Second), UserClasses: res.classes, Version: res.version,
			Tags: res.cfg.Tags, ExcludeTags: res.cfg.ExcludeTags, EqualWeights: res.cfg.EqualWeights,
			RequestTimeoutS: res.cfg.RequestTimeout.Seconds(), ConfigFiles: res.cfg.ConfigFiles,
		},
		StartTime: res.start, EndTime: res.end, ExitCode: res.exitCode, PercentileSource: res.percentiles,
	})
}
