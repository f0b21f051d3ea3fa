package main

import (
	"io"
	"time"

	"predictlab/loadgen/internal/jsonout"
)

// writeJSON prints the --json document (Contract 2) for a finished run.
func writeJSON(w io.Writer, res *result) error {
	return jsonout.Write(w, res.snap, jsonout.Meta{
		SelfCheck: res.selfCheck,
		Config: jsonout.Config{
			Host: res.cfg.Host, Users: res.cfg.Users, SpawnRate: res.cfg.SpawnRate,
			RunTimeS: int64(res.cfg.RunTime / time.Second), UserClasses: res.classes, Version: version,
			Tags: res.cfg.Tags, ExcludeTags: res.cfg.ExcludeTags, EqualWeights: res.cfg.EqualWeights,
		},
		StartTime: res.start, EndTime: res.end, ExitCode: res.exitCode,
	})
}
