package main

// Subcommands that are not built yet stay nil: runCommand then says
// "not available in this build" instead of pretending.
var (
	runAgent    func(args []string) int
	runConnect  func(args []string) int
	runDemo     func(args []string) int
	runCert     func(args []string) int
	runSnapshot func(args []string) int
)
