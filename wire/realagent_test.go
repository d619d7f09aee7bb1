package wire_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/socktop/socktop/agent"
)

// realAgent is socktop's own agent serving this machine on a loopback
// port, plain or behind its self-signed TLS certificate as `socktop agent
// --tls` serves it.
type realAgent struct {
	addr string // 127.0.0.1:PORT
	url  string // ws:// or wss://…/ws
	pin  string // with TLS: the certificate's pin
	a    *agent.Agent
}

func startRealAgent(t *testing.T, useTLS bool, edit func(*agent.Config)) *realAgent {
	t.Helper()
	cfg := agent.DefaultConfig()
	cfg.Version = "test"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if edit != nil {
		edit(&cfg)
	}
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &realAgent{addr: ln.Addr().String(), a: a}
	r.url = "ws://" + r.addr + "/ws"
	if useTLS {
		pair, info, err := agent.LoadOrCreateCert(t.TempDir(), nil, cfg.Logger)
		if err != nil {
			t.Fatal(err)
		}
		r.pin, r.url = info.Pin, "wss://"+r.addr+"/ws"
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })
	return r
}

// fakeJournalctl puts a journalctl on PATH that prints n JSON entries and
// records its arguments in the returned file.
func fakeJournalctl(t *testing.T, n int) (argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	var out strings.Builder
	for i := range n {
		out.WriteString(`{"__REALTIME_TIMESTAMP":"17000000000000` + strconv.Itoa(10+i) + `","PRIORITY":"6","MESSAGE":"line ` + strconv.Itoa(i) + `","_PID":"` + strconv.Itoa(os.Getpid()) + "\"}\n")
	}
	data := filepath.Join(dir, "out.json")
	if err := os.WriteFile(data, []byte(out.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\ncat " + data + "\n"
	if err := os.WriteFile(filepath.Join(dir, "journalctl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

// Journal's line count reaches the agent, which asks journalctl for that
// many; 0 leaves the agent's default (100).
func TestJournalLinesReachTheAgent(t *testing.T) {
	args := fakeJournalctl(t, 3)
	ag := startRealAgent(t, false, nil)
	c := dial(t, ag.url, nil)
	for _, c2 := range []struct {
		lines uint32
		flag  string
	}{{2, "--lines=2"}, {0, "--lines=100"}} {
		j, err := c.Journal(ctx(t), uint32(os.Getpid()), c2.lines)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(args)
		if !strings.Contains(string(got), c2.flag+"\n") {
			t.Errorf("Journal(…, %d): journalctl ran with %q, lacking %s", c2.lines, got, c2.flag)
		}
		if len(j.Entries) == 0 || (c2.lines > 0 && len(j.Entries) > int(c2.lines)) {
			t.Errorf("Journal(…, %d): %d entries", c2.lines, len(j.Entries))
		}
	}
}
