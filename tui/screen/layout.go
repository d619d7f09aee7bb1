package screen

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// layout is which panes the dashboard shows and how tall their rows are,
// decided from the space available. Below ~30 rows or ~100 columns it is
// compact: sensors go first, then network and disks; CPU, memory and the
// process table always stay.
type layout struct {
	compact             bool
	top, sensorsH, mid  int
	net, disks, sensors bool
	wideCols            bool
}

func (l layout) key() string {
	b := []byte{}
	for _, v := range []int{l.top, l.sensorsH, l.mid} {
		b = strconv.AppendInt(b, int64(v), 10)
		b = append(b, ',')
	}
	for _, v := range []bool{l.compact, l.net, l.disks, l.sensors, l.wideCols} {
		if v {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
	}
	return string(b)
}

// minProcRows keeps the process table useful: border, header and a few rows.
const minProcRows = 7

// computeLayout decides the layout for a w×h area below the header.
func computeLayout(w, h int, hasDisks, hasSensors bool) layout {
	l := layout{compact: h < 27 || w < 100, wideCols: w >= 100}
	if l.compact {
		l.top = 7
		if h-l.top < minProcRows {
			l.top = max(h-minProcRows, 4)
		}
		if h-l.top-5 >= minProcRows+1 {
			l.mid = 5
		} else if h-l.top-4 >= minProcRows {
			l.mid = 4
		}
		if h >= 36 && w >= 80 {
			l.top, l.mid = 9, 7
		}
	} else {
		l.top = max(9, h*32/100)
		l.mid = max(6, h*22/100)
		if hasSensors && w >= 100 {
			l.sensors = true
			l.sensorsH = l.top - min(max(l.top/2, 6), 9)
			if l.sensorsH < 4 {
				l.sensors, l.sensorsH = false, 0
			}
		}
	}
	if l.mid > 0 {
		l.net = true
		l.disks = hasDisks
	}
	return l
}

// dashView is the dashboard's pane area: a tview.Grid rebuilt when the
// layout changes (a resize, or the agent turning out to lack a pane).
type dashView struct {
	*tview.Box
	d                             *dash
	grid                          *tview.Grid
	key                           string
	cpu, mem, net, disks, sensors *widget.Pane
	lay                           layout
}

func newDashView(d *dash) *dashView {
	v := &dashView{Box: tview.NewBox(), d: d, grid: tview.NewGrid()}
	v.cpu = widget.NewPane(d.paintCPU)
	v.mem = widget.NewPane(d.paintMem)
	v.net = widget.NewPane(d.paintNet)
	v.cpu.Click = func(x, y int) { d.clickGraph(&d.cpuArea, x, y) }
	v.mem.Click = func(x, y int) { d.clickGraph(&d.memArea, x, y) }
	v.net.Click = func(x, y int) { d.clickGraph(&d.netArea, x, y) }
	v.disks = widget.NewPane(d.paintDisks)
	v.sensors = widget.NewPane(d.paintTemps)
	return v
}

func (v *dashView) hasSensors() bool {
	m := v.d.h.Metrics
	return len(m.GetTemperatures()) > 0 || len(m.GetGpus()) > 0
}

// claim tells the watcher what the dashboard shows: the process list,
// disks when the layout has room for them, and the span of history the
// graphs are zoomed to (or the time cursor reaches).
func (v *dashView) claim() {
	v.d.w.Need(v.d.main, model.Needs{Processes: true, Disks: v.lay.disks, Commands: v.d.procs.commands, Traffic: v.d.procs.traffic,
		Timeline: v.d.h.ViewZoom(v.d.sh.Now())})
}

// relayout recomputes the layout for the current rectangle and rebuilds the
// grid when it changed.
func (v *dashView) relayout() {
	_, _, w, h := v.GetRect()
	l := computeLayout(w, h, v.d.h.Has(wire.CapDisks), v.hasSensors())
	if l.disks != v.lay.disks {
		v.lay = l
		v.claim()
	}
	v.lay = l
	if k := l.key(); k != v.key {
		v.key = k
		v.build(l)
	}
}

func (v *dashView) build(l layout) {
	g := v.grid
	g.Clear()
	var rows []int
	if l.sensors {
		rows = append(rows, l.top-l.sensorsH, l.sensorsH)
	} else {
		rows = append(rows, l.top)
	}
	if l.mid > 0 {
		rows = append(rows, l.mid)
	}
	rows = append(rows, -1)
	g.SetRows(rows...)
	if l.wideCols {
		g.SetColumns(-11, -9)
	} else {
		g.SetColumns(-1, -1)
	}
	r := 0
	if l.sensors {
		g.AddItem(v.cpu, 0, 0, 2, 1, 0, 0, false)
		g.AddItem(v.mem, 0, 1, 1, 1, 0, 0, false)
		g.AddItem(v.sensors, 1, 1, 1, 1, 0, 0, false)
		r = 2
	} else {
		g.AddItem(v.cpu, 0, 0, 1, 1, 0, 0, false)
		g.AddItem(v.mem, 0, 1, 1, 1, 0, 0, false)
		r = 1
	}
	if l.mid > 0 {
		if l.disks {
			g.AddItem(v.net, r, 0, 1, 1, 0, 0, false)
			g.AddItem(v.disks, r, 1, 1, 1, 0, 0, false)
		} else {
			g.AddItem(v.net, r, 0, 1, 2, 0, 0, false)
		}
		r++
	}
	g.AddItem(v.d.procs.pane, r, 0, 1, 2, 0, 0, false)
}

func (v *dashView) Draw(s tcell.Screen) {
	v.relayout()
	if v.d.h.CursorAt != 0 {
		v.claim() // the moment ages: the zoom that reaches it may widen
	}
	x, y, w, h := v.GetRect()
	title, lines := v.d.banner()
	if title != "" && v.d.h.LastSample().IsZero() {
		// nothing to show yet: the cause alone, not empty panes behind it
		widget.Fill(s, x, y, w, h, ' ', v.d.th.Base)
	} else {
		v.grid.SetRect(x, y, w, h)
		v.grid.Draw(s)
	}
	v.d.drawBanner(s, x, y, w, h, title, lines)
}

func (v *dashView) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return v.grid.MouseHandler()
}

// banner is what the box in the middle of the dashboard says when the
// connection was refused (token, pin) or has never worked, so the cause
// is unmissable; "" when there is nothing to say.
func (d *dash) banner() (title string, lines []string) {
	st := d.h.Status
	switch st.Phase {
	case model.PhaseAuth:
		title = "authentication failed"
		lines = []string{statusText(st), "Not retried automatically; press r to try again."}
	case model.PhasePin:
		title = "certificate pin mismatch"
		lines = []string{statusText(st), "Refusing to connect. Press r to try again."}
		var pe *wire.PinMismatchError
		if errors.As(st.Err, &pe) {
			lines = []string{"The agent's certificate does not match the pinned one.",
				"pinned:  " + strings.Join(pe.Want, " or "), "offered: " + pe.Got,
				"If it was regenerated on purpose (compare with socktop cert on the agent), trust it with:"}
			lines = append(append(lines, pinCommand(d.target, pe.Got)...), "Refusing to connect. Press r to try again.")
		}
	case model.PhaseFailed:
		title = "cannot connect"
		lines = []string{statusText(st), "Not retried automatically; press r to try again."}
	case model.PhaseWaiting:
		if !d.h.LastSample().IsZero() {
			return // data on screen, marked stale; the header has the countdown
		}
		title = "agent unreachable"
		if errors.Is(st.Err, wire.ErrProtocol) || errors.Is(st.Err, wire.ErrProtocolVersion) {
			title = "cannot connect"
		}
		lines = []string{statusText(st), "Retrying automatically; press r to retry now."}
	}
	return title, lines
}

// drawBanner draws the banner's box over the dashboard.
func (d *dash) drawBanner(s tcell.Screen, x, y, w, h int, title string, lines []string) {
	if title == "" {
		return
	}
	bw := min(w-4, 96)
	var wrapped []string
	for _, l := range lines {
		wrapped = append(wrapped, widget.Wrap(l, bw-4)...)
	}
	lines = wrapped
	bh := len(lines) + 2
	if bw < 20 || h < bh {
		return
	}
	bx, by := x+(w-bw)/2, y+(h-bh)/2
	widget.Fill(s, bx, by, bw, bh, ' ', d.th.Base)
	ix, iy, iw, _ := widget.Frame(s, bx, by, bw, bh, d.th.Frame, d.th.Bad, d.th.Bad, title, "")
	for i, l := range lines {
		widget.Print(s, ix+1, iy+i, iw-2, l, d.th.Value)
	}
}

// pinCommand is the command that trusts pin for t from now on, in two
// lines a shell takes as one (each fits the banner): it updates t's
// profile, keeping the rest of it, or connects once with the pin.
func pinCommand(t model.Target, pin string) []string {
	first := "socktop connect --save --profile " + t.Profile + ` \`
	if t.Profile == "" {
		u := model.RedactURL(t.URL)
		if strings.ContainsAny(u, "?&*[]$;|<>()'\" \t") {
			u = "'" + strings.ReplaceAll(u, "'", `'\''`) + "'"
		}
		first = "socktop connect " + u + ` \`
	}
	return []string{first, "--pin " + pin}
}
