package command

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"predictlab/internal/cli"
	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/progress"
	"predictlab/lab/internal/sweep"
)

const sweepUsageHead = `lab sweep — vary one knob of the services and put each target's measured
capacity beside the capacity predicted from its parts (a network of queues).

Usage:
  lab sweep --knob KNOB --values V1,V2,... [--targets sync,async] [--set KNOB=V ...]
            [--profile quick|full] [--out DIR]

At each value it starts the feature store, model and scoring service of one
target (bin/targets), drives loadgen above the predicted capacity, measures the
sustained rate of successful completions, stops the services, and finally writes
DIR/sweep.json, summary.md, index.html, sweep.png and every point's Locust files.

Knobs:
`

func sweepUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, sweepUsageHead)
	fmt.Fprint(w, sweep.KnobHelp())
	fmt.Fprintln(w, "\nProfiles (--profile):")
	for _, t := range sweep.Timings() {
		fmt.Fprintf(w, "  %-6s %s\n", t.Name, t.Summary)
	}
	fmt.Fprintln(w, "\nFlags:")
	fmt.Fprint(w, fs.FlagUsages())
	fmt.Fprintln(w, "\nExamples:\n  lab sweep --knob workers --values 4,8,16,32\n  lab sweep --knob workers --values 8,16 --set model-workers=16\n  lab sweep --knob cpu-cost --values 0,5,10,20")
}

// runSweep is `lab sweep`: parse, validate, run the sweep.
// The second signal (cli.Hurried) kills the children at once.
func runSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("lab sweep", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		knob, values, targets, prof, out, bind, targetsBin, loadgenBin string
		sets                                                           []string
		ports                                                          targetsapi.Ports
		cores                                                          int
	)
	fs.StringVar(&knob, "knob", "", "the knob to vary (see Knobs above)")
	fs.StringVar(&values, "values", "", "its values, comma-separated")
	fs.StringVar(&targets, "targets", "", "targets to measure, comma-separated: sync, async (default: those the knob changes)")
	fs.StringArrayVar(&sets, "set", nil, "fix another knob for the whole sweep, KNOB=VALUE (repeatable)")
	fs.StringVar(&prof, "profile", "quick", "sweep profile: quick or full (see above)")
	fs.StringVar(&out, "out", "", "output folder (default output/sweep-<knob>-<timestamp>)")
	fs.StringVar(&bind, "bind", "127.0.0.1", "address the services listen on")
	seed := targetsapi.SeedPorts()
	fs.IntVar(&ports.SyncModel, "sync-model-port", seed.SyncModel, "sync model service port")
	fs.IntVar(&ports.SyncScoring, "sync-scoring-port", seed.SyncScoring, "sync scoring service port")
	fs.IntVar(&ports.AsyncModel, "async-model-port", seed.AsyncModel, "async model service port")
	fs.IntVar(&ports.AsyncScoring, "async-scoring-port", seed.AsyncScoring, "async scoring service port")
	fs.IntVar(&ports.Store, "store-port", seed.Store, "feature store port")
	fs.IntVar(&cores, "cores", sweep.DefaultCores(), "CPU cores the prediction assumes")
	fs.StringVar(&targetsBin, "targets-bin", "bin/targets", "targets binary")
	fs.StringVar(&loadgenBin, "loadgen-bin", "bin/loadgen", "loadgen binary")
	help := fs.BoolP("help", "h", false, "show this help")
	if done, err := parseCommand(fs, args, "lab sweep", help, sweepUsage, stdout, stderr); done {
		return err
	}
	if knob == "" || values == "" {
		fmt.Fprintln(stderr, "lab sweep: --knob and --values are required (see lab sweep --help)")
		return errUsage
	}
	k, err := sweep.LookupKnob(knob)
	if err != nil {
		return err
	}
	vals, err := k.ParseValues(values)
	if err != nil {
		return err
	}
	cfg := sweep.Config{Knob: k, Values: vals, Targets: k.Targets, Bind: bind, Ports: ports, Cores: cores,
		TargetsBin: findBin(targetsBin, "targets", fs.Changed("targets-bin")), LoadgenBin: findBin(loadgenBin, "loadgen", fs.Changed("loadgen-bin")),
		Version: cli.Version, Command: append([]string{"lab", "sweep"}, args...)}
	if targets != "" {
		cfg.Targets = nil
		for _, t := range strings.Split(targets, ",") {
			if t = strings.TrimSpace(t); t != "" {
				cfg.Targets = append(cfg.Targets, t)
			}
		}
	}
	for _, s := range sets {
		set, err := sweep.ParseSet(s)
		if err != nil {
			return err
		}
		cfg.Sets = append(cfg.Sets, set)
	}
	if cfg.Timing, err = sweep.LookupTiming(prof); err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join("output", "sweep-"+k.Name+"-"+time.Now().Format("20060102-150405"))
	}
	cfg.Out = out
	if err := cfg.Preflight(); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	logf, err := os.Create(filepath.Join(out, "lab.log"))
	if err != nil {
		return fmt.Errorf("create lab log: %w", err)
	}
	defer logf.Close()
	log := zerolog.New(logf).With().Timestamp().Logger()
	tty := false
	if f, ok := stdout.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	pr := progress.New(stdout, tty, 5*time.Second)
	stopNotice := context.AfterFunc(ctx, func() {
		if cli.Interrupted(ctx) {
			fmt.Fprintln(stderr, "\nlab: interrupted; stopping children and writing the partial sweep report (signal again to kill them at once)")
		}
	})
	defer stopNotice()
	_, err = sweep.New(cfg, log, pr).Run(ctx, cli.Hurried(ctx))
	if abs, aerr := filepath.Abs(filepath.Join(out, "index.html")); aerr == nil {
		if _, serr := os.Stat(abs); serr == nil {
			pr.Printf("lab: sweep report: %s (also summary.md, sweep.json, sweep.png)", abs)
		}
	}
	return err
}
