package main

// Subcommands that are not built yet stay nil: runCommand then says
// "not available in this build" instead of pretending. agent, cert and
// snapshot are cmd_agent.go, cmd_cert.go and cmd_snapshot.go.
var (
	runConnect = connectCommand
	runDemo    = demo
)
