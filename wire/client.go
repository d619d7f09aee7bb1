package wire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Options configure Dial. The zero value is usable: no token, system TLS
// roots, 10 s timeouts, socktop.v2 with fallback to the command dialect.
type Options struct {
	// Token is the agent's shared secret. It is sent as an
	// "Authorization: Bearer" header and, unless TokenHeaderOnly, also as
	// the ?token= query parameter upstream agents read.
	Token           string
	TokenHeaderOnly bool

	// CAFile (--tls-ca) and CAPEM hold PEM certificates: the agent's
	// certificate must be one of them exactly, or be signed by one.
	CAFile string
	CAPEM  []byte
	// Pins are accepted certificate fingerprints, "sha256:<hex>" as
	// Fingerprint and `socktop cert` print them.
	Pins []string
	// VerifyHostname also checks that a pinned certificate names the host
	// dialled. Off by default, as upstream: agents are often reached by an
	// address their self-signed certificate does not list.
	VerifyHostname bool

	// DialTimeout bounds Dial, handshake included (default 10 s).
	DialTimeout time.Duration
	// RequestTimeout bounds each call whose context has no deadline
	// (default 10 s).
	RequestTimeout time.Duration

	// Dialect forces a dialect: DialectV2 fails against agents without
	// socktop.v2, DialectCommand never offers it. Zero (DialectNone) means
	// v2 with fallback to the command dialect. The client does not speak
	// the JSON dialect (it is for third-party clients).
	Dialect Dialect

	// ClientName and ClientVersion are sent in the v2 Hello.
	ClientName    string
	ClientVersion string

	// HTTPHeader adds headers to the WebSocket handshake.
	HTTPHeader http.Header

	// DialContext, when set, opens the TCP connection to the agent's
	// host:port instead of a net.Dialer (TLS, for wss://, runs over it):
	// for a tunnel, or a resolver of one's own.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

const (
	defaultTimeout = 10 * time.Second
	// readLimit bounds one incoming frame; a 10 000-process v2 list is
	// about 1 MB.
	readLimit = 64 << 20
	// writeTimeout bounds one frame write, independent of callers'
	// contexts: an expired context during a write would close the
	// connection for everyone.
	writeTimeout = 10 * time.Second
)

// Client is a connection to one agent. Its methods are safe for concurrent
// use: on socktop.v2 requests are multiplexed by id; on the command dialect
// they go one at a time, in order, as upstream expects.
//
// Every call is a v2 Request handed to the dialect's transport
// (transport_v2.go, transport_command.go), which sends it as it is or
// translates it into one of upstream's commands.
type Client struct {
	*link
	t         transport
	transport *http.Transport
	dialect   Dialect
	url       string
	opts      Options
	hello     *Hello
	pushes    chan Push
}

// transport is one dialect's way of asking an agent.
type transport interface {
	// handshake is the dialect's first exchange; it returns what the
	// agent says of itself.
	handshake(ctx context.Context) (*Hello, error)
	// roundTrip sends req and waits for the answer; an agent's error
	// reply comes back as the error. ctx has a deadline.
	roundTrip(ctx context.Context, req *Request) (*Response, error)
	// receive handles one frame from the read loop.
	receive(typ websocket.MessageType, data []byte)
}

// normalizeURL accepts "host:port", "ws://host:port" or a full URL and
// returns a ws:// or wss:// URL with a path (default /ws).
func normalizeURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "ws://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("agent URL %q: %w", raw, err)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("agent URL %q: scheme %q, want ws:// or wss://", raw, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("agent URL %q: no host", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/ws"
	}
	return u, nil
}

// Dial connects to the agent at rawURL (ws://host:port/ws, wss://…, or just
// host:port), offers socktop.v2, and falls back to the command dialect when
// the agent does not accept it (an upstream Rust agent). The handshake
// request (Hello on v2, a metrics probe on the command dialect) is part of
// Dial, so a returned Client is known to work.
//
// Errors name the cause first, then the fix ("connection refused by
// pi:3000: check the port, …"); branch on them with errors.Is and
// errors.As: ErrUnauthorized, *PinMismatchError, *UntrustedCertError,
// *HostnameError, ErrUnreachable, ErrBusy, ErrRateLimited, ErrProtocol,
// ErrProtocolVersion, ErrTimeout. The network's own error (a
// *net.DNSError, a *net.OpError) is wrapped too.
func Dial(ctx context.Context, rawURL string, opts *Options) (*Client, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = defaultTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = defaultTimeout
	}
	if o.Dialect == DialectJSON {
		return nil, errors.New("wire.Dial: the client speaks socktop.v2 and the command dialect, not the JSON dialect")
	}
	u, err := normalizeURL(rawURL)
	if err != nil {
		return nil, err
	}
	header := http.Header{}
	for k, v := range o.HTTPHeader {
		header[k] = append([]string(nil), v...)
	}
	if o.Token != "" {
		header.Set("Authorization", "Bearer "+o.Token)
		if !o.TokenHeaderOnly && u.Query().Get("token") == "" {
			q := u.Query()
			q.Set("token", o.Token)
			u.RawQuery = q.Encode()
		}
	}
	shown := redact(u)

	// No proxy from the environment: a monitor connects straight to the
	// agent, and a stray HTTP_PROXY would break ws:// upgrades.
	transport := &http.Transport{ForceAttemptHTTP2: false, DialContext: o.DialContext}
	if u.Scheme == "wss" {
		cfg, err := clientTLSConfig(u.Hostname(), &o)
		if err != nil {
			return nil, err
		}
		transport.TLSClientConfig = cfg
	} else if len(o.Pins) > 0 || o.CAFile != "" || len(o.CAPEM) > 0 {
		return nil, fmt.Errorf("a TLS pin or --tls-ca was given for a ws:// URL: use wss://%s%s", u.Host, u.Path)
	}

	dialCtx, cancelDial := context.WithTimeout(ctx, o.DialTimeout)
	defer cancelDial()
	dopts := &websocket.DialOptions{HTTPClient: &http.Client{Transport: transport}, HTTPHeader: header}
	if o.Dialect != DialectCommand {
		dopts.Subprotocols = []string{Subprotocol}
	}
	conn, resp, err := websocket.Dial(dialCtx, u.String(), dopts)
	if err != nil {
		transport.CloseIdleConnections()
		if o.Token != "" {
			err = redactedError{err: err, secret: o.Token}
		}
		return nil, dialError(dialCtx, u, o.Token != "", resp, err)
	}
	conn.SetReadLimit(readLimit)

	c := &Client{link: newLink(conn), transport: transport, url: shown, opts: o, pushes: make(chan Push, pushBuffer)}
	switch {
	case conn.Subprotocol() == Subprotocol:
		c.dialect = DialectV2
		c.t = newV2Transport(c.link, &c.opts, c.pushes)
	case o.Dialect == DialectV2:
		conn.Close(websocket.StatusNormalClosure, "")
		transport.CloseIdleConnections()
		return nil, &dialFailure{kind: ErrProtocol, msg: fmt.Sprintf("%s does not speak %s (an upstream agent?): allow the command dialect", u.Host, Subprotocol)}
	default:
		c.dialect = DialectCommand
		c.t = newCommandTransport(c.link)
	}
	go c.readLoop(c.t.receive)

	if c.hello, err = c.t.handshake(dialCtx); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w (%s)", err, u.Host)
	}
	return c, nil
}

// redact hides the token in URLs shown in errors and logs.
func redact(u *url.URL) string {
	v := *u
	if q := v.Query(); q.Get("token") != "" {
		q.Set("token", "REDACTED")
		v.RawQuery = q.Encode()
	}
	return v.String()
}

// redactedError hides a secret (the token, which net/http errors quote as
// part of the URL) from an error's text; errors.Is/As still see through it.
type redactedError struct {
	err    error
	secret string
}

func (e redactedError) Error() string {
	s := e.err.Error()
	for _, form := range []string{url.QueryEscape(e.secret), e.secret} {
		s = strings.ReplaceAll(s, form, "REDACTED")
	}
	return s
}

func (e redactedError) Unwrap() error { return e.err }

// Dialect reports the negotiated dialect: DialectV2 or DialectCommand.
func (c *Client) Dialect() Dialect { return c.dialect }

// URL is the agent's URL, with any token redacted.
func (c *Client) URL() string { return c.url }

// Done is closed when the connection has ended, by Close or by the agent.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err says why the connection ended (wrapping ErrClosed); nil while open.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.failErr
	default:
		return nil
	}
}

// Close ends the connection with a close handshake and waits until the
// read loop has stopped. It is safe to call more than once.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.link.close()
		c.transport.CloseIdleConnections()
	})
	return nil
}

// link is the WebSocket connection under a Client, shared with its
// transport: one read loop, one frame written at a time, and one record of
// why the connection ended.
type link struct {
	ws       *websocket.Conn
	loopCtx  context.Context
	cancel   context.CancelFunc
	readDone chan struct{}
	done     chan struct{}
	failOnce sync.Once
	failErr  error
	// writeSem admits one writer at a time; waiting for it honours the
	// caller's context, the write itself is bounded by writeTimeout.
	writeSem  chan struct{}
	closeOnce sync.Once
}

func newLink(ws *websocket.Conn) *link {
	l := &link{ws: ws, readDone: make(chan struct{}), done: make(chan struct{}), writeSem: make(chan struct{}, 1)}
	l.loopCtx, l.cancel = context.WithCancel(context.Background())
	return l
}

// close ends the connection and waits for the read loop.
func (l *link) close() {
	select {
	case <-l.readDone:
		// The agent is gone already: no handshake to wait for.
		l.ws.CloseNow()
	default:
		l.fail(ErrClosed)
		// Bounded by coder/websocket's own 5 s close-handshake timeout.
		l.ws.Close(websocket.StatusNormalClosure, "")
	}
	l.fail(ErrClosed)
	l.cancel()
	<-l.readDone
}

// fail records why the connection ended and wakes every waiter.
func (l *link) fail(err error) {
	l.failOnce.Do(func() {
		if !errors.Is(err, ErrClosed) {
			err = fmt.Errorf("%w: %w", ErrClosed, err)
		}
		l.failErr = err
		close(l.done)
	})
}

// abort ends the connection at once, for a reason no caller would hear of
// otherwise.
func (l *link) abort(err error) {
	l.fail(err)
	l.ws.CloseNow()
}

func (l *link) readLoop(receive func(websocket.MessageType, []byte)) {
	defer close(l.readDone)
	for {
		typ, data, err := l.ws.Read(l.loopCtx)
		if err != nil {
			if st := websocket.CloseStatus(err); st == websocket.StatusPolicyViolation || st == websocket.StatusProtocolError {
				err = fmt.Errorf("agent closed the connection with status %d: %w", st, err)
			}
			l.abort(err)
			return
		}
		receive(typ, data)
	}
}

// write sends one frame. A caller whose ctx ends while it waits for its
// turn gets ctx's error; a write that has started runs to its end (or to
// writeTimeout), since cutting it short would break the connection.
func (l *link) write(ctx context.Context, typ websocket.MessageType, b []byte) error {
	select {
	case l.writeSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-l.done:
		return l.failErr
	}
	defer func() { <-l.writeSem }()
	select {
	case <-l.done:
		return l.failErr
	default:
	}
	wctx, cancel := context.WithTimeout(l.loopCtx, writeTimeout)
	defer cancel()
	if err := l.ws.Write(wctx, typ, b); err != nil {
		l.fail(err)
		return l.failErr
	}
	return nil
}

// send writes one request frame for a caller and words its failure.
func (l *link) send(ctx context.Context, what string, typ websocket.MessageType, b []byte) error {
	if err := l.write(ctx, typ, b); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return timeoutErr(ctx, what)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// withTimeout applies RequestTimeout when ctx has no deadline.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.opts.RequestTimeout)
}

func timeoutErr(ctx context.Context, what string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w (%w)", what, ErrTimeout, ctx.Err())
	}
	return fmt.Errorf("%s: %w", what, ctx.Err())
}

// do sends one request through the dialect's transport.
func (c *Client) do(ctx context.Context, req *Request) (*Response, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if ctx.Err() != nil {
		return nil, timeoutErr(ctx, requestName(req))
	}
	return c.t.roundTrip(ctx, req)
}

// call is do for a request whose answer has one body: get picks it.
func call[T any](c *Client, ctx context.Context, req *Request, get func(*Response) *T) (*T, error) {
	r, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	return expect(r, get(r), requestName(req))
}

// expect checks that a response carries the body asked for.
func expect[T any](r *Response, body *T, what string) (*T, error) {
	if body == nil {
		return nil, fmt.Errorf("%s: %w: answered with %T", what, ErrProtocol, r.Body)
	}
	return body, nil
}

// need refuses a call the agent did not list the capability of.
func (c *Client) need(capability, what, why string) error {
	if c.hello.HasCapability(capability) {
		return nil
	}
	return fmt.Errorf("%s: %w (%s)", what, ErrNotSupported, why)
}

func requestName(r *Request) string {
	switch r.Body.(type) {
	case *Request_Hello:
		return "hello"
	case *Request_Metrics:
		return "metrics"
	case *Request_Disks:
		return "disks"
	case *Request_Processes:
		return "processes"
	case *Request_ProcessDetail:
		return "process detail"
	case *Request_Journal:
		return "journal"
	case *Request_Connections:
		return "connections"
	case *Request_Signal:
		return "signal"
	case *Request_Subscribe:
		return "subscribe"
	case *Request_Containers:
		return "containers"
	case *Request_History:
		return "history"
	}
	return "request"
}

// --- typed calls ---

// Hello returns what the agent said about itself at connection time. On
// the command dialect it is derived from the first metrics reply:
// hostname, cores, memory and the capabilities upstream agents serve;
// AgentVersion is empty and the protocol version 0. It sends nothing, but
// fails like any call once ctx has ended or the connection has.
func (c *Client) Hello(ctx context.Context) (*Hello, error) {
	if ctx.Err() != nil {
		return nil, timeoutErr(ctx, "hello")
	}
	select {
	case <-c.done:
		return nil, fmt.Errorf("hello: %w", c.failErr)
	default:
	}
	return c.hello, nil
}

// Metrics fetches the fast-changing machine metrics.
func (c *Client) Metrics(ctx context.Context) (*Metrics, error) {
	return call(c, ctx, &Request{Body: &Request_Metrics{Metrics: &MetricsRequest{}}}, (*Response).GetMetrics)
}

// Disks fetches disk usage (and, on v2, cumulative I/O counters).
func (c *Client) Disks(ctx context.Context) (*Disks, error) {
	return call(c, ctx, &Request{Body: &Request_Disks{Disks: &DisksRequest{}}}, (*Response).GetDisks)
}

// Processes fetches every process. On the command dialect only pid, name,
// CPU share and RSS are known; the other fields are zero.
func (c *Client) Processes(ctx context.Context) (*Processes, error) {
	return c.ProcessesWith(ctx, nil)
}

// ProcessesWith is Processes with the costly per-process fields named in
// extras (nil: none). Agents without CapProcessExtras, upstream ones
// included, answer without them.
func (c *Client) ProcessesWith(ctx context.Context, extras *ProcessExtras) (*Processes, error) {
	return call(c, ctx, &Request{Body: &Request_Processes{Processes: &ProcessesRequest{Extras: extras}}}, (*Response).GetProcesses)
}

// ProcessDetail fetches one process in detail. An unknown pid is an error
// matching ErrUnknownPID.
func (c *Client) ProcessDetail(ctx context.Context, pid uint32) (*ProcessDetail, error) {
	return call(c, ctx, &Request{Body: &Request_ProcessDetail{ProcessDetail: &ProcessDetailRequest{Pid: pid}}}, (*Response).GetProcessDetail)
}

// Journal fetches the newest journal entries of one process: at most
// lines of them (0: the agent's default, 100). Upstream agents, spoken to
// in the command dialect, take no line count and send their own default.
func (c *Client) Journal(ctx context.Context, pid, lines uint32) (*Journal, error) {
	return call(c, ctx, &Request{Body: &Request_Journal{Journal: &JournalRequest{Pid: pid, Lines: lines}}}, (*Response).GetJournal)
}

// Connections fetches the socket table. Only socktop.v2 agents serve it;
// upstream ones give ErrNotSupported.
func (c *Client) Connections(ctx context.Context) (*Connections, error) {
	return call(c, ctx, &Request{Body: &Request_Connections{Connections: &ConnectionsRequest{}}}, (*Response).GetConnections)
}

// Signal sends a signal ("TERM", "SIGKILL", …) to the process pid that
// started at startTime (Unix seconds: ProcessInfo.StartTime or
// DetailedProcess.StartTime of the process the user chose). The agent
// refuses it when the process at pid started at another time (the pid was
// reused: ErrUnknownPID) or startTime is 0 (ErrBadRequest). Only socktop.v2
// agents serve it; upstream ones give ErrNotSupported.
func (c *Client) Signal(ctx context.Context, pid uint32, startTime uint64, signal string) (*SignalResult, error) {
	return call(c, ctx, &Request{Body: &Request_Signal{Signal: &SignalRequest{Pid: pid, Signal: signal, StartTime: startTime}}}, (*Response).GetSignal)
}

// Containers lists the containers and services of an agent that has
// CapContainers; others give ErrNotSupported.
func (c *Client) Containers(ctx context.Context) (*Containers, error) {
	if err := c.need(CapContainers, "containers", "the agent does not read cgroups"); err != nil {
		return nil, err
	}
	return call(c, ctx, &Request{Body: &Request_Containers{Containers: &ContainersRequest{}}}, (*Response).GetContainers)
}

// History asks an agent that has CapHistory for its recorded samples;
// others give ErrNotSupported.
func (c *Client) History(ctx context.Context, req *HistoryRequest) (*History, error) {
	if err := c.need(CapHistory, "history", "the agent keeps no history"); err != nil {
		return nil, err
	}
	return call(c, ctx, &Request{Body: &Request_History{History: req}}, (*Response).GetHistory)
}

// IsNetError reports whether err came from the network rather than from
// the agent's answer (useful to decide whether to reconnect).
func IsNetError(err error) bool {
	var ne net.Error
	return errors.Is(err, ErrClosed) || errors.Is(err, ErrUnreachable) || errors.As(err, &ne)
}
