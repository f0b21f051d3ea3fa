// Command lab is predictlab's one-shot reproduction of the seed's four
// experiments: it starts the services, runs loadgen against the blocking
// (sync) and event-loop (async) targets, and writes an explaining report.
//
//	lab run [--profile full|quick|smoke|seed] [--out DIR] ...
//	lab report DIR
//	lab --version
//
// `lab report DIR` rebuilds a finished run's report from its folder. See
// `lab run --help`.
//
// The program is predictlab/lab/command; main is the shared front door
// (predictlab/internal/cli): the first
// SIGINT, SIGTERM or SIGHUP stops the children and writes the partial
// report; a second kills the children at once.
package main

import (
	"predictlab/internal/cli"
	"predictlab/lab/command"
)

func main() { cli.Main("lab", command.Run) }
