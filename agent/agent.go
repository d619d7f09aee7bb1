// Package agent is socktop's server: an HTTP server with the WebSocket
// endpoint /ws (all three dialects of the wire protocol), /healthz and a
// Prometheus /metrics endpoint. It reads /proc and /sys only when a request
// asks, through TTL caches shared by every client; while no request is
// pending it runs no timer and no goroutine beyond those blocked in reads.
package agent

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
)

// Agent serves one machine's data. Create it with New; serve Handler().
type Agent struct {
	cfg   Config
	log   *slog.Logger
	fs    *procfs.FS
	coll  *collector
	start time.Time

	// reg lists the kinds of data served (kind.go); src holds each
	// kind's caches and collectors, in the same order.
	reg *registry
	src []source

	capsOnce sync.Once
	caps     []string

	clients  atomic.Int64
	requests atomic.Uint64
	mu       sync.Mutex
	conns    map[*websocket.Conn]struct{}
	peers    map[netip.Addr]int // WebSocket clients per peer (under mu)
	closing  bool

	// What a peer may do, and what it is told (peer.go, limit.go, host.go)
	hosts     hostAllowlist
	connLimit *connLimiter
	authFails *peerBuckets // wrong tokens per peer
	httpReqs  *peerBuckets // plain HTTP requests (/metrics, /healthz) per peer
	limits    logLimits

	// noPidfd makes signals act as on a kernel without pidfd_open (the
	// tests of the kill(2) path); fragmentTime bounds a fragmented
	// message (frames.go).
	noPidfd      atomic.Bool
	fragmentTime time.Duration

	// rec is the flight recorder (history.go); nil without Config.History.
	rec *recorder

	// subscriptions (push.go)
	pushMu        sync.Mutex
	groups        map[pushKey]*pushGroup
	pushesDropped atomic.Uint64
}

// New checks cfg, fills in the defaults of its zero fields (see Config),
// opens the proc and sys roots and prepares the caches. It reads nothing
// else until a request arrives, but for the history file (Config.History),
// which it loads; Close releases it.
func New(cfg Config) (*Agent, error) { return newAgent(cfg, builtin) }

// newAgent is New serving the kinds of reg, reading procfs with opts (the
// fixture tests' statfs and user names).
func newAgent(cfg Config, reg *registry, opts ...procfs.Option) (*Agent, error) {
	d := DefaultConfig()
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = d.ProcRoot
	}
	if cfg.SysRoot == "" {
		cfg.SysRoot = d.SysRoot
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = d.MaxClients
	}
	if cfg.MaxClientsPerPeer <= 0 {
		cfg.MaxClientsPerPeer = max(1, cfg.MaxClients/2)
	}
	cfg.MaxClientsPerPeer = min(cfg.MaxClientsPerPeer, cfg.MaxClients)
	if cfg.RequestsPerSecond <= 0 {
		cfg.RequestsPerSecond = d.RequestsPerSecond
	}
	if cfg.Burst <= 0 {
		cfg.Burst = d.Burst
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = d.PingInterval
	}
	if cfg.Version == "" {
		cfg.Version = d.Version
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = d.StaleAfter
	}
	for _, ttl := range []struct {
		name string
		d    time.Duration
	}{{"MetricsTTL", cfg.MetricsTTL}, {"ProcessesTTL", cfg.ProcessesTTL}, {"DisksTTL", cfg.DisksTTL}, {"ConnectionsTTL", cfg.ConnectionsTTL}, {"ContainersTTL", cfg.ContainersTTL}} {
		if ttl.d < 0 {
			return nil, fmt.Errorf("agent: %s %v: want 0 (no caching) or more", ttl.name, ttl.d)
		}
	}
	if err := CheckHistory(&cfg); err != nil {
		return nil, err
	}
	if cfg.History > 0 {
		// Each tick's CPU shares then cover the whole interval, measured
		// from the tick before, instead of a short window of their own.
		cfg.StaleAfter = max(cfg.StaleAfter, 2*cfg.HistoryInterval)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	fs, err := procfs.NewFS(cfg.ProcRoot, cfg.SysRoot, opts...)
	if err != nil {
		return nil, fmt.Errorf("agent: %w (check --proc-root)", err)
	}
	a := &Agent{cfg: cfg, log: log, fs: fs, start: time.Now(), reg: reg, fragmentTime: defaultFragmentTime, conns: map[*websocket.Conn]struct{}{},
		peers: map[netip.Addr]int{}, groups: map[pushKey]*pushGroup{},
		hosts: newHostAllowlist(cfg.AllowedHosts), limits: newLogLimits(log),
		authFails: newPeerBuckets(authFailRate, authFailBurst), httpReqs: newPeerBuckets(httpRate, httpBurst)}
	a.connLimit = newConnLimiter(cfg.MaxClients+httpHeadroom, cfg.MaxClientsPerPeer+httpHeadroom/2, a.limits.conns)
	// The held /proc files must leave room for every connection admitted,
	// and for the pipes and netlink sockets of the collectors.
	procfs.ReserveFiles(cfg.MaxClients + httpHeadroom + 512)
	a.coll = newCollector(fs, cfg)
	a.src = make([]source, len(reg.kinds))
	for i, k := range reg.kinds {
		a.src[i] = k.open(a)
	}
	if cfg.History > 0 {
		if a.rec, err = newRecorder(a, cfg); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// capabilities lists what this agent can serve on this machine: each kind
// it serves, with what that kind adds, and subscribe when a kind is
// pushable. It is worked out at the first request that needs it, not at
// start-up.
func (a *Agent) capabilities() []string {
	var caps []string
	push := false
	for _, k := range a.reg.kinds {
		if k.capability == "" || (k.served != nil && !k.served(a)) {
			continue
		}
		caps = append(caps, k.capability)
		if k.features != nil {
			caps = append(caps, k.features(a)...)
		}
		push = push || k.push != nil
	}
	if push {
		caps = append(caps, wire.CapSubscribe)
	}
	return caps
}

// Capabilities reports what Hello advertises.
func (a *Agent) Capabilities() []string {
	a.capsOnce.Do(func() { a.caps = a.capabilities() })
	return append([]string(nil), a.caps...)
}

func (a *Agent) has(capability string) bool {
	a.capsOnce.Do(func() { a.caps = a.capabilities() })
	for _, c := range a.caps {
		if c == capability {
			return true
		}
	}
	return false
}

// Handler returns the agent's HTTP handler: /ws, /healthz and /metrics.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", a.limitHTTP(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})))
	mux.Handle("GET /ws", a.authorized(http.HandlerFunc(a.serveWS)))
	mux.Handle("GET /metrics", a.authorized(a.limitHTTP(http.HandlerFunc(a.serveMetrics))))
	return a.checkHost(mux)
}

// Per-peer rates: wrong tokens (a typo or two is free; a guesser gets one
// try a second instead of 18,000), and plain HTTP requests, which the
// WebSocket request limit does not see (Prometheus scrapes once per 15 s).
const (
	authFailRate  = 1
	authFailBurst = 20
	httpRate      = 10
	httpBurst     = 40
)

// authorized refuses a request without the configured token with HTTP 401,
// before any WebSocket upgrade, and a peer that has sent too many wrong
// tokens with 429 whatever it sends, until its bucket refills. The token is
// compared in constant time and never logged.
func (a *Agent) authorized(next http.Handler) http.Handler {
	if a.cfg.Token == "" {
		return next
	}
	want := []byte(a.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, now := peerOfRemote(r.RemoteAddr), time.Now()
		if a.authFails.empty(peer, now) {
			a.limits.auth.Log("remote", r.RemoteAddr, "path", clip(r.URL.Path, 64), "throttled", true)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many wrong tokens from this address: wait, then retry with the right token", http.StatusTooManyRequests)
			return
		}
		got := r.URL.Query().Get("token")
		if h := r.Header.Get("Authorization"); h != "" {
			if t, ok := strings.CutPrefix(h, "Bearer "); ok {
				got = strings.TrimSpace(t)
			}
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			if got != "" {
				a.authFails.take(peer, now)
			}
			a.limits.auth.Log("remote", r.RemoteAddr, "path", clip(r.URL.Path, 64), "token_given", got != "")
			w.Header().Set("WWW-Authenticate", `Bearer realm="socktop"`)
			http.Error(w, "unauthorized: this agent needs a token (?token= or Authorization: Bearer)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitHTTP answers a peer that makes more plain HTTP requests than
// httpRate with 429.
func (a *Agent) limitHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.httpReqs.take(peerOfRemote(r.RemoteAddr), time.Now()) {
			a.limits.http.Log("remote", r.RemoteAddr, "path", clip(r.URL.Path, 64), "per_second", httpRate)
			w.Header().Set("Retry-After", "1")
			http.Error(w, fmt.Sprintf("too many requests from this address: at most %d a second", httpRate), http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// logLimits are the log lines a peer can cause at will, each written at
// most twice per logEvery.
type logLimits struct {
	auth, host, http, busy, conns, upgrade, frames, flood, ping, server, scrape *logLimiter
}

func newLogLimits(log *slog.Logger) logLimits {
	w, i := slog.LevelWarn, slog.LevelInfo
	return logLimits{
		auth:    newLogLimiter(log, w, "unauthorized request"),
		host:    newLogLimiter(log, w, "refused a request for a host name this agent does not answer to"),
		http:    newLogLimiter(log, i, "HTTP requests rate limited"),
		busy:    newLogLimiter(log, w, "WebSocket client refused: too many clients"),
		conns:   newLogLimiter(log, w, "connection refused: the peer holds its share of connections"),
		upgrade: newLogLimiter(log, i, "websocket upgrade refused"),
		frames:  newLogLimiter(log, w, "client disconnected: WebSocket frame policy"),
		flood:   newLogLimiter(log, i, "client throttled: more WebSocket frames than the frame rate"),
		ping:    newLogLimiter(log, i, "client did not answer a ping; disconnecting"),
		server:  newLogLimiter(log, w, "http server"),
		scrape:  newLogLimiter(log, w, "metrics scrape: collect failed"),
	}
}

// Shutdown closes every WebSocket with status 1001 (going away).
func (a *Agent) Shutdown() {
	a.mu.Lock()
	a.closing = true
	conns := make([]*websocket.Conn, 0, len(a.conns))
	for c := range a.conns {
		conns = append(conns, c)
	}
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.Close(websocket.StatusGoingAway, "agent shutting down") })
	}
	wg.Wait()
}

// Hosts lists the host names an agent without a token answers to (the
// DNS rebinding guard, host.go), for the start-up log.
func (a *Agent) Hosts() string { return a.hosts.String() }

// Clients is the number of connected WebSocket clients.
func (a *Agent) Clients() int { return int(a.clients.Load()) }

// Requests counts the WebSocket requests received so far (pushes are not
// requests).
func (a *Agent) Requests() uint64 { return a.requests.Load() }

// Serve runs an HTTP server for the agent on ln until ctx is done, then
// closes every WebSocket with 1001 and returns within about two seconds.
// With History it runs the flight recorder (Record) meanwhile.
func (a *Agent) Serve(ctx context.Context, ln net.Listener) error {
	if a.rec != nil {
		rctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { a.Record(rctx) })
		defer func() { stop(); wg.Wait() }()
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeoutHTTP,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(logWriter{a.limits.server}, "", 0),
		ConnState:         a.connLimit.connState,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.connLimit.listener(ln)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	a.Shutdown()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	<-errc
	return err
}

// HTTP timeouts. A WebSocket is hijacked before they matter (the server
// clears its deadlines then); they bound what a plain HTTP connection can
// hold: a slow header, a slow body, a reader that does not read, and an
// idle keep-alive connection, which costs ~20 KiB while it waits.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeoutHTTP  = 30 * time.Second
	idleTimeout       = 5 * time.Second
)

// Listen opens a TCP listener for Serve whose accepted connections use TCP
// keepalive, so the kernel notices vanished peers without waking the agent,
// and raw reads and writes (rawIOConn).
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3,
	}}
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another agent running? try --port)", addr, err)
	}
	return rawIOListener{ln}, nil
}

// releaseIdle lets go of what kinds hold open between requests (the
// process sampler's /proc files, ~4 KiB of kernel memory each) while
// nobody watches.
func (a *Agent) releaseIdle() {
	for _, s := range a.src {
		if r, ok := s.(releaser); ok {
			r.release()
		}
	}
}
