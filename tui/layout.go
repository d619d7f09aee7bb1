package tui

import (
	"strconv"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/widget"
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

// dashboard is the main screen's pane area: a tview.Grid rebuilt when the
// layout changes (a resize, or the agent turning out to lack a pane).
type dashboard struct {
	*tview.Box
	a                             *App
	grid                          *tview.Grid
	key                           string
	cpu, mem, net, disks, sensors *pane
	lay                           layout
}

func newDashboard(a *App) *dashboard {
	d := &dashboard{Box: tview.NewBox(), a: a, grid: tview.NewGrid()}
	d.cpu = newPane(a.paintCPU)
	d.mem = newPane(a.paintMem)
	d.net = newPane(a.paintNet)
	d.disks = newPane(a.paintDisks)
	d.sensors = newPane(a.paintTemps)
	return d
}

func (d *dashboard) hasSensors() bool {
	m := d.a.h.metrics
	return len(m.GetTemperatures()) > 0 || len(m.GetGpus()) > 0
}

// relayout recomputes the layout for the current rectangle and rebuilds the
// grid when it changed. It also tells the watcher which data is wanted.
func (d *dashboard) relayout() {
	_, _, w, h := d.GetRect()
	hs := d.a.h
	l := computeLayout(w, h, hs.has("disks"), d.hasSensors())
	d.lay = l
	onMain := d.a.onMain()
	d.a.want.metrics.Store(true)
	d.a.want.disks.Store(onMain && l.disks)
	d.a.want.procs.Store(onMain)
	if k := l.key(); k != d.key {
		d.key = k
		d.build(l)
	}
}

func (d *dashboard) build(l layout) {
	g := d.grid
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
		g.AddItem(d.cpu, 0, 0, 2, 1, 0, 0, false)
		g.AddItem(d.mem, 0, 1, 1, 1, 0, 0, false)
		g.AddItem(d.sensors, 1, 1, 1, 1, 0, 0, false)
		r = 2
	} else {
		g.AddItem(d.cpu, 0, 0, 1, 1, 0, 0, false)
		g.AddItem(d.mem, 0, 1, 1, 1, 0, 0, false)
		r = 1
	}
	if l.mid > 0 {
		if l.disks {
			g.AddItem(d.net, r, 0, 1, 1, 0, 0, false)
			g.AddItem(d.disks, r, 1, 1, 1, 0, 0, false)
		} else {
			g.AddItem(d.net, r, 0, 1, 2, 0, 0, false)
		}
		r++
	}
	g.AddItem(d.a.procs, r, 0, 1, 2, 0, 0, true)
}

func (d *dashboard) Draw(s tcell.Screen) {
	d.relayout()
	x, y, w, h := d.GetRect()
	d.grid.SetRect(x, y, w, h)
	d.grid.Draw(s)
	d.a.drawBanner(s, x, y, w, h)
}

func (d *dashboard) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return d.grid.MouseHandler()
}

func (d *dashboard) InputHandler() func(ev *tcell.EventKey, setFocus func(tview.Primitive)) {
	return d.a.procs.InputHandler()
}

func (d *dashboard) Focus(delegate func(tview.Primitive)) { delegate(d.a.procs) }

func (d *dashboard) HasFocus() bool { return d.a.procs.HasFocus() }

// drawBanner puts a box in the middle of the dashboard when the connection
// was refused (token, pin) or has never worked, so the cause is unmissable.
func (a *App) drawBanner(s tcell.Screen, x, y, w, h int) {
	st := a.h.status
	var title string
	var lines []string
	switch st.phase {
	case phaseAuth:
		title = "authentication failed"
		lines = []string{ErrAuth.Error(), "Not retried automatically; press r to try again."}
	case phasePin:
		title = "certificate pin mismatch"
		lines = []string{errText(st.err), "Refusing to connect. Press r to try again."}
		var pe *PinMismatchError
		if asPin(st.err, &pe) {
			lines = []string{"The agent's certificate does not match the pinned one.",
				"pinned:  " + pe.Want, "offered: " + pe.Got,
				"If it was regenerated on purpose, update the pin (socktop cert on the agent).",
				"Refusing to connect. Press r to try again."}
		}
	case phaseFailed:
		title = "cannot connect"
		lines = []string{errText(st.err)}
	case phaseWaiting:
		if !a.h.lastSample().IsZero() {
			return // data on screen, marked stale; the header has the countdown
		}
		title = "agent unreachable"
		lines = []string{errText(st.err), "Retrying automatically; press r to retry now."}
	default:
		return
	}
	bw := min(w-4, 96)
	var wrapped []string
	for _, l := range lines {
		wrapped = append(wrapped, wrap(l, bw-4)...)
	}
	lines = wrapped
	bh := len(lines) + 2
	if bw < 20 || h < bh {
		return
	}
	bx, by := x+(w-bw)/2, y+(h-bh)/2
	widget.Fill(s, bx, by, bw, bh, ' ', a.th.base)
	ix, iy, iw, _ := widget.Frame(s, bx, by, bw, bh, a.th.frame, a.th.bad, a.th.bad, title, "")
	for i, l := range lines {
		widget.Print(s, ix+1, iy+i, iw-2, l, a.th.value)
	}
}

// wrap breaks text into lines of at most w cells, at spaces when it can.
func wrap(text string, w int) []string {
	if w < 8 {
		return []string{text}
	}
	var out []string
	for widget.Width(text) > w {
		rs := []rune(text)
		cut, used := 0, 0
		for cut < len(rs) {
			rw := widget.Width(string(rs[cut]))
			if used+rw > w {
				break
			}
			used += rw
			cut++
		}
		if cut == 0 {
			cut = 1 // a rune wider than the line: emit it alone
		}
		if i := lastSpace(rs[:cut]); i > cut/3 {
			cut = i
		}
		out = append(out, string(rs[:cut]))
		text = strings.TrimPrefix(string(rs[cut:]), " ")
	}
	return append(out, text)
}

func lastSpace(rs []rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == ' ' {
			return i
		}
	}
	return -1
}
