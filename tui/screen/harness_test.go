package screen

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/wire/wiretest"
)

// harness runs the real app on a SimulationScreen.
type harness struct {
	t    testing.TB
	d    *dash // the dashboard (a fleet's first member's)
	sh   *shell.Shell
	scr  tcell.SimulationScreen
	done chan error
}

// waitLimit bounds every wait: a test that sees nothing in this time fails
// (it is a ceiling, not a timing assertion).
const waitLimit = 15 * time.Second

func startApp(t testing.TB, opts Options, w, h int) *harness {
	t.Helper()
	return startAppWith(t, opts, w, h, nil)
}

// startAppWith is startApp calling before with the dashboard before it
// runs (before its watcher starts).
func startAppWith(t testing.TB, opts Options, w, h int, before func(*dash)) *harness {
	t.Helper()
	scr := tcell.NewSimulationScreen("UTF-8")
	opts.Screen = scr
	d := newSingle(context.Background(), opts) // SetScreen initialises the screen (80×25)
	scr.SetSize(w, h)
	if before != nil {
		before(d)
	}
	hs := &harness{t: t, d: d, sh: d.sh, scr: scr, done: make(chan error, 1)}
	go func() { hs.done <- d.sh.Run() }()
	t.Cleanup(hs.stop)
	return hs
}

// text returns the screen, one line per row, read on the UI goroutine so it
// never races a draw.
func (hs *harness) text() string {
	var out string
	got := make(chan struct{})
	go func() {
		hs.sh.App().QueueUpdate(func() {
			cells, w, h := hs.scr.GetContents()
			var b strings.Builder
			for y := range h {
				for x := range w {
					c := cells[y*w+x]
					if len(c.Runes) == 0 || c.Runes[0] == 0 {
						b.WriteByte(' ')
						continue
					}
					b.WriteRune(c.Runes[0])
				}
				b.WriteByte('\n')
			}
			out = b.String()
		})
		close(got)
	}()
	select {
	case <-got:
	case <-time.After(waitLimit):
		hs.t.Fatal("UI loop did not answer")
	}
	return out
}

// resize changes the terminal size as a real terminal would, and waits
// for a frame of that size: until then the simulated terminal only cuts
// the last frame, which could pass for a narrow layout.
func (hs *harness) resize(w, h int) {
	hs.t.Helper()
	hs.scr.SetSize(w, h)
	if err := hs.scr.PostEvent(tcell.NewEventResize(w, h)); err != nil {
		hs.t.Fatalf("resize: %v", err)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		var dw, dh int
		hs.onUI(func() { dw, dh = hs.sh.Drawn() })
		if dw == w && dh == h {
			return
		}
		if time.Now().After(deadline) {
			hs.t.Fatalf("no frame of %dx%d was drawn (the last was %dx%d)", w, h, dw, dh)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// redraw forces a draw on the UI goroutine.
func (hs *harness) redraw() {
	hs.sh.App().QueueUpdateDraw(func() {})
}

// waitFor waits until every substring is on screen.
func (hs *harness) waitFor(subs ...string) string {
	hs.t.Helper()
	deadline := time.Now().Add(waitLimit)
	var s string
	for {
		s = hs.text()
		ok := true
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				ok = false
				break
			}
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			hs.t.Fatalf("screen never showed %q; last screen:\n%s", subs, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUntil waits until cond holds for the screen text.
func (hs *harness) waitUntil(what string, cond func(string) bool) string {
	hs.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		s := hs.text()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			hs.t.Fatalf("screen never showed %s; last screen:\n%s", what, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (hs *harness) key(k tcell.Key) { hs.scr.InjectKey(k, 0, tcell.ModNone) }
func (hs *harness) rune(r rune)     { hs.scr.InjectKey(tcell.KeyRune, r, tcell.ModNone) }
func (hs *harness) typeText(s string) {
	for _, r := range s {
		hs.rune(r)
	}
}

// click sends a left click (press and release) at x, y.
func (hs *harness) click(x, y int) {
	hs.scr.InjectMouse(x, y, tcell.Button1, tcell.ModNone)
	hs.scr.InjectMouse(x, y, tcell.ButtonNone, tcell.ModNone)
}

// onUI runs f on the UI goroutine, redraws and waits.
func (hs *harness) onUI(f func()) {
	done := make(chan struct{})
	go func() { hs.sh.App().QueueUpdateDraw(f); close(done) }()
	select {
	case <-done:
	case <-time.After(waitLimit):
		hs.t.Fatal("UI loop did not answer")
	}
}

// stop quits with q (as a user would) and waits for Run to return.
func (hs *harness) stop() {
	select {
	case err := <-hs.done:
		hs.done <- err
		return
	default:
	}
	hs.sh.Quit()
	select {
	case err := <-hs.done:
		if err != nil {
			hs.t.Errorf("Run: %v", err)
		}
		hs.done <- err
	case <-time.After(waitLimit):
		hs.t.Error("app did not stop")
	}
}

// lineWith returns the first screen line containing sub.
func lineWith(screen, sub string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// rowIndex returns the line number of the first line containing sub, or -1.
func rowIndex(screen, sub string) int {
	for i, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, sub) {
			return i
		}
	}
	return -1
}

// filterFor types a process filter and waits until the table applies it.
func (hs *harness) filterFor(text string) string {
	hs.t.Helper()
	hs.rune('/')
	hs.typeText(text)
	hs.key(tcell.KeyEnter)
	return hs.waitFor(`filter "` + text + `"`)
}

// waitQuit waits for Run to return after what should have quit it.
func (hs *harness) waitQuit(what string) {
	hs.t.Helper()
	select {
	case err := <-hs.done:
		hs.done <- err
		if err != nil {
			hs.t.Errorf("Run: %v", err)
		}
	case <-time.After(waitLimit):
		hs.t.Fatalf("%s did not quit", what)
	}
}

// kinds is how many v2 requests of kind the agent received.
func kinds(ag *wiretest.Agent, kind string) int {
	n := 0
	for _, k := range ag.Requests() {
		if k == kind {
			n++
		}
	}
	return n
}

// procColHidden reports whether the process table hides column c (the
// data has nothing for it).
func (hs *harness) procColHidden(c model.ProcCol) bool {
	var hidden bool
	hs.onUI(func() { hs.d.procs.t.Update(); hidden = hs.d.procs.t.Cols[c].Hidden })
	return hidden
}
