// Package command is the lab program (run, report and sweep; see its main package,
// predictlab/lab): Run is given to cli.Main by lab's own main and by the multi-call
// binary cmd/predictlab. It is a package of its own, not package main, so that one
// binary can hold the three programs.
package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"predictlab/internal/cli"
	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/orchestrate"
	"predictlab/lab/internal/profile"
	"predictlab/lab/internal/progress"
	"predictlab/lab/internal/results"
)

// errUsage is a command-line mistake: exit code 2, the message already
// printed.
var errUsage = cli.Exit(2, nil)

const usageHead = `lab — reproduce the seed's four experiments against a blocking (sync) and an
event-loop (async) ML scoring service, and write an explaining report.

Usage:
  lab run [flags]
  lab report DIR    rebuild DIR's index.html, summary.md and charts from its
                    results.json and CSV files
  lab sweep --knob KNOB --values V1,V2,... [flags]   (see lab sweep --help)

It starts the feature store and four services (bin/targets), waits until each
answers its healthcheck, runs experiments 1–4 for sync (port 5001, ApiSyncUser)
then async (port 8001, ApiAsyncUser) with bin/loadgen, stops every child (also on
Ctrl-C; a second Ctrl-C kills at once) and writes DIR/index.html, summary.md,
results.json, PNG charts and Locust-format files with the seed's names.

Profiles (--profile):
`

func usage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, usageHead)
	fmt.Fprint(w, profile.Help())
	fmt.Fprintln(w, "\nFlags:")
	fmt.Fprint(w, fs.FlagUsages())
	fmt.Fprintln(w, "\nExamples:\n  lab run --profile quick\n  lab run --profile smoke --out /tmp/lab --only sync --experiments 1,2\n  lab run --profile quick --loadgen-workers 2\n  lab run --external --sync-url http://localhost:5001 --async-url http://localhost:8001 \\\n      --sync-workers 8 --async-loops 1 --model-delay 40ms-50ms --fanout 2 --cpu-cost 0s")
}

// Run is the whole lab program (a cli.RunFunc, what main hands to cli.Main): it
// dispatches to a subcommand.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "version") {
		fmt.Fprintln(stdout, cli.VersionLine("lab"))
		return nil
	}
	if len(args) > 0 && args[0] == "report" {
		return runReport(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "sweep" {
		return runSweep(ctx, args[1:], stdout, stderr)
	}
	return runLab(ctx, args, stdout, stderr)
}

// runLab is `lab run`: parse, validate, run the lab. The second signal
// (cli.Hurried) makes the children's shutdown skip its grace period.
func runLab(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("lab run", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		prof, out, exps, bind, syncURL, asyncURL, targetsBin, loadgenBin string
		only                                                             targetsapi.Target
		external                                                         bool
	)
	seed := targetsapi.SeedPorts()
	ports := seed
	fs.StringVar(&prof, "profile", "full", "run profile: "+strings.Join(profile.Names(), ", ")+" (see above)")
	fs.StringVar(&out, "out", "", "output folder (default output/<timestamp>, made unique); it must be empty or new")
	force := fs.Bool("force", false, "write into a non-empty --out folder anyway (files of the same names are replaced, others stay)")
	fs.Var(&only, "only", "run one target only: sync or async")
	fs.StringVar(&exps, "experiments", "1,2,3,4", "experiments to run, comma-separated")
	fs.StringVar(&bind, "bind", "127.0.0.1", "address the services listen on")
	fs.IntVar(&ports.SyncModel, "sync-model-port", seed.SyncModel, "sync model service port")
	fs.IntVar(&ports.SyncScoring, "sync-scoring-port", seed.SyncScoring, "sync scoring service port")
	fs.IntVar(&ports.AsyncModel, "async-model-port", seed.AsyncModel, "async model service port")
	fs.IntVar(&ports.AsyncScoring, "async-scoring-port", seed.AsyncScoring, "async scoring service port")
	fs.IntVar(&ports.Store, "store-port", seed.Store, "feature store port")
	fs.BoolVar(&external, "external", false, "use services already running at --sync-url/--async-url; start and stop nothing")
	fs.StringVar(&syncURL, "sync-url", fmt.Sprintf("http://127.0.0.1:%d", seed.SyncScoring), "sync scoring base URL (with --external)")
	fs.StringVar(&asyncURL, "async-url", fmt.Sprintf("http://127.0.0.1:%d", seed.AsyncScoring), "async scoring base URL (with --external)")
	fs.StringVar(&targetsBin, "targets-bin", "bin/targets", "targets binary")
	fs.StringVar(&loadgenBin, "loadgen-bin", "bin/loadgen", "loadgen binary")
	loadgenWorkers := fs.Int("loadgen-workers", 0, "run each experiment as a loadgen master and `N` local loadgen workers (Locust's master/worker protocol; on one machine this proves the path, it does not add capacity); 0 = one loadgen process")
	// What an external service is made of, as its owner states it: with
	// --external the report predicts from these alone, never from the
	// profile's settings, and says "unknown" for what is not stated.
	syncWorkers := fs.Int("sync-workers", 0, "with --external: the sync scoring service's worker pool size `N` (for W / E[S])")
	asyncLoops := fs.Int("async-loops", 0, "with --external: the async scoring service's number of event loops `N` (for L / c)")
	var modelDelay targetsapi.DelayRange
	fs.Var(&modelDelay, "model-delay", "with --external: the downstream model calls' delay, `MIN-MAX` (e.g. 40ms-50ms) or one duration (for the floors)")
	fanout := fs.Int("fanout", 0, "with --external: model calls per scoring request `N` (for the floors)")
	cpuCost := fs.Duration("cpu-cost", 0, "with --external: the scoring services' CPU time per request `D` (for L / c; 0s states none)")
	help := fs.BoolP("help", "h", false, "show this help")

	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, fs)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	if args[0] != "run" {
		fmt.Fprintf(stderr, "lab: unknown command %q\n", args[0])
		usage(stderr, fs)
		return errUsage
	}
	if done, err := parseCommand(fs, args[1:], "lab run", help, usage, stdout, stderr); done {
		return err
	}
	p, err := profile.Lookup(prof)
	if err != nil {
		return err
	}
	nums, err := parseExperiments(exps)
	if err != nil {
		return err
	}
	defaultOut := out == ""
	if defaultOut {
		out = filepath.Join("output", time.Now().Format("20060102-150405")) // for Validate; made unique below
	} else if err := checkOutDir(out, *force); err != nil {
		return err
	}
	var stated *results.Stated
	if fs.Changed("sync-workers") || fs.Changed("async-loops") || fs.Changed("model-delay") || fs.Changed("fanout") || fs.Changed("cpu-cost") {
		stated = &results.Stated{}
		if fs.Changed("sync-workers") {
			stated.SyncWorkers = syncWorkers
		}
		if fs.Changed("async-loops") {
			stated.AsyncLoops = asyncLoops
		}
		if fs.Changed("model-delay") {
			d := modelDelay.String()
			stated.ModelDelay = &d
		}
		if fs.Changed("fanout") {
			stated.Fanout = fanout
		}
		if fs.Changed("cpu-cost") {
			stated.CPUCost = cpuCost
		}
	}
	cfg := orchestrate.Config{Profile: p, Stated: stated, Out: out, Only: only, Experiments: nums, Bind: bind, Ports: ports,
		External: external, SyncURL: syncURL, AsyncURL: asyncURL,
		TargetsBin: findBin(targetsBin, "targets", fs.Changed("targets-bin")), LoadgenBin: findBin(loadgenBin, "loadgen", fs.Changed("loadgen-bin")),
		LoadgenWorkers: *loadgenWorkers, Version: cli.Version}
	tty := false
	if f, ok := stdout.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	pr := progress.New(stdout, tty, 5*time.Second)
	if err := cfg.Preflight(); err != nil {
		return err
	}
	if defaultOut {
		if out, err = newOutDir("output", time.Now()); err != nil {
			return err
		}
		cfg.Out = out
	} else if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	logf, err := os.Create(filepath.Join(out, "lab.log"))
	if err != nil {
		return fmt.Errorf("create lab log: %w", err)
	}
	defer logf.Close()
	log := zerolog.New(logf).With().Timestamp().Logger()
	r := orchestrate.New(cfg, log, pr)
	log.Info().Str("profile", p.Name).Str("out", out).Msg("lab run")
	stopNotice := context.AfterFunc(ctx, func() {
		if cli.Interrupted(ctx) {
			// Written to stderr, which may be a closed pipe: cli makes
			// that an EPIPE, not a SIGPIPE death.
			fmt.Fprintln(stderr, "\nlab: interrupted; stopping children and writing the partial report (signal again to kill them at once)")
		}
	})
	defer stopNotice()
	_, err = r.Run(ctx, cli.Hurried(ctx))
	abs, _ := filepath.Abs(filepath.Join(out, "index.html"))
	if _, serr := os.Stat(abs); serr == nil {
		pr.Printf("lab: report: %s (also summary.md, results.json)", abs)
	}
	return err
}

// findBin returns name as given when it exists or was set explicitly;
// otherwise the binary of that name next to the lab executable.
func findBin(path, name string, explicit bool) string {
	if explicit {
		return path
	}
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if exe, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(exe), name); p != exe {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return path
}

func parseExperiments(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 4 {
			return nil, fmt.Errorf("parse --experiments: %q is not one of 1,2,3,4", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("parse --experiments: empty list")
	}
	return out, nil
}

// checkOutDir refuses an --out folder that already holds files, unless
// force: another run's files (an earlier run's async CSVs beside a new
// --only sync report) would mix with this run's.
func checkOutDir(dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("check output folder: %w", err)
	case len(entries) > 0 && !force:
		return fmt.Errorf("check output folder: %s is not empty (another run's files would mix with this one's); choose another --out or add --force", dir)
	}
	return nil
}

// newOutDir creates a new run folder under parent named after now
// (YYYYmmdd-HHMMSS), with a suffix -2, -3, ... when that name is taken:
// two labs started in the same second get a folder each. Creating it is
// the claim (os.Mkdir fails on an existing folder), so there is no race.
func newOutDir(parent string, now time.Time) (string, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("create output folder: %w", err)
	}
	base := filepath.Join(parent, now.Format("20060102-150405"))
	for i := 1; i <= 1000; i++ {
		dir := base
		if i > 1 {
			dir = fmt.Sprintf("%s-%d", base, i)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("create output folder: %w", err)
		}
	}
	return "", fmt.Errorf("create output folder: %s and 999 others exist", base)
}

// parseCommand parses a subcommand's flags the same way for every subcommand: a bad
// flag or a stray argument is one line and a usage error, --help prints the usage.
// done says the command should return err at once. help points at the --help flag,
// which Parse sets.
func parseCommand(fs *pflag.FlagSet, args []string, name string, help *bool,
	usage func(io.Writer, *pflag.FlagSet), stdout, stderr io.Writer) (done bool, err error) {
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v (see %s --help)\n", name, err, name)
		return true, errUsage
	}
	if *help {
		usage(stdout, fs)
		return true, nil
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return true, errUsage
	}
	return false, nil
}
