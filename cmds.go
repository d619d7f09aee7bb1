package main

import (
	"github.com/socktop/socktop/agent"
)

// Subcommands that are not built yet stay nil: runCommand then says
// "not available in this build" instead of pretending.
var (
	runAgent    = func(args []string) int { return agent.RunAgent(args, version) }
	runConnect  = connectCommand
	runDemo     = demo
	runCert     = agent.RunCert
	runSnapshot = func(args []string) int { return agent.RunSnapshot(args, version) }
)
