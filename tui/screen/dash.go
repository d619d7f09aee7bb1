package screen

import (
	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// dash is one host's dashboard and the screens it opens (process detail,
// connections, the filter and signal dialogs), over the host's model and
// watcher. A single run has one; a fleet has one per member, pushed on the
// fleet's shell when the user opens that host.
type dash struct {
	sh     *shell.Shell
	th     *widget.Theme
	h      *model.Host
	w      *model.Watcher
	target model.Target
	every  model.Cadence
	demo   bool
	member bool // on a fleet: Esc on the dashboard goes back to it
	al     *alerting
	replay *model.Replay    // the recording played back; nil: an agent
	rec    *model.Recording // what the watcher records to; nil: nothing

	// where the graphs were last drawn, for clicks (travel.go)
	cpuArea, memArea, netArea graphArea

	main    *shell.Screen
	view    *dashView
	procs   *procTable
	filter  *filterBar
	confirm *confirmDialog
	detail  *detailView
	conns   *connsView
	ctrs    *containersView
}

func (d *dash) build() {
	d.procs = newProcTable(d)
	d.view = newDashView(d)
	d.filter = newFilterBar(d.sh, "filter: ", func(s string) { d.procs.setFilter(s) })
	d.confirm = newConfirm(d)
	d.detail = newDetailView(d)
	d.conns = newConnsView(d)
	d.ctrs = newContainersView(d)
	d.main = &shell.Screen{Name: "Dashboard", View: d.view, Keys: d.mainKeys(),
		Header: d.paintHeader, HeaderRows: 2,
		Help: []shell.Section{{Name: "Process detail", Keys: d.detail.screen.Keys}, {Name: "Filter", Keys: d.filter.screen.Keys},
			{Name: "Signal dialog", Keys: d.confirm.screen.Keys}, {Name: "Connections", Keys: d.conns.screen.Keys},
			{Name: "Containers", Keys: d.ctrs.screen.Keys}},
		Shown:  func() { d.view.claim() },
		Hidden: func() { d.w.Release(d.main) },
	}
}

// keyMap is every binding of the dashboard and the screens it opens, in
// help order.
func (d *dash) keyMap() []shell.Binding {
	out := d.main.Keys
	for _, s := range d.main.Help {
		out = append(out, s.Keys...)
	}
	return out
}

func (d *dash) quitKey() shell.Binding {
	return shell.Binding{Keys: shell.Runes('q'), Label: "q", Hint: "quit", Desc: "quit socktop", Do: d.sh.Quit}
}

func (d *dash) helpKey() shell.Binding {
	return shell.Binding{Keys: shell.Runes('?'), Label: "?", Hint: "help", Desc: "show this help (generated from the key map)", Do: d.sh.ToggleHelp}
}

func (d *dash) retryKey() shell.Binding {
	return shell.Binding{Keys: shell.Runes('r'), Label: "r", Hint: "reconnect", Desc: "reconnect now (skips the wait; retries a refused token or pin)",
		Do: d.w.RetryNow}
}

// signalKeys are k and K, where a process is selected and the agent takes
// signals.
func (d *dash) signalKeys() []shell.Binding {
	// Never from a past moment's list: its pid may name another process now.
	signals := func() bool { return d.h.Has(wire.CapSignals) && d.selectedPID() != 0 && d.h.CursorAt == 0 }
	return []shell.Binding{
		{Keys: shell.Runes('k'), Label: "k", Hint: "kill", Desc: "send SIGTERM to the selected process (asks first)",
			When: signals, WhenText: "agent advertises signals", Do: func() { d.confirmSignal("SIGTERM") }},
		{Keys: shell.Runes('K'), Label: "K", Desc: "send SIGKILL to the selected process (asks first)",
			When: signals, WhenText: "agent advertises signals", Do: func() { d.confirmSignal("SIGKILL") }},
	}
}

func (d *dash) mainKeys() []shell.Binding {
	p := d.procs
	esc := "clear the filter, then go back to live; nothing more on the first screen (q quits, so a stray Esc never loses the graphs)"
	if d.member {
		esc = "clear the filter, go back to live, then back to the fleet"
	}
	keys := []shell.Binding{
		d.quitKey(), d.helpKey(),
		{Keys: shell.Special(tcell.KeyEnter), Label: "Enter", Hint: "detail", Desc: "open the selected process (mouse: double-click a row)",
			When: func() bool { return d.selectedPID() != 0 && d.h.CursorAt == 0 && d.h.Has(wire.CapProcessDetail) }, Do: d.openDetail},
		{Keys: shell.Runes('/'), Label: "/", Hint: "filter", Desc: "filter processes: text matches the name, the command line (arguments too) or the pid; pid:N, user:NAME, container:NAME",
			Do: func() { d.filter.open(p.filter) }},
		{Keys: shell.Runes('c'), Label: "c", Hint: "conns", Desc: "connections: every socket with its process, traffic, rates and RTT",
			When: func() bool { return d.h.Has(wire.CapConnections) }, WhenText: "agent advertises connections", Do: d.conns.open},
		{Keys: shell.Runes('C'), Label: "C", Hint: "containers", Desc: "containers and services: CPU, memory and limits, pids, I/O, throttling, pressure",
			When: func() bool { return d.h.Has(wire.CapContainers) }, WhenText: "agent advertises containers", Do: d.ctrs.open},
		// Esc's hint shows only while it does something (clear the
		// filter, back to live, to the fleet); the time and replay keys
		// come early so a narrow footer still shows them
		{Keys: shell.Special(tcell.KeyEscape), Label: "Esc", HintNow: d.escapeHint, Desc: esc, Do: d.escape},
	}
	keys = append(keys, d.timeKeys()...)
	if d.replay != nil {
		keys = append(keys, d.replayKeys()...)
	}
	keys = append(keys, d.signalKeys()...)
	keys = append(keys,
		shell.Binding{Keys: shell.Runes('t'), Label: "t", Hint: "tree", Desc: "tree view by parent pid; again: grouped by container; again: off",
			When: func() bool { return d.h.HasTreeData() && d.h.CursorAt == 0 }, WhenText: "agent sends parent pids", Do: p.toggleTree},
		shell.Binding{Keys: shell.Runes('p'), Label: "p", Hint: "cmd", Desc: "show the name and the command line, the name only, or the command line only (in turn)",
			Do: p.cycleNames},
		shell.Binding{Keys: shell.Runes('%'), Label: "%", Hint: "cpu%", Desc: "CPU% per core (top's: a process using a whole core shows 100) or of the whole machine (upstream's: per core = machine × cores)",
			Do: p.toggleCPU})
	keys = append(keys, sortKeys(p.t.MoveSort, p.t.Reverse, "mouse: click a column header; again reverses")...)
	traffic := func() bool { return d.h.Has(wire.CapProcessExtras) && d.h.CursorAt == 0 }
	keys = append(keys,
		shell.Binding{Keys: shell.Runes('P'), Label: "P", Desc: "sort by CPU%", Do: func() { p.t.SortBy(int(model.ColCPU)) }},
		shell.Binding{Keys: shell.Runes('M'), Label: "M", Desc: "sort by memory", Do: func() { p.t.SortBy(int(model.ColMem)) }},
		shell.Binding{Keys: shell.Runes('N'), Label: "N", Desc: "sort by PID", Do: func() { p.t.SortBy(int(model.ColPID)) }},
		shell.Binding{Keys: shell.Runes('B'), Label: "B", Desc: "sort by TCP bytes received per second (TCP▼); again: sent (TCP▲)",
			When: traffic, WhenText: "agent advertises process_extras", Do: func() { p.sortTraffic(model.ColNetIn, model.ColNetOut) }},
		shell.Binding{Keys: shell.Runes('D'), Label: "D", Desc: "sort by disk bytes read per second (DISK-R); again: written (DISK-W)",
			When: traffic, WhenText: "agent advertises process_extras", Do: func() { p.sortTraffic(model.ColDiskRead, model.ColDiskWrite) }},
		d.retryKey(),
		d.al.keys()[0],
	)
	return append(keys, moveKeys(p.t, "move the selection (mouse: click a row, wheel scrolls)")...)
}

// table is what sortKeys and moveKeys drive: every table's keys go
// through its screen's key map.
type table interface {
	Move(d int)
	PageUp()
	PageDown()
	Home()
	End()
}

// sortKeys are h/l (and ←/→, </>) through the sort columns and I to
// reverse.
func sortKeys(moveSort func(int), reverse func(), how string) []shell.Binding {
	return []shell.Binding{
		{Keys: shell.Keys(shell.Runes('h', '<'), shell.Special(tcell.KeyLeft)), Label: "h/←", Hint: "sort", HintLabel: "h/l",
			Desc: "sort by the previous column (" + how + ")", Do: func() { moveSort(-1) }},
		{Keys: shell.Keys(shell.Runes('l', '>'), shell.Special(tcell.KeyRight)), Label: "l/→", Desc: "sort by the next column",
			Do: func() { moveSort(+1) }},
		{Keys: shell.Runes('I'), Label: "I", Hint: "rev", Desc: "reverse the sort order", Do: reverse},
	}
}

// moveKeys move a table's selection.
func moveKeys(t table, what string) []shell.Binding {
	pick := func(a, b func()) func(*tcell.EventKey) {
		return func(ev *tcell.EventKey) {
			switch ev.Key() {
			case tcell.KeyUp, tcell.KeyPgUp, tcell.KeyHome:
				a()
			default:
				b()
			}
		}
	}
	return []shell.Binding{
		{Keys: shell.Special(tcell.KeyUp, tcell.KeyDown), Label: "↑/↓", Desc: what,
			DoKey: pick(func() { t.Move(-1) }, func() { t.Move(1) })},
		{Keys: shell.Special(tcell.KeyPgUp, tcell.KeyPgDn), Label: "PgUp/PgDn", Desc: "page through the list", DoKey: pick(t.PageUp, t.PageDown)},
		{Keys: shell.Special(tcell.KeyHome, tcell.KeyEnd), Label: "Home/End", Desc: "first / last row", DoKey: pick(t.Home, t.End)},
	}
}

// escape clears the filter, then goes back to live, then to the fleet. On
// the first screen it does nothing more: quitting is q's job, and Esc is
// pressed by habit (closing a dialog, leaving vi's insert mode) often
// enough that quitting on it lost people their graphs' history.
func (d *dash) escape() {
	switch {
	case d.procs.filter != "":
		d.procs.setFilter("")
	case d.backToLive():
	case d.member:
		d.sh.Pop()
	default:
		d.sh.Flash("q quits")
	}
}

// escapeHint is what Esc does now, for the footer.
func (d *dash) escapeHint() string {
	switch {
	case d.procs.filter != "":
		return "clear filter"
	case d.h.CursorAt != 0 || d.h.Zoom != model.ZoomLive:
		return "live"
	case d.member:
		return "fleet"
	}
	return ""
}

func (d *dash) selectedPID() uint32 {
	if d.sh.Top() == d.detail.screen {
		return d.detail.pid
	}
	if r := d.procs.selected(); r != nil {
		return r.PID
	}
	return 0
}

func (d *dash) openDetail() {
	if r := d.procs.selected(); r != nil {
		d.detail.open(r.PID, r.Name)
	}
}

// confirmSignal asks before sending sig to the selected process.
func (d *dash) confirmSignal(sig string) {
	pid := d.selectedPID()
	if pid == 0 {
		return
	}
	name := d.detail.name
	var start uint64
	if dp := d.h.Detail; dp.GetPid() == pid {
		start = dp.GetStartTime()
	}
	if d.sh.Top() != d.detail.screen {
		if r := d.procs.selected(); r != nil {
			name, start = r.Name, r.Start
		}
	}
	d.confirm.open(pid, start, name, sig)
}
