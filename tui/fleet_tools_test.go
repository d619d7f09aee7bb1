package tui

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socktop/socktop/agent"
)

// Helpers for scripts/fleet-cpu.sh and scripts/fleet-capture.sh, which run
// the test binary (go test -c) as separate processes so the client's CPU
// time is measured apart from the agents'. Both skip in an ordinary test
// run.

// fleetToolSeconds is how long a helper runs (SOCKTOP_FLEET_SECONDS), 0
// meaning until it is stopped.
func fleetToolSeconds() time.Duration {
	n, _ := strconv.Atoi(os.Getenv("SOCKTOP_FLEET_SECONDS"))
	return time.Duration(n) * time.Second
}

func fleetToolContext(t *testing.T) context.Context {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	t.Cleanup(stop)
	if d := fleetToolSeconds(); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		t.Cleanup(cancel)
	}
	return ctx
}

// TestFleetToolAgents serves SOCKTOP_FLEET_AGENTS real agents on loopback
// ports in this one process and writes their URLs, one a line, to
// SOCKTOP_FLEET_URLS_FILE; it runs until SIGTERM or SOCKTOP_FLEET_SECONDS.
func TestFleetToolAgents(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SOCKTOP_FLEET_AGENTS"))
	file := os.Getenv("SOCKTOP_FLEET_URLS_FILE")
	if n <= 0 || file == "" {
		t.Skip("a helper for scripts/fleet-cpu.sh: set SOCKTOP_FLEET_AGENTS and SOCKTOP_FLEET_URLS_FILE")
	}
	ctx := fleetToolContext(t)
	var urls []string
	done := make(chan error, n)
	for range n {
		cfg := agent.DefaultConfig()
		cfg.Version = "fleet-helper"
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		a, err := agent.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, "ws://"+ln.Addr().String()+"/ws")
		go func() { done <- a.Serve(ctx, ln) }()
	}
	if err := os.WriteFile(file+".tmp", []byte(strings.Join(urls, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		t.Fatal(err)
	}
	for range n {
		<-done
	}
}

// TestFleetToolClient runs the fleet view on this terminal for the URLs in
// SOCKTOP_FLEET_URLS (space-separated URL or NAME=URL), as `socktop
// connect URL…` does,
// until q, SIGTERM or SOCKTOP_FLEET_SECONDS.
func TestFleetToolClient(t *testing.T) {
	urls := strings.Fields(os.Getenv("SOCKTOP_FLEET_URLS"))
	if len(urls) == 0 {
		t.Skip("a helper for scripts/fleet-cpu.sh: set SOCKTOP_FLEET_URLS")
	}
	var targets []Target
	for _, u := range urls {
		name, url, ok := strings.Cut(u, "=") // NAME=URL names a tile as a profile would
		if !ok {
			name, url = "", u
		}
		targets = append(targets, Target{Label: name, URL: url})
	}
	ctx := fleetToolContext(t)
	if err := RunFleet(ctx, targets, Options{Version: "fleet-helper"}); err != nil {
		t.Fatal(err)
	}
}
