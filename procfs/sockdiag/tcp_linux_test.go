package sockdiag

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

// pair opens a loopback connection on network ("tcp4", "tcp6") and sends n
// bytes over it; the listener stays open.
func pair(t *testing.T, network, addr string, n int) (ln net.Listener, c, s net.Conn) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("%s loopback unavailable: %v", network, err)
	}
	t.Cleanup(func() { ln.Close() })
	if c, err = net.Dial(network, ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if s, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	go c.Write(make([]byte, n))
	if _, err := io.CopyN(io.Discard, s, int64(n)); err != nil {
		t.Fatal(err)
	}
	return ln, c, s
}

// One combined dump lists the TCP sockets of both families, with counters
// and owners, the same ones Collect lists per family, and nothing else.
func TestCollectTCP(t *testing.T) {
	c := NewCollector("/proc")
	needNetlink(t, c)
	ln4, c4, s4 := pair(t, "tcp4", "127.0.0.1:0", 3000)
	ln6, c6, s6 := pair(t, "tcp6", "[::1]:0", 5000)
	u, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	ours := map[uint64]string{connInode(t, c4): "tcp4 client", connInode(t, s4): "tcp4 server",
		connInode(t, c6): "tcp6 client", connInode(t, s6): "tcp6 server"}

	opts := Options{TCP: true, Processes: true}
	byFamily, err := c.Collect(nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	seq := c.seq
	both, err := c.CollectTCP(nil, Options{UDP: true, Processes: true}) // UDP is ignored
	if err != nil {
		t.Fatal(err)
	}
	if n := c.seq - seq; n != 1 {
		t.Errorf("%d dump requests, want one for both families", n)
	}
	if st := c.Stats(); !st.Netlink || st.Sockets != len(both) {
		t.Errorf("stats %+v for %d sockets", st, len(both))
	}
	seen := map[uint64]Socket{}
	for _, s := range both {
		if s.Proto != TCP || s.State == Listen {
			t.Errorf("CollectTCP listed %v %v %v", s.Proto, s.State, s.Local)
		}
		if _, ok := ours[s.Inode]; ok {
			seen[s.Inode] = s
		}
	}
	for ino, what := range ours {
		s, ok := seen[ino]
		if !ok {
			t.Errorf("%s not listed", what)
			continue
		}
		wantFamily, wantBytes := uint8(4), uint64(3000)
		if what[3] == '6' {
			wantFamily, wantBytes = 6, 5000
		}
		moved := s.BytesAcked
		if what[5:] == "server" {
			moved = s.BytesReceived
		}
		if s.Family != wantFamily || !s.CountersAvailable || moved < wantBytes || moved > wantBytes+1 || s.PID != os.Getpid() || s.Cookie == 0 {
			t.Errorf("%s: %+v", what, s)
		}
	}
	// The same sockets as per-family dumps (ours: the machine's others come and go).
	perFamily := map[uint64]uint64{}
	for _, s := range byFamily {
		perFamily[s.Inode] = s.Cookie
	}
	for ino, s := range seen {
		if perFamily[ino] != s.Cookie {
			t.Errorf("%s: cookie %d, per-family dump %d", ours[ino], s.Cookie, perFamily[ino])
		}
	}
	// Listening sockets only when asked for.
	withListen, err := c.CollectTCP(nil, Options{Listening: true})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, s := range withListen {
		if s.State == Listen && (s.Local.Port() == addrPort(ln4.Addr()).Port() || s.Local.Port() == addrPort(ln6.Addr()).Port()) {
			found++
		}
	}
	if found != 2 {
		t.Errorf("%d of our 2 listeners listed with Listening", found)
	}
}

// A refused netlink socket falls back to /proc/net, as Collect does.
func TestCollectTCPFallback(t *testing.T) {
	c := NewCollector("/proc")
	c.noNetlink = os.ErrPermission
	_, cl, _ := pair(t, "tcp4", "127.0.0.1:0", 10)
	socks, err := c.CollectTCP(nil, Options{Processes: true})
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Netlink || st.NetlinkErr == nil {
		t.Errorf("stats %+v, want the fallback", st)
	}
	ino := connInode(t, cl)
	for _, s := range socks {
		if s.Inode == ino {
			if s.CountersAvailable || s.PID != os.Getpid() {
				t.Errorf("fallback socket %+v", s)
			}
			return
		}
	}
	t.Errorf("client socket not listed by the fallback")
}

// BenchmarkCollectTCPVsPerFamily: one combined TCP dump ÷ the two
// per-family dumps Collect makes, alternately in one run, over 2,000
// sockets (owners not resolved: the same for both).
func BenchmarkCollectTCPVsPerFamily(b *testing.B) {
	c := NewCollector("/proc")
	needNetlink(b, c)
	openPairs(b, 1000)
	opts := Options{TCP: true}
	var dst []Socket
	var per, both time.Duration
	for b.Loop() {
		t0 := time.Now()
		dst, _ = c.Collect(dst[:0], opts)
		t1 := time.Now()
		dst, _ = c.CollectTCP(dst[:0], opts)
		per, both = per+t1.Sub(t0), both+time.Since(t1)
	}
	b.ReportMetric(float64(both)/float64(per), "x-per-family")
	b.ReportMetric(float64(per.Nanoseconds())/float64(b.N), "per-family-ns/op")
	b.ReportMetric(float64(both.Nanoseconds())/float64(b.N), "combined-ns/op")
	b.ReportMetric(float64(len(dst)), "sockets")
	b.ReportMetric(0, "ns/op")
}

func TestAppendTCPRequest(t *testing.T) {
	states := Options{}.states()
	b := appendTCPRequest(nil, 42, states)
	ne := binary.NativeEndian
	if len(b) != nlmsgHdrLen+inetDiagReqLen || ne.Uint32(b) != uint32(len(b)) {
		t.Fatalf("request length %d / header %d", len(b), ne.Uint32(b))
	}
	if ne.Uint16(b[4:]) != tcpDiagGetSock || ne.Uint16(b[6:]) != nlmFRequest|nlmFDump || ne.Uint32(b[8:]) != 42 {
		t.Errorf("header % x", b[:16])
	}
	r := b[nlmsgHdrLen:]
	if r[3] != 1<<(inetDiagInfo-1) || ne.Uint32(r[52:]) != states || ne.Uint32(r[56:]) != 0 {
		t.Errorf("request % x", r)
	}
	// Its replies carry the request's type and parse like SOCK_DIAG_BY_FAMILY ones.
	l, rem := netip.MustParseAddrPort("[::1]:80"), netip.MustParseAddrPort("[::1]:5000")
	socks, done, err := parseDump(append(nlMsg(42, tcpDiagGetSock, diagMsg(Established, l, rem, 7, 0, fullTCPInfo()[:144])), nlMsg(42, nlmsgDone, make([]byte, 4))...), 42, TCP, nil)
	if err != nil || !done || len(socks) != 1 || socks[0].Family != 6 || socks[0].Inode != 7 || !socks[0].CountersAvailable {
		t.Errorf("parsed %+v, done %v, %v", socks, done, err)
	}
}
