package command

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"predictlab/internal/cli"
	"predictlab/loadgen/internal/config"
	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/locustproto"
	"predictlab/loadgen/internal/master"
	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/session"
	"predictlab/loadgen/internal/stats"
	"predictlab/loadgen/internal/webui"
)

// runMaster is --master: loadgen listens on --master-bind-host:port for
// workers (loadgen's or Locust's), and runs the test headless or from the
// web UI as usual, its users spread over the workers; the console, CSV,
// HTML and --json outputs show the merged statistics.
func runMaster(ctx context.Context, cfg *config.Config, test session.Test, logger zerolog.Logger) error {
	mainLog := locustlog.Named(logger, "locust.main")
	if cfg.ExpectWorkersMaxWait > 0 && cfg.ExpectWorkers == 0 { // Locust's check (its default is 1)
		mainLog.Error().Msg("The --expect-workers-max-wait argument only makes sense when combined with --expect-workers")
		return cli.Exit(exitMinusOne, nil)
	}
	m, err := master.Listen(master.Options{
		BindAddr:          net.JoinHostPort(cfg.MasterBindHost, strconv.Itoa(cfg.MasterBindPort)),
		Classes:           test.Classes,
		Log:               logger,
		EnableRebalancing: cfg.EnableRebalancing,
		QuitOnStop:        cfg.Headless,
		StopTimeout:       cfg.StopTimeout,
		ParsedOptions:     parsedOptions(cfg),
	})
	if err != nil {
		mainLog.Error().Msgf("%s", err)
		return cli.Exit(exitBadInput, nil)
	}
	defer m.Close()
	defer m.Quit() // a web-UI master's workers quit with it
	// Locust's master starts a test by itself (headless, or --autostart from the web UI)
	// only once --expect-workers workers are ready.
	waitForWorkers := func(ctx context.Context) error {
		err := m.WaitForWorkers(ctx, cfg.ExpectWorkers, time.Duration(cfg.ExpectWorkersMaxWait)*time.Second)
		if errors.Is(err, master.ErrGaveUp) {
			mainLog.Error().Msg("Gave up waiting for workers to connect")
			return cli.Exit(exitBadInput, nil)
		}
		return err
	}
	if cfg.Headless {
		if err := waitForWorkers(ctx); err != nil {
			if ctx.Err() != nil {
				return nil // interrupted while waiting
			}
			return err
		}
	} else {
		test.BeforeAutostart = waitForWorkers
	}
	test.NewEngine = func(host string, st *stats.Stats, onSpawned func()) (session.Engine, error) {
		m.SetStats(st)
		m.SetHost(host)
		m.SetOnSpawned(onSpawned)
		return m, nil
	}
	test.Workers = func() []webui.Worker {
		var out []webui.Worker
		for _, w := range m.Workers() {
			n := 0
			for _, c := range w.Users {
				n += int(c)
			}
			out = append(out, webui.Worker{ID: w.ID, State: w.State, UserCount: n, CPUUsage: w.CPU, MemoryUsage: w.Memory})
		}
		return out
	}
	test.SelfCheck = m.SelfCheck
	test.PercentileSource = func() string {
		if m.Exact() {
			return report.PercentilesExact
		}
		return report.PercentilesBuckets
	}
	if !cfg.Headless {
		return session.RunWeb(ctx, test)
	}
	return session.RunHeadless(ctx, test)
}

// parsedOptions is the part of Locust's parsed_options a worker reads
// (tags, exclude_tags, expect_workers), with a few more for the record.
func parsedOptions(cfg *config.Config) locustproto.Map {
	list := func(l []string) any {
		if len(l) == 0 {
			return nil
		}
		return l
	}
	return locustproto.Map{
		{Key: "host", Value: cfg.Host},
		{Key: "num_users", Value: cfg.Users},
		{Key: "spawn_rate", Value: cfg.SpawnRate},
		{Key: "headless", Value: cfg.Headless},
		{Key: "master", Value: true},
		{Key: "expect_workers", Value: cfg.ExpectWorkers},
		{Key: "tags", Value: list(cfg.Tags)},
		{Key: "exclude_tags", Value: list(cfg.ExcludeTags)},
	}
}
