package session

import (
	"errors"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"predictlab/loadgen/internal/config"
	"predictlab/loadgen/internal/console"
	"predictlab/loadgen/internal/csvout"
	"predictlab/loadgen/internal/stats"
)

// outputs are the result writers of a run: the console tables on stderr, the
// CSV files and the --json document. tick is called by the session's
// one-second loop goroutine only; final, finalTables and json after it ended.
type outputs struct {
	cfg    *config.Config
	stderr io.Writer
	stdout io.Writer
	width  int
	csv    *csvout.Writer // nil without --csv
	csvErr error          // first failed tick, reported by final
}

// openOutputs opens the CSV files (the directory must exist, as in Locust)
// and works out the console's name column width from stdout, as Locust does.
func openOutputs(cfg *config.Config, stderr, stdout io.Writer) (*outputs, error) {
	o := &outputs{cfg: cfg, stderr: stderr, stdout: stdout, width: console.DefaultNameWidth}
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
		if err := o.csv.Tick(snap); err != nil && o.csvErr == nil {
			o.csvErr = err
		}
	}
	// Locust's run-time timer fires a little early and then kills the users
	// at once, so it never prints the table due at the limit itself.
	atLimit := o.cfg.RunTime > 0 && o.cfg.StopTimeout == 0 && time.Duration(n)*time.Second == o.cfg.RunTime
	if n%2 == 0 && !atLimit && (o.cfg.Headless || o.cfg.PrintStats) && !o.cfg.OnlySummary {
		_ = console.WritePeriodic(o.stderr, snap, o.width)
	}
}

// final writes the complete CSV files from the final snapshot and closes them.
func (o *outputs) final(res *result) error {
	if o.csv == nil {
		return o.csvErr
	}
	err := o.csv.Close(res.snap)
	o.csv = nil
	return errors.Join(o.csvErr, err)
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
