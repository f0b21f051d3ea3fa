package session

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/term"

	"predictlab/loadgen/internal/config"
	"predictlab/loadgen/internal/console"
	"predictlab/loadgen/internal/csvout"
	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/stats"
)

// outputs are the result writers of a run: the console tables on stderr, the
// CSV files and the --json document. tick is called by the session's
// one-second loop goroutine only; final, finalTables and json after it ended.
type outputs struct {
	cfg    *config.Config
	log    zerolog.Logger
	stderr io.Writer
	stdout io.Writer
	width  int
	csv    *csvout.Writer // nil without --csv
	// tickFailing is set while ticks fail to write the CSV files: the
	// failure is logged once, writing goes on each second, and only the
	// final write decides whether the files are complete.
	tickFailing bool
}

// openOutputs opens the CSV files (the directory must exist, as in Locust),
// checks that the --html file's directory exists (so a typo costs nothing
// but a one-line error before the run, not the report after it) and works
// out the console's name column width from stdout, as Locust does.
func openOutputs(cfg *config.Config, log zerolog.Logger, stderr, stdout io.Writer) (*outputs, error) {
	o := &outputs{cfg: cfg, log: log, stderr: stderr, stdout: stdout, width: console.DefaultNameWidth}
	if cfg.HTMLFile != "" {
		dir := filepath.Dir(report.ExpandPath(cfg.HTMLFile, cfg.Users, cfg.SpawnRate, cfg.RunTime))
		if fi, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("html: %w", err)
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("html: %s is not a directory", dir)
		}
	}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			o.width = console.NameWidth(cols, true)
		}
	}
	if cfg.CSVPrefix != "" {
		w, err := csvout.Open(cfg.CSVPrefix, cfg.CSVFullHistory)
		if err != nil {
			return nil, err
		}
		o.csv = w
	}
	return o, nil
}

// tick runs once per second (n counts from 0 at start): CSV files and, every
// 2 s from the start unless --only-summary, the periodic console table.
func (o *outputs) tick(n int, snap *stats.Snapshot) {
	if o.csv != nil {
		err := o.csv.Tick(snap)
		switch {
		case err != nil && !o.tickFailing:
			o.log.Error().Msgf("%s (writing again each second; the files are rewritten at the end)", err)
			o.tickFailing = true
		case err == nil && o.tickFailing:
			o.log.Info().Msg("csv: writing the files works again")
			o.tickFailing = false
		}
	}
	// Locust's run-time timer fires a little early and then kills the users
	// at once, so it never prints the table due at the limit itself.
	atLimit := o.cfg.RunTime > 0 && o.cfg.StopTimeout == 0 && time.Duration(n)*time.Second == o.cfg.RunTime
	if n%2 == 0 && !atLimit && (o.cfg.Headless || o.cfg.PrintStats) && !o.cfg.OnlySummary {
		_ = console.WritePeriodic(o.stderr, snap, o.width)
	}
}

// final writes the complete CSV files from the final snapshot and closes
// them. Only this write's error counts: earlier failed ticks are repaired by
// it.
func (o *outputs) final(res *result) error {
	if o.csv == nil {
		return nil
	}
	err := o.csv.Close(res.snap)
	o.csv = nil
	return err
}

// finalTables prints the final stats table, the percentiles (also from the
// intended start) and the error report.
func (o *outputs) finalTables(res *result) {
	out := console.Final(res.snap, o.width)
	if res.snap.IntendedTotal != nil && res.snap.IntendedTotal.NumRequests > 0 {
		out += console.IntendedPercentileTable(res.snap, o.width)
	}
	_, _ = io.WriteString(o.stderr, out)
}

// json prints the --json document on stdout.
func (o *outputs) json(res *result) error {
	if !o.cfg.JSON {
		return nil
	}
	return writeJSON(o.stdout, res)
}
