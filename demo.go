package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/tui"
)

// demo wires an in-process agent to the dashboard over a real loopback
// WebSocket: the same code paths as `socktop connect`, with no network.
func demo(args []string) int {
	fs := flag.NewFlagSet("socktop demo", flag.ContinueOnError)
	ascii := fs.Bool("ascii", false, "draw without braille and box characters")
	signals := fs.Bool("allow-signals", false, "let the dashboard send signals (k) to this machine's processes")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: socktop demo [flags]

Runs an agent and the dashboard in one process: the agent listens on a
loopback port, the dashboard connects to it over a real WebSocket and shows
this machine. Works without any network. q quits both.

Examples:
  socktop demo
  socktop demo --ascii

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg := agent.DefaultConfig()
	cfg.Version = version
	cfg.AllowSignals = *signals // loopback only, so no token is needed
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) // the screen is the dashboard's
	a, err := agent.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "socktop demo:", err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "socktop demo: listen on loopback:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()

	err = tui.Run(ctx, tui.Options{
		Target:  tui.Target{Label: "demo", URL: "ws://" + ln.Addr().String() + "/ws"},
		Version: version, Demo: true, ASCII: *ascii,
	})
	stop()
	<-served
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "socktop demo:", err)
		return 1
	}
	return 0
}
