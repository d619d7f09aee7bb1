package model

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/socktop/socktop/wire"
)

// Phase is where a connection is in its life.
type Phase int

const (
	PhaseConnecting Phase = iota
	PhaseConnected
	PhaseWaiting // waiting to reconnect after a failure
	PhaseAuth    // refused: token missing or wrong; not retried blindly
	PhasePin     // refused: certificate fingerprint mismatch; not retried
	PhaseFailed  // other refusal waiting cannot fix (untrusted certificate, wrong host name, a name that does not exist)
)

// Status is what the header says about the connection.
type Status struct {
	Phase    Phase
	Attempt  int       // failed attempts since the last success
	RetryAt  time.Time // when PhaseWaiting ends
	Err      error     // the last failure
	RTT      time.Duration
	Dialect  string
	TLS      bool
	Pinned   bool
	HasToken bool
}

// reconnect is the dashboard's reconnect policy: wire's, starting at 1 s
// (1, 2, 4, 8, 16, then 30 s, each ±20 %, so a fleet does not retry in
// step).
var reconnect = wire.ReconnectOptions{MinDelay: time.Second, MaxDelay: 30 * time.Second}

// retryDelay is the wait before reconnect attempt n (1-based).
func retryDelay(n int) time.Duration { return reconnect.Backoff(n, rand.Float64()*2-1) }

// classify maps a dial error onto the phase the header shows, as
// wire.Reconnect would treat it: a name that stops resolving after the
// agent was connected (connected) is retried.
func classify(err error, connected bool) Phase {
	switch wire.Classify(err) {
	case wire.StateUnresolved:
		if !connected {
			return PhaseFailed
		}
	case wire.StateAuthFailed:
		return PhaseAuth
	case wire.StateCertRejected:
		var pe *wire.PinMismatchError
		if errors.As(err, &pe) {
			return PhasePin
		}
		return PhaseFailed
	}
	return PhaseWaiting
}
