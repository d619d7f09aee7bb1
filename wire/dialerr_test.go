package wire_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// statusWidth is the status line the dashboard gives an error at 120
// columns, less its own words around it.
const statusWidth = 100

// causeFirst checks that err's text starts with want (the cause, in plain
// words), names fix, and fits what a status line shows before fix.
func causeFirst(t *testing.T, what string, err error, want, fix string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	s := err.Error()
	t.Logf("%s: %s", what, s)
	if !strings.HasPrefix(s, want) {
		t.Errorf("%s: %q does not start with %q", what, s, want)
	}
	if i := strings.Index(s, fix); i < 0 || i > statusWidth {
		t.Errorf("%s: %q names the fix %q at column %d, past %d", what, s, fix, i, statusWidth)
	}
	if strings.ContainsAny(s, "\n\r") {
		t.Errorf("%s: %q is more than one line", what, s)
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestDialErrorRefusedPort(t *testing.T) {
	addr := closedPort(t)
	_, err := wire.Dial(ctx(t), "ws://"+addr+"/ws", nil)
	causeFirst(t, "refused port", err, "connection refused by "+addr, "check the port")
	if !errors.Is(err, wire.ErrUnreachable) || wire.Classify(err) != wire.StateRetrying || !wire.IsNetError(err) {
		t.Errorf("refused port: %v is not an unreachable, retried network error", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Errorf("refused port: the network's own error is not wrapped: %#v", err)
	}
}

// A name that does not exist is said so, and not retried; one the DNS
// server fails to answer is retried.
func TestDialErrorUnresolvableName(t *testing.T) {
	dns := wiretest.NewDNS()
	defer dns.Close()
	const name = "pi-kitchen.invalid"
	opts := &wire.Options{DialContext: dns.DialContext}
	_, err := wire.Dial(ctx(t), "ws://"+name+":3000/ws", opts)
	causeFirst(t, "unknown name", err, "cannot resolve host "+name+": no such name", "check its spelling")
	if dns.Queries() == 0 {
		t.Fatal("the fake DNS server was never asked")
	}
	if !errors.Is(err, wire.ErrUnreachable) || wire.Classify(err) != wire.StateUnresolved {
		t.Errorf("unknown name: %v classified %v, want ErrUnreachable and %v", err, wire.Classify(err), wire.StateUnresolved)
	}
	var states []wire.State
	err = wire.Reconnect(ctx(t), "ws://"+name+":3000/ws", opts, wire.ReconnectOptions{MinDelay: time.Millisecond,
		OnState: func(e wire.Event) { states = append(states, e.State) }},
		func(context.Context, *wire.Client) error {
			t.Error("connected to a name that does not exist")
			return nil
		})
	if wire.Classify(err) != wire.StateUnresolved || len(states) != 2 || states[1] != wire.StateUnresolved {
		t.Errorf("Reconnect to an unknown name: %v, states %v; want it to stop at once", err, states)
	}

	dns.Fail(wiretest.RcodeServFail)
	_, err = wire.Dial(ctx(t), "ws://"+name+":3000/ws", opts)
	causeFirst(t, "DNS failure", err, "cannot resolve host "+name+" (", "check the network")
	if wire.Classify(err) != wire.StateRetrying {
		t.Errorf("a DNS server failure is classified %v, want it retried", wire.Classify(err))
	}
}

// A name that resolved while Reconnect was connected and stops resolving
// is retried: the network is changing, not the name wrong.
func TestReconnectRetriesANameThatResolvedBefore(t *testing.T) {
	dns := wiretest.NewDNS()
	defer dns.Close()
	loop := netip.MustParseAddr("127.0.0.1")
	dns.Answer(loop)
	const name = "pi-kitchen.invalid"
	ag := startRealAgent(t, false, func(c *agent.Config) { c.AllowedHosts = []string{name} })
	_, port, _ := net.SplitHostPort(ag.addr)
	var states []wire.State
	runs := 0
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := wire.Reconnect(ctx, "ws://"+name+":"+port+"/ws", &wire.Options{DialContext: dns.DialContext},
		wire.ReconnectOptions{MinDelay: time.Millisecond, MaxDelay: time.Millisecond, OnState: func(e wire.Event) {
			states = append(states, e.State)
			if e.State == wire.StateRetrying && errors.Is(e.Err, wire.ErrUnreachable) {
				dns.Answer(loop) // the network is back
			}
		}},
		func(ctx context.Context, c *wire.Client) error {
			if runs++; runs == 2 {
				return nil
			}
			dns.Fail(wiretest.RcodeNXDomain) // the name stops resolving
			return errors.New("connection lost")
		})
	want := []wire.State{wire.StateConnecting, wire.StateConnected, wire.StateRetrying, // the lost connection
		wire.StateConnecting, wire.StateRetrying, // NXDOMAIN, retried
		wire.StateConnecting, wire.StateConnected, wire.StateStopped}
	if err != nil || len(states) != len(want) {
		t.Fatalf("Reconnect: %v, states %v, want %v", err, states, want)
	}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("states %v, want %v", states, want)
		}
	}
}

// Plain ws:// to a TLS agent, and wss:// to a plain one, say which to use.
func TestDialErrorTLSMismatch(t *testing.T) {
	tlsAgent := startRealAgent(t, true, nil)
	plain := startRealAgent(t, false, nil)
	_, err := wire.Dial(ctx(t), "ws://"+tlsAgent.addr+"/ws", nil)
	causeFirst(t, "ws:// to TLS", err, "this agent uses TLS: use wss://"+tlsAgent.addr+"/ws", "use wss://")
	if !errors.Is(err, wire.ErrProtocol) { // something answered, not with an upgrade
		t.Errorf("ws:// to TLS: %v is not ErrProtocol", err)
	}
	_, err = wire.Dial(ctx(t), "wss://"+plain.addr+"/ws", &wire.Options{Pins: []string{tlsAgent.pin}})
	causeFirst(t, "wss:// to plain", err, "no TLS on "+plain.addr+": use ws://"+plain.addr+"/ws", "use ws://")
	if !errors.Is(err, wire.ErrUnreachable) { // no TLS connection could be made
		t.Errorf("wss:// to plain: %v is not ErrUnreachable", err)
	}
	// The right scheme works on both.
	dial(t, tlsAgent.url, &wire.Options{Pins: []string{tlsAgent.pin}})
	dial(t, plain.url, nil)
}

// A wrong token is "the token given was refused"; none is "needs a token";
// neither shows the token; too many wrong ones get 429.
func TestDialErrorToken(t *testing.T) {
	ag := startRealAgent(t, false, func(c *agent.Config) { c.Token = "right-s3cret" })
	_, err := wire.Dial(ctx(t), ag.url, &wire.Options{Token: "wrong-s3cret"})
	causeFirst(t, "wrong token", err, "the token given was refused (HTTP 401)", "--token")
	if !errors.Is(err, wire.ErrUnauthorized) || wire.Classify(err) != wire.StateAuthFailed || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("wrong token: %v", err)
	}
	_, err = wire.Dial(ctx(t), ag.url, nil)
	causeFirst(t, "no token", err, "this agent needs a token (HTTP 401)", "pass the agent's --token")
	if !errors.Is(err, wire.ErrUnauthorized) {
		t.Errorf("no token: %v", err)
	}
	dial(t, ag.url, &wire.Options{Token: "right-s3cret"})
	// The agent forgives about 20 wrong tokens, then answers 429.
	for i := 0; ; i++ {
		_, err = wire.Dial(ctx(t), ag.url, &wire.Options{Token: "wrong-s3cret"})
		if !errors.Is(err, wire.ErrUnauthorized) || i > 100 {
			break
		}
	}
	causeFirst(t, "many wrong tokens", err, "too many attempts (HTTP 429)", "wait")
	if !strings.Contains(err.Error(), "the agent says: too many wrong tokens") || !errors.Is(err, wire.ErrRateLimited) || wire.Classify(err) != wire.StateRetrying {
		t.Errorf("429: %v does not show the agent's reason or is not a retried ErrRateLimited", err)
	}
}

// A name the agent does not answer to (HTTP 421) names the flag that
// allows it, and shows the agent's own words.
func TestDialErrorMisdirectedHost(t *testing.T) {
	ag := startRealAgent(t, false, func(c *agent.Config) { c.AllowedHosts = []string{"pi-other.lan"} })
	_, port, _ := net.SplitHostPort(ag.addr)
	toAgent := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, ag.addr) // the name is only the Host header
	}
	_, err := wire.Dial(ctx(t), "ws://pi-kitchen.lan:"+port+"/ws", &wire.Options{DialContext: toAgent})
	causeFirst(t, "421", err, "the agent refused the host name pi-kitchen.lan (HTTP 421)", "--allowed-host pi-kitchen.lan")
	if !strings.Contains(err.Error(), "the agent says: misdirected request") || !errors.Is(err, wire.ErrProtocol) {
		t.Errorf("421: %v does not show the agent's reason", err)
	}
	dial(t, "ws://pi-other.lan:"+port+"/ws", &wire.Options{DialContext: toAgent})
}

// A full agent (HTTP 503) names both limits and shows which one it hit.
func TestDialErrorBusyAgent(t *testing.T) {
	ag := startRealAgent(t, false, func(c *agent.Config) { c.MaxClients = 1 })
	dial(t, ag.url, nil)
	_, err := wire.Dial(ctx(t), ag.url, nil)
	causeFirst(t, "503", err, "agent is full (HTTP 503)", "--max-clients / --max-clients-per-peer")
	if !strings.Contains(err.Error(), "the agent says: too many clients: this agent serves at most 1") ||
		!errors.Is(err, wire.ErrBusy) || wire.Classify(err) != wire.StateRetrying {
		t.Errorf("503: %v", err)
	}
	if !strings.Contains(wire.ErrBusy.Error(), "--max-clients-per-peer") {
		t.Errorf("ErrBusy %q does not name --max-clients-per-peer", wire.ErrBusy)
	}
}

// A refusal's body comes from the peer: what the error quotes of it is one
// line of printable text, cut, whatever the peer sends.
func TestDialErrorQuotesAHostileBodySafely(t *testing.T) {
	body := "full\x1b[2J\x1b]0;pwned\x07\r\nnext line\xff\xfe" + strings.Repeat("x", 2000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, body, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, err := wire.Dial(ctx(t), srv.URL, nil)
	s := err.Error()
	said, ok := strings.CutPrefix(s[strings.Index(s, "the agent says: ")+len("the agent says: "):], "full")
	if !ok || !errors.Is(err, wire.ErrBusy) {
		t.Fatalf("503 with a hostile body: %q", s)
	}
	if strings.ContainsFunc(said, func(r rune) bool { return r < ' ' || r == 0x7f || r == utf8.RuneError }) ||
		!strings.HasPrefix(said, " [2J ]0;pwned next line") || !strings.HasSuffix(said, "…") || len(said) > 400 {
		t.Errorf("the body is quoted as %q", said)
	}
}
