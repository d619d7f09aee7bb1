package main

import (
	"context"

	"github.com/socktop/socktop/tui"
)

// Subcommands that are not built yet stay nil: runCommand then says
// "not available in this build" instead of pretending. agent, cert and
// snapshot are cmd_agent.go, cmd_cert.go and cmd_snapshot.go.
var (
	runConnect = func(args []string) int { return tui.RunConnect(args, connectOptions()) }
	runDemo    = demo
)

// connectOptions is what connect needs from main: the version, and for
// the picker's "demo" the same loopback agent as socktop demo.
func connectOptions() tui.ConnectOptions {
	return tui.ConnectOptions{Version: version, DemoAgent: func(ctx context.Context) (string, func(), error) {
		return startLoopbackAgent(ctx, false)
	}}
}
