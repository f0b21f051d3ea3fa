package session

import (
	"context"
	"fmt"
	"time"

	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/ratio"
	"predictlab/loadgen/internal/stats"
)

// RunHeadless runs t as Locust's --headless does: the test starts at once
// and runs until its run-time limit or until ctx is cancelled (Ctrl-C,
// SIGTERM, SIGHUP), then the final outputs are written (CSV, --html, the
// tables, --json).
//
// It returns nil for exit code 0, a *cli.ExitError for another code whose
// reason is already logged (the results' --exit-code-on-error, or 1 when
// the outputs cannot be opened), or an unexpected error.
func RunHeadless(ctx context.Context, t Test) error {
	cfg := t.Config
	mainLog := locustlog.Named(t.Log, "locust.main")
	st, mon, opts := newTest(&t)
	out, err := openOutputs(cfg, mainLog, t.Stderr, t.Stdout)
	if err != nil {
		mainLog.Error().Msg(err.Error())
		return failed()
	}

	limit := make(chan struct{})
	opts.OnTimeLimit = func() { close(limit) }
	sess := New(opts)

	if cfg.RunTime > 0 {
		mainLog.Info().Msgf("Run time limit set to %d seconds", int64(cfg.RunTime/time.Second))
	} else {
		mainLog.Info().Msg("No run time limit set, use CTRL+C to interrupt")
	}
	mainLog.Info().Msgf("Starting Locust %s", t.Version)
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
	WarnNoTasks(t.Log, t.Classes)
	if err := sess.Start(cfg.Users, cfg.SpawnRate, cfg.Host, cfg.RunTime); err != nil {
		stopLoop()
		<-loopDone
		return fmt.Errorf("start test: %w", err)
	}

	select {
	case <-limit:
		mainLog.Info().Msg("--run-time limit reached, shutting down")
	case <-ctx.Done():
		logSignal(ctx, mainLog)
	}
	// The report's "Final ratio" is from the users running when the test
	// stopped (Locust's final_user_classes_count).
	counts := sess.ClassCounts()
	sess.Stop()
	stopLoop()
	<-loopDone
	endTime := time.Now()

	names := classNames(t.Classes)
	info := reportInfo(&t, cfg.Host, cfg.Users, cfg.SpawnRate, cfg.RunTime, names)
	info.Ratios = ratio.Compute(RatioClasses(t.Classes), counts)
	code, err := finish(&t, st, mon, out, info, names, startTime, endTime, true)
	if err != nil {
		return err
	}
	return exitFor(code)
}
