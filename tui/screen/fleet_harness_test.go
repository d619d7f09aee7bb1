package screen

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/tui/model"
)

// startFleet runs the real fleet view on a SimulationScreen. The returned
// harness drives it like the dashboard's (its App is the first member's,
// whose tview application is the fleet's).
func startFleet(t testing.TB, targets []model.Target, opts Options, w, h int) (*harness, *fleet) {
	t.Helper()
	scr := tcell.NewSimulationScreen("UTF-8")
	opts.Screen = scr
	each := make([]Options, len(targets))
	for i, tg := range targets {
		each[i] = opts
		each[i].Target = tg
	}
	return startFleetEach(t, each, opts, w, h)
}

// startFleetEach is startFleet with each member's own options (shared's
// Screen is a SimulationScreen).
func startFleetEach(t testing.TB, each []Options, shared Options, w, h int) (*harness, *fleet) {
	t.Helper()
	scr := shared.Screen.(tcell.SimulationScreen)
	f, err := newFleet(context.Background(), each, shared)
	if err != nil {
		t.Fatal(err)
	}
	scr.SetSize(w, h)
	hs := &harness{t: t, d: f.members[0].d, sh: f.sh, scr: scr, done: make(chan error, 1)}
	go func() { hs.done <- f.sh.Run() }()
	t.Cleanup(hs.stop)
	return hs, f
}

// tiles returns each visible tile's text by host name, cut from the
// screen with the geometry of the last draw.
func tiles(hs *harness, f *fleet) map[string]string {
	var rects []tileRect
	hs.onUI(func() { rects = append(rects, f.view.tiles...) })
	lines := strings.Split(hs.text(), "\n")
	out := map[string]string{}
	for _, tr := range rects {
		var b strings.Builder
		for y := tr.y; y < tr.y+tr.h && y < len(lines); y++ {
			rs := []rune(lines[y])
			b.WriteString(string(rs[min(tr.x, len(rs)):min(tr.x+tr.w, len(rs))]))
			b.WriteByte('\n')
		}
		out[hostName(tr.m.d.target)] = b.String()
	}
	return out
}

// sampleTimes is when each host's newest metrics sample arrived.
func sampleTimes(hs *harness, f *fleet) []time.Time {
	out := make([]time.Time, len(f.members))
	hs.onUI(func() {
		for i, m := range f.members {
			out[i] = m.d.h.MetricsAt
		}
	})
	return out
}

// waitTiles waits until cond holds for the tiles.
func waitTiles(hs *harness, f *fleet, what string, cond func(map[string]string) bool) map[string]string {
	hs.t.Helper()
	deadline := time.Now().Add(3 * waitLimit)
	for {
		ts := tiles(hs, f)
		if cond(ts) {
			return ts
		}
		if time.Now().After(deadline) {
			hs.t.Fatalf("the tiles never showed %s; last screen:\n%s", what, hs.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fleetAgent is a real in-process agent that can be killed and started
// again on the same port.
type fleetAgent struct {
	t    testing.TB
	addr string
	a    *agent.Agent
	srv  *httptest.Server
}

func newFleetAgent(t testing.TB) *fleetAgent {
	fa := &fleetAgent{t: t, addr: "127.0.0.1:" + strconv.Itoa(belowEphemeral())}
	fa.start()
	t.Cleanup(fa.kill)
	return fa
}

// belowEphemeral is a port below the kernel's ephemeral range. An agent
// that is killed and started again must get its port back, and while it is
// down the fleet keeps dialling it: from the ephemeral range the kernel may
// give one of those dials the port itself as its source (a TCP
// self-connection), which then holds the port.
func belowEphemeral() int {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 2048 {
				low = n
			}
		}
	}
	return 1024 + rand.IntN(low-1024)
}

func (fa *fleetAgent) url() string { return "ws://" + fa.addr + "/ws" }

// start serves a fresh agent on fa.addr (retrying while the kernel still
// holds a just-closed port).
func (fa *fleetAgent) start() {
	fa.t.Helper()
	cfg := agent.DefaultConfig()
	cfg.Version = "test"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := agent.New(cfg)
	if err != nil {
		fa.t.Fatal(err)
	}
	var ln net.Listener
	deadline := time.Now().Add(waitLimit)
	for {
		ln, err = net.Listen("tcp", fa.addr)
		if err == nil {
			break
		}
		if fa.a == nil { // the first start: another program has that port
			fa.addr = "127.0.0.1:" + strconv.Itoa(belowEphemeral())
			continue
		}
		if time.Now().After(deadline) {
			fa.t.Fatalf("listen %s again: %v", fa.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv := httptest.NewUnstartedServer(a.Handler())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	fa.a, fa.srv, fa.addr = a, srv, ln.Addr().String()
}

// kill drops every connection and closes the port, as a crash looks from
// the client.
func (fa *fleetAgent) kill() {
	if fa.srv == nil {
		return
	}
	fa.srv.CloseClientConnections()
	fa.a.Shutdown()
	fa.srv.Close()
	fa.srv = nil
}

func hasAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
