package agent

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// Peers: what the agent counts per remote address (connection shares,
// failed tokens, HTTP requests), and the rate limit on log lines that a
// peer can cause at will.

// peerOf is the key a remote address is counted under: its IPv4 address,
// or the /64 of an IPv6 address (one host is routinely given a whole /64,
// so counting single addresses would let it take 2⁶⁴ shares). Anything
// unparsable shares the zero key.
func peerOf(addr netip.Addr) netip.Addr {
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return addr
}

// peerOfRemote is peerOf for http.Request.RemoteAddr ("ip:port").
func peerOfRemote(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	return peerOf(ap.Addr())
}

// maxPeerBuckets bounds a peerBuckets map: about 100 bytes an entry.
const maxPeerBuckets = 4096

// peerBuckets is a token bucket per peer, in a map of bounded size. A
// bucket that has refilled holds no information and is dropped when room
// is needed; when every entry is still draining, new peers share one
// overflow bucket, so cycling through addresses gains an attacker nothing
// but that shared bucket.
type peerBuckets struct {
	rate  float64
	burst int
	max   int

	mu       sync.Mutex
	m        map[netip.Addr]*tokenBucket
	overflow tokenBucket
}

func newPeerBuckets(rate float64, burst int) *peerBuckets {
	return &peerBuckets{rate: rate, burst: burst, max: maxPeerBuckets,
		m: map[netip.Addr]*tokenBucket{}, overflow: newTokenBucket(rate, burst)}
}

// bucket returns peer's bucket; the caller holds p.mu.
func (p *peerBuckets) bucket(peer netip.Addr, now time.Time) *tokenBucket {
	if b := p.m[peer]; b != nil {
		return b
	}
	if len(p.m) >= p.max {
		for k, b := range p.m {
			if b.refill(now) >= b.max {
				delete(p.m, k)
			}
		}
		if len(p.m) >= p.max {
			return &p.overflow
		}
	}
	b := newTokenBucket(p.rate, p.burst)
	p.m[peer] = &b
	return &b
}

// take spends one token of peer's bucket; false when it is empty.
func (p *peerBuckets) take(peer netip.Addr, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bucket(peer, now).take(now, 1)
}

// empty reports whether peer has no token left, without spending one.
func (p *peerBuckets) empty(peer netip.Addr, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.m[peer]
	if b == nil && len(p.m) >= p.max {
		b = &p.overflow
	}
	return b != nil && b.refill(now) < 1
}

// logEvery is the most often a line a peer can cause is written.
const logEvery = 10 * time.Second

// logLimiter writes one line for an event that a peer can repeat at will
// (a wrong token, a refused host name, a refused connection), then holds
// the same event back for logEvery and writes one summary line with the
// count and the latest event's details. A flood writes two lines per
// logEvery; while nothing happens no timer runs.
type logLimiter struct {
	log   *slog.Logger
	level slog.Level
	msg   string
	every time.Duration

	mu    sync.Mutex
	open  bool  // a window is open: events are counted, not written
	held  int   // events held back in this window
	attrs []any // the latest held event's attributes
}

func newLogLimiter(log *slog.Logger, level slog.Level, msg string) *logLimiter {
	return &logLimiter{log: log, level: level, msg: msg, every: logEvery}
}

// Log writes the event now, or counts it for the window's summary.
func (l *logLimiter) Log(attrs ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open {
		l.held++
		l.attrs = attrs
		return
	}
	l.open = true
	l.log.Log(context.Background(), l.level, l.msg, attrs...)
	time.AfterFunc(l.every, l.flush)
}

// flush ends a window: it writes the summary of the events held back, and
// keeps the window open for another logEvery if there were any.
func (l *logLimiter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == 0 {
		l.open = false
		return
	}
	attrs := append([]any{"repeated", l.held, "within", l.every.String()}, l.attrs...)
	l.log.Log(context.Background(), l.level, l.msg, attrs...)
	l.held, l.attrs = 0, nil
	time.AfterFunc(l.every, l.flush)
}

// logWriter is an io.Writer for the http.Server's ErrorLog (TLS handshake
// failures and the like, one line per hostile connection) that goes
// through a logLimiter.
type logWriter struct{ l *logLimiter }

func (w logWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	w.l.Log("err", clip(string(p), 200))
	return n, nil
}
