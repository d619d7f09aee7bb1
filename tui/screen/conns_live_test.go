package screen

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// The Connections screen against a real in-process agent reading this
// machine's sockets, with loopback traffic the tests make themselves.
// Samples are taken on demand (the cadence is an hour, each sample is a
// kick), so what each refresh shows is exact.

// A loopback connection the test makes is listed with this test's pid and
// process, and after a known transfer its bytes in and out; its rate is
// "-" on its first sample and known from its second; the dashboard's own
// connection to the agent is listed until a port filter hides it.
func TestConnsScreenShowsOwnConnection(t *testing.T) {
	ln := listenLoop(t)
	p := dialPair(t, ln)
	hs := connsApp(t)
	// filters apply to the sample on screen (the first: every socket new)
	agentAddr := strings.TrimPrefix(strings.TrimSuffix(hs.d.target.URL, "/ws"), "ws://")
	_, agentPort, _ := net.SplitHostPort(agentAddr)
	setConnFilter(hs, "port:"+agentPort)
	s := hs.text()
	if lineWith(s, agentAddr) == "" {
		t.Fatalf("the dashboard's own connection to the agent (%s) is not listed:\n%s", agentAddr, s)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	setConnFilter(hs, "port:"+port)
	s = hs.text()
	if lineWith(s, agentAddr) != "" {
		t.Fatalf("port filter kept another connection:\n%s", s)
	}
	row := connRowLine(s, p.cAddr, p.sAddr)
	if row == "" || connRowLine(s, p.sAddr, p.cAddr) == "" {
		t.Fatalf("both ends of %s ↔ %s should be listed:\n%s", p.cAddr, p.sAddr, s)
	}
	skipWithoutCounters(t, s)
	for _, want := range []string{"tcp ", "ESTAB", " " + strconv.Itoa(os.Getpid()) + " ", selfComm()} {
		if !strings.Contains(row, want) {
			t.Errorf("client row lacks %q: %q", want, row)
		}
	}
	if strings.Contains(row, "/s") {
		t.Errorf("a rate on the first sample that saw the connection: %q", row)
	}

	// 300,000 bytes one way, 100,000 back: 293K and 97.7K in human units
	// (the connecting side's bytes_acked counts its SYN: 300,001 is 293K too)
	send(t, p.c, p.s, 300000)
	send(t, p.s, p.c, 100000)
	s = hs.sampleUntil("the transfer's bytes", func(s string) bool {
		c, sv := connRowLine(s, p.cAddr, p.sAddr), connRowLine(s, p.sAddr, p.cAddr)
		return strings.Contains(c, " 97.7K ") && strings.Contains(c, " 293K ") &&
			strings.Contains(sv, " 293K ") && strings.Contains(sv, " 97.7K ")
	})
	c, sv := connRowLine(s, p.cAddr, p.sAddr), connRowLine(s, p.sAddr, p.cAddr)
	// the IN column comes before OUT
	if strings.Index(c, " 97.7K ") > strings.Index(c, " 293K ") {
		t.Errorf("client row: in should be 97.7K and out 293K: %q", c)
	}
	if strings.Index(sv, " 293K ") > strings.Index(sv, " 97.7K ") {
		t.Errorf("server row: in should be 293K and out 97.7K: %q", sv)
	}
	if !strings.Contains(c, "/s") || !strings.Contains(sv, "/s") {
		t.Errorf("no rate from the second sample on:\n%s\n%s", c, sv)
	}
}

// A connection first seen while the screen is open shows "-" for its
// rate on that sample and a rate from the next; one that closes shows
// CLOSED for exactly one refresh, then is gone.
func TestConnsScreenNewAndClosed(t *testing.T) {
	ln := listenLoop(t)
	hs := connsApp(t)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	setConnFilter(hs, "port:"+port)
	p := dialPair(t, ln)
	send(t, p.c, p.s, 5000)
	s := hs.sampleUntil("the new connection", func(s string) bool { return connRowLine(s, p.cAddr, p.sAddr) != "" })
	row := connRowLine(s, p.cAddr, p.sAddr)
	skipWithoutCounters(t, s)
	if strings.Contains(row, "/s") || !strings.Contains(row, " - ") {
		t.Fatalf("first sample of a new connection should show no rate (\"-\"): %q", row)
	}
	s = hs.sample()
	if row = connRowLine(s, p.cAddr, p.sAddr); !strings.Contains(row, "B/s") {
		t.Fatalf("second sample should show a rate: %q", row)
	}

	// RST instead of FIN: no TIME_WAIT remnant, both sockets go at once
	p.c.(*net.TCPConn).SetLinger(0)
	p.c.Close()
	p.s.Close()
	s = hs.sampleUntil("CLOSED", func(s string) bool {
		return strings.Contains(connRowLine(s, p.cAddr, p.sAddr), "CLOSED")
	})
	row = connRowLine(s, p.cAddr, p.sAddr)
	if strings.Contains(row, "ESTAB") || !strings.Contains(row, strconv.Itoa(os.Getpid())) {
		t.Errorf("CLOSED row should keep its owner: %q", row)
	}
	s = hs.sample()
	if l := lineWith(s, p.cAddr+" "); l != "" {
		t.Fatalf("a closed connection is still shown after one refresh: %q\n%s", l, s)
	}
}

// Sorting by a column (keys h/l, I reverses; a header click sorts too),
// the listening toggle and the per-process grouping.
func TestConnsScreenSortListeningGroup(t *testing.T) {
	ln := listenLoop(t)
	big, small := dialPair(t, ln), dialPair(t, ln)
	send(t, big.c, big.s, 300000)
	send(t, small.c, small.s, 10000)
	hs := connsApp(t)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	setConnFilter(hs, "port:"+port)
	s := hs.sampleUntil("both connections' bytes", func(s string) bool {
		if strings.Contains(s, "TCP: agent reads /proc/net") {
			return true // skipped below
		}
		return strings.Contains(connRowLine(s, big.cAddr, big.sAddr), "293K") &&
			strings.Contains(connRowLine(s, small.cAddr, small.sAddr), "9.8K")
	})
	skipWithoutCounters(t, s)
	// IN/s is the default sort; three steps left is OUT
	for range 3 {
		hs.rune('h')
	}
	s = hs.waitFor("sort OUT▼")
	bi, si := connRowIndex(s, big.cAddr, big.sAddr), connRowIndex(s, small.cAddr, small.sAddr)
	if bi < 0 || si < 0 || bi > si {
		t.Fatalf("sort by OUT descending: big at %d, small at %d\n%s", bi, si, s)
	}
	hs.rune('I')
	s = hs.waitFor("sort OUT▲")
	if bi, si = connRowIndex(s, big.cAddr, big.sAddr), connRowIndex(s, small.cAddr, small.sAddr); bi < si {
		t.Fatalf("sort by OUT ascending: big at %d, small at %d\n%s", bi, si, s)
	}
	// clicking the LOCAL header sorts by local address, ascending
	hdr := rowIndex(s, "REMOTE")
	x := strings.Index(strings.Split(s, "\n")[hdr], "LOCAL")
	hs.click(x, hdr)
	hs.waitFor("sort LOCAL▲")

	// listening sockets are hidden until L
	listen := "127.0.0.1:" + port
	if l := lineWith(s, "LISTEN"); l != "" {
		t.Fatalf("a listening socket is shown by default: %q", l)
	}
	hs.rune('L')
	s = hs.waitFor("listening shown")
	if l := lineWith(s, "LISTEN"); !strings.Contains(l, listen) || !strings.Contains(l, "*:*") {
		t.Fatalf("L should show the listener %s: %q\n%s", listen, l, s)
	}
	hs.rune('L')
	hs.waitUntil("listener hidden again", func(s string) bool { return lineWith(s, "LISTEN") == "" })

	// per-process totals: this process owns all four ends (and the listener)
	hs.rune('g')
	s = hs.waitFor("SOCKETS", "PEERS", "per process")
	g := lineWith(s, " "+strconv.Itoa(os.Getpid())+" ")
	if g == "" || !strings.Contains(g, selfComm()) || !strings.Contains(g, " 4 ") {
		t.Fatalf("group row for this process with 4 sockets: %q\n%s", g, s)
	}
	hs.rune('g')
	hs.waitUntil("sockets again", func(s string) bool { return !strings.Contains(s, "SOCKETS") })
}

// A connected UDP socket is listed with its owner and says its traffic is
// not counted ("n/a", explained on the status line) rather than zeros; the
// receiving, unconnected socket is a listener.
func TestConnsScreenUDPNotCounted(t *testing.T) {
	hs := connsApp(t)
	us, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer us.Close()
	uc, err := net.DialUDP("udp4", nil, us.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if _, err := uc.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	setConnFilter(hs, "port:"+strconv.Itoa(us.LocalAddr().(*net.UDPAddr).Port))
	s := hs.sampleUntil("the UDP socket", func(s string) bool {
		return connRowLine(s, uc.LocalAddr().String(), us.LocalAddr().String()) != ""
	})
	row := connRowLine(s, uc.LocalAddr().String(), us.LocalAddr().String())
	if !strings.Contains(row, "udp ") || !strings.Contains(row, "ESTAB") || strings.Count(row, "n/a") < 4 ||
		!strings.Contains(row, strconv.Itoa(os.Getpid())) ||
		strings.Contains(row, "0B") {
		t.Fatalf("UDP row should say n/a for its traffic, not zeros: %q", row)
	}
	if !strings.Contains(s, "n/a = traffic not counted (UDP") {
		t.Fatalf("the screen does not explain n/a:\n%s", s)
	}
	// the receiving socket is unconnected: a listener, shown with L
	hs.rune('L')
	s = hs.waitFor("UNCONN")
	if !strings.Contains(lineWith(s, "UNCONN"), us.LocalAddr().String()) {
		t.Fatalf("unconnected UDP socket: %q", lineWith(s, "UNCONN"))
	}
}

// The process detail view lists the process's connections.
func TestConnsInProcessDetail(t *testing.T) {
	ln := listenLoop(t)
	p := dialPair(t, ln)
	url := startConnsAgent(t)
	hs := startApp(t, Options{Target: model.Target{URL: url}}, 200, 60)
	hs.waitFor("● connected", "─ processes ")
	hs.rune('/')
	hs.typeText("pid:" + strconv.Itoa(os.Getpid()))
	hs.key(tcell.KeyEnter)
	hs.waitFor(`filter "pid:` + strconv.Itoa(os.Getpid()))
	hs.waitUntil("our process listed", func(s string) bool { _, rows := tableRows(s); return len(rows) == 1 })
	hs.key(tcell.KeyEnter)
	s := hs.waitFor("process "+strconv.Itoa(os.Getpid()), "connections (", p.cAddr)
	if l := lineWith(s, p.cAddr); !strings.Contains(l, "ESTAB") || !strings.Contains(l, p.sAddr) {
		t.Fatalf("detail connection line: %q", l)
	}
}

// Reverse DNS is off by default; on, lookups run in the background: a
// lookup that hangs leaves the screen responsive, and its answer replaces
// the address when it comes.
func TestConnsReverseDNSNeverBlocks(t *testing.T) {
	ln := listenLoop(t)
	p := dialPair(t, ln)
	hs := connsApp(t)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	setConnFilter(hs, "port:"+port)
	s := hs.sampleUntil("the connection", func(s string) bool { return connRowLine(s, p.cAddr, p.sAddr) != "" })
	if strings.Contains(s, "reverse DNS") {
		t.Fatalf("reverse DNS on by default:\n%s", s)
	}
	release := make(chan struct{})
	asked := make(chan string, 16)
	hs.onUI(func() {
		hs.d.conns.toggleDNS()
		// it hangs past the resolver's own 2 s timeout (a loaded machine
		// may not redraw within it), until released or the test ends
		hs.d.conns.res.Lookup = func(ctx context.Context, addr string) ([]string, error) {
			asked <- addr
			select {
			case <-release:
				return []string{"peer.example."}, nil
			case <-time.After(waitLimit):
				return nil, errors.New("timeout")
			}
		}
	})
	if a := <-asked; a != "127.0.0.1" {
		t.Fatalf("looked up %q", a)
	}
	hs.waitFor("reverse DNS on (1 pending)")
	// the UI still answers keys while the lookup hangs
	hs.rune('I')
	hs.waitFor("sort IN/s▲")
	close(release)
	hs.waitFor("peer.example:" + port)
	hs.rune('d')
	hs.waitUntil("addresses again", func(s string) bool { return !strings.Contains(s, "peer.example") })
}

// An agent without the connections capability (upstream's, here) gets no
// Connections key in the footer, and the key does nothing.
func TestConnsHiddenWithoutCapability(t *testing.T) {
	ag := wiretest.NewUpstream(wiretest.Config{Processes: wiretest.SampleProcesses(10)})
	defer ag.Close()
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 200, 40)
	s := hs.waitFor("(command)", "● connected", "/  filter")
	if strings.Contains(s, "c  conns") {
		t.Fatalf("footer offers connections the agent does not serve:\n%s", s)
	}
	hs.rune('c')
	hs.rune('?') // a key handled after c: once help shows, c was handled
	s = hs.waitFor("─ keys ")
	if strings.Contains(s, "─ connections ") {
		t.Fatalf("c opened the screen without the capability:\n%s", s)
	}
}

// countingClient counts the Connections requests of a real wire client.
type countingClient struct {
	model.Client
	n *atomic.Int64
}

func (c countingClient) Connections(ctx context.Context) (*wire.Connections, error) {
	c.n.Add(1)
	return c.Client.(model.ConnectionsClient).Connections(ctx)
}

// Connections are requested only while the screen is open (or a process
// detail shows them): none on the dashboard, at the processes cadence
// while open, none again once it is closed.
func TestConnsRequestedOnlyWhileOpen(t *testing.T) {
	url := startConnsAgent(t)
	var n atomic.Int64
	dial := func(ctx context.Context, tg model.Target) (model.Client, error) {
		c, err := model.WireDial("test")(ctx, tg)
		if err != nil {
			return nil, err
		}
		return countingClient{Client: c, n: &n}, nil
	}
	hs := startApp(t, Options{Target: model.Target{URL: url}, Dial: dial, MetricsInterval: 100 * time.Millisecond,
		ProcessesInterval: 200 * time.Millisecond}, 200, 50)
	hs.waitFor("● connected", "c  conns ")
	requests := func() int64 {
		var r int64
		hs.onUI(func() { r = hs.d.w.Requests() })
		return r
	}
	waitRequests := func(more int64) {
		target := requests() + more
		hs.waitUntil("more requests", func(string) bool { return requests() >= target })
	}
	waitRequests(20)
	if got := n.Load(); got != 0 {
		t.Fatalf("%d connections requests with the screen closed", got)
	}
	hs.rune('c')
	hs.waitUntil("requests at the cadence", func(string) bool { return n.Load() >= 3 })
	hs.key(tcell.KeyEscape)
	hs.waitUntil("the dashboard", func(s string) bool { return !strings.Contains(s, "─ connections ") })
	hs.waitUntil("the request loop to stop", func(string) bool {
		var running bool
		hs.onUI(func() { running = hs.d.w.Needs().Connections })
		return !running
	})
	stopped := n.Load()
	waitRequests(20)
	if got := n.Load(); got != stopped {
		t.Fatalf("connections still requested after the screen closed: %d, then %d", stopped, got)
	}
}
