package model

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/socktop/socktop/wire"
)

// Target is one agent to connect to, resolved from a profile, a host or a
// URL.
type Target struct {
	// Label is what the header calls it: the profile name or what the user
	// typed.
	Label string
	// URL is ws://HOST:PORT/ws or wss://…; a ?token= in it is honoured.
	URL   string
	Token string
	// TLSCA is a PEM file holding the agent's certificate; Pin its
	// fingerprint ("sha256:…"). Either makes a wss:// connection trusted.
	TLSCA          string
	Pin            string
	VerifyHostname bool
	// Profile is the profile the target came from ("" for a host or URL
	// typed as such): the pin-mismatch banner names it in the command
	// that updates the pin.
	Profile string
}

// TLS reports whether the target is reached over wss://.
func (t Target) TLS() bool { return strings.HasPrefix(t.URL, "wss://") }

// HasToken reports whether a token is given, as a field or in the URL.
func (t Target) HasToken() bool {
	if t.Token != "" {
		return true
	}
	p, err := url.Parse(t.URL)
	return err == nil && p.Query().Get("token") != ""
}

// RedactURL hides a ?token= so the header never shows it.
func RedactURL(u string) string {
	if i := strings.Index(u, "token="); i >= 0 {
		j := strings.IndexByte(u[i:], '&')
		if j < 0 {
			return u[:i] + "token=…"
		}
		return u[:i] + "token=…" + u[i+j:]
	}
	return u
}

// Client is the part of a wire connection the dashboard uses. A DialFunc
// returns one; WireDial wraps wire.Dial.
type Client interface {
	// Hello is the agent's handshake reply (synthesised for agents that
	// speak only the command dialect).
	Hello() *wire.Hello
	// Dialect names the dialect in use, e.g. "v2" or "command".
	Dialect() string
	Metrics(ctx context.Context) (*wire.Metrics, error)
	Disks(ctx context.Context) (*wire.Disks, error)
	// ProcessesWith lists the processes with the costly fields named in
	// extras (nil: none); agents without wire.CapProcessExtras send none.
	ProcessesWith(ctx context.Context, extras *wire.ProcessExtras) (*wire.Processes, error)
	ProcessDetail(ctx context.Context, pid uint32) (*wire.ProcessDetail, error)
	Journal(ctx context.Context, pid uint32, lines uint32) (*wire.Journal, error)
	// Signal signals the process pid that started at startTime (Unix
	// seconds, from the process list or detail): the agent refuses a pid
	// that now names another process.
	Signal(ctx context.Context, pid uint32, startTime uint64, signal string) (*wire.SignalResult, error)
	Close() error
}

// ConnectionsClient is a Client that can ask for the socket table; the
// wire adapter is one. Test dialers that lack it get no connections.
type ConnectionsClient interface {
	Connections(ctx context.Context) (*wire.Connections, error)
}

// Pinger is a Client that can time a round trip to its agent (a
// WebSocket ping, which every agent answers at once).
type Pinger interface {
	Ping(ctx context.Context) (time.Duration, error)
}

// HistoryClient is a Client that can ask for the agent's recorded samples
// (capability history); the wire adapter and a replay are.
type HistoryClient interface {
	History(ctx context.Context, req *wire.HistoryRequest) (*wire.History, error)
}

// Pusher is a Client whose agent pushes samples (a socktop.v2 agent).
type Pusher interface {
	Pinger
	CanSubscribe() bool
	Subscribe(ctx context.Context, c wire.Cadence) (wire.Cadence, error)
	Pushes() <-chan wire.Push
	Done() <-chan struct{}
	Err() error
}

// DialFunc opens a connection to t. Its errors are wire's (wire.Classify
// tells the refusals that are not retried).
type DialFunc func(ctx context.Context, t Target) (Client, error)

// WireDial is the dialer of the real client: wire.Dial announcing version
// ("dev" when empty) in the v2 Hello.
func WireDial(version string) DialFunc {
	if version == "" {
		version = "dev"
	}
	return func(ctx context.Context, t Target) (Client, error) {
		c, err := wire.Dial(ctx, t.URL, WireOptions(t, version))
		if err != nil {
			return nil, err
		}
		h, err := c.Hello(ctx)
		if err != nil {
			c.Close()
			return nil, err
		}
		return &wireClient{Client: c, hello: h}, nil
	}
}

// WireOptions builds wire's dial options for a target.
func WireOptions(t Target, version string) *wire.Options {
	o := &wire.Options{Token: t.Token, CAFile: t.TLSCA, VerifyHostname: t.VerifyHostname,
		ClientName: "socktop-connect", ClientVersion: version}
	if t.Pin != "" {
		o.Pins = []string{t.Pin}
	}
	return o
}

// wireClient adapts *wire.Client to Client, ConnectionsClient and Pusher.
type wireClient struct {
	*wire.Client
	hello *wire.Hello
}

func (w *wireClient) Hello() *wire.Hello { return w.hello }
func (w *wireClient) Dialect() string    { return w.Client.Dialect().String() }

// Cadence is the request intervals after defaults and floors.
type Cadence struct {
	Metrics, Processes, Disks time.Duration
}

// Cadence defaults and floors (upstream clamps at 100 and 200 ms).
const (
	DefaultMetricsInterval   = 500 * time.Millisecond
	DefaultProcessesInterval = 2 * time.Second
	DefaultDisksInterval     = 5 * time.Second
	MinMetricsInterval       = 100 * time.Millisecond
	MinProcessesInterval     = 200 * time.Millisecond
	MinDisksInterval         = 200 * time.Millisecond
)

// NewCadence applies the defaults to zero intervals and the floors to
// small ones.
func NewCadence(metrics, processes, disks time.Duration) Cadence {
	return Cadence{
		Metrics:   ClampInterval(metrics, DefaultMetricsInterval, MinMetricsInterval),
		Processes: ClampInterval(processes, DefaultProcessesInterval, MinProcessesInterval),
		Disks:     ClampInterval(disks, DefaultDisksInterval, MinDisksInterval),
	}
}

// ClampInterval applies the default for 0 and the floor for small values.
func ClampInterval(d, def, floor time.Duration) time.Duration {
	switch {
	case d <= 0:
		return def
	case d < floor:
		return floor
	}
	return d
}

// StaleAfter is how old the newest sample may get before screens say so.
func (c Cadence) StaleAfter() time.Duration { return max(3*c.Metrics, 2*time.Second) }
