package tui

import (
	"net/netip"
	"strings"
	"testing"
	"time"

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
	c := tcpConn(local, remote, tcpClose, pid, 0, 0)
	c.Transport, c.CountersAvailable = wire.Transport_TRANSPORT_UDP, false
	c.BytesReceived, c.BytesAcked, c.SegsIn, c.SegsOut, c.RttUs = 0, 0, 0, 0, 0
	if c.RemotePort != 0 {
		c.State = tcpEstablished
	}
	if pid == 0 {
		c.ProcessName = "" // the agent could not see the owner
	}
	return c
}

func findRow(m *connModel, local string) *connRow {
	for i := range m.rows {
		if m.rows[i].localText == local {
			return &m.rows[i]
		}
	}
	return nil
}

// Rates come from two samples of the same socket; a new one has none; a
// vanished one is CLOSED for exactly one sample; a long gap starts afresh.
func TestConnModelRatesClosedAndGap(t *testing.T) {
	var m connModel
	t0 := time.Unix(1000, 0)
	gap := 10 * time.Second
	a := tcpConn("10.0.0.1:5000", "10.0.0.2:443", tcpEstablished, 7, 1000, 2000)
	m.add(&wire.Connections{SampledAtMs: 1_000_000, Connections: []*wire.Connection{a}}, t0, gap)
	if r := findRow(&m, "10.0.0.1:5000"); r == nil || r.hasRate || r.closed {
		t.Fatalf("first sample: %+v", r)
	}
	a2 := tcpConn("10.0.0.1:5000", "10.0.0.2:443", tcpEstablished, 7, 5000, 2000+8000)
	b := tcpConn("10.0.0.1:5001", "10.0.0.2:443", tcpEstablished, 7, 1, 1)
	m.add(&wire.Connections{SampledAtMs: 1_002_000, Connections: []*wire.Connection{a2, b}}, t0.Add(2*time.Second), gap)
	r := findRow(&m, "10.0.0.1:5000")
	if r == nil || !r.hasRate || r.rateIn != 2000 || r.rateOut != 4000 {
		t.Fatalf("second sample rates: %+v", r)
	}
	if rb := findRow(&m, "10.0.0.1:5001"); rb == nil || rb.hasRate {
		t.Fatalf("a socket first seen now has a rate: %+v", rb)
	}
	// a is gone: CLOSED once, with its last counters, then not at all
	m.add(&wire.Connections{SampledAtMs: 1_004_000, Connections: []*wire.Connection{b}}, t0.Add(4*time.Second), gap)
	r = findRow(&m, "10.0.0.1:5000")
	if r == nil || !r.closed || r.stateText() != "CLOSED" || r.in != 5000 || r.hasRate {
		t.Fatalf("vanished socket: %+v", r)
	}
	if rb := findRow(&m, "10.0.0.1:5001"); rb == nil || !rb.hasRate || rb.rateIn != 0 {
		t.Fatalf("second sample of b: %+v", rb)
	}
	m.add(&wire.Connections{SampledAtMs: 1_006_000, Connections: []*wire.Connection{b}}, t0.Add(6*time.Second), gap)
	if r := findRow(&m, "10.0.0.1:5000"); r != nil {
		t.Fatalf("CLOSED shown twice: %+v", r)
	}
	// after a gap (screen closed a while) nothing is CLOSED and no rate
	// spans the gap
	m.add(&wire.Connections{SampledAtMs: 1_100_000, Connections: []*wire.Connection{a}}, t0.Add(100*time.Second), gap)
	if len(m.rows) != 1 || m.rows[0].hasRate || m.rows[0].closed {
		t.Fatalf("after a gap: %+v", m.rows)
	}
	// counters that go backwards (a reused tuple) give no rate
	back := tcpConn("10.0.0.1:5000", "10.0.0.2:443", tcpEstablished, 7, 10, 10)
	m.add(&wire.Connections{SampledAtMs: 1_102_000, Connections: []*wire.Connection{back}}, t0.Add(102*time.Second), gap)
	if m.rows[0].hasRate {
		t.Fatalf("rate from counters that went back: %+v", m.rows[0])
	}
}

func TestConnModelUncounted(t *testing.T) {
	var m connModel
	u := udpConn("10.0.0.1:53", "10.0.0.9:5353", 3)
	fb := tcpConn("10.0.0.1:22", "10.0.0.9:6000", tcpEstablished, 4, 0, 0)
	fb.CountersAvailable = false
	m.add(&wire.Connections{SampledAtMs: 1, Connections: []*wire.Connection{u}}, time.Unix(1, 0), time.Minute)
	if m.udp != 1 || m.fallback() {
		t.Fatalf("udp: %d, fallback %v", m.udp, m.fallback())
	}
	r := findRow(&m, "10.0.0.1:53")
	if r.counted || r.num(ccIn) >= 0 || r.stateText() != "ESTAB" || r.proto != "udp" {
		t.Fatalf("udp row: %+v", r)
	}
	m.add(&wire.Connections{SampledAtMs: 2, Connections: []*wire.Connection{u, fb}}, time.Unix(2, 0), time.Minute)
	if m.udp != 1 || m.tcpUncounted != 1 || !m.fallback() {
		t.Fatalf("fallback: %d udp, %d tcp without counters, fallback %v", m.udp, m.tcpUncounted, m.fallback())
	}
	ok := tcpConn("10.0.0.1:23", "10.0.0.9:6001", tcpEstablished, 4, 0, 0)
	m.add(&wire.Connections{SampledAtMs: 3, Connections: []*wire.Connection{u, fb, ok}}, time.Unix(3, 0), time.Minute)
	if m.fallback() || m.tcpCounted != 1 {
		t.Fatalf("a TCP socket with counters means no fallback: %+v", m)
	}
}

func TestConnFilter(t *testing.T) {
	est := rowOf(keyOfConn(tcpConn("127.0.0.1:8080", "127.0.0.1:40000", tcpEstablished, 42, 0, 0)), tcpConn("127.0.0.1:8080", "127.0.0.1:40000", tcpEstablished, 42, 0, 0), nil)
	est.proc = "nginx"
	lst := rowOf(keyOfConn(tcpConn("[::]:22", "[::]:0", tcpListen, 1, 0, 0)), tcpConn("[::]:22", "[::]:0", tcpListen, 1, 0, 0), nil)
	lst.proc = "sshd"
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
		f := parseConnFilter(c.f)
		if got := f.match(&est, "", ""); got != c.est {
			t.Errorf("%q on the established row: %v", c.f, got)
		}
		if got := f.match(&lst, "", ""); got != c.lst {
			t.Errorf("%q on the listener: %v", c.f, got)
		}
	}
	// a reverse DNS name matches too
	if !parseConnFilter("addr:example").match(&est, "", "www.example.org") {
		t.Error("addr: does not match the DNS name")
	}
	if est.listening() || !lst.listening() {
		t.Error("listening")
	}
}

func TestConnGroupAndSort(t *testing.T) {
	var m connModel
	cs := []*wire.Connection{
		tcpConn("10.0.0.1:5000", "10.0.0.2:443", tcpEstablished, 7, 100, 200),
		tcpConn("10.0.0.1:5001", "10.0.0.3:443", tcpEstablished, 7, 1000, 50),
		tcpConn("10.0.0.1:80", "0.0.0.0:0", tcpListen, 7, 0, 0),
		tcpConn("10.0.0.1:5002", "10.0.0.2:443", tcpEstablished, 9, 10, 20),
		udpConn("10.0.0.1:53", "0.0.0.0:0", 0),
	}
	m.add(&wire.Connections{SampledAtMs: 1, Connections: cs}, time.Unix(1, 0), time.Minute)
	var ptrs []*connRow
	for i := range m.rows {
		ptrs = append(ptrs, &m.rows[i])
	}
	sortConnRows(ptrs, ccIn, true)
	if ptrs[0].localText != "10.0.0.1:5001" || ptrs[len(ptrs)-1].proto != "udp" {
		t.Fatalf("sort by IN: first %s last %s", ptrs[0].localText, ptrs[len(ptrs)-1].proto)
	}
	sortConnRows(ptrs, ccLocal, false)
	if ptrs[0].localText != "10.0.0.1:53" {
		t.Fatalf("sort by LOCAL: first %s", ptrs[0].localText)
	}
	g := groupRows(nil, ptrs)
	if len(g) != 3 {
		t.Fatalf("groups: %+v", g)
	}
	for _, r := range g {
		switch r.pid {
		case 7:
			if r.socks != 3 || r.peers != 2 || r.listeners != 1 || r.in != 1100 || r.out != 250 || !r.counted {
				t.Errorf("pid 7 totals: %+v", r)
			}
		case 0:
			if r.counted || r.proc != "(owner not visible)" || r.listeners != 1 {
				t.Errorf("unowned UDP group: %+v", r)
			}
		}
	}
}

func TestConnFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{fmtCount(999), "999"}, {fmtCount(12345), "12.3k"}, {fmtCount(4_500_000), "4.5M"},
		{fmtRTT(45), "45µs"}, {fmtRTT(1500), "1.5ms"}, {fmtRTT(230000), "230ms"}, {fmtRTT(1_500_000), "1.5s"},
		{addrText(netip.MustParseAddrPort("[::1]:80")), "[::1]:80"},
		{addrText(netip.MustParseAddrPort("0.0.0.0:0")), "*:*"},
		{addrText(netip.MustParseAddrPort("[::ffff:1.2.3.4]:5")), "[::ffff:1.2.3.4]:5"},
		{fitAddr("averyveryverylonghostname.example.org:443", 16), "averyveryve…:443"},
		{fitAddr("1.2.3.4:80", 16), "1.2.3.4:80"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	// a mapped IPv4 address from the agent is shown as IPv4
	k := keyOfConn(tcpConn("[::ffff:10.0.0.1]:80", "[::ffff:10.0.0.2]:9", tcpEstablished, 1, 0, 0))
	if addrText(k.local) != "10.0.0.1:80" {
		t.Errorf("mapped address: %s", addrText(k.local))
	}
	// odd input: short address bytes and unknown states never panic
	odd := &wire.Connection{LocalAddr: []byte{1, 2}, State: 99}
	r := rowOf(keyOfConn(odd), odd, nil)
	if !strings.HasPrefix(r.localText, "*:") || r.stateText() != "99" {
		t.Errorf("odd row: %q %q", r.localText, r.stateText())
	}
}

// FuzzConnsSample feeds the model whatever an agent might send: odd
// addresses, states, counters that jump back, duplicate sockets. Folding,
// filtering, grouping, sorting and formatting must not panic, and every
// row is either counted or says why not.
func FuzzConnsSample(f *testing.F) {
	seed := &wire.Connections{SampledAtMs: 1000, Connections: []*wire.Connection{
		tcpConn("10.0.0.1:5000", "10.0.0.2:443", tcpEstablished, 7, 100, 200),
		tcpConn("[2001:db8::1]:22", "[2001:db8::2]:50000", tcpEstablished, 8, 1, 2),
		tcpConn("0.0.0.0:80", "0.0.0.0:0", tcpListen, 1, 0, 0),
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
		var m connModel
		now := time.Unix(100, 0)
		for i, data := range [][]byte{first, second} {
			cs := &wire.Connections{}
			if cs.UnmarshalVT(data) != nil {
				continue
			}
			m.add(cs, now.Add(time.Duration(i)*time.Second), time.Minute)
		}
		flt := parseConnFilter(filter)
		var view []*connRow
		for i := range m.rows {
			r := &m.rows[i]
			if r.hasRate && !r.counted {
				t.Fatalf("rate on an uncounted row: %+v", r)
			}
			_ = r.stateText() + fitAddr(r.localText, 15) + fitAddr(r.remoteText, 9) + fmtRTT(r.rttUs) + fmtCount(r.segsIn)
			if flt.match(r, "", "") {
				view = append(view, r)
			}
		}
		for c := range numConnCols {
			sortConnRows(view, c, c%2 == 0)
		}
		g := groupRows(nil, view)
		n := 0
		for _, r := range g {
			n += r.socks
		}
		if n != len(view) {
			t.Fatalf("groups hold %d sockets, view has %d", n, len(view))
		}
	})
}
