package tui

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socktop/socktop/wire"
)

// This file is the Connections screen's model: rows folded from two
// successive samples (rates, CLOSED), the filter, the sort and the
// per-process grouping. The view is in conns_view.go.

// connKey identifies a socket across samples. The inode is part of it so
// two listeners sharing a port (SO_REUSEPORT) stay apart; a socket that
// leaves its owner for TIME_WAIT (inode 0) therefore shows as CLOSED and a
// TIME_WAIT remnant appears, as the process did close it.
type connKey struct {
	udp           bool
	local, remote netip.AddrPort
	inode         uint64
}

// connRow is one line of the table: a socket, or in grouping mode the
// totals of one process.
type connRow struct {
	key      connKey
	proto    string // tcp, tcp6, udp, udp6
	state    uint32 // kernel TCP state number
	closed   bool   // gone since the last sample; shown for one refresh
	pid      uint32
	proc     string
	uid      uint32
	counted  bool // tcp_info counters present (not UDP, not /proc/net)
	hasRate  bool // seen in the previous sample too, so rates are known
	in, out  uint64
	segsIn   uint64
	segsOut  uint64
	rateIn   float64
	rateOut  float64
	rttUs    uint32
	retrans  uint32
	rxq, txq uint32

	// grouping mode: how many sockets and distinct peers
	group        bool
	socks, peers int
	listeners    int

	localText, remoteText string
}

// listening reports whether the row is a listening socket: TCP LISTEN, or
// an unconnected UDP socket (ss lists both only with -l).
func (r *connRow) listening() bool {
	if r.key.udp {
		return r.key.remote.Port() == 0
	}
	return r.state == tcpListen
}

const (
	tcpEstablished = 1
	tcpClose       = 7
	tcpListen      = 10
)

// tcpStates are ss's short names for the kernel's TCP states.
var tcpStates = [...]string{1: "ESTAB", 2: "SYN-SENT", 3: "SYN-RECV", 4: "FIN-WAIT-1", 5: "FIN-WAIT-2",
	6: "TIME-WAIT", 7: "CLOSE", 8: "CLOSE-WAIT", 9: "LAST-ACK", 10: "LISTEN", 11: "CLOSING", 12: "NEW-SYN-RECV"}

// stateText is the STATE column: CLOSED for a vanished socket, UNCONN or
// ESTAB for UDP, ss's names for TCP.
func (r *connRow) stateText() string {
	switch {
	case r.group:
		if r.listeners > 0 {
			return strconv.Itoa(r.listeners) + " listen"
		}
		return ""
	case r.closed:
		return "CLOSED"
	case r.key.udp:
		if r.key.remote.Port() == 0 {
			return "UNCONN"
		}
		return "ESTAB"
	case int(r.state) < len(tcpStates) && tcpStates[r.state] != "":
		return tcpStates[r.state]
	}
	return strconv.FormatUint(uint64(r.state), 10)
}

func addrPortOf(b []byte, port uint32) netip.AddrPort {
	a, ok := netip.AddrFromSlice(b)
	if !ok {
		a = netip.IPv4Unspecified()
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}

// addrText is "127.0.0.1:80", "[::1]:80", or "*:80" for an unspecified
// address, as ss prints them.
func addrText(ap netip.AddrPort) string {
	port := "*"
	if ap.Port() != 0 {
		port = strconv.Itoa(int(ap.Port()))
	}
	a := ap.Addr()
	switch {
	case !a.IsValid() || a.IsUnspecified():
		return "*:" + port
	case a.Is6():
		return "[" + a.String() + "]:" + port
	}
	return a.String() + ":" + port
}

func keyOfConn(c *wire.Connection) connKey {
	return connKey{udp: c.GetTransport() == wire.Transport_TRANSPORT_UDP,
		local:  addrPortOf(c.GetLocalAddr(), c.GetLocalPort()),
		remote: addrPortOf(c.GetRemoteAddr(), c.GetRemotePort()), inode: c.GetInode()}
}

// protoNames avoids building "tcp6" for every row of every sample.
var protoNames = [2][2]string{{"tcp", "tcp6"}, {"udp", "udp6"}}

// rowOf makes a row; prev, the same socket's row from the last sample,
// lends its address texts so a steady table formats nothing.
func rowOf(k connKey, c *wire.Connection, prev *connRow) connRow {
	r := connRow{key: k, state: c.GetState(), pid: c.GetPid(), proc: c.GetProcessName(), uid: c.GetUid(),
		counted: c.GetCountersAvailable() && !k.udp, rxq: c.GetRxQueue(), txq: c.GetTxQueue()}
	var u, v6 int
	if k.udp {
		u = 1
	}
	if c.GetFamily() == wire.AddressFamily_ADDRESS_FAMILY_INET6 {
		v6 = 1
	}
	r.proto = protoNames[u][v6]
	if r.counted {
		r.in, r.out = c.GetBytesReceived(), c.GetBytesAcked()
		r.segsIn, r.segsOut = uint64(c.GetSegsIn()), uint64(c.GetSegsOut())
		r.rttUs, r.retrans = c.GetRttUs(), c.GetRetrans()
	}
	if prev != nil {
		r.localText, r.remoteText = prev.localText, prev.remoteText
	} else {
		r.localText, r.remoteText = addrText(k.local), addrText(k.remote)
	}
	return r
}

// connModel folds samples into rows. It lives on the UI goroutine. Two
// row buffers alternate: the last sample's rows are what the next one is
// compared with.
type connModel struct {
	rows, old   []connRow
	idx, oldIdx map[connKey]int // live (not CLOSED) rows by socket
	prevAt      uint64          // sampled_at_ms of the last sample
	samples     int             // samples folded since the model was made
	fetchedAt   time.Time       // local time of the last sample
	err         error           // the last request's failure, cleared by a success
	// what the status line says about rows shown as n/a
	udp          int // UDP sockets: never counted
	tcpCounted   int // TCP sockets with tcp_info counters
	tcpUncounted int // TCP sockets without (TIME-WAIT remnants; all of them when the agent reads /proc/net)
}

// fallback reports whether no TCP socket has counters: the agent read
// /proc/net because netlink was refused.
func (m *connModel) fallback() bool { return m.tcpCounted == 0 && m.tcpUncounted > 0 }

// add folds a sample taken at local time now. A socket seen in the
// previous sample gets rates; one missing from this sample is kept once
// as CLOSED. A gap longer than maxGap (the screen was closed, the agent
// was away) starts afresh: no rates across it, no CLOSED flood.
func (m *connModel) add(cs *wire.Connections, now time.Time, maxGap time.Duration) {
	at := cs.GetSampledAtMs()
	if at == 0 {
		at = uint64(now.UnixMilli())
	}
	fresh := m.fetchedAt.IsZero() || now.Sub(m.fetchedAt) > maxGap || at < m.prevAt
	var dt float64
	if !fresh && at > m.prevAt {
		dt = float64(at-m.prevAt) / 1000
	}
	m.rows, m.old = m.old[:0], m.rows
	m.idx, m.oldIdx = m.oldIdx, m.idx
	if m.idx == nil {
		m.idx = map[connKey]int{}
	}
	clear(m.idx)
	if fresh {
		clear(m.oldIdx)
	}
	m.udp, m.tcpCounted, m.tcpUncounted = 0, 0, 0
	for _, c := range cs.GetConnections() {
		k := keyOfConn(c)
		if _, dup := m.idx[k]; dup {
			continue // one socket listed twice: keep the first
		}
		var p *connRow
		if j, ok := m.oldIdx[k]; ok {
			p = &m.old[j]
		}
		r := rowOf(k, c, p)
		if p != nil && dt > 0 && r.counted && p.counted && r.in >= p.in && r.out >= p.out {
			r.hasRate = true
			r.rateIn = float64(r.in-p.in) / dt
			r.rateOut = float64(r.out-p.out) / dt
		}
		switch {
		case k.udp:
			m.udp++
		case r.counted:
			m.tcpCounted++
		default:
			m.tcpUncounted++
		}
		m.idx[k] = len(m.rows)
		m.rows = append(m.rows, r)
	}
	for k, j := range m.oldIdx {
		if _, ok := m.idx[k]; !ok {
			r := m.old[j]
			r.closed, r.hasRate, r.rateIn, r.rateOut = true, false, 0, 0
			m.rows = append(m.rows, r)
		}
	}
	m.prevAt = at
	m.samples++
	m.fetchedAt, m.err = now, nil
}

// connCol is a column of the Connections table.
type connCol int

const (
	ccProto connCol = iota
	ccLocal
	ccRemote
	ccState
	ccPID
	ccProc
	ccIn
	ccOut
	ccSegsIn
	ccSegsOut
	ccRateIn
	ccRateOut
	ccRTT
	ccRetrans
	numConnCols
)

var connColNames = [numConnCols]string{"PROTO", "LOCAL", "REMOTE", "STATE", "PID", "PROCESS",
	"IN", "OUT", "SEGS IN", "SEGS OUT", "IN/s", "OUT/s", "RTT", "RETR"}

// descFirst reports whether a column sorts biggest first when chosen.
func (c connCol) descFirst() bool { return c >= ccIn }

func (c connCol) rightAligned() bool { return c == ccPID || c >= ccIn }

// num is a row's value in a numeric column; traffic that is not counted
// (or a rate not yet known) sorts below every real value.
func (r *connRow) num(c connCol) float64 {
	if !r.counted && c >= ccIn {
		return -2
	}
	switch c {
	case ccIn:
		return float64(r.in)
	case ccOut:
		return float64(r.out)
	case ccSegsIn:
		return float64(r.segsIn)
	case ccSegsOut:
		return float64(r.segsOut)
	case ccRateIn, ccRateOut:
		if !r.hasRate {
			return -1
		}
		if c == ccRateIn {
			return r.rateIn
		}
		return r.rateOut
	case ccRTT:
		if r.group {
			return -1
		}
		return float64(r.rttUs)
	case ccRetrans:
		return float64(r.retrans)
	case ccPID:
		return float64(r.pid)
	}
	return 0
}

func compareConnRows(a, b *connRow, c connCol) int {
	var r int
	switch c {
	case ccProto:
		r = strings.Compare(a.proto, b.proto)
	case ccLocal:
		if a.group {
			r = cmp.Compare(a.socks, b.socks)
		} else {
			r = a.key.local.Compare(b.key.local)
		}
	case ccRemote:
		if a.group {
			r = cmp.Compare(a.peers, b.peers)
		} else {
			r = a.key.remote.Compare(b.key.remote)
		}
	case ccState:
		r = strings.Compare(a.stateText(), b.stateText())
	case ccProc:
		r = strings.Compare(strings.ToLower(a.proc), strings.ToLower(b.proc))
	default:
		r = cmp.Compare(a.num(c), b.num(c))
		// equal rates (all zero, say): the busier connection first
		if r == 0 && (c == ccRateIn || c == ccRateOut) {
			r = cmp.Compare(a.num(ccIn)+a.num(ccOut), b.num(ccIn)+b.num(ccOut))
		}
	}
	if r != 0 {
		return r
	}
	if r = cmp.Compare(a.pid, b.pid); r != 0 {
		return r
	}
	if r = a.key.local.Compare(b.key.local); r != 0 {
		return r
	}
	if r = a.key.remote.Compare(b.key.remote); r != 0 {
		return r
	}
	return cmp.Compare(a.key.inode, b.key.inode)
}

// connFilter is a parsed filter: space-separated terms that must all
// match. port:N, pid:N, proc:NAME, addr:TEXT (or host:), state:NAME, or a
// bare word matched against protocol, addresses, state, pid and process.
type connFilter struct{ terms []connTerm }

type connTerm struct {
	kind string // "", port, pid, proc, addr, state
	text string // lower case
	num  uint64
}

func parseConnFilter(s string) connFilter {
	var f connFilter
	for _, w := range strings.Fields(s) {
		t := connTerm{text: strings.ToLower(w)}
		if i := strings.IndexByte(w, ':'); i > 0 {
			kind, val := strings.ToLower(w[:i]), strings.ToLower(w[i+1:])
			switch kind {
			case "host":
				kind = "addr"
			case "process":
				kind = "proc"
			}
			switch kind {
			case "port", "pid":
				if n, err := strconv.ParseUint(val, 10, 32); err == nil {
					t = connTerm{kind: kind, num: n}
				}
			case "proc", "addr", "state":
				t = connTerm{kind: kind, text: val}
			}
		}
		f.terms = append(f.terms, t)
	}
	return f
}

func (f connFilter) empty() bool { return len(f.terms) == 0 }

// match tests a socket row; names are the reverse DNS names shown for its
// addresses (empty when off or unknown).
func (f connFilter) match(r *connRow, localName, remoteName string) bool {
	for _, t := range f.terms {
		ok := false
		switch t.kind {
		case "port":
			ok = uint64(r.key.local.Port()) == t.num || uint64(r.key.remote.Port()) == t.num
		case "pid":
			ok = uint64(r.pid) == t.num
		case "proc":
			ok = containsFold(r.proc, t.text)
		case "addr":
			ok = containsFold(r.localText, t.text) || containsFold(r.remoteText, t.text) ||
				containsFold(localName, t.text) || containsFold(remoteName, t.text)
		case "state":
			ok = strings.HasPrefix(strings.ToLower(r.stateText()), t.text)
		default:
			ok = containsFold(r.proto, t.text) || containsFold(r.localText, t.text) ||
				containsFold(r.remoteText, t.text) || containsFold(r.stateText(), t.text) ||
				containsFold(r.proc, t.text) || strings.Contains(strconv.FormatUint(uint64(r.pid), 10), t.text) ||
				containsFold(localName, t.text) || containsFold(remoteName, t.text)
		}
		if !ok {
			return false
		}
	}
	return true
}

// groupRows sums socket rows per process (pid 0: owner not visible to the
// agent) into dst.
func groupRows(dst []connRow, rows []*connRow) []connRow {
	dst = dst[:0]
	idx := map[uint32]int{}
	peers := map[uint32]map[netip.Addr]bool{}
	for _, r := range rows {
		i, ok := idx[r.pid]
		if !ok {
			i = len(dst)
			idx[r.pid] = i
			dst = append(dst, connRow{group: true, pid: r.pid, proc: r.proc, key: connKey{inode: uint64(r.pid)}})
			peers[r.pid] = map[netip.Addr]bool{}
		}
		g := &dst[i]
		if g.proc == "" {
			g.proc = r.proc
		}
		g.socks++
		if r.listening() {
			g.listeners++
		} else if a := r.key.remote.Addr(); a.IsValid() && !a.IsUnspecified() {
			peers[r.pid][a] = true
		}
		if r.counted {
			g.counted = true
			g.in += r.in
			g.out += r.out
			g.segsIn += r.segsIn
			g.segsOut += r.segsOut
			g.retrans += r.retrans
		}
		if r.hasRate {
			g.hasRate = true
			g.rateIn += r.rateIn
			g.rateOut += r.rateOut
		}
	}
	for i := range dst {
		dst[i].peers = len(peers[dst[i].pid])
		if dst[i].proc == "" && dst[i].pid == 0 {
			dst[i].proc = "(owner not visible)"
		}
	}
	return dst
}

// fmtCount is a segment count in human units: 999, 12.3k, 4.5M.
func fmtCount(n uint64) string {
	switch {
	case n < 10000:
		return strconv.FormatUint(n, 10)
	case n < 1000000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + "k"
	case n < 1000000000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
	}
	return strconv.FormatFloat(float64(n)/1e9, 'f', 1, 64) + "G"
}

// fmtRTT is a round-trip time from microseconds: 45µs, 1.2ms, 230ms, 1.5s.
func fmtRTT(us uint32) string {
	switch {
	case us < 1000:
		return strconv.Itoa(int(us)) + "µs"
	case us < 100000:
		return strconv.FormatFloat(float64(us)/1000, 'f', 1, 64) + "ms"
	case us < 1000000:
		return strconv.Itoa(int(us/1000)) + "ms"
	}
	return strconv.FormatFloat(float64(us)/1e6, 'f', 1, 64) + "s"
}

// sortConnRows orders the visible rows in place.
func sortConnRows(rows []*connRow, col connCol, desc bool) {
	slices.SortFunc(rows, func(a, b *connRow) int {
		r := compareConnRows(a, b, col)
		if desc {
			return -r
		}
		return r
	})
}
