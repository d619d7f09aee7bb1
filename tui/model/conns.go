package model

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socktop/socktop/wire"
)

// The socket table: rows folded from two successive samples (rates,
// CLOSED), the filter, the sort and the per-process grouping. The screen
// that draws them is screen/conns.go.

// ConnKey identifies a socket across samples. The inode is part of it so
// two listeners sharing a port (SO_REUSEPORT) stay apart; a socket that
// leaves its owner for TIME_WAIT (inode 0) therefore shows as CLOSED and a
// TIME_WAIT remnant appears, as the process did close it.
type ConnKey struct {
	UDP           bool
	Local, Remote netip.AddrPort
	Inode         uint64
}

// ConnRow is one line of the table: a socket, or in grouping mode the
// totals of one process.
type ConnRow struct {
	Key      ConnKey
	Proto    string // tcp, tcp6, udp, udp6
	State    uint32 // kernel TCP state number
	Closed   bool   // gone since the last sample; shown for one refresh
	PID      uint32
	Proc     string
	UID      uint32
	Counted  bool // tcp_info counters present (not UDP, not /proc/net)
	HasRate  bool // seen in the previous sample too, so rates are known
	In, Out  uint64
	SegsIn   uint64
	SegsOut  uint64
	RateIn   float64
	RateOut  float64
	RTTUs    uint32
	Retrans  uint32
	RxQ, TxQ uint32

	// grouping mode: how many sockets and distinct peers
	Group        bool
	Socks, Peers int
	Listeners    int

	LocalText, RemoteText string
}

// Listening reports whether the row is a listening socket: TCP LISTEN, or
// an unconnected UDP socket (ss lists both only with -l).
func (r *ConnRow) Listening() bool {
	if r.Key.UDP {
		return r.Key.Remote.Port() == 0
	}
	return r.State == TCPListen
}

const (
	TCPEstablished = 1
	TCPClose       = 7
	TCPListen      = 10
)

// tcpStates are ss's short names for the kernel's TCP states.
var tcpStates = [...]string{1: "ESTAB", 2: "SYN-SENT", 3: "SYN-RECV", 4: "FIN-WAIT-1", 5: "FIN-WAIT-2",
	6: "TIME-WAIT", 7: "CLOSE", 8: "CLOSE-WAIT", 9: "LAST-ACK", 10: "LISTEN", 11: "CLOSING", 12: "NEW-SYN-RECV"}

// StateText is the STATE column: CLOSED for a vanished socket, UNCONN or
// ESTAB for UDP, ss's names for TCP.
func (r *ConnRow) StateText() string {
	switch {
	case r.Group:
		if r.Listeners > 0 {
			return strconv.Itoa(r.Listeners) + " listen"
		}
		return ""
	case r.Closed:
		return "CLOSED"
	case r.Key.UDP:
		if r.Key.Remote.Port() == 0 {
			return "UNCONN"
		}
		return "ESTAB"
	case int(r.State) < len(tcpStates) && tcpStates[r.State] != "":
		return tcpStates[r.State]
	}
	return strconv.FormatUint(uint64(r.State), 10)
}

func addrPortOf(b []byte, port uint32) netip.AddrPort {
	a, ok := netip.AddrFromSlice(b)
	if !ok {
		a = netip.IPv4Unspecified()
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}

// AddrText is "127.0.0.1:80", "[::1]:80", or "*:80" for an unspecified
// address, as ss prints them.
func AddrText(ap netip.AddrPort) string {
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

func KeyOf(c *wire.Connection) ConnKey {
	return ConnKey{UDP: c.GetTransport() == wire.Transport_TRANSPORT_UDP,
		Local:  addrPortOf(c.GetLocalAddr(), c.GetLocalPort()),
		Remote: addrPortOf(c.GetRemoteAddr(), c.GetRemotePort()), Inode: c.GetInode()}
}

// protoNames avoids building "tcp6" for every row of every sample.
var protoNames = [2][2]string{{"tcp", "tcp6"}, {"udp", "udp6"}}

// RowOf makes a row; prev, the same socket's row from the last sample,
// lends its address texts so a steady table formats nothing.
func RowOf(k ConnKey, c *wire.Connection, prev *ConnRow) ConnRow {
	r := ConnRow{Key: k, State: c.GetState(), PID: c.GetPid(), Proc: c.GetProcessName(), UID: c.GetUid(),
		Counted: c.GetCountersAvailable() && !k.UDP, RxQ: c.GetRxQueue(), TxQ: c.GetTxQueue()}
	var u, v6 int
	if k.UDP {
		u = 1
	}
	if c.GetFamily() == wire.AddressFamily_ADDRESS_FAMILY_INET6 {
		v6 = 1
	}
	r.Proto = protoNames[u][v6]
	if r.Counted {
		r.In, r.Out = c.GetBytesReceived(), c.GetBytesAcked()
		r.SegsIn, r.SegsOut = uint64(c.GetSegsIn()), uint64(c.GetSegsOut())
		r.RTTUs, r.Retrans = c.GetRttUs(), c.GetRetrans()
	}
	if prev != nil {
		r.LocalText, r.RemoteText = prev.LocalText, prev.RemoteText
	} else {
		r.LocalText, r.RemoteText = AddrText(k.Local), AddrText(k.Remote)
	}
	return r
}

// ConnModel folds samples into rows. It lives on the UI goroutine. Two
// row buffers alternate: the last sample's rows are what the next one is
// compared with.
type ConnModel struct {
	Rows        []ConnRow
	old         []ConnRow
	idx, oldIdx map[ConnKey]int // live (not CLOSED) rows by socket
	prevAt      uint64          // sampled_at_ms of the last sample
	Samples     int             // samples folded since the model was made
	FetchedAt   time.Time       // local time of the last sample
	Err         error           // the last request's failure, cleared by a success
	// what the status line says about rows shown as n/a
	UDP          int // UDP sockets: never counted
	TCPCounted   int // TCP sockets with tcp_info counters
	TCPUncounted int // TCP sockets without (TIME-WAIT remnants; all of them when the agent reads /proc/net)
}

// Fallback reports whether no TCP socket has counters: the agent read
// /proc/net because netlink was refused.
func (m *ConnModel) Fallback() bool { return m.TCPCounted == 0 && m.TCPUncounted > 0 }

// Add folds a sample taken at local time now. A socket seen in the
// previous sample gets rates; one missing from this sample is kept once
// as CLOSED. A gap longer than maxGap (the screen was closed, the agent
// was away) starts afresh: no rates across it, no CLOSED flood.
func (m *ConnModel) Add(cs *wire.Connections, now time.Time, maxGap time.Duration) {
	at := cs.GetSampledAtMs()
	if at == 0 {
		at = uint64(now.UnixMilli())
	}
	fresh := m.FetchedAt.IsZero() || now.Sub(m.FetchedAt) > maxGap || at < m.prevAt
	var dt float64
	if !fresh && at > m.prevAt {
		dt = float64(at-m.prevAt) / 1000
	}
	m.Rows, m.old = m.old[:0], m.Rows
	m.idx, m.oldIdx = m.oldIdx, m.idx
	if m.idx == nil {
		m.idx = map[ConnKey]int{}
	}
	clear(m.idx)
	if fresh {
		clear(m.oldIdx)
	}
	m.UDP, m.TCPCounted, m.TCPUncounted = 0, 0, 0
	for _, c := range cs.GetConnections() {
		k := KeyOf(c)
		if _, dup := m.idx[k]; dup {
			continue // one socket listed twice: keep the first
		}
		var p *ConnRow
		if j, ok := m.oldIdx[k]; ok {
			p = &m.old[j]
		}
		r := RowOf(k, c, p)
		if p != nil && dt > 0 && r.Counted && p.Counted && r.In >= p.In && r.Out >= p.Out {
			r.HasRate = true
			r.RateIn = float64(r.In-p.In) / dt
			r.RateOut = float64(r.Out-p.Out) / dt
		}
		switch {
		case k.UDP:
			m.UDP++
		case r.Counted:
			m.TCPCounted++
		default:
			m.TCPUncounted++
		}
		m.idx[k] = len(m.Rows)
		m.Rows = append(m.Rows, r)
	}
	for k, j := range m.oldIdx {
		if _, ok := m.idx[k]; !ok {
			r := m.old[j]
			r.Closed, r.HasRate, r.RateIn, r.RateOut = true, false, 0, 0
			m.Rows = append(m.Rows, r)
		}
	}
	m.prevAt = at
	m.Samples++
	m.FetchedAt, m.Err = now, nil
}

// ConnCol is a column of the Connections table.
type ConnCol int

const (
	CCProto ConnCol = iota
	CCLocal
	CCRemote
	CCState
	CCPID
	CCProc
	CCIn
	CCOut
	CCSegsIn
	CCSegsOut
	CCRateIn
	CCRateOut
	CCRTT
	CCRetrans
	NumConnCols
)

// Num is a row's value in a numeric column; traffic that is not counted
// (or a rate not yet known) sorts below every real value.
func (r *ConnRow) Num(c ConnCol) float64 {
	if !r.Counted && c >= CCIn {
		return -2
	}
	switch c {
	case CCIn:
		return float64(r.In)
	case CCOut:
		return float64(r.Out)
	case CCSegsIn:
		return float64(r.SegsIn)
	case CCSegsOut:
		return float64(r.SegsOut)
	case CCRateIn, CCRateOut:
		if !r.HasRate {
			return -1
		}
		if c == CCRateIn {
			return r.RateIn
		}
		return r.RateOut
	case CCRTT:
		if r.Group {
			return -1
		}
		return float64(r.RTTUs)
	case CCRetrans:
		return float64(r.Retrans)
	case CCPID:
		return float64(r.PID)
	}
	return 0
}

func CompareConns(a, b *ConnRow, c ConnCol) int {
	var r int
	switch c {
	case CCProto:
		r = strings.Compare(a.Proto, b.Proto)
	case CCLocal:
		if a.Group {
			r = cmp.Compare(a.Socks, b.Socks)
		} else {
			r = a.Key.Local.Compare(b.Key.Local)
		}
	case CCRemote:
		if a.Group {
			r = cmp.Compare(a.Peers, b.Peers)
		} else {
			r = a.Key.Remote.Compare(b.Key.Remote)
		}
	case CCState:
		r = strings.Compare(a.StateText(), b.StateText())
	case CCProc:
		r = strings.Compare(strings.ToLower(a.Proc), strings.ToLower(b.Proc))
	default:
		r = cmp.Compare(a.Num(c), b.Num(c))
		// equal rates (all zero, say): the busier connection first
		if r == 0 && (c == CCRateIn || c == CCRateOut) {
			r = cmp.Compare(a.Num(CCIn)+a.Num(CCOut), b.Num(CCIn)+b.Num(CCOut))
		}
	}
	if r != 0 {
		return r
	}
	if r = cmp.Compare(a.PID, b.PID); r != 0 {
		return r
	}
	if r = a.Key.Local.Compare(b.Key.Local); r != 0 {
		return r
	}
	if r = a.Key.Remote.Compare(b.Key.Remote); r != 0 {
		return r
	}
	return cmp.Compare(a.Key.Inode, b.Key.Inode)
}

// ConnFilter is a parsed filter: space-separated terms that must all
// match. port:N, PID:N, Proc:NAME, addr:TEXT (or host:), State:NAME, or a
// bare word matched against protocol, addresses, state, pid and process.
type ConnFilter struct{ terms []connTerm }

type connTerm struct {
	kind string // "", port, pid, proc, addr, state
	text string // lower case
	num  uint64
}

func ParseConnFilter(s string) ConnFilter {
	var f ConnFilter
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

func (f ConnFilter) Empty() bool { return len(f.terms) == 0 }

// Match tests a socket row; names are the reverse DNS names shown for its
// addresses (empty when off or unknown).
func (f ConnFilter) Match(r *ConnRow, localName, remoteName string) bool {
	for _, t := range f.terms {
		ok := false
		switch t.kind {
		case "port":
			ok = uint64(r.Key.Local.Port()) == t.num || uint64(r.Key.Remote.Port()) == t.num
		case "pid":
			ok = uint64(r.PID) == t.num
		case "proc":
			ok = ContainsFold(r.Proc, t.text)
		case "addr":
			ok = ContainsFold(r.LocalText, t.text) || ContainsFold(r.RemoteText, t.text) ||
				ContainsFold(localName, t.text) || ContainsFold(remoteName, t.text)
		case "state":
			ok = strings.HasPrefix(strings.ToLower(r.StateText()), t.text)
		default:
			ok = ContainsFold(r.Proto, t.text) || ContainsFold(r.LocalText, t.text) ||
				ContainsFold(r.RemoteText, t.text) || ContainsFold(r.StateText(), t.text) ||
				ContainsFold(r.Proc, t.text) || strings.Contains(strconv.FormatUint(uint64(r.PID), 10), t.text) ||
				ContainsFold(localName, t.text) || ContainsFold(remoteName, t.text)
		}
		if !ok {
			return false
		}
	}
	return true
}

// GroupConns sums socket rows per process (pid 0: owner not visible to the
// agent) into dst.
func GroupConns(dst []ConnRow, rows []*ConnRow) []ConnRow {
	dst = dst[:0]
	idx := map[uint32]int{}
	peers := map[uint32]map[netip.Addr]bool{}
	for _, r := range rows {
		i, ok := idx[r.PID]
		if !ok {
			i = len(dst)
			idx[r.PID] = i
			dst = append(dst, ConnRow{Group: true, PID: r.PID, Proc: r.Proc, Key: ConnKey{Inode: uint64(r.PID)}})
			peers[r.PID] = map[netip.Addr]bool{}
		}
		g := &dst[i]
		if g.Proc == "" {
			g.Proc = r.Proc
		}
		g.Socks++
		if r.Listening() {
			g.Listeners++
		} else if a := r.Key.Remote.Addr(); a.IsValid() && !a.IsUnspecified() {
			peers[r.PID][a] = true
		}
		if r.Counted {
			g.Counted = true
			g.In += r.In
			g.Out += r.Out
			g.SegsIn += r.SegsIn
			g.SegsOut += r.SegsOut
			g.Retrans += r.Retrans
		}
		if r.HasRate {
			g.HasRate = true
			g.RateIn += r.RateIn
			g.RateOut += r.RateOut
		}
	}
	for i := range dst {
		dst[i].Peers = len(peers[dst[i].PID])
		if dst[i].Proc == "" && dst[i].PID == 0 {
			dst[i].Proc = "(owner not visible)"
		}
	}
	return dst
}

// SortConns orders the visible rows in place.
func SortConns(rows []*ConnRow, col ConnCol, desc bool) {
	slices.SortFunc(rows, func(a, b *ConnRow) int {
		r := CompareConns(a, b, col)
		if desc {
			return -r
		}
		return r
	})
}
