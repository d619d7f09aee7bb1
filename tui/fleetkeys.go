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

// fleetHelp lists the fleet's key bindings, generated from its key map,
// in a box centred on the overview (tview's TextView scrolls it).
type fleetHelp struct {
	*tview.TextView
	f *fleet
}

func newFleetHelp(f *fleet) *fleetHelp {
	v := &fleetHelp{TextView: tview.NewTextView(), f: f}
	v.SetDynamicColors(false).SetWrap(false).SetBorder(true).SetTitle(" keys · Esc closes ")
	v.SetBorderStyle(f.th.title).SetTitleColor(tcell.ColorDefault)
	v.SetTextStyle(f.th.value)
	v.SetText(strings.Join(v.lines(), "\n"))
	return v
}

func (v *fleetHelp) lines() []string {
	out := []string{"Fleet"}
	for _, b := range v.f.keys {
		if b.screens&fscrFleet != 0 {
			out = append(out, "  "+padRight(b.label, 19)+" "+b.desc)
		}
	}
	return append(out, "", "Host dashboard (after Enter)",
		"  "+padRight("Esc", 19)+" back to the fleet (closes a dialog, the detail view or the filter first)",
		"  "+padRight("?", 19)+" the dashboard's own keys")
}

// Draw centres the box in the area the page gives it.
func (v *fleetHelp) Draw(s tcell.Screen) {
	x, y, w, h := v.GetRect()
	bw, bh := min(w-2, 110), min(h-2, len(v.lines())+2)
	if bw < 20 || bh < 3 {
		return
	}
	v.SetRect(x+(w-bw)/2, y+(h-bh)/2, bw, bh)
	v.TextView.Draw(s)
	v.SetRect(x, y, w, h)
}
