package command

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"predictlab/internal/targetsapi"
	"predictlab/targets/internal/featurestore"
)

// runFeatureStore is "targets featurestore": the embedded Redis-protocol store.
func runFeatureStore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("featurestore", pflag.ContinueOnError)
	var (
		addr, password string
		lf             logFlags
	)
	fs.StringVar(&addr, "addr", fmt.Sprintf("127.0.0.1:%d", targetsapi.SeedPorts().Store), "listen address HOST:PORT")
	storePasswordFlag(fs, &password)
	lf.register(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	st, err := featurestore.Start(featurestore.Config{Addr: addr, Password: password, Log: log})
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info().Str("service", "featurestore").Str("addr", st.Addr()).Bool("auth", password != "").Msg("listening")
	<-ctx.Done()
	log.Info().Str("service", "featurestore").Msg("stopped")
	return nil
}
