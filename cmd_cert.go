package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/socktop/socktop/agent"
)

// runCert is `socktop cert`: it shows (creating if needed) the agent's TLS
// certificate and the pin clients need, or replaces it with --regen.
func runCert(args []string) int { return certCommand(args, os.Getenv, os.Stdout, os.Stderr) }

func certCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("socktop cert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	regen := fs.Bool("regen", false, "replace the certificate with a new one (clients must pin the new fingerprint)")
	var sans multiFlag
	fs.Var(&sans, "san", "extra DNS name or IP for a new certificate (repeatable; also SOCKTOP_AGENT_EXTRA_SANS)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: socktop cert [--regen] [--san NAME]…

Shows the agent's TLS certificate: its path, the pin clients take
(socktop connect --pin / profiles' pin), its names and expiry. Creates it if
there is none yet, as 'socktop agent --tls' would.

Examples:
  socktop cert
  socktop cert --regen --san pi-kitchen.lan --san 192.168.1.40

Flags:
`)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "socktop cert: unexpected argument %q (flags only; see socktop cert -h)\n", fs.Arg(0))
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "socktop cert:", err)
		return exitFailure
	}
	dir, err := agent.TLSDir()
	if err != nil {
		return fail(err)
	}
	extra := append(splitList(getenv("SOCKTOP_AGENT_EXTRA_SANS")), sans...)
	var info agent.CertInfo
	warn := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *regen {
		info, err = agent.RegenerateCert(dir, extra, warn)
	} else {
		_, info, err = agent.LoadOrCreateCert(dir, extra, warn)
	}
	if err != nil {
		return fail(err)
	}
	printCert(stdout, info)
	if *regen {
		// the agent read its certificate when it started
		fmt.Fprintf(stdout, "\nA socktop agent that is running still serves the old certificate: restart it\n"+
			"(sudo systemctl restart socktop-agent, or stop and start socktop agent). Clients that pinned\n"+
			"the old one refuse the new one until they pin it: socktop connect --save --profile NAME --pin %s\n", info.Pin)
	}
	return exitOK
}

func printCert(w io.Writer, info agent.CertInfo) {
	state := "existing"
	if info.Generated {
		state = "new"
	}
	fmt.Fprintf(w, "certificate: %s (%s)\nkey:         %s\npin:         %s\nnames:       %s\nexpires:     %s\n",
		info.CertPath, state, info.KeyPath, info.Pin, strings.Join(info.SANs, ", "), info.NotAfter.Format(time.RFC3339))
	fmt.Fprintf(w, "\nOn the laptop: socktop connect --pin %s wss://HOST:8443/ws\n", info.Pin)
}
