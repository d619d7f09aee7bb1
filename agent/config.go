package agent

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is everything an Agent is started with. Zero values mean the
// defaults documented on each field.
type Config struct {
	// Version is the agent's version, reported in Hello.
	Version string
	// Token, when set, must accompany every /ws and /metrics request.
	Token string
	// ProcRoot and SysRoot are /proc and /sys by default.
	ProcRoot, SysRoot string
	// TTLs of the shared caches; 0 means no caching. Negative means the default.
	MetricsTTL, ProcessesTTL, DisksTTL, ConnectionsTTL time.Duration
	// GPU and Temps switch those collectors off when false
	// (SOCKTOP_AGENT_GPU=0, SOCKTOP_AGENT_TEMP=0).
	GPU, Temps bool
	// MaxClients caps concurrent WebSocket connections (default 512); more
	// are answered with HTTP 503. The agent holds at most MaxClients+64 TCP
	// connections of any kind.
	MaxClients int
	// MaxClientsPerPeer caps one peer address's share of MaxClients (an
	// IPv6 peer is its /64); default MaxClients/2.
	MaxClientsPerPeer int
	// AllowedHosts are host names, besides IP addresses, loopback names and
	// this machine's own hostname, that an agent without a token answers to
	// ("*.lan" matches every name under lan). Other Host headers get 421.
	AllowedHosts []string
	// AllowSignals lets clients send TERM, KILL, INT, HUP, STOP and CONT.
	AllowSignals bool
	// RequestsPerSecond and Burst cap each connection's request rate
	// (defaults 20 and 40); excess requests get a rate-limit error.
	RequestsPerSecond float64
	Burst             int
	// PingInterval is how often an idle WebSocket is pinged to detect dead
	// peers (default 45 s; negative disables).
	PingInterval time.Duration
	// Logger receives the agent's log; nil means slog.Default().
	Logger *slog.Logger
}

// Defaults for Config fields left zero.
const (
	DefaultMetricsTTL     = 250 * time.Millisecond
	DefaultProcessesTTL   = 1500 * time.Millisecond
	DefaultDisksTTL       = 1000 * time.Millisecond
	DefaultConnectionsTTL = 1000 * time.Millisecond
	DefaultMaxClients     = 512
	DefaultPort           = 3000
	DefaultTLSPort        = 8443
	// MaxFrame is the largest request frame; a larger one closes the
	// connection with status 1009.
	MaxFrame = 64 << 10
)

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	return Config{
		Version: "dev", ProcRoot: "/proc", SysRoot: "/sys",
		MetricsTTL: DefaultMetricsTTL, ProcessesTTL: DefaultProcessesTTL,
		DisksTTL: DefaultDisksTTL, ConnectionsTTL: DefaultConnectionsTTL,
		GPU: true, Temps: true, MaxClients: DefaultMaxClients,
		RequestsPerSecond: 20, Burst: 40, PingInterval: 45 * time.Second,
	}
}

// serveOptions are the command line's settings that concern listening
// rather than the Agent itself.
type serveOptions struct {
	listen    string
	tls       bool
	logFormat string
}

// parseAgentFlags reads SOCKTOP_* variables, then the command line (flags win).
func parseAgentFlags(args []string, getenv func(string) string, stderr io.Writer) (Config, serveOptions, error) {
	cfg := DefaultConfig()
	var so serveOptions
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

	var port portFlag // unset: 3000, or 8443 with TLS; 0 asks the kernel for a free port
	if v := getenv("SOCKTOP_PORT"); v != "" {
		if err := port.Set(v); err != nil {
			return cfg, so, fmt.Errorf("SOCKTOP_PORT=%q is not a port number", v)
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
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: socktop agent [flags]

Serves this machine's metrics over WebSocket at /ws (all three socktop dialects),
/healthz and Prometheus /metrics. It reads /proc and /sys only when a client asks.

Examples:
  socktop agent                          # ws://0.0.0.0:3000/ws
  socktop agent --tls --token s3cret     # wss://0.0.0.0:8443/ws; clients pin the cert of 'socktop cert'
  socktop agent --listen 127.0.0.1 -p 4000
  socktop agent --allowed-host kitchen.lan   # also answer clients that dial ws://kitchen.lan:3000

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
  SOCKTOP_AGENT_DISKS_TTL_MS (1000), SOCKTOP_AGENT_CONNECTIONS_TTL_MS (1000)
                                      cache lifetimes; 0 disables caching
  SOCKTOP_AGENT_GPU=0, SOCKTOP_AGENT_TEMP=0            skip GPU / temperature collection
  SOCKTOP_AGENT_EXTRA_SANS=pi.lan,10.0.0.5             extra names in a generated certificate
  SOCKTOP_AGENT_ALLOWED_HOSTS=pi.lan,kitchen.lan       as --allowed-host
`)
	}

	cfg.MetricsTTL = envMS("SOCKTOP_AGENT_METRICS_TTL_MS", cfg.MetricsTTL)
	cfg.ProcessesTTL = envMS("SOCKTOP_AGENT_PROCESSES_TTL_MS", cfg.ProcessesTTL)
	cfg.DisksTTL = envMS("SOCKTOP_AGENT_DISKS_TTL_MS", cfg.DisksTTL)
	cfg.ConnectionsTTL = envMS("SOCKTOP_AGENT_CONNECTIONS_TTL_MS", cfg.ConnectionsTTL)
	cfg.GPU = envBool("SOCKTOP_AGENT_GPU", true)
	cfg.Temps = envBool("SOCKTOP_AGENT_TEMP", true)
	if envErr != nil {
		return cfg, so, envErr
	}
	if err := fs.Parse(args); err != nil {
		return cfg, so, err
	}
	if fs.NArg() > 0 {
		return cfg, so, fmt.Errorf("unexpected argument %q (flags only; see socktop agent -h)", fs.Arg(0))
	}
	if so.logFormat != "text" && so.logFormat != "json" {
		return cfg, so, fmt.Errorf("--log-format %q: want text or json", so.logFormat)
	}
	if cfg.MaxClients < 1 {
		return cfg, so, fmt.Errorf("--max-clients %d: want at least 1", cfg.MaxClients)
	}
	if cfg.MaxClientsPerPeer < 0 || cfg.MaxClientsPerPeer > cfg.MaxClients {
		return cfg, so, fmt.Errorf("--max-clients-per-peer %d: want 1 to --max-clients (%d), or 0 for half of it", cfg.MaxClientsPerPeer, cfg.MaxClients)
	}
	for _, h := range allowed {
		if n := normalizeHost(h); n == "" || n == "*" || strings.ContainsAny(h, " /?#@") {
			return cfg, so, fmt.Errorf("--allowed-host %q: want a host name such as kitchen.lan or *.lan (to answer any name, set --token)", h)
		}
	}
	cfg.AllowedHosts = allowed
	if !port.set {
		port.n = DefaultPort
		if so.tls {
			port.n = DefaultTLSPort
		}
	}
	so.listen = listenAddr(so.listen, port.n)
	return cfg, so, nil
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
