package tui

import (
	"strconv"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/widget"
)

// fleetScreen names a state of the fleet overview; the open host's
// dashboard has its own key map (keys.go).
type fleetScreen uint8

const (
	fscrFleet fleetScreen = 1 << iota
	fscrHelp
)

// fleetBinding is one entry of the fleet's key map; like binding, it drives
// the footer and the help overlay, so they cannot drift. A nil do is a
// movement key the focused view handles.
type fleetBinding struct {
	keys            []key
	label, hint     string
	hintLabel, desc string
	screens         fleetScreen
	do              func(f *fleet)
}

// fleetKeyMap is the overview's every key binding, in help order.
func fleetKeyMap() []fleetBinding {
	all := fscrFleet | fscrHelp
	return []fleetBinding{
		{keys: runeKeys('q'), label: "q", hint: "quit", desc: "quit socktop", screens: all, do: (*fleet).quit},
		{keys: runeKeys('?'), label: "?", hint: "help", desc: "show this help (generated from the key map)", screens: all, do: (*fleet).toggleHelp},
		{keys: specialKeys(tcell.KeyEnter), label: "Enter", hint: "open", desc: "open the selected host's dashboard (mouse: double-click); Esc there comes back",
			screens: fscrFleet, do: func(f *fleet) { f.openHost(f.view.selected()) }},
		{keys: runeKeys('t'), label: "t", hint: "table", desc: "tiles or table (one row per host)", screens: fscrFleet,
			do: func(f *fleet) { f.view.table = !f.view.table }},
		{keys: runeKeys('l', '>'), label: "l/>", hint: "sort", hintLabel: "h/l", desc: "sort by the next column (mouse: click a table header; again reverses)",
			screens: fscrFleet, do: func(f *fleet) { f.view.moveSort(+1) }},
		{keys: runeKeys('h', '<'), label: "h/<", desc: "sort by the previous column", screens: fscrFleet, do: func(f *fleet) { f.view.moveSort(-1) }},
		{keys: runeKeys('I'), label: "I", hint: "rev", desc: "reverse the sort order", screens: fscrFleet, do: func(f *fleet) { f.view.desc = !f.view.desc }},
		{keys: runeKeys('P'), label: "P", desc: "sort by CPU%", screens: fscrFleet, do: func(f *fleet) { f.view.sortBy(fcCPU) }},
		{keys: runeKeys('M'), label: "M", desc: "sort by memory%", screens: fscrFleet, do: func(f *fleet) { f.view.sortBy(fcMem) }},
		{keys: runeKeys('N'), label: "N", desc: "sort by name", screens: fscrFleet, do: func(f *fleet) { f.view.sortBy(fcName) }},
		{keys: runeKeys('S'), label: "S", desc: "sort by state (trouble first)", screens: fscrFleet, do: func(f *fleet) { f.view.sortBy(fcState) }},
		{keys: runeKeys('r'), label: "r", hint: "retry", desc: "reconnect the selected host now (also a refused token or pin)", screens: fscrFleet, do: (*fleet).retrySelected},
		{keys: runeKeys('R'), label: "R", desc: "reconnect every host that is not connected, now", screens: fscrFleet, do: (*fleet).retryAll},
		{keys: specialKeys(tcell.KeyEscape), label: "Esc", desc: "close the help; on a host's dashboard, back to the fleet", screens: all, do: (*fleet).escape},
		{keys: specialKeys(tcell.KeyUp, tcell.KeyDown, tcell.KeyLeft, tcell.KeyRight), label: "arrows", desc: "move the selection (mouse: click a tile or row, wheel scrolls)",
			screens: all, do: nil},
		{keys: specialKeys(tcell.KeyPgUp, tcell.KeyPgDn, tcell.KeyHome, tcell.KeyEnd), label: "PgUp/PgDn Home/End", desc: "page; first / last host", screens: all, do: nil},
	}
}

// paintHeader: "socktop fleet  12 hosts: 10 live, 1 stale, 1 reconnecting · sort CPU% ▼".
func (f *fleet) paintHeader(s tcell.Screen, x, y, w, _ int) {
	t := f.th
	cx := x
	put := func(text string, st tcell.Style) {
		if cx < x+w {
			cx += widget.Print(s, cx, y, x+w-cx, text, st)
		}
	}
	put("socktop ", t.title)
	put("fleet", t.headerHost)
	counts := [numFleetStates]int{}
	now := f.now()
	for _, m := range f.members {
		st, _ := fleetState(m.a, now)
		counts[st]++
	}
	put("  "+strconv.Itoa(len(f.members))+" hosts:", t.label)
	sep := " "
	for st, n := range counts {
		if n == 0 {
			continue
		}
		put(sep+strconv.Itoa(n)+" "+fleetStateNames[st], f.stateStyle(fleetStateKind(st)))
		sep = ", "
	}
	put("  · sort ", t.label)
	put(fleetColumns[f.view.col].name+f.view.arrow(), t.value)
	mode := "tiles"
	if f.view.table {
		mode = "table"
	}
	put("  · "+mode, t.dim)
}

func (f *fleet) paintFooter(s tcell.Screen, x, y, w, _ int) {
	t := f.th
	scr := fscrFleet
	if f.helpOpen {
		scr = fscrHelp
	}
	cx, end := x, x+w
	for _, b := range f.keys {
		if b.screens&scr == 0 || b.hint == "" {
			continue
		}
		label := b.label
		if b.hintLabel != "" {
			label = b.hintLabel
		}
		if cx+widget.Width(label)+widget.Width(b.hint)+4 > end {
			break
		}
		cx += widget.Print(s, cx, y, end-cx, " "+label+" ", t.footerKey)
		cx += widget.Print(s, cx, y, end-cx, " "+b.hint+" ", t.footerText)
	}
}

// fleetHelp lists the fleet's key bindings, generated from its key map.
type fleetHelp struct {
	*tview.Box
	f      *fleet
	offset int
	pageH  int
}

func newFleetHelp(f *fleet) *fleetHelp { return &fleetHelp{Box: tview.NewBox(), f: f} }

func (v *fleetHelp) lines() []string {
	out := []string{"Fleet"}
	for _, b := range v.f.keys {
		if b.screens&fscrFleet != 0 {
			out = append(out, "  "+padRight(b.label, 19)+" "+b.desc)
		}
	}
	return append(out, "Host dashboard (after Enter)", "  "+padRight("Esc", 19)+" back to the fleet (closes a dialog, the detail view or the filter first)",
		"  "+padRight("?", 19)+" the dashboard's own keys")
}

func (v *fleetHelp) Draw(s tcell.Screen) {
	t := v.f.th
	x, y, w, h := v.GetRect()
	lines := v.lines()
	bw := min(w-2, 110)
	bh := min(h-2, len(lines)+2)
	if bw < 20 || bh < 3 {
		return
	}
	bx, by := x+(w-bw)/2, y+(h-bh)/2
	widget.Fill(s, bx, by, bw, bh, ' ', t.base)
	ix, iy, iw, ih := widget.Frame(s, bx, by, bw, bh, t.frame, t.title, t.title, "keys", "Esc closes")
	v.pageH = max(ih, 1)
	v.offset = min(v.offset, max(len(lines)-ih, 0))
	for i := 0; i < ih && v.offset+i < len(lines); i++ {
		l := lines[v.offset+i]
		st := t.value
		if !strings.HasPrefix(l, " ") {
			st = t.title
		}
		widget.Print(s, ix+1, iy+i, iw-2, l, st)
	}
}

func (v *fleetHelp) InputHandler() func(ev *tcell.EventKey, setFocus func(tview.Primitive)) {
	return v.WrapInputHandler(func(ev *tcell.EventKey, _ func(tview.Primitive)) {
		scroll(&v.offset, v.pageH, ev)
	})
}

func (v *fleetHelp) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return v.WrapMouseHandler(func(action tview.MouseAction, _ *tcell.EventMouse, _ func(tview.Primitive)) (bool, tview.Primitive) {
		switch action {
		case tview.MouseScrollUp:
			v.offset = max(v.offset-3, 0)
		case tview.MouseScrollDown:
			v.offset += 3
		case tview.MouseLeftClick:
			v.f.toggleHelp()
		default:
			return false, nil
		}
		return true, nil
	})
}
