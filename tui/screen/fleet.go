package screen

import (
	"context"
	"strconv"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
)

// The fleet view watches many agents on one screen: a tile (or a table
// row) per agent with its state and headline figures. Enter pushes that
// host's dashboard on the same shell, over the same watcher; Esc pops back
// to the fleet, which never stopped updating.
//
// Every agent has its own watcher (connection, cadence, reconnect backoff)
// feeding its own host model; no lock is held across a network call. The
// shell batches what the watchers post into one redraw per frame, so fifty
// agents cost a few redraws a second, not a hundred.

// member is one agent of the fleet: its dashboard (model, watcher and
// screens), built with the fleet and pushed when the user opens it.
type member struct {
	idx int // position in the order the user gave
	d   *dash
}

// fleet is the fleet overview.
type fleet struct {
	sh      *shell.Shell
	th      *widget.Theme
	members []*member
	al      *alerting
	view    *fleetView
	screen  *shell.Screen
}

func newFleet(ctx context.Context, each []Options, shared Options) (*fleet, error) {
	if len(each) == 0 {
		return nil, ErrNoTargets
	}
	sh, shared := setup(ctx, shared)
	f := &fleet{sh: sh, th: sh.Theme(), al: newAlerting(sh, fleetNotify(each))}
	for i, mo := range each {
		mo.Screen = nil // the member never opens a screen of its own
		mo.Dial, mo.Now, mo.Version = shared.Dial, shared.Now, shared.Version
		mo.ASCII, mo.NoColor = shared.ASCII, shared.NoColor
		m := &member{idx: i, d: newDash(sh, mo, true, f.al)}
		f.al.watch(m.d, mo.Alerts)
		f.members = append(f.members, m)
	}
	f.al.start()
	f.view = newFleetView(f)
	f.screen = &shell.Screen{Name: "Fleet", View: f.view, Keys: f.keys(), Header: f.paintHeader, HeaderRows: 1,
		Help: []shell.Section{{Name: "Host dashboard (after Enter)", Keys: []shell.Binding{
			{Label: "Esc", Desc: "back to the fleet (closes a dialog, the detail view or the filter first)"},
			{Label: "?", Desc: "the dashboard's own keys"},
		}}}}
	// The tiles name each host's busiest container: ask for them, slowly,
	// while the fleet is shown.
	f.screen.Shown = func() {
		for _, m := range f.members {
			m.d.w.Need(f.screen, model.Needs{TileContainers: true})
		}
	}
	f.screen.Hidden = func() {
		for _, m := range f.members {
			m.d.w.Release(f.screen)
		}
	}
	sh.Push(f.screen)
	sh.OnStart(func() {
		for _, m := range f.members {
			sh.Go(m.d.w.Run)
		}
	})
	return f, nil
}

// keys is the overview's key map, in help order.
func (f *fleet) keys() []shell.Binding {
	v := f.view
	sortBy := func(c fleetColumn) func() { return func() { v.t.SortBy(int(c)) } }
	return []shell.Binding{
		{Keys: shell.Runes('q'), Label: "q", Hint: "quit", Desc: "quit socktop", Do: f.sh.Quit},
		{Keys: shell.Runes('?'), Label: "?", Hint: "help", Desc: "show this help (generated from the key map)", Do: f.sh.ToggleHelp},
		{Keys: shell.Special(tcell.KeyEnter), Label: "Enter", Hint: "open", Desc: "open the selected host's dashboard (mouse: double-click); Esc there comes back",
			Do: func() { f.openHost(v.selected()) }},
		{Keys: shell.Runes('t'), Label: "t", Hint: "table", Desc: "tiles or table (one row per host)", Do: func() { v.table = !v.table }},
		{Keys: shell.Runes('l', '>'), Label: "l/>", Hint: "sort", HintLabel: "h/l", Desc: "sort by the next column (mouse: click a table header; again reverses)",
			Do: func() { v.t.MoveSort(+1) }},
		{Keys: shell.Runes('h', '<'), Label: "h/<", Desc: "sort by the previous column", Do: func() { v.t.MoveSort(-1) }},
		{Keys: shell.Runes('I'), Label: "I", Hint: "rev", Desc: "reverse the sort order", Do: v.t.Reverse},
		{Keys: shell.Runes('P'), Label: "P", Desc: "sort by CPU%", Do: sortBy(fcCPU)},
		{Keys: shell.Runes('M'), Label: "M", Desc: "sort by memory%", Do: sortBy(fcMem)},
		{Keys: shell.Runes('N'), Label: "N", Desc: "sort by name", Do: sortBy(fcName)},
		{Keys: shell.Runes('S'), Label: "S", Desc: "sort by state (trouble first)", Do: sortBy(fcState)},
		{Keys: shell.Runes('a'), Label: "a", Desc: "sort by alerts: hosts with firing alerts first", Do: sortBy(fcAlert),
			When: f.al.m.Watched, WhenText: "profiles have [[alerts]] rules"},
		f.al.keys()[0],
		{Keys: shell.Runes('r'), Label: "r", Hint: "retry", Desc: "reconnect the selected host now (also a refused token or pin)", Do: f.retrySelected},
		{Keys: shell.Runes('R'), Label: "R", Desc: "reconnect every host that is not connected, now", Do: f.retryAll},
		{Keys: shell.Special(tcell.KeyUp, tcell.KeyDown, tcell.KeyLeft, tcell.KeyRight), Label: "arrows",
			Desc: "move the selection (mouse: click a tile or row, wheel scrolls)", DoKey: v.arrow},
		{Keys: shell.Special(tcell.KeyPgUp, tcell.KeyPgDn, tcell.KeyHome, tcell.KeyEnd), Label: "PgUp/PgDn Home/End",
			Desc: "page; first / last host", DoKey: v.arrow},
	}
}

// openHost pushes m's dashboard. Its watcher is already connected: the
// dashboard's Shown hook asks it for processes and disks too.
func (f *fleet) openHost(m *member) {
	if m == nil {
		return
	}
	f.sh.Push(m.d.main)
	if m.d.h.Status.Phase == model.PhaseWaiting {
		m.d.w.RetryNow() // a host the user looks at is worth a reconnect now
	}
}

// retrySelected reconnects the selected agent now; retryAll every agent
// that is not connected.
func (f *fleet) retrySelected() {
	if m := f.view.selected(); m != nil {
		m.d.w.RetryNow()
	}
}

func (f *fleet) retryAll() {
	for _, m := range f.members {
		if m.d.h.Status.Phase != model.PhaseConnected {
			m.d.w.RetryNow()
		}
	}
}

// paintHeader: "socktop fleet  12 hosts: 10 live, 1 stale, 1 reconnecting · sort CPU% ▼".
func (f *fleet) paintHeader(s tcell.Screen, x, y, w, _ int) {
	t := f.th
	line := widget.NewLine(s, x, y, w)
	put := line.Put
	put("socktop ", t.Title)
	put("fleet", t.HeaderHost)
	counts := [numFleetStates]int{}
	now := f.sh.Now()
	for _, m := range f.members {
		st, _ := fleetState(m.d, now)
		counts[st]++
	}
	put("  "+strconv.Itoa(len(f.members))+" hosts:", t.Label)
	sep := " "
	for st, n := range counts {
		if n == 0 {
			continue
		}
		put(sep+strconv.Itoa(n)+" "+fleetStateNames[st], f.stateStyle(fleetStateKind(st)))
		sep = ", "
	}
	f.al.putCount(line, f.members)
	col, desc := f.view.t.Sort()
	put("  · sort ", t.Label)
	put(fleetCols[col].Name+t.Arrow(desc), t.Value)
	mode := "tiles"
	if f.view.table {
		mode = "table"
	}
	put("  · "+mode, t.Dim)
}

func (f *fleet) stateStyle(k fleetStateKind) tcell.Style {
	switch k {
	case fsLive:
		return f.th.Good
	case fsStale, fsConnecting, fsReconnecting:
		return f.th.Warn
	}
	return f.th.Bad
}
