package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"predictlab/internal/cli"
	"predictlab/loadgen/internal/config"
	"predictlab/loadgen/internal/httpclient"
	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/ratio"
	"predictlab/loadgen/internal/scenario"
	"predictlab/loadgen/internal/session"
	"predictlab/loadgen/internal/users"
)

// Run is the whole loadgen program (a cli.RunFunc, what main hands to
// cli.Main): parse flags, set up, choose the mode and run the test. Its
// error carries Locust's exit code (see exitError).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return exitError(runCommand(ctx, args, stdout, stderr))
}

// runCommand returns nil for exit code 0, a *cli.ExitError for another code
// already explained on stderr, *configError for bad input.
func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
		fmt.Fprintln(stdout, cli.VersionLine("loadgen"))
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
		return cli.Exit(exitBadInput, nil)
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
	if cfg.Master && cfg.Worker {
		mainLog.Error().Msg("The --master argument cannot be combined with --worker")
		return cli.Exit(exitMinusOne, nil)
	}
	if cfg.Worker {
		// The master's -T/-E filter the tasks, at each test's start.
		offered, err := users.Select(all, cfg.UserClasses)
		if err != nil {
			return fail("%s", err)
		}
		return runWorker(ctx, cfg, offered, runTimeErr, logger)
	}
	classes, err := users.Select(users.FilterTags(all, cfg.Tags, cfg.ExcludeTags), cfg.UserClasses)
	if err != nil {
		if sel, serr := users.Select(all, cfg.UserClasses); serr == nil { // -T/-E left no task to run
			session.WarnNoTasks(logger, users.FilterTags(sel, cfg.Tags, cfg.ExcludeTags))
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
	test := session.Test{Config: cfg, Classes: classes, Log: logger, Stderr: errw, Stdout: stdout, Version: cli.Version}
	if cfg.Master {
		return runMaster(ctx, cfg, test, logger)
	}
	if !cfg.Headless {
		session.WarnNoTasks(logger, classes)
		return session.RunWeb(ctx, test)
	}
	return session.RunHeadless(ctx, test)
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
	rc := session.RatioClasses(classes)
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
