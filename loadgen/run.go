package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/config"
	"predictlab/loadgen/internal/httpclient"
	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/ratio"
	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/scenario"
	"predictlab/loadgen/internal/selfcheck"
	"predictlab/loadgen/internal/session"
	"predictlab/loadgen/internal/stats"
	"predictlab/loadgen/internal/users"
)

// run is the whole command: parse flags, set up, run the test, write results.
// It returns nil for exit code 0, *exitError for another code already
// explained on stderr, *configError for bad input.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := config.ParseEnv(args, stdout, os.Getenv)
	if errors.Is(err, config.ErrHelp) {
		return nil
	}
	// Locust logs a bad -t once logging is set up and the classes are
	// chosen (main.py), unlike argparse's errors.
	var runTimeErr error
	if errors.Is(err, config.ErrTimespan) && cfg != nil {
		runTimeErr, err = err, nil
	}
	if err != nil {
		return &configError{err}
	}
	if cfg.Version {
		fmt.Fprintf(stdout, "loadgen %s\n", version)
		return nil
	}
	if err := cfg.Validate(); err != nil {
		return &configError{err}
	}
	errw := locustlog.NewWriter(stderr)
	logw := errw
	if cfg.LogFile != "" {
		// As Locust's logging.FileHandler: appended to, created if missing,
		// opened before anything is logged. Only log lines go there: the
		// stats tables and the bare [DEPRECATED] lines stay on stderr.
		f, err := os.OpenFile(cfg.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return &configError{fmt.Errorf("open --logfile: %w", err)}
		}
		defer f.Close()
		logw = locustlog.NewWriter(f)
	}
	logger := locustlog.New(logw, hostname(), locustlog.Levels[cfg.LogLevel], nil)
	mainLog := locustlog.Named(logger, "locust.main")
	fail := func(format string, a ...any) error {
		mainLog.Error().Msgf(format, a...)
		return &exitError{code: 1}
	}
	for _, d := range cfg.Deprecations {
		fmt.Fprintln(errw, d) // Locust writes these bare to stderr, not as log lines
	}

	all, err := loadClasses(cfg, mainLog)
	if err != nil {
		return fail("%s", err)
	}
	if cfg.List {
		fmt.Fprintln(stdout, "Available Users:")
		for _, c := range all {
			fmt.Fprintln(stdout, "    "+c.Name)
		}
		return nil
	}
	if cfg.ShowTaskRatio || cfg.ShowTaskRatioJSON {
		picked, err := users.Pick(all, cfg.UserClasses)
		if err != nil {
			return fail("%s", err)
		}
		return showTaskRatio(cfg, picked, stdout)
	}
	if cfg.EqualWeights {
		all = users.EqualWeights(all)
	}
	classes, err := users.Select(users.FilterTags(all, cfg.Tags, cfg.ExcludeTags), cfg.UserClasses)
	if err != nil {
		if sel, serr := users.Select(all, cfg.UserClasses); serr == nil { // -T/-E left no task to run
			warnNoTasks(logger, users.FilterTags(sel, cfg.Tags, cfg.ExcludeTags))
		}
		return fail("%s", err)
	}
	if runTimeErr != nil {
		return fail("%s", runTimeErr)
	}
	if cfg.Host == "" && (cfg.Headless || cfg.Autostart) { // the web UI's form can give the host
		return fail("You must specify the base host. Either in the host attribute in the User class, or on the command line using the --host option.")
	}
	if cfg.Host != "" {
		if _, err := httpclient.ParseTarget(cfg.Host); err != nil {
			return fail("%s", err)
		}
	}
	if !cfg.Headless {
		warnNoTasks(logger, classes)
		return runWeb(ctx, cfg, classes, logger, errw, stdout)
	}
	return runHeadless(ctx, cfg, classes, logger, errw, stdout)
}

// showTaskRatio prints --show-task-ratio's table (or, with only
// --show-task-ratio-json, the JSON) of classes as Locust 2.12.1 does: class
// ratios from the users of -u split by class weight (one user per unit of
// weight without -u), task ratios from the task weights. Like Locust, which
// prints them before it applies -T/-E (at the test's start) and
// --equal-weights (at init), it shows the classes' own tasks and weights.
func showTaskRatio(cfg *config.Config, classes []users.Class, stdout io.Writer) error {
	n := 0 // Locust's num_users is None unless -u (or LOCUST_USERS, a config file) sets it
	if cfg.UsersSet {
		n = cfg.Users
	}
	rc := ratioClasses(classes)
	r := ratio.Compute(rc, ratio.Distribution(rc, n))
	if cfg.ShowTaskRatio {
		if err := r.WriteText(stdout); err != nil {
			return fmt.Errorf("print task ratio: %w", err)
		}
		return nil
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", r.JSON(ratio.ShowTaskRatioJSON)); err != nil {
		return fmt.Errorf("print task ratio: %w", err)
	}
	return nil
}

// ratioClasses describes classes for package ratio, each task under its
// RatioName.
func ratioClasses(classes []users.Class) []ratio.Class {
	out := make([]ratio.Class, len(classes))
	for i, c := range classes {
		out[i] = ratio.Class{Name: c.Name, Weight: c.Weight}
		for _, t := range c.Tasks {
			out[i].Tasks = append(out[i].Tasks, ratio.Task{Name: t.RatioName(), Weight: t.Weight})
		}
	}
	return out
}

// hostname is the host name shown in log lines, as Locust's <hostname>.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// loadClasses returns the built-in classes, or those of the -f scenario file.
func loadClasses(cfg *config.Config, log zerolog.Logger) ([]users.Class, error) {
	if cfg.ScenarioFile == "" {
		return users.Builtin(), nil
	}
	if strings.HasSuffix(cfg.ScenarioFile, ".py") {
		if filepath.Base(cfg.ScenarioFile) == "benchmark.py" {
			log.Info().Msgf("%s: using the built-in classes of the seed's benchmark.py (loadgen does not run Python)", cfg.ScenarioFile)
			return users.Builtin(), nil
		}
		return nil, fmt.Errorf("%s: loadgen does not run Python locustfiles; describe the users in a YAML scenario file", cfg.ScenarioFile)
	}
	return scenario.Load(cfg.ScenarioFile)
}

// connBudget is the number of connections kept open before users park idle
// ones: the file descriptor limit minus a reserve.
func connBudget() int64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil || lim.Cur == 0 {
		return 0
	}
	return max(int64(lim.Cur)*9/10-64, 64)
}

func runHeadless(ctx context.Context, cfg *config.Config, classes []users.Class, logger zerolog.Logger, errw io.Writer, stdout io.Writer) error {
	mainLog := locustlog.Named(logger, "locust.main")
	st, mon, opts := newTest(cfg, classes, logger)
	out, err := openOutputs(cfg, errw, stdout)
	if err != nil {
		mainLog.Error().Msg(err.Error())
		return &exitError{code: 1}
	}

	limit := make(chan struct{})
	opts.OnTimeLimit = func() { close(limit) }
	sess := session.New(opts)

	if cfg.RunTime > 0 {
		mainLog.Info().Msgf("Run time limit set to %d seconds", int64(cfg.RunTime/time.Second))
	} else {
		mainLog.Info().Msg("No run time limit set, use CTRL+C to interrupt")
	}
	mainLog.Info().Msgf("Starting Locust %s", version)
	startTime := time.Now()

	loopCtx, stopLoop := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	firstTick := make(chan struct{})
	go func() {
		defer close(loopDone)
		sess.Loop(loopCtx, func(n int, snap *stats.Snapshot) {
			out.tick(n, snap)
			if n == 0 {
				close(firstTick)
			}
		})
	}()
	// As in Locust, the first (empty) table and history row come before the
	// ramp starts, and the ramp's batches land just after the 1-s ticks.
	<-firstTick
	warnNoTasks(logger, classes)
	if err := sess.Start(cfg.Users, cfg.SpawnRate, cfg.Host, cfg.RunTime); err != nil {
		stopLoop()
		<-loopDone
		return fmt.Errorf("start test: %w", err)
	}

	select {
	case <-limit:
		mainLog.Info().Msg("--run-time limit reached, shutting down")
	case <-ctx.Done():
		var se *signalError
		if errors.As(context.Cause(ctx), &se) {
			mainLog.Info().Msgf("Got %s signal", sigName(se.sig))
		}
	}
	// The report's "Final ratio" is from the users running when the test
	// stopped (Locust's final_user_classes_count).
	counts := sess.ClassCounts()
	sess.Stop()
	stopLoop()
	<-loopDone
	endTime := time.Now()

	names := classNames(classes)
	info := reportInfo(cfg, cfg.Host, cfg.Users, cfg.SpawnRate, cfg.RunTime, names)
	info.Ratios = ratio.Compute(ratioClasses(classes), counts)
	code, err := finish(cfg, st, mon, out, info, names, startTime, endTime, logger, true)
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// newTest returns the statistics and self-check monitor of a headless or web
// run, and the session options that use them (OnTimeLimit left to the caller).
func newTest(cfg *config.Config, classes []users.Class, logger zerolog.Logger) (*stats.Stats, *selfcheck.Monitor, session.Options) {
	st := stats.New(time.Now)
	mon := selfcheck.New(time.Now(), nil, func(msg string) { logger.Warn().Msg(msg) },
		func(msg string) { logger.Info().Msg(msg) })
	return st, mon, session.Options{
		Classes: classes, StopTimeout: cfg.StopTimeout, ResetStats: cfg.ResetStats,
		Stats: st, Monitor: mon, Log: logger, Seed: uint64(time.Now().UnixNano()),
		ConnBudget: connBudget(),
	}
}

// finish writes the outputs of a test that ran from start to end, once the
// session's tick loop has ended: the CSV files, the --html report, the final
// tables, with logSelfCheck the self-check summary, then the --json document.
// It returns the exit code the results call for (cfg.ExitCodeOnError if any
// request failed or a user raised) and the first error writing them.
func finish(cfg *config.Config, st *stats.Stats, mon *selfcheck.Monitor, out *outputs, info report.Info,
	classes []string, start, end time.Time, logger zerolog.Logger, logSelfCheck bool) (int, error) {
	mainLog := locustlog.Named(logger, "locust.main")
	snap := st.Tick(end, 0)
	check := mon.Report()
	code := 0
	if snap.Total.NumFailures > 0 || len(snap.Exceptions) > 0 {
		code = cfg.ExitCodeOnError
	}
	res := &result{cfg: cfg, snap: snap, selfCheck: check, start: start, end: end, exitCode: code, classes: classes}
	ferr := out.final(res)
	if err := writeHTMLReport(cfg, snap, check, info, mainLog); err != nil && ferr == nil {
		ferr = err
	}
	mainLog.Info().Msgf("Shutting down (exit code %d)", code)
	out.finalTables(res)
	if logSelfCheck {
		scLog := locustlog.Named(logger, "loadgen.selfcheck")
		if check.Valid {
			scLog.Info().Msg(check.Summary())
		} else {
			scLog.Warn().Msg(check.Summary())
		}
	}
	if ferr != nil {
		return code, fmt.Errorf("write results: %w", ferr)
	}
	if err := out.json(res); err != nil {
		return code, fmt.Errorf("write json: %w", err)
	}
	return code, nil
}

// warnNoTasks logs Locust's warning for each class without tasks, with or
// without -T/-E filtering (Locust always filters, so always warns).
func warnNoTasks(logger zerolog.Logger, classes []users.Class) {
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

func sigName(s os.Signal) string {
	switch s.String() {
	case "interrupt":
		return "SIGINT"
	case "terminated":
		return "SIGTERM"
	}
	return s.String()
}

// result is everything the final outputs need.
type result struct {
	cfg        *config.Config
	snap       *stats.Snapshot
	selfCheck  selfcheck.Report
	start, end time.Time
	exitCode   int
	classes    []string
}
