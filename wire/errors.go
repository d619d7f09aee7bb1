package wire

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// Connection-level errors returned by Dial and the Client. Each says what
// to do; branch on them with errors.Is or errors.As.
var (
	// ErrUnauthorized: the agent refused the token, or needs one (HTTP
	// 401/403, or an upstream agent closing the connection before its
	// first reply).
	ErrUnauthorized = errors.New("token refused by the agent (HTTP 401): pass the agent's --token, or set it in the profile")
	// ErrUnreachable: no TCP/TLS/HTTP connection could be made: refused,
	// no route, no answer, or a host name that does not resolve.
	ErrUnreachable = errors.New("agent unreachable: check the address and port, and that socktop agent is running there")
	// ErrBusy: the agent already serves its --max-clients, or this
	// address its --max-clients-per-peer (HTTP 503); a later attempt may
	// succeed.
	ErrBusy = errors.New("agent is full (HTTP 503): it serves its --max-clients, or this address its --max-clients-per-peer; retry later, or raise them")
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

// dialFailure is why Dial could not connect: msg names the cause in plain
// words first, then the fix; kind is the sentinel callers branch on, err
// what the network, TLS or HTTP layer said (for errors.As).
type dialFailure struct {
	msg  string
	kind error
	err  error
}

func (e *dialFailure) Error() string { return e.msg }

func (e *dialFailure) Unwrap() []error {
	if e.err == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.err}
}

// dialError words a failed WebSocket dial to u. resp is the handshake's
// HTTP answer, if one came; token says whether one was sent.
func dialError(ctx context.Context, u *url.URL, token bool, resp *http.Response, err error) error {
	host, where := u.Hostname(), u.Host
	fail := func(kind error, format string, args ...any) error {
		return &dialFailure{msg: fmt.Sprintf(format, args...), kind: kind, err: err}
	}
	var pin *PinMismatchError
	var untrusted *UntrustedCertError
	var hostErr *HostnameError
	var dns *net.DNSError
	var record tls.RecordHeaderError
	switch {
	case errors.As(err, &pin), errors.As(err, &untrusted), errors.As(err, &hostErr):
		return err // they name the host, the cause and the fix
	case resp != nil:
		return statusError(resp, where, host, token, err)
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return fail(ErrUnreachable, "cannot resolve host %s: no such name; check its spelling, or use its IP address", host)
		}
		return fail(ErrUnreachable, "cannot resolve host %s (%s): check the network and the DNS server", host, dnsCause(dns))
	case errors.Is(err, syscall.ECONNREFUSED):
		return fail(ErrUnreachable, "connection refused by %s: check the port, and that socktop agent is running there", where)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fail(ErrUnreachable, "no route to %s: check the address and the network", where)
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fail(ErrUnreachable, "no TLS on %s: use ws://%s/ws, or start the agent with --tls", where, where)
	case looksLikeTLSReply(err):
		return fail(ErrUnreachable, "this agent uses TLS: use wss://%s/ws", where)
	case ctx.Err() != nil:
		return fail(ErrUnreachable, "no answer from %s in time: check the address, the port, and any firewall between", where)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		if u.Scheme == "ws" {
			return fail(ErrUnreachable, "%s closed the connection without answering: if the agent uses TLS, use wss://%s/ws; else check the port", where, where)
		}
		return fail(ErrUnreachable, "%s closed the connection without answering: check the port, and that socktop agent is running there", where)
	}
	return fail(ErrUnreachable, "cannot connect to %s: %v", where, err)
}

// dnsCause is a resolver failure in a few words.
func dnsCause(e *net.DNSError) string {
	switch {
	case e.IsTimeout:
		return "the DNS server did not answer"
	case e.Err != "":
		return e.Err
	}
	return "lookup failed"
}

// looksLikeTLSReply reports whether a plain-HTTP dial got a TLS record in
// reply (an alert or handshake record: 0x15 or 0x16, then version 3.x),
// as a TLS server that is not Go's sends.
func looksLikeTLSReply(err error) bool {
	s := err.Error()
	return strings.Contains(s, `malformed HTTP response "\x15\x03`) || strings.Contains(s, `malformed HTTP response "\x16\x03`)
}

// statusError words an HTTP answer that is not a WebSocket upgrade. The
// agent's reply body names the fix: it is shown, made safe, after ours.
func statusError(resp *http.Response, where, host string, token bool, err error) error {
	body := replyBody(resp)
	said := ""
	if body != "" {
		said = "; the agent says: " + body
	}
	code := resp.StatusCode
	fail := func(kind error, format string, args ...any) error {
		return &dialFailure{msg: fmt.Sprintf(format, args...), kind: kind, err: err}
	}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		if token {
			return fail(ErrUnauthorized, "the token given was refused (HTTP %d): check it against the agent's --token", code)
		}
		return fail(ErrUnauthorized, "this agent needs a token (HTTP %d): pass the agent's --token, or set it in the profile", code)
	case code == http.StatusMisdirectedRequest:
		return fail(ErrProtocol, "the agent refused the host name %s (HTTP 421): start it with --allowed-host %s, or give it a --token%s", host, host, said)
	case code == http.StatusTooManyRequests:
		return fail(ErrRateLimited, "too many attempts (HTTP 429): wait a moment, then retry%s", said)
	case code == http.StatusServiceUnavailable:
		return fail(ErrBusy, "agent is full (HTTP 503): retry later, or raise its --max-clients / --max-clients-per-peer%s", said)
	case code == http.StatusBadRequest && strings.Contains(body, "HTTPS server"):
		return fail(ErrProtocol, "this agent uses TLS: use wss://%s/ws", where)
	}
	return fail(ErrProtocol, "%s answered HTTP %d instead of a WebSocket upgrade: is it a socktop agent, and is the path /ws?%s", where, code, said)
}

// maxShownBody bounds the part of a refusal's body an error quotes.
const maxShownBody = 300

// replyBody is the start of a refusal's body (coder/websocket keeps its
// first 1024 bytes) as one line of printable UTF-8: it comes from the
// peer, so control characters and escapes are dropped and it is cut.
func replyBody(resp *http.Response) string {
	if resp.Body == nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	var out strings.Builder
	space := false
	for len(b) > 0 && out.Len() < maxShownBody {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case r == utf8.RuneError && n <= 1, unicode.IsSpace(r), !unicode.IsPrint(r):
			space = out.Len() > 0
			continue
		}
		if space {
			out.WriteByte(' ')
			space = false
		}
		out.WriteRune(r)
	}
	if len(bytes.TrimSpace(b)) > 0 {
		out.WriteString("…")
	}
	return out.String()
}
