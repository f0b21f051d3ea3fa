// Command targets runs the services the lab measures: the sync (blocking) and async
// (event-loop) scoring and model services, and the feature store.
//
//	targets all                       all five services in one process (Ctrl-C drains and exits 0; a second Ctrl-C exits at once)
//	targets model   --style ... --framework ... --addr HOST:PORT
//	targets scoring --style ... --framework ... --addr HOST:PORT --model-url URL --feature-store URL
//	targets featurestore --addr HOST:PORT
//	targets healthcheck URL           exit 0 iff GET URL answers 200 within 2 s
//
// Run "targets <command> --help" for each command's flags.
//
// Exposure: every service binds 127.0.0.1 unless told otherwise, and answers GET
// /metrics with its internals plus the Go runtime's and the process's metrics
// (memory, open files, goroutines). Bind wider (--addr, --bind) only on
// purpose, and do not publish /metrics beyond the machines that measure. The
// embedded feature store stays on loopback in "targets all" unless
// --store-bind says otherwise; --feature-store-password (or
// $PREDICTLAB_FEATURE_STORE_PASSWORD) makes it require AUTH.
package main

import (
	"predictlab/internal/cli"
	"predictlab/targets/command"
)

// main is the shared front door: the first Ctrl-C/SIGTERM/SIGHUP drains the services
// and exits 0, a second exits at once (130).
func main() {
	command.SetUpProcess()
	cli.Main("targets", command.Run)
}
