package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/config"
	"predictlab/loadgen/internal/report"
	"predictlab/loadgen/internal/selfcheck"
	"predictlab/loadgen/internal/stats"
)

// reportInfo is the run information the HTML report shows.
func reportInfo(cfg *config.Config, host string, users int, rate float64, runTime time.Duration, classes []string) report.Info {
	script := ""
	if cfg.ScenarioFile != "" {
		script = filepath.Base(cfg.ScenarioFile)
	}
	return report.Info{Script: script, Host: host, UserClasses: classes, Users: users, SpawnRate: rate,
		RunTime: runTime, Version: version}
}

// writeHTMLReport writes the --html report (if asked) at the end of a run,
// after a run-time limit, Ctrl-C or SIGTERM alike. Like Locust it logs
// "writing html report to file: PATH" and does not create the directory.
func writeHTMLReport(cfg *config.Config, snap *stats.Snapshot, check selfcheck.Report, info report.Info, log zerolog.Logger) error {
	if cfg.HTMLFile == "" {
		return nil
	}
	path := report.ExpandPath(cfg.HTMLFile, info.Users, info.SpawnRate, info.RunTime)
	log.Info().Msgf("writing html report to file: %s", path)
	var buf bytes.Buffer
	if err := report.Write(&buf, report.FromSnapshot(snap, info, report.FromSelfCheck(check))); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}
