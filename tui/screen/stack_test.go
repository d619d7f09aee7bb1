package screen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// stack is the names of the screens on the shell, bottom first.
func (hs *harness) stack() string {
	var names []string
	hs.onUI(func() {
		for _, s := range hs.sh.Stack() {
			names = append(names, s.Name)
		}
	})
	return strings.Join(names, " > ")
}

// waitStack waits until the stack is want.
func (hs *harness) waitStack(want string) {
	hs.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for got := hs.stack(); got != want; got = hs.stack() {
		if time.Now().After(deadline) {
			hs.t.Fatalf("stack is %q, want %q; screen:\n%s", got, want, hs.text())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// running reports whether Run has not returned yet.
func (hs *harness) running() bool {
	select {
	case err := <-hs.done:
		hs.done <- err
		return false
	default:
		return true
	}
}

// Esc pops the screens one at a time, in the order they were opened; on
// the first screen it clears the filter and does nothing more: q quits.
func TestEscPopsScreensInOrder(t *testing.T) {
	ag := v2Agent(t, 60)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 160, 50)
	hs.waitFor("systemd", "c  conns")
	hs.rune('/')
	hs.waitStack("Dashboard > Filter")
	hs.typeText("pid:17")
	hs.key(tcell.KeyEnter)
	hs.waitStack("Dashboard")
	hs.key(tcell.KeyEnter)
	hs.waitFor("process 17 nginx-16")
	hs.rune('?')
	hs.waitFor("─ keys ")
	hs.waitStack("Dashboard > Process detail > Help")

	hs.key(tcell.KeyEscape)
	hs.waitStack("Dashboard > Process detail")
	hs.waitUntil("the help closed over the detail", func(s string) bool {
		return !strings.Contains(s, "─ keys ") && strings.Contains(s, "process 17 nginx-16")
	})
	hs.key(tcell.KeyEscape)
	hs.waitStack("Dashboard")
	hs.waitFor("─ processes ", `filter "pid:17"`)
	hs.key(tcell.KeyEscape) // the filter goes first
	hs.waitUntil("the filter cleared", func(s string) bool { return !strings.Contains(s, `filter "`) })
	hs.waitStack("Dashboard")

	hs.rune('c')
	hs.waitFor("─ connections ", "sshd")
	hs.rune('/')
	hs.waitStack("Dashboard > Connections > Filter")
	hs.typeText("ssh")
	hs.key(tcell.KeyEscape) // clears the filter being typed and closes it
	hs.waitStack("Dashboard > Connections")
	hs.key(tcell.KeyEscape)
	hs.waitStack("Dashboard")
	hs.key(tcell.KeyEscape)
	hs.waitFor("q quits")
	if !hs.running() {
		t.Fatal("Esc on the first screen quit the dashboard")
	}
	hs.rune('q')
	hs.waitQuit("q on the first screen")
}

// The footer says what Esc does now: nothing on the first screen (so no
// hint), "clear filter" while a filter is set, "back" on a screen above.
func TestFooterSaysWhatEscDoes(t *testing.T) {
	ag := v2Agent(t, 60)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 160, 50)
	// The footer is read once a frame shows it: a frame being drawn (slow
	// under qemu in CI) may not have it yet.
	footer := func(what string, ok func(f string) bool) {
		t.Helper()
		hs.waitUntil(what, func(s string) bool { return ok(lineWith(s, "q  quit")) })
	}
	hs.waitFor("systemd", "q  quit")
	if f := lineWith(hs.waitFor("q  quit"), "q  quit"); strings.Contains(f, "Esc") {
		t.Errorf("the first screen's footer offers Esc: %q", f)
	}
	hs.filterFor("nginx")
	footer("a footer that says Esc clears the filter", func(f string) bool { return strings.Contains(f, "Esc  clear filter") })
	hs.key(tcell.KeyEscape)
	hs.waitUntil("the filter cleared", func(s string) bool { return !strings.Contains(s, `filter "`) })
	hs.rune('c')
	hs.waitFor("─ connections ")
	footer("a connections footer that says Esc goes back", func(f string) bool { return strings.Contains(f, "Esc  back") })
	hs.rune('?')
	hs.waitFor("─ keys ")
	footer("a help footer that says Esc closes it, not back", func(f string) bool {
		return strings.Contains(f, "Esc  close") && !strings.Contains(f, "back")
	})
}

// On a fleet, Esc pops a member's screens back to the fleet, which stays.
func TestEscPopsBackToTheFleet(t *testing.T) {
	ag := v2Agent(t, 60)
	hs, _ := startFleet(t, []model.Target{{Label: "alpha", URL: ag.URL}}, Options{}, 160, 50)
	hs.waitFor("alpha", "● live")
	hs.key(tcell.KeyEnter)
	hs.waitFor("─ processes ", "systemd")
	hs.rune('?')
	hs.waitStack("Fleet > Dashboard > Help")
	hs.key(tcell.KeyEscape)
	hs.waitStack("Fleet > Dashboard")
	hs.key(tcell.KeyEscape)
	hs.waitStack("Fleet")
	hs.key(tcell.KeyEscape) // nothing left to close: the fleet stays
	hs.redraw()
	hs.waitFor("socktop fleet")
	if !hs.running() {
		t.Fatal("Esc on the fleet quit")
	}
}

// noLeak waits until no more goroutines run than before, as goleak does,
// and names the ones left when they do not end.
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			var b strings.Builder
			pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Fatalf("%d goroutines still running, %d before the dashboard:\n%s", runtime.NumGoroutine(), before, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// q on a fleet member's dashboard, with its connections screen open and
// reverse DNS lookups hanging, stops every watcher, the flusher and the DNS
// workers, then the application: Run returns and no goroutine is left.
func TestQuitFromFleetMemberStopsEverything(t *testing.T) {
	a1 := wiretest.NewV2(wiretest.Config{Processes: wiretest.SampleProcesses(30)})
	t.Cleanup(a1.Close)
	a2 := wiretest.NewUpstream(wiretest.Config{Processes: wiretest.SampleProcesses(10)})
	t.Cleanup(a2.Close)
	before := runtime.NumGoroutine()
	hs, f := startFleet(t, []model.Target{{Label: "alpha", URL: a1.URL}, {Label: "beta", URL: a2.URL}},
		Options{MetricsInterval: 100 * time.Millisecond, ProcessesInterval: 200 * time.Millisecond}, 160, 40)
	waitTiles(hs, f, "two live tiles", func(ts map[string]string) bool {
		return strings.Contains(ts["alpha"], "● live") && strings.Contains(ts["beta"], "● live")
	})
	hs.key(tcell.KeyEnter)
	hs.waitFor("─ processes ", "nginx-16")
	hs.rune('c')
	hs.waitFor("─ connections ", "sshd")
	asked := make(chan struct{}, 8)
	hs.onUI(func() {
		v := f.members[0].d.conns
		v.toggleDNS()
		v.res.Lookup = func(ctx context.Context, _ string) ([]string, error) {
			asked <- struct{}{}
			<-ctx.Done() // hangs until the dashboard stops
			return nil, ctx.Err()
		}
	})
	select {
	case <-asked:
	case <-time.After(waitLimit):
		t.Fatal("no reverse DNS lookup started")
	}
	hs.waitStack("Fleet > Dashboard > Connections")
	hs.rune('q')
	hs.waitQuit("q on a member's screen")
	noLeak(t, before)
}

// The fleet's Hello names this client's version, not "dev".
func TestFleetHelloCarriesVersion(t *testing.T) {
	got := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wire.Subprotocol}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, data, err := c.Read(r.Context())
		if err != nil {
			return
		}
		if req, err := wire.DecodeRequest(data); err == nil && req.GetHello() != nil {
			select {
			case got <- req.GetHello().GetClientVersion():
			default:
			}
		}
	}))
	t.Cleanup(srv.Close)
	url := "ws://" + srv.Listener.Addr().String() + "/ws"
	startFleet(t, []model.Target{{Label: "a", URL: url}, {Label: "b", URL: url}}, Options{Version: "9.9.9-test"}, 120, 30)
	for range 2 {
		select {
		case v := <-got:
			if v != "9.9.9-test" {
				t.Errorf("the fleet's Hello says client version %q, want 9.9.9-test", v)
			}
		case <-time.After(waitLimit):
			t.Fatal("no Hello reached the agent")
		}
	}
}

// A fleet member's Connections screen is fetched by that member's watcher
// (the only holder of its connection), only while the screen is shown.
func TestFleetMemberConnectionsFromItsWatcher(t *testing.T) {
	a1 := wiretest.NewV2(wiretest.Config{})
	t.Cleanup(a1.Close)
	a2 := wiretest.NewV2(wiretest.Config{})
	t.Cleanup(a2.Close)
	var n1, n2 atomic.Int64
	dial := func(ctx context.Context, tg model.Target) (model.Client, error) {
		c, err := model.WireDial("test")(ctx, tg)
		if err != nil {
			return nil, err
		}
		n := &n1
		if tg.URL == a2.URL {
			n = &n2
		}
		return countingClient{Client: c, n: n}, nil
	}
	hs, f := startFleet(t, []model.Target{{Label: "alpha", URL: a1.URL}, {Label: "beta", URL: a2.URL}},
		Options{Dial: dial, MetricsInterval: 100 * time.Millisecond, ProcessesInterval: 200 * time.Millisecond}, 160, 40)
	waitTiles(hs, f, "two live tiles", func(ts map[string]string) bool {
		return strings.Contains(ts["alpha"], "● live") && strings.Contains(ts["beta"], "● live")
	})
	if n := n1.Load() + n2.Load(); n != 0 {
		t.Fatalf("the overview asked for connections %d times", n)
	}
	hs.key(tcell.KeyEnter)
	hs.waitFor("─ processes ")
	hs.rune('c')
	hs.waitFor("─ connections ", "sshd", "192.168.1.20:51234")
	w := f.members[0].d.w
	needs := func() (n model.Needs) { hs.onUI(func() { n = w.Needs() }); return n }
	if !needs().Connections {
		t.Error("alpha's watcher was not told the screen needs connections")
	}
	hs.waitUntil("a few rounds at the cadence", func(string) bool { return n1.Load() >= 3 })
	if n2.Load() != 0 || slices.Contains(a2.Requests(), "connections") {
		t.Errorf("beta was asked for connections while alpha's screen is shown")
	}
	if !slices.Contains(a1.Requests(), "connections") {
		t.Errorf("alpha's agent never heard a connections request: %v", a1.Requests())
	}
	hs.key(tcell.KeyEscape)
	hs.waitStack("Fleet > Dashboard")
	if needs().Connections {
		t.Error("the connections need outlived the screen")
	}
	stopped := n1.Load()
	m0 := kinds(a1, "metrics")
	hs.waitUntil("ten more metrics requests", func(string) bool { return kinds(a1, "metrics") >= m0+10 })
	if got := n1.Load(); got > stopped+1 { // one may have been in flight
		t.Errorf("connections still asked for after the screen closed: %d, then %d", stopped, got)
	}
}
