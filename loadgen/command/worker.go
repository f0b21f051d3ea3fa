package command

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"predictlab/internal/cli"
	"predictlab/loadgen/internal/config"
	"predictlab/loadgen/internal/locustlog"
	"predictlab/loadgen/internal/locustrpc"
	"predictlab/loadgen/internal/session"
	"predictlab/loadgen/internal/users"
	"predictlab/loadgen/internal/worker"
)

// exitMinusOne is Locust's sys.exit(-1): --master with --worker, or a worker
// that could not reach its master.
const exitMinusOne = 255

// runWorker is --worker: loadgen joins a Locust 2.12 master at
// --master-host:--master-port and runs the users it is given, until the
// master says quit or a signal stops it. classes are the ones the worker
// offers (all, or those named on the command line); the master's tags
// filter their tasks. A worker prints no stats tables.
func runWorker(ctx context.Context, cfg *config.Config, classes []users.Class, runTimeErr error, logger zerolog.Logger) error {
	mainLog := locustlog.Named(logger, "locust.main")
	if cfg.RunTime > 0 || runTimeErr != nil {
		// Locust checks this once connected; loadgen before, with the same
		// message and exit code.
		mainLog.Error().Msg("--run-time should be specified on the master node, and not on worker nodes")
		return cli.Exit(exitBadInput, nil)
	}
	w := worker.New(worker.Options{
		MasterAddr: locustrpc.Addr(cfg.MasterHost, cfg.MasterPort),
		Classes:    classes,
		Host:       cfg.Host,
		Log:        logger,
		Seed:       uint64(time.Now().UnixNano()),
		ConnBudget: session.ConnBudget(),
	})
	mainLog.Info().Msgf("Starting Locust %s", cli.Version)
	err := w.Run(ctx)
	if errors.Is(err, worker.ErrConnect) {
		mainLog.Error().Msgf("Failed to connect to the Locust master: %s", err)
		return cli.Exit(exitMinusOne, nil)
	}
	if err != nil {
		return err
	}
	mainLog.Info().Msg("Shutting down (exit code 0)")
	return nil
}
