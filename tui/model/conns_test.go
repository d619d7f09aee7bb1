package model

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

func tcpConn(local, remote string, state, pid uint32, in, out uint64) *wire.Connection {
	l, r := netip.MustParseAddrPort(local), netip.MustParseAddrPort(remote)
	fam := wire.AddressFamily_ADDRESS_FAMILY_INET
	if l.Addr().Is6() {
		fam = wire.AddressFamily_ADDRESS_FAMILY_INET6
	}
	return &wire.Connection{Transport: wire.Transport_TRANSPORT_TCP, Family: fam,
		LocalAddr: l.Addr().AsSlice(), LocalPort: uint32(l.Port()),
		RemoteAddr: r.Addr().AsSlice(), RemotePort: uint32(r.Port()),
		State: state, Inode: uint64(l.Port()), Pid: pid, ProcessName: "proc" + string(rune('0'+pid%10)),
		BytesReceived: in, BytesAcked: out, SegsIn: 10, SegsOut: 20, RttUs: 1500, CountersAvailable: true}
}

func udpConn(local, remote string, pid uint32) *wire.Connection {
	c := tcpConn(local, remote, TCPClose, pid, 0, 0)
	c.Transport, c.CountersAvailable = wire.Transport_TRANSPORT_UDP, false
	c.BytesReceived, c.BytesAcked, c.SegsIn, c.SegsOut, c.RttUs = 0, 0, 0, 0, 0
	if c.RemotePort != 0 {
		c.State = TCPEstablished
	}
	if pid == 0 {
		c.ProcessName = "" // the agent could not see the owner
	}
	return c
}

func findRow(m *ConnModel, local string) *ConnRow {
	for i := range m.Rows {
		if m.Rows[i].LocalText == local {
			return &m.Rows[i]
		}
	}
	return nil
}

// Rates come from two samples of the same socket; a new one has none; a
// vanished one is CLOSED for exactly one sample; a long gap starts afresh.
func TestConnModelRatesClosedAndGap(t *testing.T) {
	var m ConnModel
	t0 := time.Unix(1000, 0)
	gap := 10 * time.Second
	a := tcpConn("10.0.0.1:5000", "10.0.0.2:443", TCPEstablished, 7, 1000, 2000)
	m.Add(&wire.Connections{SampledAtMs: 1_000_000, Connections: []*wire.Connection{a}}, t0, gap)
	if r := findRow(&m, "10.0.0.1:5000"); r == nil || r.HasRate || r.Closed {
		t.Fatalf("first sample: %+v", r)
	}
	a2 := tcpConn("10.0.0.1:5000", "10.0.0.2:443", TCPEstablished, 7, 5000, 2000+8000)
	b := tcpConn("10.0.0.1:5001", "10.0.0.2:443", TCPEstablished, 7, 1, 1)
	m.Add(&wire.Connections{SampledAtMs: 1_002_000, Connections: []*wire.Connection{a2, b}}, t0.Add(2*time.Second), gap)
	r := findRow(&m, "10.0.0.1:5000")
	if r == nil || !r.HasRate || r.RateIn != 2000 || r.RateOut != 4000 {
		t.Fatalf("second sample rates: %+v", r)
	}
	if rb := findRow(&m, "10.0.0.1:5001"); rb == nil || rb.HasRate {
		t.Fatalf("a socket first seen now has a rate: %+v", rb)
	}
	// a is gone: CLOSED once, with its last counters, then not at all
	m.Add(&wire.Connections{SampledAtMs: 1_004_000, Connections: []*wire.Connection{b}}, t0.Add(4*time.Second), gap)
	r = findRow(&m, "10.0.0.1:5000")
	if r == nil || !r.Closed || r.StateText() != "CLOSED" || r.In != 5000 || r.HasRate {
		t.Fatalf("vanished socket: %+v", r)
	}
	if rb := findRow(&m, "10.0.0.1:5001"); rb == nil || !rb.HasRate || rb.RateIn != 0 {
		t.Fatalf("second sample of b: %+v", rb)
	}
	m.Add(&wire.Connections{SampledAtMs: 1_006_000, Connections: []*wire.Connection{b}}, t0.Add(6*time.Second), gap)
	if r := findRow(&m, "10.0.0.1:5000"); r != nil {
		t.Fatalf("CLOSED shown twice: %+v", r)
	}
	// after a gap (screen closed a while) nothing is CLOSED and no rate
	// spans the gap
	m.Add(&wire.Connections{SampledAtMs: 1_100_000, Connections: []*wire.Connection{a}}, t0.Add(100*time.Second), gap)
	if len(m.Rows) != 1 || m.Rows[0].HasRate || m.Rows[0].Closed {
		t.Fatalf("after a gap: %+v", m.Rows)
	}
	// counters that go backwards (a reused tuple) give no rate
	back := tcpConn("10.0.0.1:5000", "10.0.0.2:443", TCPEstablished, 7, 10, 10)
	m.Add(&wire.Connections{SampledAtMs: 1_102_000, Connections: []*wire.Connection{back}}, t0.Add(102*time.Second), gap)
	if m.Rows[0].HasRate {
		t.Fatalf("rate from counters that went back: %+v", m.Rows[0])
	}
}

func TestConnModelUncounted(t *testing.T) {
	var m ConnModel
	u := udpConn("10.0.0.1:53", "10.0.0.9:5353", 3)
	fb := tcpConn("10.0.0.1:22", "10.0.0.9:6000", TCPEstablished, 4, 0, 0)
	fb.CountersAvailable = false
	m.Add(&wire.Connections{SampledAtMs: 1, Connections: []*wire.Connection{u}}, time.Unix(1, 0), time.Minute)
	if m.UDP != 1 || m.Fallback() {
		t.Fatalf("udp: %d, fallback %v", m.UDP, m.Fallback())
	}
	r := findRow(&m, "10.0.0.1:53")
	if r.Counted || r.Num(CCIn) >= 0 || r.StateText() != "ESTAB" || r.Proto != "udp" {
		t.Fatalf("udp row: %+v", r)
	}
	m.Add(&wire.Connections{SampledAtMs: 2, Connections: []*wire.Connection{u, fb}}, time.Unix(2, 0), time.Minute)
	if m.UDP != 1 || m.TCPUncounted != 1 || !m.Fallback() {
		t.Fatalf("fallback: %d udp, %d tcp without counters, fallback %v", m.UDP, m.TCPUncounted, m.Fallback())
	}
	ok := tcpConn("10.0.0.1:23", "10.0.0.9:6001", TCPEstablished, 4, 0, 0)
	m.Add(&wire.Connections{SampledAtMs: 3, Connections: []*wire.Connection{u, fb, ok}}, time.Unix(3, 0), time.Minute)
	if m.Fallback() || m.TCPCounted != 1 {
		t.Fatalf("a TCP socket with counters means no fallback: %+v", m)
	}
}

func TestConnFilter(t *testing.T) {
	est := RowOf(KeyOf(tcpConn("127.0.0.1:8080", "127.0.0.1:40000", TCPEstablished, 42, 0, 0)), tcpConn("127.0.0.1:8080", "127.0.0.1:40000", TCPEstablished, 42, 0, 0), nil)
	est.Proc = "nginx"
	lst := RowOf(KeyOf(tcpConn("[::]:22", "[::]:0", TCPListen, 1, 0, 0)), tcpConn("[::]:22", "[::]:0", TCPListen, 1, 0, 0), nil)
	lst.Proc = "sshd"
	for _, c := range []struct {
		f        string
		est, lst bool
	}{
		{"", true, true},
		{"port:8080", true, false},
		{"port:40000", true, false},
		{"port:22", false, true},
		{"port:x", false, false}, // not a number: a bare word that matches nothing
		{"pid:42", true, false},
		{"proc:NGI", true, false},
		{"process:sshd", false, true},
		{"state:listen", false, true},
		{"state:est", true, false},
		{"addr:127.0", true, false},
		{"host:*:22", false, true},
		{"tcp6", false, true},
		{"nginx 8080", true, false},
		{"nginx 22", false, false},
		{"LISTEN", false, true},
	} {
		f := ParseConnFilter(c.f)
		if got := f.Match(&est, "", ""); got != c.est {
			t.Errorf("%q on the established row: %v", c.f, got)
		}
		if got := f.Match(&lst, "", ""); got != c.lst {
			t.Errorf("%q on the listener: %v", c.f, got)
		}
	}
	// a reverse DNS name matches too
	if !ParseConnFilter("addr:example").Match(&est, "", "www.example.org") {
		t.Error("addr: does not match the DNS name")
	}
	if est.Listening() || !lst.Listening() {
		t.Error("listening")
	}
}

func TestConnGroupAndSort(t *testing.T) {
	var m ConnModel
	cs := []*wire.Connection{
		tcpConn("10.0.0.1:5000", "10.0.0.2:443", TCPEstablished, 7, 100, 200),
		tcpConn("10.0.0.1:5001", "10.0.0.3:443", TCPEstablished, 7, 1000, 50),
		tcpConn("10.0.0.1:80", "0.0.0.0:0", TCPListen, 7, 0, 0),
		tcpConn("10.0.0.1:5002", "10.0.0.2:443", TCPEstablished, 9, 10, 20),
		udpConn("10.0.0.1:53", "0.0.0.0:0", 0),
	}
	m.Add(&wire.Connections{SampledAtMs: 1, Connections: cs}, time.Unix(1, 0), time.Minute)
	var ptrs []*ConnRow
	for i := range m.Rows {
		ptrs = append(ptrs, &m.Rows[i])
	}
	SortConns(ptrs, CCIn, true)
	if ptrs[0].LocalText != "10.0.0.1:5001" || ptrs[len(ptrs)-1].Proto != "udp" {
		t.Fatalf("sort by IN: first %s last %s", ptrs[0].LocalText, ptrs[len(ptrs)-1].Proto)
	}
	SortConns(ptrs, CCLocal, false)
	if ptrs[0].LocalText != "10.0.0.1:53" {
		t.Fatalf("sort by LOCAL: first %s", ptrs[0].LocalText)
	}
	g := GroupConns(nil, ptrs)
	if len(g) != 3 {
		t.Fatalf("groups: %+v", g)
	}
	for _, r := range g {
		switch r.PID {
		case 7:
			if r.Socks != 3 || r.Peers != 2 || r.Listeners != 1 || r.In != 1100 || r.Out != 250 || !r.Counted {
				t.Errorf("pid 7 totals: %+v", r)
			}
		case 0:
			if r.Counted || r.Proc != "(owner not visible)" || r.Listeners != 1 {
				t.Errorf("unowned UDP group: %+v", r)
			}
		}
	}
}

func TestConnFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{widget.Count(999), "999"}, {widget.Count(12345), "12.3k"}, {widget.Count(4_500_000), "4.5M"},
		{widget.Micros(45), "45µs"}, {widget.Micros(1500), "1.5ms"}, {widget.Micros(230000), "230ms"}, {widget.Micros(1_500_000), "1.5s"},
		{AddrText(netip.MustParseAddrPort("[::1]:80")), "[::1]:80"},
		{AddrText(netip.MustParseAddrPort("0.0.0.0:0")), "*:*"},
		{AddrText(netip.MustParseAddrPort("[::ffff:1.2.3.4]:5")), "[::ffff:1.2.3.4]:5"},
		{widget.FitHostPort("averyveryverylonghostname.example.org:443", 16), "averyveryve…:443"},
		{widget.FitHostPort("1.2.3.4:80", 16), "1.2.3.4:80"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	// a mapped IPv4 address from the agent is shown as IPv4
	k := KeyOf(tcpConn("[::ffff:10.0.0.1]:80", "[::ffff:10.0.0.2]:9", TCPEstablished, 1, 0, 0))
	if AddrText(k.Local) != "10.0.0.1:80" {
		t.Errorf("mapped address: %s", AddrText(k.Local))
	}
	// odd input: short address bytes and unknown states never panic
	odd := &wire.Connection{LocalAddr: []byte{1, 2}, State: 99}
	r := RowOf(KeyOf(odd), odd, nil)
	if !strings.HasPrefix(r.LocalText, "*:") || r.StateText() != "99" {
		t.Errorf("odd row: %q %q", r.LocalText, r.StateText())
	}
}

// FuzzConnsSample feeds the model whatever an agent might send: odd
// addresses, states, counters that jump back, duplicate sockets. Folding,
// filtering, grouping, sorting and formatting must not panic, and every
// row is either counted or says why not.
func FuzzConnsSample(f *testing.F) {
	seed := &wire.Connections{SampledAtMs: 1000, Connections: []*wire.Connection{
		tcpConn("10.0.0.1:5000", "10.0.0.2:443", TCPEstablished, 7, 100, 200),
		tcpConn("[2001:db8::1]:22", "[2001:db8::2]:50000", TCPEstablished, 8, 1, 2),
		tcpConn("0.0.0.0:80", "0.0.0.0:0", TCPListen, 1, 0, 0),
		udpConn("127.0.0.1:53", "0.0.0.0:0", 0),
		{LocalAddr: []byte{1, 2, 3}, RemoteAddr: make([]byte, 17), State: 250, LocalPort: 1 << 20},
	}}
	b, err := seed.MarshalVT()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, b, "port:80 tcp")
	f.Add([]byte{}, b, "state:")
	f.Add(b, []byte{0xff}, "pid:x addr:: ::")
	f.Fuzz(func(t *testing.T, first, second []byte, filter string) {
		var m ConnModel
		now := time.Unix(100, 0)
		for i, data := range [][]byte{first, second} {
			cs := &wire.Connections{}
			if cs.UnmarshalVT(data) != nil {
				continue
			}
			m.Add(cs, now.Add(time.Duration(i)*time.Second), time.Minute)
		}
		flt := ParseConnFilter(filter)
		var view []*ConnRow
		for i := range m.Rows {
			r := &m.Rows[i]
			if r.HasRate && !r.Counted {
				t.Fatalf("rate on an uncounted row: %+v", r)
			}
			_ = r.StateText() + widget.FitHostPort(r.LocalText, 15) + widget.FitHostPort(r.RemoteText, 9) + widget.Micros(r.RTTUs) + widget.Count(r.SegsIn)
			if flt.Match(r, "", "") {
				view = append(view, r)
			}
		}
		for c := range NumConnCols {
			SortConns(view, c, c%2 == 0)
		}
		g := GroupConns(nil, view)
		n := 0
		for _, r := range g {
			n += r.Socks
		}
		if n != len(view) {
			t.Fatalf("groups hold %d sockets, view has %d", n, len(view))
		}
	})
}
