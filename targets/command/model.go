package command

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/pflag"

	"predictlab/internal/targetsapi"
	"predictlab/targets/internal/assemble"
)

// runModel is "targets model": one model service.
func runModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("model", pflag.ContinueOnError)
	var cf serviceFlags
	cf.register(fs, targetsapi.Model)
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
	log, err := cf.log.logger(stderr)
	if err != nil {
		return err
	}
	ln, err := listen("model service", cm.Addr)
	if err != nil {
		return err
	}
	inst, err := assemble.StartModel(assemble.ModelConfig{Common: cm, Delay: cf.s.ModelDelay, Seed: cf.s.Seed}, ln, log)
	if err != nil {
		return err
	}
	return serveOne(ctx, inst, log)
}
