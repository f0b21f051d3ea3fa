// Command loadgen is a Locust-compatible load generator: Locust's command line,
// console output and CSV files, with built-in user classes from the seed's
// benchmark.py and more from a YAML scenario file (-f). predictlab/loadgen/command
// chooses the mode (headless or web UI); the test's life cycle is in
// predictlab/loadgen/internal/session.
package main

import (
	"predictlab/internal/cli"
	"predictlab/loadgen/command"
)

func main() { cli.Main("loadgen", command.Run) }
