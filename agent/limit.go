package agent

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
)

// httpHeadroom is how many TCP connections the agent holds beyond
// --max-clients: Prometheus scrapes, health checks and handshakes in
// flight. Idle HTTP connections cost ~20 KiB each and are closed after
// idleTimeout, so this bounds what they can cost however many arrive.
const httpHeadroom = 64

// peerOfConn is peerOf for an accepted connection.
func peerOfConn(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return peerOf(ta.AddrPort().Addr())
	}
	return peerOfRemote(c.RemoteAddr().String())
}

// connLimiter bounds the TCP connections the agent's server holds, of
// every kind (before a request, idle keep-alive, WebSockets), in all and
// per peer. At the cap the listener stops accepting, so further
// connections wait in the kernel's backlog and cost the agent nothing until
// a slot frees; a peer over its share is accepted and closed at once, so it
// cannot hold the others off.
type connLimiter struct {
	slots   chan struct{}
	perPeer int
	refused *logLimiter

	mu    sync.Mutex
	open  map[net.Conn]netip.Addr // every connection holding a slot
	peers map[netip.Addr]int      // open connections per peer (bounded by len(open))
}

func newConnLimiter(total, perPeer int, refused *logLimiter) *connLimiter {
	return &connLimiter{slots: make(chan struct{}, total), perPeer: perPeer, refused: refused,
		open: map[net.Conn]netip.Addr{}, peers: map[netip.Addr]int{}}
}

// admit records c under its peer, or reports false when the peer is at its
// share. The caller holds a slot.
func (l *connLimiter) admit(c net.Conn) bool {
	peer := peerOfConn(c)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.peers[peer] >= l.perPeer {
		l.refused.Log("peer", peer.String(), "open", l.peers[peer], "per_peer", l.perPeer,
			"fix", "the peer holds its share of connections; raise --max-clients-per-peer if it is one trusted host")
		return false
	}
	l.peers[peer]++
	l.open[c] = peer
	return true
}

// release gives back c's slot; it is safe to call for any connection, any
// number of times.
func (l *connLimiter) release(c net.Conn) {
	l.mu.Lock()
	peer, ok := l.open[c]
	if ok {
		delete(l.open, c)
		if l.peers[peer]--; l.peers[peer] <= 0 {
			delete(l.peers, peer)
		}
	}
	l.mu.Unlock()
	if ok {
		<-l.slots
	}
}

// connState is the http.Server's ConnState hook: a closed connection gives
// back its slot. A hijacked one (a WebSocket) keeps it until its
// frameGuard is closed.
func (l *connLimiter) connState(c net.Conn, s http.ConnState) {
	if s == http.StateClosed {
		l.release(c)
	}
}

// openConns is the number of connections holding a slot.
func (l *connLimiter) openConns() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.open)
}

// limitListener is a listener under a connLimiter. The connections it
// returns are the inner listener's own (a *tls.Conn stays one, so the
// http.Server still handles TLS itself).
type limitListener struct {
	net.Listener
	l         *connLimiter
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *connLimiter) listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, l: l, closed: make(chan struct{})}
}

func (ln *limitListener) Accept() (net.Conn, error) {
	for {
		select {
		case ln.l.slots <- struct{}{}:
		case <-ln.closed:
			return nil, net.ErrClosed
		}
		c, err := ln.Listener.Accept()
		if err != nil {
			<-ln.l.slots
			return nil, err
		}
		if ln.l.admit(c) {
			return c, nil
		}
		c.Close()
		<-ln.l.slots
	}
}

func (ln *limitListener) Close() error {
	ln.closeOnce.Do(func() { close(ln.closed) })
	return ln.Listener.Close()
}
