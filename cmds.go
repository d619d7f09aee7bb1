package main

import (
	"context"

	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/tui"
)

// Subcommands that are not built yet stay nil: runCommand then says
// "not available in this build" instead of pretending.
var (
	runAgent    = func(args []string) int { return agent.RunAgent(args, version) }
	runConnect  = func(args []string) int { return tui.RunConnect(args, connectOptions()) }
	runDemo     = demo
	runCert     = agent.RunCert
	runSnapshot = func(args []string) int { return agent.RunSnapshot(args, version) }
)

// connectOptions is what connect needs from main: the version, and for
// the picker's "demo" the same loopback agent as socktop demo.
func connectOptions() tui.ConnectOptions {
	return tui.ConnectOptions{Version: version, DemoAgent: func(ctx context.Context) (string, func(), error) {
		return startLoopbackAgent(ctx, false)
	}}
}
