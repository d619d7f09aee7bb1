package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	if code, done := parseFlags(fs, args); done {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	url, stopAgent, err := startLoopbackAgent(ctx, *signals)
	if err != nil {
		return failure("demo", err)
	}
	defer stopAgent()

	err = tui.Run(ctx, tui.Options{
		Target:  tui.Target{Label: "demo", URL: url},
		Version: version, Demo: true, ASCII: *ascii,
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return failure("demo", err)
	}
	return exitOK
}

// startLoopbackAgent serves this machine on a free loopback port until stop
// is called or ctx ends. The dashboard's picker uses it for its demo entry.
func startLoopbackAgent(ctx context.Context, allowSignals bool) (url string, stop func(), err error) {
	cfg := agent.DefaultConfig()
	cfg.Version = version
	cfg.AllowSignals = allowSignals                             // loopback only, so no token is needed
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) // the screen is the dashboard's
	a, err := agent.New(cfg)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen on loopback: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()
	return "ws://" + ln.Addr().String() + "/ws", func() { cancel(); <-served }, nil
}
