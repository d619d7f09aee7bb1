package agent

import (
	"log/slog"
	"time"

	"github.com/socktop/socktop/procfs"
)

// Config is everything an Agent is started with; DefaultConfig returns
// every default, the usual start. A zero field means the default its
// comment names, except where the comment says otherwise: a zero TTL
// caches nothing, and GPU and Temps are off when false.
type Config struct {
	// Version is the agent's version, reported in Hello (default "dev").
	Version string
	// Token, when set, must accompany every /ws and /metrics request.
	Token string
	// ProcRoot and SysRoot are /proc and /sys by default.
	ProcRoot, SysRoot string
	// TTLs of the shared caches: how long one sample serves every client
	// (defaults in DefaultConfig: DefaultMetricsTTL, …). 0 caches nothing:
	// every request collects, though requests at the same moment still
	// share one collection. A negative TTL is refused by New.
	MetricsTTL, ProcessesTTL, DisksTTL, ConnectionsTTL, ContainersTTL time.Duration
	// StaleAfter is how old the previous CPU reading may be for CPU shares
	// to be measured against it (default procfs.DefaultStaleAfter, 5 s);
	// after a longer pause a sample measures a fresh window of
	// procfs.DefaultWindow instead. socktop snapshot --watch raises it
	// above its interval, so that each line's shares cover the interval.
	StaleAfter time.Duration
	// ContainerSockets are the Docker and Podman API sockets asked for
	// container names (GET /containers/json, in the background, never
	// waited for); nil asks Docker's and Podman's usual ones, an empty
	// list none.
	ContainerSockets []string
	// GPU and Temps switch those collectors off when false
	// (SOCKTOP_AGENT_GPU=0, SOCKTOP_AGENT_TEMP=0).
	GPU, Temps bool
	// MaxClients caps concurrent WebSocket connections (default 512 for
	// zero or negative); more
	// are answered with HTTP 503. The agent holds at most MaxClients+64 TCP
	// connections of any kind.
	MaxClients int
	// MaxClientsPerPeer caps one peer address's share of MaxClients (an
	// IPv6 peer is its /64); default MaxClients/2, at most MaxClients.
	MaxClientsPerPeer int
	// AllowedHosts are host names, besides IP addresses, loopback names and
	// this machine's own hostname, that an agent without a token answers to
	// ("*.lan" matches every name under lan). Other Host headers get 421.
	AllowedHosts []string
	// AllowSignals lets clients send TERM, KILL, INT, HUP, STOP and CONT.
	AllowSignals bool
	// RequestsPerSecond and Burst cap each connection's request rate
	// (defaults 20 and 40, for zero or negative values); excess requests
	// get a rate-limit error.
	RequestsPerSecond float64
	Burst             int
	// PingInterval is how often an idle WebSocket is pinged to detect dead
	// peers (default 45 s; negative disables).
	PingInterval time.Duration
	// Logger receives the agent's log; nil means slog.Default().
	Logger *slog.Logger

	// History, when positive, runs the flight recorder (history.go): one
	// sample every HistoryInterval (default DefaultHistoryInterval, at
	// least MinHistoryInterval), kept this long, persisted to HistoryFile
	// ("" keeps it in memory only). 0 records nothing and costs nothing.
	History         time.Duration
	HistoryInterval time.Duration
	HistoryFile     string
}

// Defaults of DefaultConfig.
const (
	DefaultMetricsTTL     = 250 * time.Millisecond
	DefaultProcessesTTL   = 1500 * time.Millisecond
	DefaultDisksTTL       = 1000 * time.Millisecond
	DefaultConnectionsTTL = 1000 * time.Millisecond
	DefaultContainersTTL  = 1000 * time.Millisecond
	DefaultMaxClients     = 512
	// DefaultHistoryInterval and MinHistoryInterval are the flight
	// recorder's interval and its floor.
	DefaultHistoryInterval = 10 * time.Second
	MinHistoryInterval     = time.Second
	// MaxFrame is the largest request frame; a larger one closes the
	// connection with status 1009.
	MaxFrame = 64 << 10
)

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	return Config{
		Version: "dev", ProcRoot: "/proc", SysRoot: "/sys",
		MetricsTTL: DefaultMetricsTTL, ProcessesTTL: DefaultProcessesTTL,
		DisksTTL: DefaultDisksTTL, ConnectionsTTL: DefaultConnectionsTTL, ContainersTTL: DefaultContainersTTL,
		GPU: true, Temps: true, MaxClients: DefaultMaxClients,
		RequestsPerSecond: 20, Burst: 40, PingInterval: 45 * time.Second, StaleAfter: procfs.DefaultStaleAfter,
	}
}
