package main

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/pflag"

	"predictlab/targets/internal/service"
)

// runModel is "targets model": one model service.
func runModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("model", pflag.ContinueOnError)
	var (
		cf    commonFlags
		delay string
		seed  uint64
	)
	cf.register(fs)
	delayFlag(fs, &delay)
	fs.Uint64Var(&seed, "seed", 1, "seed of the model delay's random source")
	if err := parseFlags(fs, args, stdout); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	cm, err := cf.common(modelPorts)
	if err != nil {
		return err
	}
	d, err := parseDelay(delay)
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
	inst, err := service.StartModel(service.ModelConfig{Common: cm, Delay: d, Seed: seed}, ln, log)
	if err != nil {
		return err
	}
	return serveOne(ctx, inst, log)
}
