package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/socktop/socktop/agent"
)

// Default ports of socktop agent.
const (
	defaultPort    = 3000
	defaultTLSPort = 8443
)

// runAgent is `socktop agent`: it reads the SOCKTOP_* environment and the
// flags, listens, and serves until SIGTERM or SIGINT.
func runAgent(args []string) int {
	cfg, so, code, done := parseAgentArgs(args, os.Getenv, os.Stderr)
	if done {
		return code
	}
	cfg.Version = version
	log := newLogger(so.logFormat, os.Stderr)
	cfg.Logger = log
	procs := agentProcs(os.Getenv("GOMAXPROCS"))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := agent.Listen(ctx, so.listen)
	if err != nil {
		return failure("agent", err)
	}
	defer ln.Close()
	if cfg.AllowSignals && cfg.Token == "" && !loopbackOnly(ln.Addr()) {
		fmt.Fprintf(os.Stderr, "socktop agent: --allow-signals without a token would let anyone who can reach %s kill processes; set --token (or SOCKTOP_TOKEN), or --listen 127.0.0.1\n", ln.Addr())
		return exitUsage
	}
	scheme := "ws"
	if so.tls {
		dir, err := agent.TLSDir()
		if err != nil {
			return failure("agent", err)
		}
		pair, info, err := agent.LoadOrCreateCert(dir, splitList(os.Getenv("SOCKTOP_AGENT_EXTRA_SANS")), log)
		if err != nil {
			return failure("agent", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
		scheme = "wss"
		// The certificate's names are names clients reach this agent by.
		cfg.AllowedHosts = append(cfg.AllowedHosts, info.SANs...)
		log.Info("TLS on", "cert", info.CertPath, "pin", info.Pin, "expires", info.NotAfter.Format(time.DateOnly))
	}
	a, err := agent.New(cfg)
	if err != nil {
		return failure("agent", err)
	}
	defer a.Close()
	attrs := []any{"url", fmt.Sprintf("%s://%s/ws", scheme, ln.Addr()),
		"version", version, "token", cfg.Token != "", "signals", cfg.AllowSignals, "capabilities", strings.Join(a.Capabilities(), ","),
		"procs", procs}
	if cfg.Token == "" {
		// What a client may name this agent by (DNS rebinding guard).
		attrs = append(attrs, "hosts", a.Hosts())
	}
	log.Info("socktop agent listening", attrs...)
	if err := a.Serve(ctx, ln); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "err", err)
		return exitFailure
	}
	log.Info("socktop agent stopped")
	return exitOK
}

// agentProcs runs the agent's goroutines on one thread at a time
// (GOMAXPROCS 1) unless the environment's GOMAXPROCS says otherwise, and
// returns the setting. At a dashboard's cadence the agent works a few
// milliseconds a second; a second P only adds wake-ups: each goroutine
// handed a push or a reply wakes another thread to steal it, which sleeps
// 3 µs first (a timer and a context switch on a VM). Measured at
// upstream's cadence with ~370 processes: 0.22 % of a core subscribed
// against 0.26 %, 0.22 % asking against 0.38 % (README "Performance").
func agentProcs(env string) int {
	if env == "" {
		runtime.GOMAXPROCS(1)
	}
	return runtime.GOMAXPROCS(0)
}

// serveOptions are the command line's settings that concern listening
// rather than the Agent itself.
type serveOptions struct {
	listen    string
	tls       bool
	logFormat string
}

// parseAgentArgs reads SOCKTOP_* variables, then the command line (flags
// win). When done, the command exits with code at once: 0 after -h, 2
// after a usage error, which it has printed to stderr.
func parseAgentArgs(args []string, getenv func(string) string, stderr io.Writer) (cfg agent.Config, so serveOptions, code int, done bool) {
	cfg = agent.DefaultConfig()
	fs := flag.NewFlagSet("socktop agent", flag.ContinueOnError)
	fs.SetOutput(stderr)

	envBool := func(name string, def bool) bool {
		switch strings.ToLower(getenv(name)) {
		case "1", "true", "yes", "on":
			return true
		case "0", "false", "no", "off":
			return false
		}
		return def
	}
	var envErr error
	envMS := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			envErr = errors.Join(envErr, fmt.Errorf("%s=%q: want milliseconds, a whole number ≥ 0", name, v))
			return def
		}
		return time.Duration(n) * time.Millisecond
	}
	// envSockets reads the container-name sockets: unset for the usual
	// ones, "none" for none, else absolute paths.
	envSockets := func(name string) []string {
		v := getenv(name)
		switch {
		case v == "":
			return nil
		case strings.EqualFold(v, "none"):
			return []string{}
		}
		list := splitList(v)
		for _, p := range list {
			if !filepath.IsAbs(p) {
				envErr = errors.Join(envErr, fmt.Errorf("%s: %q is not an absolute path (or say none)", name, p))
			}
		}
		return list
	}

	envSpan := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := parseSpan(v)
		if err != nil {
			envErr = errors.Join(envErr, fmt.Errorf("%s=%q: %v", name, v, err))
			return def
		}
		return d
	}

	var port portFlag // unset: 3000, or 8443 with TLS; 0 asks the kernel for a free port
	if v := getenv("SOCKTOP_PORT"); v != "" {
		if err := port.Set(v); err != nil {
			envErr = fmt.Errorf("SOCKTOP_PORT=%q is not a port number", v)
		}
	}
	fs.Var(&port, "port", "TCP `port`; 0 picks a free one (default 3000, or 8443 with --tls; env SOCKTOP_PORT)")
	fs.Var(&port, "p", "short for --port (`port`)")
	fs.StringVar(&so.listen, "listen", "", "address to listen on, e.g. 127.0.0.1 or 10.0.0.5:3000 (default: all interfaces)")
	so.tls = envBool("SOCKTOP_ENABLE_SSL", false)
	fs.BoolVar(&so.tls, "tls", so.tls, "serve wss:// with the self-signed certificate that socktop cert shows (env SOCKTOP_ENABLE_SSL=1)")
	fs.BoolVar(&so.tls, "enableSSL", so.tls, "upstream spelling of --tls")
	cfg.Token = getenv("SOCKTOP_TOKEN")
	fs.StringVar(&cfg.Token, "token", cfg.Token, "require this token (?token= or Authorization: Bearer) (env SOCKTOP_TOKEN)")
	fs.StringVar(&cfg.ProcRoot, "proc-root", cfg.ProcRoot, "where procfs is mounted (a container may see the host's at /host/proc)")
	fs.StringVar(&cfg.SysRoot, "sys-root", cfg.SysRoot, "where sysfs is mounted")
	fs.IntVar(&cfg.MaxClients, "max-clients", cfg.MaxClients, "most WebSocket clients at once; more get HTTP 503")
	fs.IntVar(&cfg.MaxClientsPerPeer, "max-clients-per-peer", 0, "most WebSocket clients from one address (an IPv6 /64) (default half of --max-clients)")
	allowed := multiFlag(splitList(getenv("SOCKTOP_AGENT_ALLOWED_HOSTS")))
	fs.Var(&allowed, "allowed-host", "without --token, also answer requests for this host `name` (repeatable; *.lan matches names under lan; env SOCKTOP_AGENT_ALLOWED_HOSTS=a,b)")
	fs.BoolVar(&cfg.AllowSignals, "allow-signals", false, "let clients send TERM, KILL, INT, HUP, STOP, CONT to processes this user may signal")
	fs.StringVar(&so.logFormat, "log-format", "text", "log format: text or json")
	history := spanFlag{d: envSpan("SOCKTOP_AGENT_HISTORY", 0)}
	fs.Var(&history, "history", "keep a sample every --history-interval for this `long` (e.g. 24h, 7d; 0 = off; env SOCKTOP_AGENT_HISTORY)")
	every := spanFlag{d: envSpan("SOCKTOP_AGENT_HISTORY_INTERVAL", agent.DefaultHistoryInterval)}
	fs.Var(&every, "history-interval", "the history's `interval`, at least 1s (env SOCKTOP_AGENT_HISTORY_INTERVAL)")
	historyFile := getenv("SOCKTOP_AGENT_HISTORY_FILE")
	fs.StringVar(&historyFile, "history-file", historyFile, "where the history is kept, `PATH` or none for memory only (default $XDG_STATE_HOME/socktop_agent/history.bin, else ~/.local/state/…; env SOCKTOP_AGENT_HISTORY_FILE)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: socktop agent [flags]

Serves this machine's metrics over WebSocket at /ws (all three socktop dialects),
/healthz and Prometheus /metrics. It reads /proc and /sys only when a client asks.

Examples:
  socktop agent                          # ws://0.0.0.0:3000/ws
  socktop agent --tls --token s3cret     # wss://0.0.0.0:8443/ws; clients pin the cert of 'socktop cert'
  socktop agent --listen 127.0.0.1 -p 4000
  socktop agent --allowed-host kitchen.lan   # also answer clients that dial ws://kitchen.lan:3000
  socktop agent --history 24h            # a sample every 10 s, kept a day, in ~/.local/state/socktop_agent/

Without --token the agent answers only requests whose Host header is an IP
address, localhost, this machine's hostname (and NAME.local) or an
--allowed-host name; others get HTTP 421, so a web page cannot reach it by
DNS rebinding. With --token any host name is answered.

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), `
Environment:
  SOCKTOP_PORT, SOCKTOP_TOKEN, SOCKTOP_ENABLE_SSL=1   as the flags above
  SOCKTOP_AGENT_METRICS_TTL_MS (250), SOCKTOP_AGENT_PROCESSES_TTL_MS (1500),
  SOCKTOP_AGENT_DISKS_TTL_MS (1000), SOCKTOP_AGENT_CONNECTIONS_TTL_MS (1000),
  SOCKTOP_AGENT_CONTAINERS_TTL_MS (1000)
                                      cache lifetimes; 0 disables caching
  SOCKTOP_AGENT_CONTAINER_SOCKETS=/run/docker.sock,…   Docker/Podman API sockets asked for
                                      container names (default: Docker's and Podman's usual
                                      ones; "none" asks none)
  SOCKTOP_AGENT_GPU=0, SOCKTOP_AGENT_TEMP=0            skip GPU / temperature collection
  SOCKTOP_AGENT_EXTRA_SANS=pi.lan,10.0.0.5             extra names in a generated certificate
  SOCKTOP_AGENT_ALLOWED_HOSTS=pi.lan,kitchen.lan       as --allowed-host
  SOCKTOP_AGENT_HISTORY, SOCKTOP_AGENT_HISTORY_INTERVAL, SOCKTOP_AGENT_HISTORY_FILE
                                      as --history, --history-interval, --history-file
  GOMAXPROCS=N                        run on up to N cores at once (default 1: the agent's
                                      work is a few ms a second, and more cores only add
                                      wake-ups; the "listening" line says procs=N)

History (--history): the agent records the machine (CPU, memory, load,
network and disk counters, the hottest temperature, the 20 top processes)
every interval, keeps it that long, and appends it to the history file
(mode 0600; a torn or damaged tail is skipped with one log line), so the
dashboard can show what happened while nobody watched. Without --history
the agent runs no timer at all.
`)
	}

	cfg.MetricsTTL = envMS("SOCKTOP_AGENT_METRICS_TTL_MS", cfg.MetricsTTL)
	cfg.ProcessesTTL = envMS("SOCKTOP_AGENT_PROCESSES_TTL_MS", cfg.ProcessesTTL)
	cfg.DisksTTL = envMS("SOCKTOP_AGENT_DISKS_TTL_MS", cfg.DisksTTL)
	cfg.ConnectionsTTL = envMS("SOCKTOP_AGENT_CONNECTIONS_TTL_MS", cfg.ConnectionsTTL)
	cfg.ContainersTTL = envMS("SOCKTOP_AGENT_CONTAINERS_TTL_MS", cfg.ContainersTTL)
	cfg.ContainerSockets = envSockets("SOCKTOP_AGENT_CONTAINER_SOCKETS")
	cfg.GPU = envBool("SOCKTOP_AGENT_GPU", true)
	cfg.Temps = envBool("SOCKTOP_AGENT_TEMP", true)
	if code, done := parseFlags(fs, args); done {
		return cfg, so, code, true
	}
	usage := func(err error) (agent.Config, serveOptions, int, bool) {
		fmt.Fprintln(stderr, "socktop agent:", err)
		return cfg, so, exitUsage, true
	}
	switch {
	case envErr != nil:
		return usage(envErr)
	case fs.NArg() > 0:
		return usage(fmt.Errorf("unexpected argument %q (flags only; see socktop agent -h)", fs.Arg(0)))
	case so.logFormat != "text" && so.logFormat != "json":
		return usage(fmt.Errorf("--log-format %q: want text or json", so.logFormat))
	case cfg.MaxClients < 1:
		return usage(fmt.Errorf("--max-clients %d: want at least 1", cfg.MaxClients))
	case cfg.MaxClientsPerPeer < 0 || cfg.MaxClientsPerPeer > cfg.MaxClients:
		return usage(fmt.Errorf("--max-clients-per-peer %d: want 1 to --max-clients (%d), or 0 for half of it", cfg.MaxClientsPerPeer, cfg.MaxClients))
	}
	for _, h := range allowed {
		if !agent.ValidAllowedHost(h) {
			return usage(fmt.Errorf("--allowed-host %q: want a host name such as kitchen.lan or *.lan (to answer any name, set --token)", h))
		}
	}
	cfg.AllowedHosts = allowed
	cfg.History, cfg.HistoryInterval = history.d, every.d
	if err := agent.CheckHistory(&cfg); err != nil {
		return usage(fmt.Errorf("%s (see --history and --history-interval)", strings.TrimPrefix(err.Error(), "agent: ")))
	}
	switch {
	case cfg.History == 0:
	case historyFile == "none":
		cfg.HistoryFile = ""
	case historyFile != "":
		cfg.HistoryFile = historyFile
	default:
		path, err := agent.DefaultHistoryFile(getenv)
		if err != nil {
			return usage(err)
		}
		cfg.HistoryFile = path
	}
	if !port.set {
		port.n = defaultPort
		if so.tls {
			port.n = defaultTLSPort
		}
	}
	so.listen = listenAddr(so.listen, port.n)
	return cfg, so, exitOK, false
}

// listenAddr joins --listen and --port: an address with its own port keeps it.
func listenAddr(listen string, port int) string {
	if listen == "" {
		return ":" + strconv.Itoa(port)
	}
	if _, _, err := net.SplitHostPort(listen); err == nil {
		return listen
	}
	return net.JoinHostPort(strings.Trim(listen, "[]"), strconv.Itoa(port))
}

// loopbackOnly reports whether a bound listener can only be reached from
// this machine. It looks at the address the kernel bound, never at the
// name it was given: "localhost" in /etc/hosts may name any address.
func loopbackOnly(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// portFlag is a port number that remembers whether it was given.
type portFlag struct {
	n   int
	set bool
}

func (p *portFlag) String() string {
	if p == nil || !p.set {
		return ""
	}
	return strconv.Itoa(p.n)
}

func (p *portFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 65535 {
		return errors.New("want a port number, 0 to 65535")
	}
	p.n, p.set = n, true
	return nil
}

// spanFlag is a duration flag that also takes days ("7d", "1d12h").
type spanFlag struct{ d time.Duration }

func (f *spanFlag) String() string {
	if f == nil {
		return ""
	}
	return f.d.String()
}

func (f *spanFlag) Set(v string) error {
	d, err := parseSpan(v)
	if err == nil {
		f.d = d
	}
	return err
}

// parseSpan is time.ParseDuration with a leading count of days ("7d",
// "1d12h"); "0" is 0.
func parseSpan(v string) (time.Duration, error) {
	days, rest := time.Duration(0), v
	if i := strings.IndexByte(v, 'd'); i > 0 {
		n, err := strconv.ParseUint(v[:i], 10, 16)
		if err != nil {
			return 0, fmt.Errorf("want a duration such as 24h, 7d or 90s")
		}
		days, rest = time.Duration(n)*24*time.Hour, v[i+1:]
		if rest == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(rest)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want a duration such as 24h, 7d or 90s")
	}
	return days + d, nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// splitList splits a comma-separated environment value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
