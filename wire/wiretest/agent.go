// Package wiretest runs in-process socktop agents on 127.0.0.1 for tests of
// code that talks to agents (the wire client, the dashboard).
//
// NewUpstream emulates upstream socktop_agent 1.60: it accepts no
// subprotocol and speaks only the command dialect, ignoring every frame it
// does not know, and refuses a bad token by upgrading and then closing, as
// upstream does. NewV2 is a minimal agent of ours: socktop.v2 (plus the
// command and JSON dialects), HTTP 401 for a bad token. Both serve fixed
// sample data (see Sample*) unless the Config supplies other data; neither
// reads the machine.
package wiretest

import (
	"context"
	"crypto/subtle"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
	"google.golang.org/protobuf/proto"
)

// Config is the data and behaviour of a test agent. Nil data fields serve
// the Sample* values.
type Config struct {
	// Token, when set, must be presented (?token= for upstream; also
	// Authorization: Bearer for v2).
	Token string
	// TLS serves wss:// with httptest's self-signed certificate.
	TLS bool

	Hello       *wire.Hello
	Metrics     *wire.Metrics
	Disks       *wire.Disks
	Processes   *wire.Processes
	Details     map[uint32]*wire.ProcessDetail
	Journals    map[uint32]*wire.Journal
	Connections *wire.Connections

	// Ignore, when it returns true for a received text frame, drops it
	// without a reply (to test callers that time out).
	Ignore func(frame string) bool
	// Latency delays the reply to a request of the given kind ("metrics",
	// "disks", "processes", "process_detail", "journal", …). v2 requests
	// are served concurrently, text frames one after the other.
	Latency func(kind string) time.Duration
}

// Agent is a running test agent.
type Agent struct {
	// URL is the WebSocket endpoint, ws://127.0.0.1:PORT/ws (wss:// with TLS).
	URL string

	cfg    Config
	v2     bool
	ctx    context.Context // cancelled by Close; ends every handler
	cancel context.CancelFunc
	srv    *httptest.Server
	mu     sync.Mutex
	seen   []string
	kinds  []string
	sigs   []string
	extras []*wire.ProcessExtras
	live   map[*websocket.Conn]struct{}
	wg     sync.WaitGroup
}

// NewUpstream starts an agent that behaves as upstream socktop_agent 1.60.
func NewUpstream(cfg Config) *Agent { return start(cfg, false) }

// NewV2 starts a minimal socktop.v2 agent (with the text dialects too).
func NewV2(cfg Config) *Agent { return start(cfg, true) }

func start(cfg Config, v2 bool) *Agent {
	a := &Agent{cfg: cfg, v2: v2, live: map[*websocket.Conn]struct{}{}}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", a.serveWS)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	if cfg.TLS {
		a.srv = httptest.NewTLSServer(mux)
		a.URL = "wss://" + strings.TrimPrefix(a.srv.URL, "https://") + "/ws"
	} else {
		a.srv = httptest.NewServer(mux)
		a.URL = "ws://" + strings.TrimPrefix(a.srv.URL, "http://") + "/ws"
	}
	return a
}

// Certificate is the agent's TLS certificate (nil without TLS).
func (a *Agent) Certificate() *x509.Certificate {
	if a.srv.TLS == nil {
		return nil
	}
	return a.srv.Certificate()
}

// Frames returns every text frame the agent received, in order.
func (a *Agent) Frames() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// Requests returns the kind of every v2 request the agent received, in
// order ("hello", "metrics", "processes", "subscribe", …).
func (a *Agent) Requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.kinds...)
}

// ProcessExtras returns the extras of every v2 processes request, in
// order (nil for a request that named none).
func (a *Agent) ProcessExtras() []*wire.ProcessExtras {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*wire.ProcessExtras(nil), a.extras...)
}

// Signals returns the "pid:SIGNAL" pairs v2 clients asked for (nothing is
// really signalled).
func (a *Agent) Signals() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.sigs...)
}

// DropConnections closes every live WebSocket connection abruptly, as a
// crashing or restarting agent would.
func (a *Agent) DropConnections() {
	a.mu.Lock()
	conns := make([]*websocket.Conn, 0, len(a.live))
	for c := range a.live {
		conns = append(conns, c)
	}
	a.mu.Unlock()
	for _, c := range conns {
		c.CloseNow()
	}
}

// Close stops the agent and waits for its connection handlers.
func (a *Agent) Close() {
	a.cancel()
	a.DropConnections()
	a.srv.Close()
	a.wg.Wait()
}

func (a *Agent) tokenOK(r *http.Request) bool {
	if a.cfg.Token == "" {
		return true
	}
	eq := func(s string) bool { return subtle.ConstantTimeCompare([]byte(s), []byte(a.cfg.Token)) == 1 }
	if eq(r.URL.Query().Get("token")) {
		return true
	}
	return a.v2 && eq(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
}

func (a *Agent) serveWS(w http.ResponseWriter, r *http.Request) {
	a.wg.Add(1)
	defer a.wg.Done()
	ok := a.tokenOK(r)
	if !ok && a.v2 {
		http.Error(w, "token rejected", http.StatusUnauthorized)
		return
	}
	opts := &websocket.AcceptOptions{}
	if a.v2 {
		opts.Subprotocols = []string{wire.Subprotocol}
	}
	c, err := websocket.Accept(w, r, opts)
	if err != nil {
		return
	}
	c.SetReadLimit(1 << 20)
	if !ok {
		// Upstream upgrades, then closes.
		c.Close(websocket.StatusPolicyViolation, "unauthorized")
		return
	}
	a.mu.Lock()
	a.live[c] = struct{}{}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.live, c)
		a.mu.Unlock()
		c.CloseNow()
	}()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(a.ctx, cancel)()
	if c.Subprotocol() == wire.Subprotocol {
		a.serveV2(ctx, c)
		return
	}
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue // upstream ignores binary frames
		}
		a.mu.Lock()
		a.seen = append(a.seen, string(data))
		a.mu.Unlock()
		if a.cfg.Ignore != nil && a.cfg.Ignore(string(data)) {
			continue
		}
		req := dialect.ParseTextRequest(data)
		if !a.v2 && (req.Dialect != wire.DialectCommand || req.Err != nil) {
			continue // upstream answers only the commands it knows
		}
		f := a.reply(req)
		if a.cfg.Latency != nil && !sleep(ctx, a.cfg.Latency(textKind(req))) {
			return
		}
		if err := c.Write(ctx, f.Type, f.Data); err != nil {
			return
		}
	}
}

// Routes of dialect.Upstream, by ID.
const (
	routeMetrics = iota
	routeDisks
	routeProcesses
	routeDetail
	routeJournal
)

func (a *Agent) reply(req dialect.TextRequest) wire.Frame {
	if req.Err != nil {
		return dialect.ReplyError(req, req.Err)
	}
	switch req.Route.ID {
	case routeMetrics:
		return dialect.ReplyMetrics(req.Dialect, a.metrics())
	case routeDisks:
		return dialect.ReplyDisks(req.Dialect, a.disks())
	case routeProcesses:
		return dialect.ReplyProcesses(req.Dialect, a.processes())
	case routeDetail:
		if d := a.details()[req.PID]; d != nil {
			return dialect.ReplyProcessDetail(req.Dialect, d)
		}
	case routeJournal:
		if j := a.journals()[req.PID]; j != nil {
			return dialect.ReplyJournal(req.Dialect, j)
		}
	}
	return dialect.ReplyError(req, wire.UnknownPIDError(req.PID))
}

func (a *Agent) serveV2(ctx context.Context, c *websocket.Conn) {
	var wmu sync.Mutex
	var wg sync.WaitGroup
	defer wg.Wait()
	send := func(r *wire.Response) bool {
		wmu.Lock()
		defer wmu.Unlock()
		return c.Write(ctx, websocket.MessageBinary, wire.AppendResponse(nil, r)) == nil
	}
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageBinary {
			continue
		}
		req, err := wire.DecodeRequest(data)
		if err != nil {
			id := uint32(0)
			if req != nil {
				id = req.Id
			}
			send(&wire.Response{Id: id, Body: &wire.Response_Error{Error: wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "%v", err)}})
			continue
		}
		if h := req.GetHello(); h != nil {
			if e := wire.CheckHello(h); e != nil {
				send(&wire.Response{Id: req.Id, Body: &wire.Response_Error{Error: e}})
				c.Close(websocket.StatusProtocolError, "unsupported protocol version")
				return
			}
		}
		a.mu.Lock()
		a.kinds = append(a.kinds, kindOf(req))
		a.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := a.serveRequest(req)
			if a.cfg.Latency != nil && !sleep(ctx, a.cfg.Latency(kindOf(req))) {
				return
			}
			send(resp)
		}()
	}
}

// textKind names a text request as Config.Latency knows it.
func textKind(req dialect.TextRequest) string {
	if req.Route == nil {
		return ""
	}
	return [...]string{"metrics", "disks", "processes", "process_detail", "journal"}[req.Route.ID]
}

// sleep waits d, or less when ctx ends (then it returns false).
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func kindOf(r *wire.Request) string {
	switch r.Body.(type) {
	case *wire.Request_Hello:
		return "hello"
	case *wire.Request_Metrics:
		return "metrics"
	case *wire.Request_Disks:
		return "disks"
	case *wire.Request_Processes:
		return "processes"
	case *wire.Request_ProcessDetail:
		return "process_detail"
	case *wire.Request_Journal:
		return "journal"
	case *wire.Request_Connections:
		return "connections"
	case *wire.Request_Signal:
		return "signal"
	case *wire.Request_Subscribe:
		return "subscribe"
	}
	return "unknown"
}

func (a *Agent) serveRequest(req *wire.Request) *wire.Response {
	resp := &wire.Response{Id: req.Id}
	switch b := req.Body.(type) {
	case *wire.Request_Hello:
		resp.Body = &wire.Response_Hello{Hello: a.hello()}
	case *wire.Request_Metrics:
		resp.Body = &wire.Response_Metrics{Metrics: a.metrics()}
	case *wire.Request_Disks:
		resp.Body = &wire.Response_Disks{Disks: a.disks()}
	case *wire.Request_Processes:
		ex := b.Processes.GetExtras()
		a.mu.Lock()
		a.extras = append(a.extras, ex)
		a.mu.Unlock()
		resp.Body = &wire.Response_Processes{Processes: withoutCommands(a.processes(), ex.GetCommand())}
	case *wire.Request_ProcessDetail:
		if d := a.details()[b.ProcessDetail.GetPid()]; d != nil {
			resp.Body = &wire.Response_ProcessDetail{ProcessDetail: d}
		} else {
			resp.Body = &wire.Response_Error{Error: wire.UnknownPIDError(b.ProcessDetail.GetPid())}
		}
	case *wire.Request_Journal:
		if j := a.journals()[b.Journal.GetPid()]; j != nil {
			resp.Body = &wire.Response_Journal{Journal: j}
		} else {
			resp.Body = &wire.Response_Error{Error: wire.UnknownPIDError(b.Journal.GetPid())}
		}
	case *wire.Request_Connections:
		resp.Body = &wire.Response_Connections{Connections: a.connections()}
	case *wire.Request_Signal:
		pid, sig := b.Signal.GetPid(), strings.ToUpper(strings.TrimPrefix(strings.ToUpper(b.Signal.GetSignal()), "SIG"))
		if _, ok := a.details()[pid]; !ok {
			resp.Body = &wire.Response_Error{Error: wire.UnknownPIDError(pid)}
			break
		}
		// As a real agent: a pid alone is never enough, and it must still
		// be the process that started then.
		if start := b.Signal.GetStartTime(); start == 0 {
			resp.Body = &wire.Response_Error{Error: wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "signal request for pid %d has no start_time", pid)}
			break
		} else if want := a.startTime(pid); start != want {
			resp.Body = &wire.Response_Error{Error: wire.NewError(wire.ErrorCode_ERROR_CODE_UNKNOWN_PID, "Process %d not found: it started at %d, not %d", pid, want, start)}
			break
		}
		a.mu.Lock()
		a.sigs = append(a.sigs, strings.Join([]string{itoa(pid), "SIG" + sig}, ":"))
		a.mu.Unlock()
		resp.Body = &wire.Response_Signal{Signal: &wire.SignalResult{Pid: pid, Signal: "SIG" + sig}}
	default: // subscriptions and whatever comes later: refused, as an older agent does
		resp.Body = &wire.Response_Error{Error: wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "empty or unknown request body")}
	}
	return resp
}

// startTime is pid's start time in the served process list, else in its
// detail.
func (a *Agent) startTime(pid uint32) uint64 {
	for _, p := range a.processes().GetProcesses() {
		if p.GetPid() == pid {
			return p.GetStartTime()
		}
	}
	return a.details()[pid].GetProcess().GetStartTime()
}

func itoa(v uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

func (a *Agent) hello() *wire.Hello {
	if a.cfg.Hello != nil {
		return a.cfg.Hello
	}
	return SampleHello()
}

func (a *Agent) metrics() *wire.Metrics {
	if a.cfg.Metrics != nil {
		return a.cfg.Metrics
	}
	return SampleMetrics()
}

func (a *Agent) disks() *wire.Disks {
	if a.cfg.Disks != nil {
		return a.cfg.Disks
	}
	return SampleDisks()
}

func (a *Agent) processes() *wire.Processes {
	if a.cfg.Processes != nil {
		return a.cfg.Processes
	}
	return SampleProcesses(50)
}

// withoutCommands is p without command lines unless they were asked for,
// as a real agent answers.
func withoutCommands(p *wire.Processes, asked bool) *wire.Processes {
	if asked {
		return p
	}
	for _, pi := range p.GetProcesses() {
		if pi.GetCommand() != "" {
			q := proto.Clone(p).(*wire.Processes)
			for _, pi := range q.GetProcesses() {
				pi.Command = ""
			}
			return q
		}
	}
	return p
}

func (a *Agent) details() map[uint32]*wire.ProcessDetail {
	if a.cfg.Details != nil {
		return a.cfg.Details
	}
	d := SampleDetail()
	return map[uint32]*wire.ProcessDetail{d.GetProcess().GetPid(): d}
}

func (a *Agent) journals() map[uint32]*wire.Journal {
	if a.cfg.Journals != nil {
		return a.cfg.Journals
	}
	return map[uint32]*wire.Journal{SampleDetail().GetProcess().GetPid(): SampleJournal()}
}

func (a *Agent) connections() *wire.Connections {
	if a.cfg.Connections != nil {
		return a.cfg.Connections
	}
	return SampleConnections()
}
