package screen

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// liveAgent is a real in-process agent reading this machine, served on
// 127.0.0.1 by an httptest server.
type liveAgent struct {
	a   *agent.Agent
	srv *httptest.Server
	url string
	// dials counts WebSocket upgrade attempts (accepted or refused)
	dials atomic.Int64
}

func startLiveAgent(t testing.TB, token, addr string) *liveAgent {
	t.Helper()
	cfg := agent.DefaultConfig()
	cfg.Version = "test"
	cfg.Token = token
	cfg.AllowSignals = false
	cfg.Logger = slog.New(slog.DiscardHandler)
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	la := &liveAgent{a: a}
	h := a.Handler()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			la.dials.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	if addr != "" {
		// the same port as a previous agent: wait until the kernel lets go
		srv.Listener.Close()
		deadline := time.Now().Add(waitLimit)
		for {
			ln, err := net.Listen("tcp", addr)
			if err == nil {
				srv.Listener = ln
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("listen %s again: %v", addr, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	srv.Start()
	la.srv, la.url = srv, "ws://"+srv.Listener.Addr().String()+"/ws"
	t.Cleanup(la.stop)
	return la
}

// stop kills the agent as a crash would look from the client: every
// connection dropped, the port closed.
func (la *liveAgent) stop() {
	la.srv.CloseClientConnections()
	la.a.Shutdown()
	la.srv.Close()
}

func TestLiveAgentLayouts(t *testing.T) {
	la := startLiveAgent(t, "", "")
	// The kernel's name for this process (under qemu-user it is the
	// emulator's, not the test binary's).
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	self := strings.TrimSpace(string(comm))
	for _, c := range []struct {
		w, h  int
		panes []string
	}{
		{80, 24, []string{"connected", "(v2)", "─ cpu ", "─ memory ", "─ network ", "─ processes ", "PID"}},
		{120, 40, []string{"connected", "load", "─ cpu ", " c0 ", "─ memory ", "mem ", "─ network ", "─ processes ", "THR"}},
		{200, 60, []string{"connected", "up ", "─ cpu ", " c0 ", "─ memory ", "─ network ", "peak", "─ processes ", "MEM%"}},
	} {
		t.Run(fmt.Sprintf("%dx%d", c.w, c.h), func(t *testing.T) {
			hs := startApp(t, Options{Target: model.Target{URL: la.url}}, c.w, c.h)
			hs.waitFor(c.panes...)
			hs.waitUntil("a process list", func(s string) bool { _, rows := tableRows(s); return len(rows) > 0 })
			if _, err := os.Stat("/proc/diskstats"); err == nil {
				hs.waitFor("─ disks ")
			}
			// our own process is on the list when filtered for
			hs.rune('/')
			hs.typeText("pid:" + fmt.Sprint(os.Getpid()))
			hs.waitFor(self)
		})
	}
}

// A killed agent leaves the data on screen, marked stale, with a
// countdown; when an agent is back on the same port the dashboard recovers
// by itself.
func TestKilledAgentRecovers(t *testing.T) {
	la := startLiveAgent(t, "", portBelowEphemeral(t))
	addr := la.srv.Listener.Addr().String()
	hs := startApp(t, Options{Target: model.Target{URL: la.url}}, 120, 40)
	hs.waitFor("● connected", "─ processes ", "mem ")
	hs.waitUntil("a process list", func(s string) bool { _, rows := tableRows(s); return len(rows) > 0 })
	la.stop()
	s := hs.waitFor("STALE", "reconnecting in", "(attempt")
	if !strings.Contains(s, "─ cpu ") || !strings.Contains(s, "mem ") {
		t.Errorf("the last data left the screen:\n%s", s)
	}
	// the age is said once: "STALE 2.3s", not "STALE 2s  age 2.3s"
	if l := lineWith(s, "STALE"); strings.Contains(l, "age ") || !regexp.MustCompile(`STALE \d+\.\ds`).MatchString(l) {
		t.Errorf("status line %q", l)
	}
	startLiveAgent(t, "", addr)
	// no key pressed: the backoff timer reconnects by itself
	hs.waitUntil("recovered", func(s string) bool {
		return strings.Contains(s, "● connected") && !strings.Contains(s, "STALE")
	})
}

// portBelowEphemeral is a free loopback address whose port is below the
// kernel's ephemeral range: once its listener is closed, no connection
// made meanwhile (a busy test run makes many) can take the port as its own
// end, as one took a :0 port in CI and kept the agent from listening on it
// again.
func portBelowEphemeral(t *testing.T) string {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil && v > 1024 {
				low = v
			}
		}
	}
	for try := 0; try < 200; try++ {
		port := 1024 + rand.IntN(low-1024)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			addr := ln.Addr().String()
			ln.Close()
			return addr
		}
	}
	t.Skip("no free port below the ephemeral range")
	return ""
}

func TestUnauthorizedShown(t *testing.T) {
	la := startLiveAgent(t, "s3cret", "")
	hs := startApp(t, Options{Target: model.Target{URL: la.url}}, 120, 40)
	hs.waitFor("authentication failed", "this agent needs a token (HTTP 401)", "press r")
	// not retried blindly: no countdown, and only r dials again
	if s := hs.text(); strings.Contains(s, "reconnecting in") {
		t.Errorf("a refused token is retried on a timer:\n%s", s)
	}
	n := la.dials.Load()
	hs.rune('r')
	hs.waitUntil("a dial after r", func(string) bool { return la.dials.Load() > n })
	hs.waitFor("authentication failed")
	// with the token it connects
	hs2 := startApp(t, Options{Target: model.Target{URL: la.url, Token: "s3cret"}}, 120, 40)
	hs2.waitFor("● connected", "token set")
}

func TestPinMismatchShown(t *testing.T) {
	ag := wiretest.NewV2(wiretest.Config{TLS: true})
	defer ag.Close()
	wrong := "sha256:" + strings.Repeat("ab", 32)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL, Pin: wrong}}, 120, 40)
	s := hs.waitFor("certificate pin mismatch", "pinned:  "+wrong, "offered: sha256:")
	if strings.Contains(s, "reconnecting in") {
		t.Errorf("a pin mismatch is retried on a timer:\n%s", s)
	}
}

// The right pin connects, and the header says the TLS link is pinned.
func TestPinnedTLS(t *testing.T) {
	ag := wiretest.NewV2(wiretest.Config{TLS: true})
	defer ag.Close()
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL, Pin: wire.Fingerprint(ag.Certificate())}}, 120, 40)
	hs.waitFor("● connected", "TLS pinned")
}

// Upstream's Rust agent speaks only the command dialect: every pane whose
// data it sends still fills.
func TestCommandDialectAgent(t *testing.T) {
	ag := wiretest.NewUpstream(wiretest.Config{Processes: wiretest.SampleProcesses(40)})
	defer ag.Close()
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	s := hs.waitFor("(command)", "● connected", "now 12.5%", "3.0G / 8.0G", "mmcblk0p2", "eth0", "bash-33", "─ processes ")
	hdr, rows := tableRows(s)
	if len(rows) < 10 || strings.Join(hdr, " ") != "PID NAME CPU%▼ MEM MEM%" {
		t.Errorf("process table from the command dialect: header %q, rows %q", hdr, rows)
	}
	if strings.Contains(s, "t  tree") || strings.Contains(s, "k  kill") {
		t.Errorf("tree or kill offered without the data or capability:\n%s", s)
	}
}

// Requests for hidden panes are not sent: at 100×16 the disks pane is
// dropped, and the agent never hears get_disks.
func TestHiddenPaneNotRequested(t *testing.T) {
	ag := wiretest.NewUpstream(wiretest.Config{Processes: wiretest.SampleProcesses(10)})
	defer ag.Close()
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}, MetricsInterval: 100 * time.Millisecond, DisksInterval: 200 * time.Millisecond}, 100, 16)
	hs.waitFor("─ processes ", "PID")
	// several disk intervals pass while metrics keep coming
	n := 0
	hs.waitUntil("ten metrics requests", func(string) bool {
		n = 0
		for _, f := range ag.Frames() {
			if f == "get_metrics" {
				n++
			}
		}
		return n >= 10
	})
	for _, f := range ag.Frames() {
		if f == "get_disks" {
			t.Fatalf("get_disks sent while the disks pane is hidden (frames %v)", ag.Frames())
		}
	}
	// make it visible: disks are asked for
	hs.resize(120, 40)
	hs.waitFor("─ disks ", "mmcblk0")
}

// The table's interactions on a real agent's live data: sort by every
// column, filter, tree, detail open and close, help.
func TestLiveAgentInteractions(t *testing.T) {
	la := startLiveAgent(t, "", "")
	hs := startApp(t, Options{Target: model.Target{URL: la.url}}, 200, 60)
	hs.waitFor("● connected", "─ processes ")
	// names only: command lines have spaces, which tableRows splits on
	hs.rune('p')
	hs.waitUntil("a process list", func(s string) bool { _, rows := tableRows(s); return len(rows) > 5 })
	for i := range model.NumProcCols {
		var hidden bool
		hs.onUI(func() { hidden = hs.d.procs.t.Cols[i].Hidden })
		if hidden { // no data for it from this agent
			continue
		}
		col := procCols[i].Name
		if hs.procColHidden(i) {
			continue // CONTAINER, where no process names one
		}
		hs.onUI(func() { hs.d.procs.t.SetSort(int((i+model.NumProcCols-1)%model.NumProcCols), false) })
		hs.rune('l')
		mark := col + "▼"
		if !procCols[i].Desc {
			mark = col + "▲"
		}
		// Live rows move between samples: a frame read while one is
		// drawn may mix two; a table that stays unsorted fails.
		hs.waitUntil("live rows sorted by "+col, func(s string) bool {
			hdr, rows := tableRows(s)
			idx := slices.Index(hdr, mark)
			return idx >= 0 && len(rows) >= 5 &&
				sortedBy(rows, idx, procCols[i].Desc, (procCols[i].Align == widget.AlignRight))
		})
	}
	self := strconv.Itoa(os.Getpid())
	hs.rune('/')
	hs.typeText("pid:" + self)
	hs.key(tcell.KeyEnter)
	s := hs.waitFor(`filter "pid:` + self + `"`)
	if _, rows := tableRows(s); len(rows) != 1 || rows[0][0] != self {
		t.Fatalf("filter pid:%s shows %q", self, rows)
	}
	hs.key(tcell.KeyEnter)
	exe, _ := os.Executable()
	hs.waitFor("process "+self, "command", filepath.Base(exe), "threads (")
	hs.key(tcell.KeyEscape)
	hs.waitUntil("detail closed", func(s string) bool { return !strings.Contains(s, "process "+self+" ") })
	hs.key(tcell.KeyEscape) // clears the filter
	hs.waitUntil("filter cleared", func(s string) bool { return !strings.Contains(s, `filter "`) })
	hs.rune('t')
	hs.key(tcell.KeyHome)
	hs.waitFor("· tree", "─")
	text := squash(strings.Join(hs.helpLines(), " "))
	for _, b := range hs.d.keyMap() {
		if !strings.Contains(text, squash(b.Label+" "+b.Desc)) {
			t.Errorf("help lacks %q %q", b.Label, b.Desc)
		}
	}
}

// Against a socktop.v2 agent the dashboard subscribes once and the agent
// pushes: samples keep coming while the agent receives no requests.
func TestDashboardSubscribes(t *testing.T) {
	la := startLiveAgent(t, "", "")
	hs := startApp(t, Options{Target: model.Target{URL: la.url}, MetricsInterval: 200 * time.Millisecond,
		ProcessesInterval: 400 * time.Millisecond}, 120, 40)
	hs.waitFor("● connected", "─ processes ")
	hs.waitUntil("a process list", func(s string) bool { _, rows := tableRows(s); return len(rows) > 0 })
	// 120 columns draw the traffic columns, whose counters the dashboard
	// then subscribes for: wait until pushes carry them.
	hs.waitUntil("pushed lists with traffic", func(string) bool {
		return onHost(hs, func(h *model.Host) bool { return h.HasTraffic })
	})
	// the first samples may come before the subscription is registered
	// (slowly so under qemu-user)
	for deadline := time.Now().Add(waitLimit); la.a.Subscribers() != 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("agent has %d subscribers, want the dashboard", la.a.Subscribers())
		}
	}
	var got0 int64
	hs.onUI(func() { got0 = hs.d.w.Requests() })
	req0 := la.a.Requests()
	time.Sleep(2 * time.Second)
	var got int64
	hs.onUI(func() { got = hs.d.w.Requests() - got0 })
	if req := la.a.Requests() - req0; got < 5 || req > 0 {
		t.Errorf("in 2 s the dashboard got %d samples and the agent received %d requests; want ≥ 5 pushed, 0 asked", got, req)
	}
	// Process detail hides the list: the subscription follows the screen.
	// (the new subscription takes effect within WantsEvery; a second
	// without a list, once, within waitLimit, shows that it did — under
	// qemu-user it may take a few)
	hs.onUI(func() { hs.d.openDetail() })
	time.Sleep(model.WantsEvery)
	var at0, at time.Time
	for deadline := time.Now().Add(waitLimit); ; {
		hs.onUI(func() { at0 = hs.d.h.ProcsAt })
		time.Sleep(time.Second)
		hs.onUI(func() { at = hs.d.h.ProcsAt })
		if at.Equal(at0) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process lists kept arriving after the detail view hid the list (last at %v, before %v)", at, at0)
		}
	}
	hs.onUI(func() { hs.sh.Pop() })
	hs.waitUntil("process lists again", func(string) bool {
		var now time.Time
		hs.onUI(func() { now = hs.d.h.ProcsAt })
		return now.After(at)
	})
}
