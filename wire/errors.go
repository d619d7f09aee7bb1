package wire

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Connection-level errors returned by Dial and the Client. Each says what
// to do; branch on them with errors.Is or errors.As.
var (
	// ErrUnauthorized: the agent refused the token (HTTP 401/403, or an
	// upstream agent closing the connection before its first reply).
	ErrUnauthorized = errors.New("token rejected by agent (HTTP 401): pass --token or set it in the profile")
	// ErrUnreachable: no TCP/TLS/HTTP connection could be made.
	ErrUnreachable = errors.New("agent unreachable: check the address and port, and that socktop agent is running there")
	// ErrBusy: the agent already serves its --max-clients (HTTP 503); a
	// later attempt may succeed.
	ErrBusy = errors.New("agent is full: it already serves its maximum number of clients (HTTP 503); retry later, or raise its --max-clients")
	// ErrProtocol: something answered, but not a socktop agent speaking a
	// protocol this client knows (wrong path, another service, garbage).
	ErrProtocol = errors.New("protocol mismatch: the server at this URL does not speak the socktop protocol (is the path /ws?)")
	// ErrClosed: the connection is closed (by Close or by the agent).
	ErrClosed = errors.New("connection closed")
	// ErrTimeout: the agent did not answer before the deadline.
	ErrTimeout = errors.New("agent did not answer in time")
	// ErrMalformed: a frame that does not decode (wrapped by every decoder
	// error about a frame's content).
	ErrMalformed = errors.New("malformed reply")
)

// PinMismatchError is returned when a wss:// agent presents a certificate
// that matches neither the pinned fingerprint nor the --tls-ca certificate.
type PinMismatchError struct {
	Host string
	// Want lists the accepted pins ("sha256:<hex>"), Got the agent's.
	Want []string
	Got  string
}

func (e *PinMismatchError) Error() string {
	return fmt.Sprintf("certificate of %s does not match the pin: agent presents %s, expected %s; "+
		"if the agent's certificate was regenerated on purpose, update the pin (run `socktop cert` on the agent)",
		e.Host, e.Got, strings.Join(e.Want, " or "))
}

// UntrustedCertError is returned when a wss:// agent's certificate does not
// verify against the system roots and no pin was given (the usual case for
// socktop's self-signed certificates).
type UntrustedCertError struct {
	Host        string
	Fingerprint string // the agent certificate's pin, "sha256:<hex>"
	Err         error
}

func (e *UntrustedCertError) Error() string {
	return fmt.Sprintf("certificate of %s is not trusted (%v); if %s is the agent's certificate "+
		"(compare with `socktop cert` on the agent), pin it with --pin %s or --tls-ca cert.pem",
		e.Host, e.Err, e.Fingerprint, e.Fingerprint)
}

func (e *UntrustedCertError) Unwrap() error { return e.Err }

// HostnameError is returned, with VerifyHostname set, when the pinned
// certificate does not name the host dialled.
type HostnameError struct {
	Host string
	Err  error
}

func (e *HostnameError) Error() string {
	return fmt.Sprintf("certificate does not name %s (%v): connect by a name in its SANs, add the name with SOCKTOP_AGENT_EXTRA_SANS on the agent, or drop --verify-hostname", e.Host, e.Err)
}

func (e *HostnameError) Unwrap() error { return e.Err }

func dialError(ctx context.Context, shown string, resp *http.Response, err error) error {
	var pin *PinMismatchError
	var untrusted *UntrustedCertError
	var host *HostnameError
	switch {
	case errors.As(err, &pin), errors.As(err, &untrusted), errors.As(err, &host):
		return fmt.Errorf("agent %s: %w", shown, err)
	case resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
		return fmt.Errorf("agent %s: %w", shown, ErrUnauthorized)
	case resp != nil && resp.StatusCode == http.StatusServiceUnavailable:
		return fmt.Errorf("agent %s: %w", shown, ErrBusy)
	case resp != nil:
		return fmt.Errorf("agent %s answered HTTP %d: %w", shown, resp.StatusCode, ErrProtocol)
	case ctx.Err() != nil:
		return fmt.Errorf("agent %s: %w: no answer within the dial timeout (%w)", shown, ErrUnreachable, err)
	}
	return fmt.Errorf("agent %s: %w (%w)", shown, ErrUnreachable, err)
}
