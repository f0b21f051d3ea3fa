package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/config"
	"predictlab/loadgen/internal/csvout"
	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/ratio"
	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/selfcheck"
	"predictlab/loadgen/internal/session"
	"predictlab/loadgen/internal/stats"
	"predictlab/loadgen/internal/users"
	"predictlab/loadgen/internal/webui"
)

// webSession is the session as the web UI drives it; it remembers the last
// test's settings and its users at the stop for the report.
type webSession struct {
	*session.Session

	mu      sync.Mutex
	users   int
	rate    float64
	runTime time.Duration
	host    string
	final   map[string]int // users per class when the test last stopped
}

// Stop stops the test, first noting the users per class for the report's
// "Final ratio" (Locust's final_user_classes_count).
func (w *webSession) Stop() {
	if st := w.State(); st == session.StateSpawning || st == session.StateRunning {
		counts := w.ClassCounts()
		w.mu.Lock()
		w.final = counts
		w.mu.Unlock()
	}
	w.Session.Stop()
}

// reportCounts are the users per class the report's ratios use: the
// running users, or once the test is stopping or stopped the users at the
// stop (as Locust's report).
func (w *webSession) reportCounts() map[string]int {
	switch w.State() {
	case session.StateStopping, session.StateStopped:
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.final
	}
	return w.ClassCounts()
}

// Start starts or changes the test and records its settings.
func (w *webSession) Start(users int, rate float64, host string, runTime time.Duration) error {
	if err := w.Session.Start(users, rate, host, runTime); err != nil {
		return err
	}
	w.mu.Lock()
	w.users, w.rate, w.host = users, rate, host
	if runTime > 0 {
		w.runTime = runTime
	}
	w.mu.Unlock()
	return nil
}

func (w *webSession) settings() (users int, rate float64, host string, runTime time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.users, w.rate, w.host, w.runTime
}

// runWeb runs loadgen with the web UI (no --headless): the test starts from
// the page (or at once with --autostart) and the process runs until Ctrl-C,
// SIGTERM, or --autoquit seconds after a run-time limit stopped the test.
// The final outputs (CSV, --html, tables, --json) are written at exit.
func runWeb(ctx context.Context, cfg *config.Config, classes []users.Class, logger zerolog.Logger, errw io.Writer, stdout io.Writer) error {
	mainLog := locustlog.Named(logger, "locust.main")
	st, mon, opts := newTest(cfg, classes, logger)
	out, err := openOutputs(cfg, errw, stdout)
	if err != nil {
		mainLog.Error().Msg(err.Error())
		return &exitError{code: 1}
	}

	// The self-check is read by the web handlers while the tick loop updates
	// it: the loop publishes a copy each second.
	var checkMu sync.Mutex
	check := mon.Report()
	currentCheck := func() selfcheck.Report {
		checkMu.Lock()
		defer checkMu.Unlock()
		return check
	}

	quit := make(chan struct{})
	var quitOnce sync.Once
	var timersMu sync.Mutex
	var autoquitTimer *time.Timer
	ws := &webSession{users: cfg.Users, rate: cfg.SpawnRate, host: cfg.Host, runTime: cfg.RunTime}
	opts.OnTimeLimit = func() {
		mainLog.Info().Msg("--run-time limit reached, stopping test")
		ws.Stop()
		if cfg.Autostart && cfg.Autoquit >= 0 {
			timersMu.Lock()
			autoquitTimer = time.AfterFunc(time.Duration(cfg.Autoquit)*time.Second, func() {
				mainLog.Info().Msg("--autoquit time reached, shutting down")
				quitOnce.Do(func() { close(quit) })
			})
			timersMu.Unlock()
		}
	}
	ws.Session = session.New(opts)

	classNames := classNames(classes)
	rc := ratioClasses(classes)
	info := func() report.Info {
		u, r, h, rt := ws.settings()
		i := reportInfo(cfg, h, u, r, rt, classNames)
		i.Ratios = ratio.Compute(rc, ws.reportCounts())
		return i
	}
	fullHistory := ""
	if cfg.CSVPrefix != "" && cfg.CSVFullHistory {
		fullHistory = cfg.CSVPrefix + "_stats_history.csv"
	}
	srv, err := webui.New(webui.Options{
		Host: cfg.WebHost, Port: cfg.WebPort, Auth: cfg.WebAuth,
		Users: cfg.Users, SpawnRate: cfg.SpawnRate, Target: cfg.Host, RunTime: cfg.RunTime,
		FullHistoryCSV: fullHistory, Version: version,
		Runner: ws, CSV: csvout.Formats{},
		// GET /tasks: Locust's, from the running users (all 0 when none run).
		Ratios: func() ratio.Ratios { return ratio.Compute(rc, ws.ClassCounts()) },
		Report: func(s *stats.Snapshot) *report.Data {
			sc := currentCheck()
			return report.FromSnapshot(s, info(), report.FromSelfCheck(sc))
		},
		Log: locustlog.Named(logger, "locust.web"),
	})
	if err != nil {
		mainLog.Error().Msg(err.Error())
		return &exitError{code: 1}
	}
	ln, err := srv.Listen()
	if err != nil {
		mainLog.Error().Msg(err.Error())
		return &exitError{code: 1}
	}
	url := webui.URL(ln)
	if cfg.WebHost == "*" {
		mainLog.Info().Msgf("Starting web interface at %s (accepting connections from all network interfaces)", url)
	} else {
		mainLog.Info().Msgf("Starting web interface at %s", url)
	}
	serveCtx, stopServe := context.WithCancel(context.Background())
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(serveCtx, ln) }()
	mainLog.Info().Msgf("Starting Locust %s", version)

	startTime := time.Now()
	loopCtx, stopLoop := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		ws.Loop(loopCtx, func(n int, snap *stats.Snapshot) {
			checkMu.Lock()
			check = mon.Report()
			checkMu.Unlock()
			out.tick(n, snap) // CSV history; console tables only with --print-stats
		})
	}()
	shutdownWeb := func() error {
		stopServe()
		return <-serveDone
	}

	if cfg.Autostart {
		if cfg.RunTime > 0 {
			mainLog.Info().Msgf("Run time limit set to %d seconds", int64(cfg.RunTime/time.Second))
		}
		if err := ws.Start(cfg.Users, cfg.SpawnRate, cfg.Host, cfg.RunTime); err != nil {
			stopLoop()
			<-loopDone
			_ = shutdownWeb()
			return fmt.Errorf("start test: %w", err)
		}
	}

	var serveErr error
	select {
	case <-ctx.Done():
		var se *signalError
		if errors.As(context.Cause(ctx), &se) {
			mainLog.Info().Msgf("Got %s signal", sigName(se.sig))
		}
	case <-quit:
	case serveErr = <-serveDone:
		serveDone <- serveErr // shutdownWeb reads it again
	}
	timersMu.Lock()
	if autoquitTimer != nil {
		autoquitTimer.Stop()
	}
	timersMu.Unlock()
	ws.Stop()
	stopLoop()
	<-loopDone
	if err := shutdownWeb(); err != nil && serveErr == nil {
		mainLog.Error().Msg(err.Error())
	}
	endTime := time.Now()

	code, err := finish(cfg, st, mon, out, info(), classNames, startTime, endTime, logger, false)
	if err != nil {
		return err
	}
	if serveErr != nil {
		return serveErr
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}
