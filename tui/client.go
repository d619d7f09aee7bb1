package tui

import (
	"context"
	"crypto/x509"
	"errors"
	"net/url"
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
}

// Client is the part of a wire connection the dashboard uses. Dial returns
// one; the default dialer wraps wire.Dial.
type Client interface {
	// Hello is the agent's handshake reply (synthesised for agents that
	// speak only the command dialect).
	Hello() *wire.Hello
	// Dialect names the dialect in use, e.g. "v2" or "command".
	Dialect() string
	Metrics(ctx context.Context) (*wire.Metrics, error)
	Disks(ctx context.Context) (*wire.Disks, error)
	Processes(ctx context.Context) (*wire.Processes, error)
	ProcessDetail(ctx context.Context, pid uint32) (*wire.ProcessDetail, error)
	Journal(ctx context.Context, pid uint32, lines uint32) (*wire.Journal, error)
	// Signal signals the process pid that started at startTime (Unix
	// seconds, from the process list or detail): the agent refuses a pid
	// that now names another process.
	Signal(ctx context.Context, pid uint32, startTime uint64, signal string) (*wire.SignalResult, error)
	Close() error
}

// DialFunc opens a connection to t.
type DialFunc func(ctx context.Context, t Target) (Client, error)

// Errors a DialFunc returns (wrapped) for refusals that must not be
// retried blindly. The default dialer maps wire's typed errors onto them.
var (
	// ErrAuth: the agent answered HTTP 401 (token missing or wrong).
	ErrAuth = errors.New("token rejected by agent (HTTP 401): pass --token or set it in the profile")
	// ErrPinMismatch: the certificate is not the pinned one.
	ErrPinMismatch = errors.New("certificate fingerprint does not match the pin")
)

// PinMismatchError carries both fingerprints, shown as SSH shows them.
type PinMismatchError struct {
	Want, Got string
}

func (e *PinMismatchError) Error() string {
	return "agent certificate changed: pinned " + e.Want + ", agent presents " + e.Got +
		" (if the agent's certificate was regenerated on purpose, update the pin with `socktop cert` on the agent)"
}

// Is makes errors.Is(err, ErrPinMismatch) true.
func (e *PinMismatchError) Is(target error) bool { return target == ErrPinMismatch }

// Cadence defaults and floors (upstream clamps at 100 and 200 ms).
const (
	DefaultMetricsInterval   = 500 * time.Millisecond
	DefaultProcessesInterval = 2 * time.Second
	DefaultDisksInterval     = 5 * time.Second
	MinMetricsInterval       = 100 * time.Millisecond
	MinProcessesInterval     = 200 * time.Millisecond
	MinDisksInterval         = 200 * time.Millisecond
)

// clampInterval applies the default for 0 and the floor for small values.
func clampInterval(d, def, floor time.Duration) time.Duration {
	switch {
	case d <= 0:
		return def
	case d < floor:
		return floor
	}
	return d
}

func isTLS(u string) bool { return len(u) > 6 && u[:6] == "wss://" }

func urlHasToken(u string) bool {
	p, err := url.Parse(u)
	return err == nil && p.Query().Get("token") != ""
}

func asPin(err error, pe **PinMismatchError) bool { return errors.As(err, pe) }

// fingerprint is the pin of a certificate, as `socktop cert` prints it.
func fingerprint(c *x509.Certificate) string { return wire.Fingerprint(c) }
