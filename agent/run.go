package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// RunAgent is `socktop agent`: it parses args and the SOCKTOP_* environment,
// listens, and serves until SIGTERM or SIGINT. It returns the exit code.
func RunAgent(args []string, version string) int {
	cfg, so, err := parseAgentFlags(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "socktop agent:", err)
		return 2
	}
	cfg.Version = version
	log := newLogger(so.logFormat, os.Stderr)
	cfg.Logger = log

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := listen(ctx, so.listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "socktop agent:", err)
		return 1
	}
	defer ln.Close()
	if cfg.AllowSignals && cfg.Token == "" && !loopbackOnly(ln.Addr()) {
		fmt.Fprintf(os.Stderr, "socktop agent: --allow-signals without a token would let anyone who can reach %s kill processes; set --token (or SOCKTOP_TOKEN), or --listen 127.0.0.1\n", ln.Addr())
		return 2
	}
	scheme := "ws"
	if so.tls {
		dir, err := TLSDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, "socktop agent:", err)
			return 1
		}
		pair, info, err := LoadOrCreateCert(dir, splitList(os.Getenv("SOCKTOP_AGENT_EXTRA_SANS")), log)
		if err != nil {
			fmt.Fprintln(os.Stderr, "socktop agent:", err)
			return 1
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
		scheme = "wss"
		// The certificate's names are names clients reach this agent by.
		cfg.AllowedHosts = append(cfg.AllowedHosts, info.SANs...)
		log.Info("TLS on", "cert", info.CertPath, "pin", info.Pin, "expires", info.NotAfter.Format(time.DateOnly))
	}
	a, err := New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "socktop agent:", err)
		return 1
	}
	attrs := []any{"url", fmt.Sprintf("%s://%s/ws", scheme, ln.Addr()),
		"version", version, "token", cfg.Token != "", "signals", cfg.AllowSignals, "capabilities", strings.Join(a.Capabilities(), ",")}
	if cfg.Token == "" {
		// What a client may name this agent by (DNS rebinding guard).
		attrs = append(attrs, "hosts", a.hosts.String())
	}
	log.Info("socktop agent listening", attrs...)
	if err := a.Serve(ctx, ln); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "err", err)
		return 1
	}
	log.Info("socktop agent stopped")
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// RunCert is `socktop cert`: it shows (creating if needed) the agent's TLS
// certificate and the pin clients need, or replaces it with --regen.
func RunCert(args []string) int {
	fs := flag.NewFlagSet("socktop cert", flag.ContinueOnError)
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
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	dir, err := TLSDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "socktop cert:", err)
		return 1
	}
	extra := append(splitList(os.Getenv("SOCKTOP_AGENT_EXTRA_SANS")), sans...)
	var info CertInfo
	warn := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *regen {
		info, err = RegenerateCert(dir, extra, warn)
	} else {
		_, info, err = LoadOrCreateCert(dir, extra, warn)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "socktop cert:", err)
		return 1
	}
	printCert(os.Stdout, info)
	return 0
}

func printCert(w io.Writer, info CertInfo) {
	state := "existing"
	if info.Generated {
		state = "new"
	}
	fmt.Fprintf(w, "certificate: %s (%s)\nkey:         %s\npin:         %s\nnames:       %s\nexpires:     %s\n",
		info.CertPath, state, info.KeyPath, info.Pin, strings.Join(info.SANs, ", "), info.NotAfter.Format(time.RFC3339))
	fmt.Fprintf(w, "\nOn the laptop: socktop connect --pin %s wss://HOST:8443/ws\n", info.Pin)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// RunSnapshot is `socktop snapshot KIND`: one sample as JSON (the v2
// schema's field names), for scripts.
func RunSnapshot(args []string, version string) int {
	fs := flag.NewFlagSet("socktop snapshot", flag.ContinueOnError)
	procRoot := fs.String("proc-root", "/proc", "where procfs is mounted")
	sysRoot := fs.String("sys-root", "/sys", "where sysfs is mounted")
	watch := fs.Duration("watch", 0, "with connections: print new, changed and CLOSED connections every `interval` until interrupted")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: socktop snapshot [flags] metrics|disks|processes|connections
       socktop snapshot --watch 2s connections

Prints one sample of this machine as JSON, with the field names of the
socktop.v2 schema (64-bit counters are JSON strings, as protobuf's JSON
mapping has them). CPU shares are measured over a short window.

Examples:
  socktop snapshot metrics | jq .cpu_total
  socktop snapshot processes | jq '.processes | length'
  socktop snapshot --watch 1s connections      # one line per new, changed or CLOSED connection

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
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "socktop snapshot: name one kind: metrics, disks, processes or connections")
		return 2
	}
	cfg := DefaultConfig()
	cfg.Version, cfg.ProcRoot, cfg.SysRoot = version, *procRoot, *sysRoot
	cfg.Logger = newLogger("text", io.Discard)
	a, err := New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "socktop snapshot:", err)
		return 1
	}
	if *watch > 0 {
		if fs.Arg(0) != "connections" {
			fmt.Fprintln(os.Stderr, "socktop snapshot: --watch works with connections only")
			return 2
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		if err := a.watchConnections(ctx, os.Stdout, max(*watch, 100*time.Millisecond)); err != nil {
			fmt.Fprintln(os.Stderr, "socktop snapshot:", err)
			return 1
		}
		return 0
	}
	msg, err := a.Snapshot(context.Background(), fs.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "socktop snapshot:", err)
		if errors.Is(err, errUnknownKind) {
			return 2
		}
		return 1
	}
	b, err := snapshotJSON(msg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "socktop snapshot:", err)
		return 1
	}
	os.Stdout.Write(append(b, '\n'))
	return 0
}

var errUnknownKind = errors.New("unknown kind")

// Snapshot collects one sample of the kind named, as served to v2 clients.
func (a *Agent) Snapshot(ctx context.Context, name string) (proto.Message, error) {
	i, ok := a.reg.byName[name]
	if !ok {
		return nil, fmt.Errorf("%q: %w (want %s)", name, errUnknownKind, strings.Join(a.reg.snapshotNames(), ", "))
	}
	r, err := a.get(ctx, i, query{})
	if err != nil {
		return nil, err
	}
	return r.message(), nil
}

// snapshotJSON renders a sample with protobuf's JSON mapping and the schema's
// field names, except that socket addresses (bytes, which that mapping would
// show as base64) are written as IP address text.
func snapshotJSON(msg proto.Message) ([]byte, error) {
	b, err := protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if _, ok := msg.(*wire.Connections); ok {
		var v struct {
			SampledAtMs string           `json:"sampled_at_ms"`
			Connections []map[string]any `json:"connections"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		for _, c := range v.Connections {
			for _, k := range []string{"local_addr", "remote_addr"} {
				if s, ok := c[k].(string); ok {
					raw, _ := base64.StdEncoding.DecodeString(s)
					if ip, ok := netip.AddrFromSlice(raw); ok {
						c[k] = ip.String()
					}
				}
			}
		}
		return json.MarshalIndent(v, "", "  ")
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
