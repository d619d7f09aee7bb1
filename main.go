// Command socktop is a remote system monitor: a tiny agent on the watched
// machine and a terminal dashboard on the operator's laptop, in one binary.
//
// The subcommand is the first argument, or the program's own name when it is
// invoked through a link such as socktop-agent (busybox style).
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Stamped by scripts/build.sh with -ldflags -X; a plain `go build` says dev.
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

// command is one subcommand. run receives the arguments after the
// subcommand's name and returns the process exit code (0 ok, 1 failure,
// 2 usage error).
type command struct {
	name    string
	summary string
	example string
	run     func(args []string) int
}

// commands lists every subcommand in the order `socktop --help` shows them.
// Entries whose run is nil are not built into this binary yet.
var commands = []command{
	{"agent", "serve this machine's metrics over WebSocket (run it on the watched machine)",
		"socktop agent --port 3000 --token s3cret", runAgent},
	{"connect", "open the dashboard for one agent, or a fleet of them",
		"socktop connect pi-kitchen    socktop connect wss://10.0.0.5:8443/ws pi-1 pi-2", runConnect},
	{"demo", "run an agent and the dashboard in one process on loopback, offline",
		"socktop demo", runDemo},
	{"cert", "show the agent's TLS certificate and the pin clients need",
		"socktop cert    socktop cert --regen --san pi.lan", runCert},
	{"snapshot", "print one sample (metrics, disks, processes, connections, containers) or an agent's history as JSON",
		"socktop snapshot processes | jq '.processes | length'", runSnapshot},
	{"replay", "open the dashboard on a recording (connect --record) or an agent's history file",
		"socktop replay pi.rec", runReplay},
	{"version", "print version, commit, build date, Go version and platform",
		"socktop version", runVersion},
	{"help", "show this help, or a subcommand's usage",
		"socktop help agent", nil}, // set in init: runHelp reads this table
}

func init() { lookup("help").run = runHelp }

func main() {
	os.Exit(dispatch(os.Args))
}

// dispatch picks the subcommand from the program name (socktop-agent) or the
// first argument, and runs it.
func dispatch(argv []string) int {
	prog := filepath.Base(argv[0])
	if sub, ok := strings.CutPrefix(prog, "socktop-"); ok {
		if c := lookup(sub); c != nil {
			return runCommand(c, argv[1:])
		}
	}
	if len(argv) < 2 {
		usage(os.Stdout)
		return 0
	}
	name, args := argv[1], argv[2:]
	if isHelpFlag(name) {
		usage(os.Stdout)
		return 0
	}
	if name == "-v" || name == "-version" || name == "--version" {
		return runVersion(nil)
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(os.Stderr, "socktop: unknown subcommand %q\n\n", name)
		usage(os.Stderr)
		return 2
	}
	return runCommand(c, args)
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func runCommand(c *command, args []string) int {
	if c.run == nil {
		fmt.Fprintf(os.Stderr, "socktop %s: not available in this build\n", c.name)
		return 1
	}
	return c.run(args)
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `socktop — a remote system monitor: a tiny agent on the machines you watch, a dashboard on yours.

Usage:
  socktop SUBCOMMAND [flags]
  socktop SUBCOMMAND -h     usage of one subcommand

Subcommands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nExamples:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %s\n", c.example)
	}
	fmt.Fprintf(w, `
A link named socktop-agent (or socktop-connect, …) runs that subcommand directly.
`)
}

func runVersion(args []string) int {
	if len(args) > 0 {
		if isHelpFlag(args[0]) {
			fmt.Println("usage: socktop version\n\nPrints version, commit, build date, Go version and GOOS/GOARCH.")
			return 0
		}
		fmt.Fprintln(os.Stderr, "usage: socktop version (it takes no arguments)")
		return 2
	}
	fmt.Printf("socktop %s\ncommit:  %s\nbuilt:   %s\ngo:      %s\nplatform: %s/%s\n",
		version, commit, date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}

func runHelp(args []string) int {
	if len(args) == 0 || isHelpFlag(args[0]) {
		usage(os.Stdout)
		return 0
	}
	c := lookup(args[0])
	if c == nil || c.name == "help" {
		fmt.Fprintf(os.Stderr, "socktop help: unknown subcommand %q\n\n", args[0])
		usage(os.Stderr)
		return 2
	}
	return runCommand(c, []string{"-h"})
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }
