package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
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
	// lateReplyGrace is how long a command-dialect reply is still expected
	// after its caller gave up.
	lateReplyGrace = 30 * time.Second
)

// Client is a connection to one agent. Its methods are safe for concurrent
// use: on socktop.v2 requests are multiplexed by id; on the command dialect
// they go one at a time, in order, as upstream expects.
type Client struct {
	conn      *websocket.Conn
	transport *http.Transport
	dialect   Dialect
	url       string
	opts      Options
	hello     *Hello

	loopCtx  context.Context
	cancel   context.CancelFunc
	readDone chan struct{}
	done     chan struct{}
	failOnce sync.Once
	failErr  error

	closeOnce sync.Once
	writeMu   sync.Mutex

	// v2
	nextID  atomic.Uint32
	mu      sync.Mutex
	pending map[uint32]chan v2Reply
	subID   atomic.Uint32 // the live subscription's request id, 0 without one
	pushes  chan Push

	// command dialect: cmdSem keeps one request outstanding at a time;
	// waiters (under mu) await a reply of their kind; late[k] holds, per
	// caller of kind k that gave up, until when its reply is still
	// expected (and dropped when it comes). The expiry keeps a request an
	// agent never answers from eating later replies forever.
	cmdSem  chan struct{}
	waiters []*cmdWaiter
	late    [KindJournal + 1][]time.Time
}

type cmdWaiter struct {
	kind Kind
	ch   chan cmdReply
}

// v2Reply and cmdReply are what the read loop hands a waiting caller: the
// reply, or why it could not be read (an implausible or oversized one).
type v2Reply struct {
	resp *Response
	err  error
}

type cmdReply struct {
	f   Frame
	err error
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
// Errors: ErrUnauthorized, *PinMismatchError, *UntrustedCertError,
// *HostnameError, ErrUnreachable, ErrProtocol, ErrProtocolVersion,
// ErrTimeout — each wrapped with the URL.
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
	transport := &http.Transport{ForceAttemptHTTP2: false}
	if u.Scheme == "wss" {
		cfg, err := clientTLSConfig(u.Hostname(), &o)
		if err != nil {
			return nil, err
		}
		transport.TLSClientConfig = cfg
	} else if len(o.Pins) > 0 || o.CAFile != "" || len(o.CAPEM) > 0 {
		return nil, fmt.Errorf("agent %s: a TLS pin or --tls-ca was given but the URL is ws://; use wss://", shown)
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
		return nil, dialError(dialCtx, shown, resp, err)
	}
	conn.SetReadLimit(readLimit)

	c := &Client{conn: conn, transport: transport, url: shown, opts: o, dialect: DialectCommand,
		readDone: make(chan struct{}), done: make(chan struct{}), pending: map[uint32]chan v2Reply{}, cmdSem: make(chan struct{}, 1),
		pushes: make(chan Push, pushBuffer)}
	if conn.Subprotocol() == Subprotocol {
		c.dialect = DialectV2
	} else if o.Dialect == DialectV2 {
		conn.Close(websocket.StatusNormalClosure, "")
		transport.CloseIdleConnections()
		return nil, fmt.Errorf("agent %s: %w: it does not accept %s (an upstream agent?); allow the command dialect", shown, ErrProtocol, Subprotocol)
	}
	c.loopCtx, c.cancel = context.WithCancel(context.Background())
	go c.readLoop()

	if err := c.handshake(dialCtx); err != nil {
		c.Close()
		return nil, fmt.Errorf("agent %s: %w", shown, err)
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

// handshake runs the dialect's first request.
func (c *Client) handshake(ctx context.Context) error {
	if c.dialect == DialectV2 {
		resp, err := c.roundTripV2(ctx, &Request{Body: &Request_Hello{Hello: &HelloRequest{
			ClientVersion: c.opts.ClientVersion, ClientName: c.opts.ClientName,
			ProtocolMajor: ProtocolMajor, ProtocolMinor: ProtocolMinor}}})
		if err != nil {
			if errors.Is(err, ErrTimeout) {
				return fmt.Errorf("%w: the agent accepted %s but did not answer Hello", ErrProtocol, Subprotocol)
			}
			return err
		}
		h := resp.GetHello()
		if h == nil {
			return fmt.Errorf("%w: Hello answered with %T", ErrProtocol, resp.Body)
		}
		if h.ProtocolMajor != ProtocolMajor {
			return fmt.Errorf("%w: agent speaks %d.%d, this client %d.%d; upgrade the older side",
				ErrProtocolVersion, h.ProtocolMajor, h.ProtocolMinor, ProtocolMajor, ProtocolMinor)
		}
		c.hello = h
		return nil
	}
	// The command dialect has no handshake: a metrics request proves the
	// agent answers and tells its hostname and core count.
	m, err := c.commandMetrics(ctx)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return fmt.Errorf("%w: the agent closed the connection before its first reply, which is how upstream agents refuse a token (%w)", ErrUnauthorized, err)
		}
		if errors.Is(err, ErrMalformed) || errors.Is(err, ErrTimeout) {
			return fmt.Errorf("%w: the agent did not answer get_metrics like a socktop agent (%w)", ErrProtocol, err)
		}
		return err
	}
	h := &Hello{Hostname: m.Hostname, Cores: uint32(len(m.CpuPerCore)), MemTotal: m.MemTotal,
		Capabilities: []string{CapMetrics, CapDisks, CapProcesses, CapProcessDetail, CapJournal}}
	if len(m.Gpus) > 0 {
		h.Capabilities = append(h.Capabilities, CapGPU)
	}
	if m.CpuTempC != nil {
		h.Capabilities = append(h.Capabilities, CapTemps)
	}
	c.hello = h
	return nil
}

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
		select {
		case <-c.readDone:
			// The agent is gone already: no handshake to wait for.
			c.conn.CloseNow()
		default:
			c.fail(ErrClosed)
			// Bounded by coder/websocket's own 5 s close-handshake timeout.
			c.conn.Close(websocket.StatusNormalClosure, "")
		}
		c.fail(ErrClosed)
		c.cancel()
		<-c.readDone
		c.transport.CloseIdleConnections()
	})
	return nil
}

// fail records why the connection ended and wakes every waiter.
func (c *Client) fail(err error) {
	c.failOnce.Do(func() {
		if !errors.Is(err, ErrClosed) {
			err = fmt.Errorf("%w: %w", ErrClosed, err)
		}
		c.failErr = err
		close(c.done)
	})
}

func (c *Client) readLoop() {
	defer close(c.readDone)
	for {
		typ, data, err := c.conn.Read(c.loopCtx)
		if err != nil {
			if st := websocket.CloseStatus(err); st == websocket.StatusPolicyViolation || st == websocket.StatusProtocolError {
				err = fmt.Errorf("agent closed the connection with status %d: %w", st, err)
			}
			c.fail(err)
			c.conn.CloseNow()
			return
		}
		if c.dialect == DialectV2 {
			c.handleV2(typ, data)
		} else {
			c.handleCommand(Frame{Type: typ, Data: data})
		}
	}
}

func (c *Client) handleV2(typ websocket.MessageType, data []byte) {
	if typ != websocket.MessageBinary {
		return // v2 is binary only; ignore anything else
	}
	resp, err := DecodeResponse(data)
	if errors.Is(err, ErrImplausible) {
		// Tell the caller waiting for it; a push (or a reply nobody
		// waits for) that cannot be believed ends the connection, since
		// no caller would hear of it.
		id := responseID(data)
		c.mu.Lock()
		ch := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- v2Reply{err: err}
			return
		}
		c.fail(err)
		c.conn.CloseNow()
		return
	}
	if err != nil {
		return // undecodable: the waiter, if any, times out
	}
	c.mu.Lock()
	ch := c.pending[resp.Id]
	delete(c.pending, resp.Id)
	c.mu.Unlock()
	if ch != nil {
		ch <- v2Reply{resp: resp} // buffered 1, never blocks
	} else if resp.Id != 0 && resp.Id == c.subID.Load() {
		c.deliverPush(resp)
	} else if resp.Id == 0 && resp.GetError().GetCode() == ErrorCode_ERROR_CODE_PROTOCOL_VERSION {
		c.fail(fmt.Errorf("%w: %s", ErrProtocolVersion, resp.GetError().GetMessage()))
	}
}

func (c *Client) write(typ websocket.MessageType, b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	select {
	case <-c.done:
		return c.failErr
	default:
	}
	ctx, cancel := context.WithTimeout(c.loopCtx, writeTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, typ, b); err != nil {
		c.fail(err)
		return c.failErr
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

func (c *Client) roundTripV2(ctx context.Context, req *Request) (*Response, error) {
	return c.roundTripV2ID(ctx, c.newID(), req)
}

// newID picks the next request id; 0 is reserved for agent-initiated errors.
func (c *Client) newID() uint32 {
	id := c.nextID.Add(1)
	if id == 0 { // wrapped
		id = c.nextID.Add(1)
	}
	return id
}

func (c *Client) roundTripV2ID(ctx context.Context, id uint32, req *Request) (*Response, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	req.Id = id
	ch := make(chan v2Reply, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	what := requestName(req)
	if err := c.write(websocket.MessageBinary, AppendRequest(nil, req)); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("%s: %w", what, r.err)
		}
		if e := r.resp.GetError(); e != nil {
			return nil, fmt.Errorf("%s: %w", what, e)
		}
		return r.resp, nil
	case <-ctx.Done():
		return nil, timeoutErr(ctx, what)
	case <-c.done:
		return nil, fmt.Errorf("%s: %w", what, c.failErr)
	}
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
	}
	return "request"
}

// --- command dialect ---

var commandNames = map[string]Kind{
	"get_metrics": KindMetrics, "metrics": KindMetrics,
	"get_disks": KindDisks, "disks": KindDisks,
	"get_processes": KindProcesses, "processes": KindProcesses,
	"get_process_metrics": KindProcessDetail, "process_metrics": KindProcessDetail,
	"get_journal_entries": KindJournal, "journal_entries": KindJournal,
}

// classify tells which request a command-dialect reply answers, from its
// shape: replies are matched by kind, so a request upstream never answers
// cannot shift every later reply onto the wrong caller.
func classify(payload []byte) Kind {
	b := bytes.TrimSpace(payload)
	switch {
	case len(b) == 0:
		return KindNone
	case b[0] == '[':
		return KindDisks
	case b[0] != '{':
		return KindProcesses // protobuf
	}
	// Only the top-level keys matter: present-only fields copy nothing,
	// however large the values (a map of raw values copied them all).
	var top struct {
		Error    present   `json:"error"`
		Request  shortName `json:"request"`
		CPUTotal present   `json:"cpu_total"`
		Process  present   `json:"process"`
		Entries  present   `json:"entries"`
	}
	if checkJSON(b, math.MaxInt) != nil {
		return KindNone // too deep to tell: the waiting caller's decoder says why
	}
	if json.Unmarshal(b, &top) != nil {
		return KindProcesses // a protobuf list may start with '{' (0x7b)
	}
	switch {
	case bool(top.Error):
		return commandNames[string(top.Request)]
	case bool(top.CPUTotal):
		return KindMetrics
	case bool(top.Process):
		return KindProcessDetail
	case bool(top.Entries):
		return KindJournal
	}
	return KindNone
}

// present notes that a JSON key was there, keeping nothing of its value.
type present bool

func (p *present) UnmarshalJSON([]byte) error { *p = true; return nil }

// shortName keeps a short JSON string (a request name) and nothing else.
type shortName string

func (n *shortName) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) <= 2*maxEchoedType && json.Unmarshal(b, &s) == nil {
		*n = shortName(s)
	}
	return nil
}

func (c *Client) handleCommand(f Frame) {
	payload, err := Payload(f)
	if err != nil {
		// A gzip bomb (or broken gzip): no kind can be told, so the
		// caller that waits longest hears of it.
		if errors.Is(err, ErrTooLarge) {
			err = fmt.Errorf("%w: %w", ErrImplausible, err)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.waiters) > 0 {
			w := c.waiters[0]
			c.waiters = c.waiters[1:]
			w.ch <- cmdReply{err: err}
		}
		return
	}
	f = Frame{Type: f.Type, Data: payload}
	kind := classify(payload)
	c.mu.Lock()
	defer c.mu.Unlock()
	if kind != KindNone {
		now := time.Now()
		l := c.late[kind]
		for len(l) > 0 && now.After(l[0]) {
			l = l[1:]
		}
		c.late[kind] = l
		if len(l) > 0 {
			c.late[kind] = l[1:] // the late reply of a caller that gave up
			return
		}
	}
	for i, w := range c.waiters {
		if kind == KindNone || w.kind == kind {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			w.ch <- cmdReply{f: f} // buffered 1
			return
		}
	}
}

// roundTripCommand sends one command and waits for the reply of its kind.
func (c *Client) roundTripCommand(ctx context.Context, kind Kind, cmd string) (Frame, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	select {
	case c.cmdSem <- struct{}{}: // one request outstanding at a time
	case <-ctx.Done():
		return Frame{}, timeoutErr(ctx, cmd)
	case <-c.done:
		return Frame{}, fmt.Errorf("%s: %w", cmd, c.failErr)
	}
	defer func() { <-c.cmdSem }()
	w := &cmdWaiter{kind: kind, ch: make(chan cmdReply, 1)}
	c.mu.Lock()
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	if err := c.write(websocket.MessageText, []byte(cmd)); err != nil {
		c.dropWaiter(w, false)
		return Frame{}, fmt.Errorf("%s: %w", cmd, err)
	}
	select {
	case r := <-w.ch:
		if r.err != nil {
			return Frame{}, fmt.Errorf("%s: %w", cmd, r.err)
		}
		return r.f, nil
	case <-ctx.Done():
		if !c.dropWaiter(w, true) {
			r := <-w.ch // the reply raced the deadline and won
			if r.err != nil {
				return Frame{}, fmt.Errorf("%s: %w", cmd, r.err)
			}
			return r.f, nil
		}
		return Frame{}, timeoutErr(ctx, cmd)
	case <-c.done:
		return Frame{}, fmt.Errorf("%s: %w", cmd, c.failErr)
	}
}

// dropWaiter removes w; it reports false when w was already served. With
// late set, the reply still due is skipped when it comes.
func (c *Client) dropWaiter(w *cmdWaiter, late bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.waiters {
		if x == w {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			if late {
				c.late[w.kind] = append(c.late[w.kind], time.Now().Add(lateReplyGrace))
			}
			return true
		}
	}
	return false
}

func (c *Client) commandJSON(ctx context.Context, kind Kind, cmd string) ([]byte, error) {
	f, err := c.roundTripCommand(ctx, kind, cmd)
	if err != nil {
		return nil, err
	}
	if e := DecodeErrorJSON(f.Data); e != nil {
		return nil, fmt.Errorf("%s: %w", cmd, e)
	}
	return f.Data, nil
}

func (c *Client) commandMetrics(ctx context.Context) (*Metrics, error) {
	b, err := c.commandJSON(ctx, KindMetrics, "get_metrics")
	if err != nil {
		return nil, err
	}
	m, err := DecodeMetricsJSON(b)
	if err != nil {
		return nil, err
	}
	if m.SampledAtMs == 0 { // upstream before 1.60
		m.SampledAtMs = uint64(time.Now().UnixMilli())
	}
	return m, nil
}

// --- typed calls ---

// Hello returns what the agent said about itself at connection time. On
// the command dialect it is derived from the first metrics reply:
// hostname, cores, memory and the capabilities upstream agents serve;
// AgentVersion is empty and the protocol version 0.
func (c *Client) Hello(ctx context.Context) (*Hello, error) {
	select {
	case <-c.done:
		return nil, fmt.Errorf("hello: %w", c.failErr)
	default:
	}
	return c.hello, nil
}

// Metrics fetches the fast-changing machine metrics.
func (c *Client) Metrics(ctx context.Context) (*Metrics, error) {
	if c.dialect != DialectV2 {
		return c.commandMetrics(ctx)
	}
	r, err := c.roundTripV2(ctx, &Request{Body: &Request_Metrics{Metrics: &MetricsRequest{}}})
	if err != nil {
		return nil, err
	}
	return expect(r, r.GetMetrics(), "metrics")
}

// Disks fetches disk usage (and, on v2, cumulative I/O counters).
func (c *Client) Disks(ctx context.Context) (*Disks, error) {
	if c.dialect != DialectV2 {
		b, err := c.commandJSON(ctx, KindDisks, "get_disks")
		if err != nil {
			return nil, err
		}
		d, err := DecodeDisksJSON(b)
		if err != nil {
			return nil, err
		}
		d.SampledAtMs = uint64(time.Now().UnixMilli())
		return d, nil
	}
	r, err := c.roundTripV2(ctx, &Request{Body: &Request_Disks{Disks: &DisksRequest{}}})
	if err != nil {
		return nil, err
	}
	return expect(r, r.GetDisks(), "disks")
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
	if c.dialect != DialectV2 {
		f, err := c.roundTripCommand(ctx, KindProcesses, "get_processes")
		if err != nil {
			return nil, err
		}
		pl, err := DecodeProcessList(f.Data)
		if err != nil {
			return nil, err
		}
		p := FromProcessList(pl)
		p.SampledAtMs = uint64(time.Now().UnixMilli())
		return p, nil
	}
	r, err := c.roundTripV2(ctx, &Request{Body: &Request_Processes{Processes: &ProcessesRequest{Extras: extras}}})
	if err != nil {
		return nil, err
	}
	return expect(r, r.GetProcesses(), "processes")
}

// Containers lists the containers and services of an agent that has
// CapContainers; others give ErrNotSupported.
func (c *Client) Containers(ctx context.Context) (*Containers, error) {
	if c.dialect != DialectV2 || !c.hello.HasCapability(CapContainers) {
		return nil, fmt.Errorf("containers: %w (the agent does not read cgroups)", ErrNotSupported)
	}
	r, err := c.roundTripV2(ctx, &Request{Body: &Request_Containers{Containers: &ContainersRequest{}}})
	if err != nil {
		return nil, err
	}
	return expect(r, r.GetContainers(), "containers")
}

// History asks an agent that has CapHistory for its recorded samples;
// others give ErrNotSupported.
func (c *Client) History(ctx context.Context, req *HistoryRequest) (*History, error) {
	if c.dialect != DialectV2 || !c.hello.HasCapability(CapHistory) {
		return nil, fmt.Errorf("history: %w (the agent keeps no history)", ErrNotSupported)
	}
	r, err := c.roundTripV2(ctx, &Request{Body: &Request_History{History: req}})
	if err != nil {
		return nil, err
	}
	return expect(r, r.GetHistory(), "history")
}

// ProcessDetail fetches one process in detail. An unknown pid is an error
// matching ErrUnknownPID.
func (c *Client) ProcessDetail(ctx context.Context, pid uint32) (*ProcessDetail, error) {
	if c.dialect != DialectV2 {
		cmd := fmt.Sprintf("get_process_metrics:%d", pid)
		b, err := c.commandJSON(ctx, KindProcessDetail, cmd)
		if err != nil {
			return nil, err
		}
		return DecodeProcessDetailJSON(b)
	}
	r, err := c.roundTripV2(ctx, &Request{Body: &Request_ProcessDetail{ProcessDetail: &ProcessDetailRequest{Pid: pid}}})
	if err != nil {
		return nil, err
	}
	return expect(r, r.GetProcessDetail(), "process detail")
}

// Journal fetches the newest journal entries of one process.
func (c *Client) Journal(ctx context.Context, pid uint32) (*Journal, error) {
	if c.dialect != DialectV2 {
		cmd := fmt.Sprintf("get_journal_entries:%d", pid)
		b, err := c.commandJSON(ctx, KindJournal, cmd)
		if err != nil {
			return nil, err
		}
		return DecodeJournalJSON(b)
	}
	r, err := c.roundTripV2(ctx, &Request{Body: &Request_Journal{Journal: &JournalRequest{Pid: pid}}})
	if err != nil {
		return nil, err
	}
	return expect(r, r.GetJournal(), "journal")
}

// Connections fetches the socket table. Only socktop.v2 agents serve it;
// on the command dialect it returns ErrNotSupported.
func (c *Client) Connections(ctx context.Context) (*Connections, error) {
	if c.dialect != DialectV2 {
		return nil, fmt.Errorf("connections: %w (upstream agents do not list sockets)", ErrNotSupported)
	}
	r, err := c.roundTripV2(ctx, &Request{Body: &Request_Connections{Connections: &ConnectionsRequest{}}})
	if err != nil {
		return nil, err
	}
	return expect(r, r.GetConnections(), "connections")
}

// Signal sends a signal ("TERM", "SIGKILL", …) to the process pid that
// started at startTime (Unix seconds: ProcessInfo.StartTime or
// DetailedProcess.StartTime of the process the user chose). The agent
// refuses it when the process at pid started at another time (the pid was
// reused: ErrUnknownPID) or startTime is 0 (ErrBadRequest). Only socktop.v2
// agents serve it; on the command dialect it returns ErrNotSupported.
func (c *Client) Signal(ctx context.Context, pid uint32, startTime uint64, signal string) (*SignalResult, error) {
	if c.dialect != DialectV2 {
		return nil, fmt.Errorf("signal: %w (upstream agents cannot send signals)", ErrNotSupported)
	}
	r, err := c.roundTripV2(ctx, &Request{Body: &Request_Signal{Signal: &SignalRequest{Pid: pid, Signal: signal, StartTime: startTime}}})
	if err != nil {
		return nil, err
	}
	return expect(r, r.GetSignal(), "signal")
}

// expect checks that a response carries the body asked for.
func expect[T any](r *Response, body *T, what string) (*T, error) {
	if body == nil {
		return nil, fmt.Errorf("%s: %w: answered with %T", what, ErrProtocol, r.Body)
	}
	return body, nil
}

// IsNetError reports whether err came from the network rather than from
// the agent's answer (useful to decide whether to reconnect).
func IsNetError(err error) bool {
	var ne net.Error
	return errors.Is(err, ErrClosed) || errors.Is(err, ErrUnreachable) || errors.As(err, &ne)
}
