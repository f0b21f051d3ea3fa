package session

import (
	"context"
	"fmt"
	"sync"
	"time"

	"predictlab/internal/loadgenjson"
	"predictlab/loadgen/internal/csvout"
	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/ratio"
	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/stats"
	"predictlab/loadgen/internal/webui"
)

// The web UI drives a Session through webSession and serves csvout's files.
var (
	_ webui.Runner = (*Session)(nil)
	_ webui.Runner = (*webSession)(nil)
	_ webui.CSV    = csvout.Formats{}
)

// webSession is the session as the web UI drives it; it remembers the last
// test's settings and its users at the stop for the report.
type webSession struct {
	*Session

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
	if st := w.State(); st == StateSpawning || st == StateRunning {
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
	case StateStopping, StateStopped:
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

// RunWeb runs t with the web UI (no --headless): the test starts from
// the page (or at once with --autostart) and the process runs until Ctrl-C,
// SIGTERM, or --autoquit seconds after a run-time limit stopped the test.
// The final outputs (CSV, --html, tables, --json) are written at exit.
func RunWeb(ctx context.Context, t Test) error {
	cfg, classes := t.Config, t.Classes
	mainLog := locustlog.Named(t.Log, "locust.main")
	st, mon, opts := newTest(&t)
	out, err := openOutputs(cfg, mainLog, t.Stderr, t.Stdout)
	if err != nil {
		mainLog.Error().Msg(err.Error())
		return failed()
	}

	// The self-check is read by the web handlers while the tick loop updates
	// it: the loop publishes a copy each second.
	var checkMu sync.Mutex
	check := mon.Report()
	// A master's is its workers': the worst one's verdict, their merged
	// timeline (t.SelfCheck).
	currentCheck := func() loadgenjson.SelfCheck {
		checkMu.Lock()
		c := check
		checkMu.Unlock()
		if t.SelfCheck != nil {
			c = t.SelfCheck(c)
		}
		return c
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
	ws.Session = New(opts)

	classNames := classNames(classes)
	rc := RatioClasses(classes)
	info := func() report.Info {
		u, r, h, rt := ws.settings()
		i := reportInfo(&t, h, u, r, rt, classNames)
		i.Ratios = ratio.Compute(rc, ws.reportCounts())
		return i
	}
	fullHistory := ""
	if cfg.CSVPrefix != "" && cfg.CSVFullHistory {
		fullHistory = cfg.CSVPrefix + "_stats_history.csv"
	}
	srv, err := webui.New(webui.Options{
		Host: cfg.WebHost, Port: cfg.WebPort, Auth: cfg.WebAuth, AllowedHosts: cfg.WebAllowedHosts,
		Users: cfg.Users, SpawnRate: cfg.SpawnRate, Target: cfg.Host, RunTime: cfg.RunTime,
		FullHistoryCSV: fullHistory, Version: t.Version,
		Runner: ws, CSV: csvout.Formats{},
		// GET /tasks: Locust's, from the running users (all 0 when none run).
		Ratios: func() ratio.Ratios { return ratio.Compute(rc, ws.ClassCounts()) },
		Report: func(s *stats.Snapshot) *report.Data {
			sc := currentCheck()
			return report.FromSnapshot(s, info(), report.FromSelfCheck(sc))
		},
		Workers: t.Workers,
		Log:     locustlog.Named(t.Log, "locust.web"),
	})
	if err != nil {
		mainLog.Error().Msg(err.Error())
		return failed()
	}
	ln, err := srv.Listen()
	if err != nil {
		mainLog.Error().Msg(err.Error())
		return failed()
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
	mainLog.Info().Msgf("Starting Locust %s", t.Version)

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

	if cfg.Autostart && t.BeforeAutostart != nil {
		if err := t.BeforeAutostart(ctx); err != nil && ctx.Err() == nil {
			stopLoop()
			<-loopDone
			_ = shutdownWeb()
			return err
		}
	}
	if cfg.Autostart && ctx.Err() == nil {
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
		logSignal(ctx, mainLog)
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

	code, err := finish(&t, st, mon, out, info(), classNames, startTime, endTime, false)
	if err != nil {
		return err
	}
	if serveErr != nil {
		return serveErr
	}
	return exitFor(code)
}
