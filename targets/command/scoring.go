package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"predictlab/internal/targetsapi"
	"predictlab/targets/internal/assemble"
	"predictlab/targets/internal/featurestore"
)

// runScoring is "targets scoring": one scoring service.
func runScoring(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("scoring", pflag.ContinueOnError)
	var (
		cf           serviceFlags
		seedFeatures bool
	)
	cf.register(fs, targetsapi.Scoring)
	var storePassword string
	storePasswordFlag(fs, &storePassword)
	fs.BoolVar(&seedFeatures, "seed-features", false, "at start, and again whenever a connection to the store is made, write the sample feature vectors the embedded store holds into the feature store, keeping keys it already has (for an empty Redis, e.g. docker-compose's, also after it restarts)")
	if err := parseFlags(fs, args, stdout); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	cm, err := cf.common()
	if err != nil {
		return err
	}
	modelURL, storeURL := cf.s.ModelURL, cf.s.FeatureStore
	fanout, modelTimeout, storeTimeout := cf.s.Fanout, cf.s.ModelTimeout, cf.s.StoreTimeout
	if modelURL == "" {
		modelURL = fmt.Sprintf("http://127.0.0.1:%d", targetsapi.SeedPorts().Of(cm.Route, targetsapi.Model))
	}
	if fanout < 1 || modelTimeout <= 0 || storeTimeout <= 0 {
		return &usageError{fmt.Errorf("--fanout must be >= 1 and timeouts > 0")}
	}
	log, err := cf.log.logger(stderr)
	if err != nil {
		return err
	}
	cfg := assemble.ScoringConfig{
		Common: cm, ModelURL: modelURL, FeatureStore: storeURL, StorePassword: storePassword, Fanout: fanout,
		ModelTimeout: modelTimeout, StoreTimeout: storeTimeout,
	}
	if err := cfg.WithDefaults().Validate(); err != nil {
		return &usageError{err}
	}
	if seedFeatures {
		if err := seedStore(ctx, storeURL, storePassword, storeTimeout, log); err != nil {
			return err
		}
		cfg.Reseed = featurestore.SeedData()
	}
	ln, err := listen("scoring service", cm.Addr)
	if err != nil {
		return err
	}
	inst, err := assemble.StartScoring(cfg, ln, log)
	if err != nil {
		return err
	}
	return serveOne(ctx, inst, log)
}

// seedStore writes featurestore.SeedData into the store at url (keys it
// already holds are kept).
func seedStore(ctx context.Context, url, password string, timeout time.Duration, log zerolog.Logger) error {
	c, err := featurestore.NewClient(featurestore.ClientConfig{URL: url, Password: password, Timeout: timeout, PoolSize: 1})
	if err != nil {
		return &usageError{err}
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*timeout)
	defer cancel()
	n, err := c.Seed(ctx, featurestore.SeedData())
	if err != nil {
		return fmt.Errorf("feature store %s: %w", redactURL(url), err)
	}
	log.Info().Str("feature_store", redactURL(url)).Int("written", n).Int("kept", len(featurestore.SeedData())-n).Msg("feature vectors seeded")
	return nil
}
