package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
	"google.golang.org/protobuf/encoding/protowire"
)

// Response body field numbers of the replies that are no kind's, for
// hand-built envelopes (a kind's is kind.v2).
const (
	fieldSubscription protowire.Number = 10
	fieldError        protowire.Number = 15
)

const (
	writeTimeout = 10 * time.Second
	pingTimeout  = 15 * time.Second
	// v2InFlight bounds the requests one v2 connection may have served at
	// once; the read loop waits for a slot, which pushes back on a flood.
	v2InFlight = 4
)

// conn is one WebSocket client.
type conn struct {
	a      *Agent
	c      *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	v2     bool
	bucket tokenBucket
	ping   *time.Timer
	slots  chan struct{}
	wg     sync.WaitGroup

	pushq  chan []byte  // frames pushed to it; nil until it subscribes
	joined []*pushGroup // the groups it is subscribed in (under Agent.pushMu)
	watch  writeWatch
}

// writeWatch drops a connection whose writes have stalled: while any write
// is in progress, no write finishing for writeTimeout closes it. One timer
// per connection, armed and disarmed around each write: a context per
// write (its timer, its place among the connection context's children,
// the library's AfterFunc on it) was a tenth of the agent's CPU with 100
// subscribed dashboards.
type writeWatch struct {
	mu       sync.Mutex
	inFlight int
	t        *time.Timer // closes the connection when it fires
}

func (w *writeWatch) begin() {
	w.mu.Lock()
	if w.inFlight++; w.inFlight == 1 {
		w.t.Reset(writeTimeout)
	}
	w.mu.Unlock()
}

// end notes a write finished: progress, so the others get writeTimeout
// from now.
func (w *writeWatch) end() {
	w.mu.Lock()
	if w.inFlight--; w.inFlight == 0 {
		w.t.Stop()
	} else {
		w.t.Reset(writeTimeout)
	}
	w.mu.Unlock()
}

func (a *Agent) serveWS(w http.ResponseWriter, r *http.Request) {
	peer := peerOfRemote(r.RemoteAddr)
	if msg := a.admitClient(peer); msg != "" {
		a.limits.busy.Log("remote", r.RemoteAddr, "why", msg)
		http.Error(w, msg, http.StatusServiceUnavailable)
		return
	}
	defer a.leaveClient(peer)
	// Accept checks the Origin header: a browser page from another origin
	// gets 403; programs that send no Origin are served. The connection it
	// hijacks is handed to it inside a frameGuard.
	gw := guardedWriter{ResponseWriter: w, guard: a.guardFrames(r.RemoteAddr)}
	c, err := websocket.Accept(gw, r, &websocket.AcceptOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		a.limits.upgrade.Log("remote", r.RemoteAddr, "err", err)
		return
	}
	c.SetReadLimit(MaxFrame)
	if !a.track(c) {
		c.Close(websocket.StatusGoingAway, "agent shutting down")
		return
	}
	defer a.untrack(c)

	ctx, cancel := context.WithCancel(context.Background())
	cn := &conn{a: a, c: c, ctx: ctx, cancel: cancel, v2: c.Subprotocol() == wire.Subprotocol,
		bucket: newTokenBucket(a.cfg.RequestsPerSecond, a.cfg.Burst)}
	cn.watch.t = time.AfterFunc(writeTimeout, func() { c.CloseNow() })
	cn.watch.t.Stop()
	// Writes take no context (see writeWatch): the end of the connection
	// (run cancels ctx, always) ends a write in progress by closing it, as
	// a write's context did.
	context.AfterFunc(ctx, func() { c.CloseNow() })
	if cn.v2 {
		cn.slots = make(chan struct{}, v2InFlight)
	}
	a.log.Debug("client connected", "remote", r.RemoteAddr, "v2", cn.v2)
	cn.run()
	a.log.Debug("client gone", "remote", r.RemoteAddr)
}

// admitClient counts a new WebSocket client of peer, or says why not:
// the agent serves at most MaxClients, and one peer at most its share, so
// that one address cannot lock the others out.
func (a *Agent) admitClient(peer netip.Addr) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.clients.Load() >= int64(a.cfg.MaxClients):
		return fmt.Sprintf("too many clients: this agent serves at most %d at once (--max-clients)", a.cfg.MaxClients)
	case a.peers[peer] >= a.cfg.MaxClientsPerPeer:
		return fmt.Sprintf("too many clients from this address: at most %d of the agent's %d (--max-clients-per-peer)",
			a.cfg.MaxClientsPerPeer, a.cfg.MaxClients)
	}
	a.peers[peer]++
	a.clients.Add(1)
	return ""
}

func (a *Agent) leaveClient(peer netip.Addr) {
	a.mu.Lock()
	if a.peers[peer]--; a.peers[peer] <= 0 {
		delete(a.peers, peer)
	}
	last := a.clients.Add(-1) == 0
	a.mu.Unlock()
	if last {
		a.releaseIdle() // nobody watches
	}
}

// guardFrames makes the frameGuard of a hijacked connection: its slot in
// the connection limiter is given back when it closes.
func (a *Agent) guardFrames(remote string) func(net.Conn) *frameGuard {
	return func(c net.Conn) *frameGuard {
		return newFrameGuard(c, a.fragmentTime, func() { a.connLimit.release(c) },
			func(reason string) { a.limits.frames.Log("remote", remote, "why", reason) },
			func() { a.limits.flood.Log("remote", remote, "frames_per_second", frameRate) })
	}
}

func (a *Agent) track(c *websocket.Conn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closing {
		return false
	}
	a.conns[c] = struct{}{}
	return true
}

func (a *Agent) untrack(c *websocket.Conn) {
	a.mu.Lock()
	delete(a.conns, c)
	a.mu.Unlock()
}

// run is the connection's one read loop. It returns when the peer goes
// away, a frame is too large (closed with 1009 by the library), or the agent
// shuts down; it waits for the requests it started before returning.
func (cn *conn) run() {
	defer func() {
		cn.a.leave(cn)
		cn.cancel()
		if cn.ping != nil {
			cn.ping.Stop()
		}
		cn.wg.Wait()
		cn.c.CloseNow()
	}()
	if cn.a.cfg.PingInterval > 0 {
		cn.ping = time.AfterFunc(cn.a.cfg.PingInterval, cn.pingPeer)
	}
	for {
		typ, data, err := cn.c.Read(cn.ctx)
		if err != nil {
			return
		}
		if cn.ping != nil {
			cn.ping.Reset(cn.a.cfg.PingInterval)
		}
		cn.a.requests.Add(1)
		if cn.v2 {
			if !cn.v2Frame(typ, data) {
				return
			}
			continue
		}
		cn.textFrame(typ, data)
	}
}

// pingPeer runs only after PingInterval without a frame from the peer; a
// peer that does not answer is disconnected.
func (cn *conn) pingPeer() {
	ctx, cancel := context.WithTimeout(cn.ctx, pingTimeout)
	defer cancel()
	if err := cn.c.Ping(ctx); err != nil {
		if cn.ctx.Err() == nil {
			cn.a.limits.ping.Log()
			cn.c.Close(websocket.StatusPolicyViolation, "no pong")
		}
		return
	}
	cn.ping.Reset(cn.a.cfg.PingInterval)
}

// write sends one message, watched by cn.watch. A write that fails leaves
// the stream unusable (a frame may be half sent): the connection is closed.
func (cn *conn) write(typ websocket.MessageType, b []byte) error {
	if cn.ctx.Err() != nil {
		return cn.ctx.Err()
	}
	cn.watch.begin()
	err := cn.c.Write(context.Background(), typ, b)
	cn.watch.end()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		// (Closed already, or closing: the agent's own Close may be
		// waiting for the peer's close frame; let it.)
		cn.c.CloseNow()
	}
	return err
}

func (cn *conn) writeFrame(f wire.Frame) error { return cn.write(f.Type, f.Data) }

// textFrame serves one request of the JSON or command dialect, in order.
// A frame of no dialect gets an error object too: silence would leave the
// client waiting forever.
func (cn *conn) textFrame(typ websocket.MessageType, data []byte) {
	req := cn.a.reg.parser.Parse(data)
	if typ != websocket.MessageText {
		req = dialect.NotARequest("a binary frame without the socktop.v2 subprotocol")
	}
	if !cn.bucket.take(time.Now(), cn.a.textCost(req)) {
		cn.writeFrame(dialect.ReplyError(req, wire.NewError(wire.ErrorCode_ERROR_CODE_RATE_LIMITED,
			"rate limited: at most %.0f requests per second per connection", cn.a.cfg.RequestsPerSecond)))
		return
	}
	if req.Err != nil {
		cn.writeFrame(dialect.ReplyError(req, req.Err))
		return
	}
	f, err := cn.a.serveText(cn.ctx, req)
	if err != nil {
		f = dialect.ReplyError(req, asWireError(err, req.PID))
	}
	cn.writeFrame(f)
}

// v2Frame decodes one Request and serves it concurrently with others. It
// reports false when the connection must end.
func (cn *conn) v2Frame(typ websocket.MessageType, data []byte) bool {
	if typ != websocket.MessageBinary {
		cn.writeV2(envelopeError(0, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "socktop.v2 frames are binary protobuf Requests")))
		return true
	}
	req, err := wire.DecodeRequest(data)
	if err != nil {
		cn.writeV2(envelopeError(req.GetId(), wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "%v", err)))
		return true
	}
	if h := req.GetHello(); h != nil {
		if e := wire.CheckHello(h); e != nil {
			cn.writeV2(envelopeError(req.Id, e))
			cn.c.Close(websocket.StatusProtocolError, "unsupported protocol version")
			return false
		}
	}
	rt := cn.a.reg.route(req)
	if !cn.bucket.take(time.Now(), rt.cost()) {
		cn.writeV2(envelopeError(req.Id, wire.NewError(wire.ErrorCode_ERROR_CODE_RATE_LIMITED,
			"rate limited: at most %.0f requests per second per connection", cn.a.cfg.RequestsPerSecond)))
		return true
	}
	if sub := req.GetSubscribe(); sub != nil {
		cn.subscribe(req.Id, sub)
		return true
	}
	serve := func() {
		b, err := cn.a.serveKind(cn.ctx, rt, req)
		if err != nil {
			b = envelopeError(req.Id, asWireError(err, rt.query(req).pid))
		}
		cn.writeV2(b)
	}
	if !rt.slow() {
		// Shared, cached data: answering in the read loop spares a
		// goroutine hand-off per request, which is most of what a
		// request costs when a hundred clients watch one agent.
		serve()
		return true
	}
	select {
	case cn.slots <- struct{}{}:
	case <-cn.ctx.Done():
		return false
	}
	cn.wg.Go(func() {
		defer func() { <-cn.slots }()
		serve()
	})
	return true
}

func (cn *conn) writeV2(b []byte) error { return cn.write(websocket.MessageBinary, b) }

func envelopeError(id uint32, e *wire.Error) []byte {
	body, _ := e.MarshalVT()
	return envelope(id, fieldError, body)
}

// asWireError turns a serving failure into a typed wire error.
func asWireError(err error, pid uint32) *wire.Error {
	var we *wire.Error
	switch {
	case errors.As(err, &we):
		return we
	case errors.Is(err, procfs.ErrNotFound):
		return wire.UnknownPIDError(pid)
	case errors.Is(err, context.DeadlineExceeded):
		return wire.NewError(wire.ErrorCode_ERROR_CODE_INTERNAL, "timed out collecting the data")
	}
	return wire.NewError(wire.ErrorCode_ERROR_CODE_INTERNAL, "%v", err)
}

// tokenBucket caps one connection's request rate. It refills lazily when a
// request arrives, so it costs nothing while the connection is quiet.
type tokenBucket struct {
	rate, tokens, max float64
	last              time.Time
}

func newTokenBucket(rate float64, burst int) tokenBucket {
	return tokenBucket{rate: rate, tokens: float64(burst), max: float64(burst)}
}

// refill adds the tokens earned since the last call and returns the count.
func (b *tokenBucket) refill(now time.Time) float64 {
	if !b.last.IsZero() {
		b.tokens = min(b.max, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	return b.tokens
}

// take spends cost tokens (a request's cost: textCost, v2Cost), or the
// whole burst when it is smaller.
func (b *tokenBucket) take(now time.Time, cost float64) bool {
	cost = min(cost, b.max)
	if b.refill(now) < cost {
		return false
	}
	b.tokens -= cost
	return true
}
