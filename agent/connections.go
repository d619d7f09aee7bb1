package agent

import (
	"context"
	"runtime"
	"sync"

	"github.com/socktop/socktop/procfs/sockdiag"
	"github.com/socktop/socktop/wire"
)

// connectionsKind is every TCP and UDP socket with its counters and owner
// (v2 only: upstream's dialects have no such request).
var connectionsKind = &kind{
	name: "connections", capability: wire.CapConnections,
	served:   func(*Agent) bool { return runtime.GOOS == "linux" },
	unserved: "connections is not available on this agent",
	v2:       &wire.Request{Body: &wire.Request_Connections{Connections: &wire.ConnectionsRequest{}}},
	open: func(a *Agent) source {
		cc := newConnCollector(a.coll.sockets)
		return connSource{cachedOf(a.cfg.ConnectionsTTL, cc.collect(false)), cachedOf(a.cfg.ConnectionsTTL, cc.collect(true)),
			cachedOf(a.cfg.ConnectionsTTL, cc.states)}
	},
	snapshot:      true,
	snapshotQuery: query{closed: true},
	prom:          func(p *promWriter, r reply) { writeConnectionMetrics(p, r.message().(*wire.Connections)) },
}

// connSource keeps three samples: the sockets a dashboard lists, those
// with the TIME-WAIT ones too, as ss lists them (query.closed), and for
// /metrics the TCP sockets' states alone (query.scrape).
type connSource struct{ open, all, tcpStates cachedSource }

func (s connSource) get(ctx context.Context, q query) (reply, error) {
	if q.scrape {
		return s.tcpStates.get(ctx, q)
	}
	if q.closed {
		return s.all.get(ctx, q)
	}
	return s.open.get(ctx, q)
}

// connCollector lists sockets with their owners; the sockdiag collector
// keeps the inode → pid map between calls, so one cache TTL costs one
// incremental /proc/*/fd scan.
type connCollector struct {
	mu   sync.Mutex // the two caches may collect at once; this guards buf
	sd   *sockdiag.Collector
	buf  []sockdiag.Socket
	opts sockdiag.Options
}

func newConnCollector(sd *sockdiag.Collector) *connCollector {
	return &connCollector{sd: sd,
		opts: sockdiag.Options{TCP: true, UDP: true, Listening: true, Processes: true}}
}

// collect lists the sockets, with TIME-WAIT and NEW-SYN-RECV ones when
// closed.
func (cc *connCollector) collect(closed bool) func(context.Context) (*sample[*wire.Connections], error) {
	return func(context.Context) (*sample[*wire.Connections], error) { return cc.sample(closed) }
}

func (cc *connCollector) sample(closed bool) (*sample[*wire.Connections], error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	opts := cc.opts
	opts.Closed = closed
	socks, err := cc.sd.Collect(cc.buf[:0], opts)
	if err != nil && len(socks) == 0 {
		return nil, err
	}
	cc.buf = socks
	socks = socks[:min(len(socks), wire.MaxConnections)] // what a client believes (wire/plausible.go)
	rows := make([]wire.Connection, len(socks))
	out := &wire.Connections{SampledAtMs: nowMS(), Connections: make([]*wire.Connection, len(socks))}
	for i := range socks {
		s, r := &socks[i], &rows[i]
		r.Transport = wire.Transport_TRANSPORT_TCP
		if s.Proto == sockdiag.UDP {
			r.Transport = wire.Transport_TRANSPORT_UDP
		}
		r.Family = wire.AddressFamily_ADDRESS_FAMILY_INET
		if s.Family == 6 {
			r.Family = wire.AddressFamily_ADDRESS_FAMILY_INET6
		}
		r.LocalAddr, r.LocalPort = s.Local.Addr().AsSlice(), uint32(s.Local.Port())
		r.RemoteAddr, r.RemotePort = s.Remote.Addr().AsSlice(), uint32(s.Remote.Port())
		r.State, r.Inode, r.Uid = uint32(s.State), s.Inode, s.UID
		r.Pid, r.ProcessName = uint32(s.PID), validText(s.Process)
		r.RxQueue, r.TxQueue = s.RxQueue, s.TxQueue
		r.CountersAvailable = s.CountersAvailable
		if s.CountersAvailable {
			r.BytesAcked, r.BytesReceived = s.BytesAcked, s.BytesReceived
			r.SegsIn, r.SegsOut = uint32(s.SegsIn), uint32(s.SegsOut)
			r.RttUs, r.RttvarUs, r.Retrans, r.Cwnd = s.RTTMicros, s.RTTVarMicros, s.Retrans, s.Cwnd
		}
		out.Connections[i] = r
	}
	return newSample(out), nil
}

// states lists every TCP socket's state and nothing else, for the
// scrape's counts by state: one walk of the kernel's tables for both
// address families (CollectTCP), no owners (reading every process's fds is
// most of a full sample's cost) and no UDP, which the exposition does not
// count.
func (cc *connCollector) states(context.Context) (*sample[*wire.Connections], error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	socks, err := cc.sd.CollectTCP(cc.buf[:0], sockdiag.Options{Listening: true, Closed: true})
	if err != nil && len(socks) == 0 {
		return nil, err
	}
	cc.buf = socks
	rows := make([]wire.Connection, len(socks))
	out := &wire.Connections{SampledAtMs: nowMS(), Connections: make([]*wire.Connection, len(socks))}
	for i := range socks {
		rows[i] = wire.Connection{Transport: wire.Transport_TRANSPORT_TCP, State: uint32(socks[i].State)}
		out.Connections[i] = &rows[i]
	}
	return newSample(out), nil
}

var tcpStateNames = [...]string{1: "established", 2: "syn_sent", 3: "syn_recv", 4: "fin_wait1", 5: "fin_wait2",
	6: "time_wait", 7: "close", 8: "close_wait", 9: "last_ack", 10: "listen", 11: "closing", 12: "new_syn_recv"}

func writeConnectionMetrics(p *promWriter, cs *wire.Connections) {
	var counts [len(tcpStateNames)]int
	for _, c := range cs.Connections {
		if c.Transport == wire.Transport_TRANSPORT_TCP && int(c.State) < len(counts) {
			counts[c.State]++
		}
	}
	p.family("socktop_tcp_connections", "gauge", "TCP sockets by state.")
	for st, name := range tcpStateNames {
		if name != "" {
			p.sample("socktop_tcp_connections", float64(counts[st]), "state", name)
		}
	}
}
