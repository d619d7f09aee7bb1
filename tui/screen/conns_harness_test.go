package screen

import (
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/tui/model"
)

// startConnsAgent serves a real agent with no connections cache, so every
// request reads the kernel afresh.
func startConnsAgent(t testing.TB) string {
	t.Helper()
	cfg := agent.DefaultConfig()
	cfg.Version = "test"
	cfg.ConnectionsTTL = 0
	cfg.Logger = slog.New(slog.DiscardHandler)
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.CloseClientConnections()
		a.Shutdown()
		srv.Close()
	})
	return "ws://" + srv.Listener.Addr().String() + "/ws"
}

// connsApp starts the dashboard on a wide screen and opens the
// Connections screen with its first sample on it.
func connsApp(t *testing.T) *harness {
	t.Helper()
	url := startConnsAgent(t)
	hs := startApp(t, Options{Target: model.Target{URL: url}, ProcessesInterval: time.Hour}, 220, 50)
	hs.waitFor("● connected", "c  conns ")
	hs.rune('c')
	hs.waitFor("─ connections ", "LOCAL", "REMOTE", "IN/s")
	hs.waitUntil("the first sample", func(string) bool { return hs.samples() >= 1 })
	return hs
}

// samples is how many connection samples the screen has folded.
func (hs *harness) samples() int {
	var n int
	hs.onUI(func() { n = hs.d.h.Conns.Samples })
	return n
}

// sample takes one more sample now and returns the screen showing it.
func (hs *harness) sample() string {
	hs.t.Helper()
	n := hs.samples()
	hs.onUI(func() { hs.d.w.KickConnections() })
	hs.waitUntil("a new sample", func(string) bool { return hs.samples() > n })
	hs.redraw()
	return hs.text()
}

// sampleUntil samples until cond holds for the screen (a bounded number
// of times: acknowledgements may trail the last write by a moment).
func (hs *harness) sampleUntil(what string, cond func(string) bool) string {
	hs.t.Helper()
	var s string
	for range 50 {
		s = hs.sample()
		if cond(s) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	hs.t.Fatalf("connections never showed %s; last screen:\n%s", what, s)
	return s
}

// connRowLine is the screen line of the socket local → remote (both
// "127.0.0.1:port"), or "".
func connRowLine(screen, local, remote string) string {
	for _, l := range strings.Split(screen, "\n") {
		i := strings.Index(l, local+" ")
		j := strings.Index(l, remote+" ")
		if i >= 0 && j > i {
			return l
		}
	}
	return ""
}

// connRowIndex is the screen line number of the socket local → remote, or -1.
func connRowIndex(screen, local, remote string) int {
	l := connRowLine(screen, local, remote)
	if l == "" {
		return -1
	}
	return rowIndex(screen, l)
}

func setConnFilter(hs *harness, f string) {
	hs.rune('/')
	hs.waitFor("filter connections: ")
	hs.key(tcell.KeyCtrlU) // tview: delete the line
	hs.typeText(f)
	hs.key(tcell.KeyEnter)
	hs.waitFor(`filter "` + f + `"`)
}

// loopPair is a TCP connection over loopback made by the test: c dialled
// s, accepted from ln.
type loopPair struct {
	c, s         net.Conn
	cAddr, sAddr string
}

func dialPair(t *testing.T, ln net.Listener) *loopPair {
	t.Helper()
	acc := make(chan net.Conn, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			acc <- nil
			return
		}
		acc <- s
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-acc
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return &loopPair{c: c, s: s, cAddr: c.LocalAddr().String(), sAddr: s.LocalAddr().String()}
}

// send writes n bytes on w and reads them all on r.
func send(t *testing.T, w, r net.Conn, n int) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := w.Write(make([]byte, n))
		errc <- err
	}()
	if _, err := io.ReadFull(r, make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func listenLoop(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func selfComm() string {
	self := filepath.Base(os.Args[0])
	if len(self) > 15 {
		self = self[:15] // the kernel's comm is 15 bytes
	}
	return self
}

// skipWithoutCounters skips when the agent fell back to /proc/net (netlink
// refused, as in some containers and under qemu-user): no byte counters.
func skipWithoutCounters(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, "TCP: agent reads /proc/net") {
		t.Skip("sock_diag refused here: the agent reads /proc/net, which has no per-socket counters")
	}
}
