package wire

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"time"
)

// State is a step of a Reconnect loop, reported to ReconnectOptions.OnState.
type State uint8

const (
	// StateConnecting: a dial is starting (Event.Attempt counts from 1).
	StateConnecting State = iota + 1
	// StateConnected: Event.Client is ready; the run function gets it.
	StateConnected
	// StateRetrying: the dial or the connection failed with Event.Err;
	// the next attempt starts in Event.Delay.
	StateRetrying
	// StateAuthFailed: the agent refused the token. Not retried: a token
	// does not fix itself. Reconnect returns Event.Err.
	StateAuthFailed
	// StateCertRejected: the certificate did not match the pin, was not
	// trusted, or did not name the host. Not retried; Reconnect returns.
	StateCertRejected
	// StateStopped: the context ended or the run function returned nil.
	StateStopped
	// StateUnresolved: the host name does not exist (the resolver said
	// so: NXDOMAIN, not a timeout). Not retried — a typo does not fix
	// itself — unless this loop has been connected before: a name that
	// resolved once and stops resolving is a network changing (a VPN, a
	// laptop waking up), and is retried like any other failure.
	StateUnresolved
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateRetrying:
		return "retrying"
	case StateAuthFailed:
		return "auth failed"
	case StateCertRejected:
		return "certificate rejected"
	case StateStopped:
		return "stopped"
	case StateUnresolved:
		return "host unknown"
	}
	return "unknown"
}

// Event is one state change of a Reconnect loop.
type Event struct {
	State   State
	Attempt int           // dial attempts since the last connection
	Delay   time.Duration // StateRetrying: wait before the next attempt
	Err     error         // why (StateRetrying, StateAuthFailed, StateCertRejected)
	Client  *Client       // StateConnected
}

// ReconnectOptions tune Reconnect's backoff. Zero values pick the defaults.
type ReconnectOptions struct {
	// MinDelay is the first retry delay (default 500 ms); it doubles per
	// failed attempt up to MaxDelay (default 30 s).
	MinDelay, MaxDelay time.Duration
	// Jitter spreads each delay by ±Jitter of itself (default 0.2), so a
	// fleet of dashboards does not hammer an agent in step.
	Jitter float64
	// OnState receives every state change, synchronously, from the
	// Reconnect goroutine; keep it short.
	OnState func(Event)
}

// Backoff is the wait before reconnect attempt n (1-based): MinDelay,
// doubled per failed attempt up to MaxDelay, spread by ±Jitter of itself
// with r in [-1, 1) (Reconnect draws r at random; 0 is the policy's middle).
// Zero fields take the defaults.
func (o ReconnectOptions) Backoff(n int, r float64) time.Duration {
	o.defaults()
	d := o.MinDelay
	for i := 1; i < n && d < o.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, o.MaxDelay)
	return time.Duration(float64(d) * (1 + o.Jitter*max(min(r, 1), -1)))
}

func (o *ReconnectOptions) defaults() {
	if o.MinDelay <= 0 {
		o.MinDelay = 500 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 30 * time.Second
	}
	if o.MaxDelay < o.MinDelay {
		o.MaxDelay = o.MinDelay
	}
	if o.Jitter <= 0 {
		o.Jitter = 0.2
	}
	o.Jitter = min(o.Jitter, 1)
}

// Classify says how Reconnect treats a failed dial or connection:
// StateAuthFailed for a refused token, StateCertRejected for a certificate
// that is not the pinned one, is not trusted or does not name the host,
// StateUnresolved for a host name the resolver says does not exist (none
// is retried: waiting cannot fix them), StateRetrying for the rest — a
// refused or timed-out connection, a full agent, a resolver that did not
// answer.
func Classify(err error) State {
	var pin *PinMismatchError
	var untrusted *UntrustedCertError
	var host *HostnameError
	var dns *net.DNSError
	switch {
	case errors.Is(err, ErrUnauthorized):
		return StateAuthFailed
	case errors.As(err, &pin), errors.As(err, &untrusted), errors.As(err, &host):
		return StateCertRejected
	case errors.As(err, &dns) && dns.IsNotFound:
		return StateUnresolved
	}
	return StateRetrying
}

// Reconnect keeps a connection to one agent: it dials, hands each
// connected Client to run, and when run returns an error (typically the
// connection ending: ErrClosed) it closes the client, waits with capped
// exponential backoff and jitter, and dials again. Every state change is
// reported to opts.OnState.
//
// It returns nil when run returns nil, ctx's error when ctx ends, and the
// error itself — without retrying — when the agent refuses the token, the
// certificate is rejected or the host name does not exist (one that has
// resolved before in this loop is retried: see StateUnresolved), since
// retrying cannot fix them.
func Reconnect(ctx context.Context, url string, dial *Options, opts ReconnectOptions,
	run func(ctx context.Context, c *Client) error) error {
	opts.defaults()
	report := func(e Event) {
		if opts.OnState != nil {
			opts.OnState(e)
		}
	}
	attempt, connected := 0, false
	for {
		if ctx.Err() != nil {
			report(Event{State: StateStopped, Err: ctx.Err()})
			return ctx.Err()
		}
		attempt++
		report(Event{State: StateConnecting, Attempt: attempt})
		c, err := Dial(ctx, url, dial)
		if err == nil {
			attempt, connected = 0, true
			report(Event{State: StateConnected, Client: c})
			err = run(ctx, c)
			c.Close()
			if err == nil {
				report(Event{State: StateStopped})
				return nil
			}
		}
		if ctx.Err() != nil {
			report(Event{State: StateStopped, Err: ctx.Err()})
			return ctx.Err()
		}
		if st := Classify(err); st != StateRetrying && (st != StateUnresolved || !connected) {
			report(Event{State: st, Attempt: attempt, Err: err})
			return err
		}
		delay := opts.Backoff(max(attempt, 1), rand.Float64()*2-1)
		report(Event{State: StateRetrying, Attempt: attempt, Delay: delay, Err: err})
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			report(Event{State: StateStopped, Err: ctx.Err()})
			return ctx.Err()
		case <-t.C:
		}
	}
}
