package tui

import "github.com/gdamore/tcell/v2"

// screen names a state of the UI; each binding says where it works, and
// the footer and help are generated from that, so they cannot drift.
type screen uint8

const (
	scrMain screen = 1 << iota
	scrDetail
	scrHelp
	scrFilter
	scrConfirm
	scrConns       // the Connections screen (conns_view.go)
	scrConnsFilter // its filter input
)

var screenTitles = []struct {
	s    screen
	name string
}{
	{scrMain, "Dashboard"}, {scrDetail, "Process detail"}, {scrHelp, "Help"},
	{scrFilter, "Filter"}, {scrConfirm, "Signal dialog"},
	{scrConns, "Connections"}, {scrConnsFilter, "Connections filter"},
}

// key is one key a binding answers to: a special key, or a rune.
type key struct {
	k tcell.Key
	r rune
}

func (k key) match(ev *tcell.EventKey) bool {
	if k.r != 0 {
		return ev.Key() == tcell.KeyRune && ev.Rune() == k.r
	}
	return ev.Key() == k.k
}

// binding is one entry of the key map. A binding whose do is nil is a
// movement key handled by the focused view; it is listed so help and the
// footer name it.
type binding struct {
	keys  []key
	label string // the keys as shown: "↑/↓"
	hint  string // short footer text; "" keeps it out of the footer
	// hintLabel replaces label in the footer ("h/l" for a pair)
	hintLabel string
	desc      string // help text
	screens   screen
	// when, if set, says whether the binding applies now (e.g. the agent
	// advertises signals); help still lists it with its condition.
	when     func(a *App) bool
	whenText string
	do       func(a *App)
}

func runeKeys(rs ...rune) []key {
	out := make([]key, len(rs))
	for i, r := range rs {
		out[i] = key{r: r}
	}
	return out
}

func specialKeys(ks ...tcell.Key) []key {
	out := make([]key, len(ks))
	for i, k := range ks {
		out[i] = key{k: k}
	}
	return out
}

func keys(groups ...[]key) []key {
	var out []key
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

const allScreens = scrMain | scrDetail | scrHelp | scrConfirm

// keyMap is the dashboard's every key binding, in help order.
func keyMap() []binding {
	signals := func(a *App) bool { return a.h.has("signals") && a.selectedPID() != 0 }
	return append([]binding{
		{keys: runeKeys('q'), label: "q", hint: "quit", desc: "quit socktop", screens: allScreens &^ scrConfirm,
			do: (*App).quit},
		{keys: runeKeys('?'), label: "?", hint: "help", desc: "show this help (generated from the key map)", screens: scrMain | scrDetail | scrHelp,
			do: (*App).toggleHelp},
		{keys: specialKeys(tcell.KeyEnter), label: "Enter", hint: "detail", desc: "open the selected process (mouse: double-click a row)", screens: scrMain,
			when: func(a *App) bool { return a.selectedPID() != 0 }, do: (*App).openDetail},
		{keys: runeKeys('/'), label: "/", hint: "filter", desc: "filter processes: text matches name or pid; pid:N, user:NAME", screens: scrMain,
			do: (*App).openFilter},
		connsOpenBinding(),
		{keys: runeKeys('k'), label: "k", hint: "kill", desc: "send SIGTERM to the selected process (asks first)", screens: scrMain | scrDetail,
			when: signals, whenText: "agent advertises signals", do: func(a *App) { a.confirmSignal("SIGTERM") }},
		{keys: runeKeys('K'), label: "K", desc: "send SIGKILL to the selected process (asks first)", screens: scrMain | scrDetail,
			when: signals, whenText: "agent advertises signals", do: func(a *App) { a.confirmSignal("SIGKILL") }},
		{keys: runeKeys('t'), label: "t", hint: "tree", desc: "tree view by parent pid (on/off)", screens: scrMain,
			when: func(a *App) bool { return a.h.hasTreeData() }, whenText: "agent sends parent pids",
			do: func(a *App) { a.procs.toggleTree() }},
		{keys: keys(runeKeys('h', '<'), specialKeys(tcell.KeyLeft)), label: "h/←", hint: "sort", hintLabel: "h/l", desc: "sort by the previous column (mouse: click a column header; again reverses)",
			screens: scrMain, do: func(a *App) { a.procs.moveSort(-1) }},
		{keys: keys(runeKeys('l', '>'), specialKeys(tcell.KeyRight)), label: "l/→", desc: "sort by the next column",
			screens: scrMain, do: func(a *App) { a.procs.moveSort(+1) }},
		{keys: runeKeys('I'), label: "I", hint: "rev", desc: "reverse the sort order", screens: scrMain, do: func(a *App) { a.procs.reverse() }},
		{keys: runeKeys('P'), label: "P", desc: "sort by CPU%", screens: scrMain, do: func(a *App) { a.procs.sortBy(colCPU) }},
		{keys: runeKeys('M'), label: "M", desc: "sort by memory", screens: scrMain, do: func(a *App) { a.procs.sortBy(colMem) }},
		{keys: runeKeys('N'), label: "N", desc: "sort by PID", screens: scrMain, do: func(a *App) { a.procs.sortBy(colPID) }},
		{keys: runeKeys('r'), label: "r", hint: "reconnect", desc: "reconnect now (skips the wait; retries a refused token or pin)", screens: scrMain | scrDetail,
			do: func(a *App) { a.w.retryNow() }},
		{keys: specialKeys(tcell.KeyEscape), label: "Esc", hint: "back", desc: "close the dialog or view on top; on the dashboard clear the filter, then quit",
			screens: allScreens, do: (*App).escape},
		{keys: specialKeys(tcell.KeyUp, tcell.KeyDown), label: "↑/↓", desc: "move the selection or scroll (mouse: click a row, wheel scrolls)",
			screens: scrMain | scrDetail | scrHelp, do: nil},
		{keys: specialKeys(tcell.KeyPgUp, tcell.KeyPgDn), label: "PgUp/PgDn", desc: "page through the list", screens: scrMain | scrDetail | scrHelp, do: nil},
		{keys: specialKeys(tcell.KeyHome, tcell.KeyEnd), label: "Home/End", desc: "first / last row", screens: scrMain | scrDetail | scrHelp, do: nil},
		{keys: specialKeys(tcell.KeyEnter), label: "Enter", hint: "apply", desc: "keep the filter and return to the table", screens: scrFilter, do: (*App).closeFilter},
		{keys: specialKeys(tcell.KeyEscape), label: "Esc", hint: "clear", desc: "clear the filter", screens: scrFilter, do: (*App).escape},
		{keys: runeKeys('y'), label: "y", hint: "send", desc: "send the signal", screens: scrConfirm, do: (*App).sendSignal},
		{keys: runeKeys('n'), label: "n", hint: "cancel", desc: "cancel (also Esc)", screens: scrConfirm, do: (*App).escape},
		{keys: specialKeys(tcell.KeyTab, tcell.KeyLeft, tcell.KeyRight, tcell.KeyEnter), label: "Tab ←/→ Enter", hint: "choose", desc: "choose a button and press it (mouse: click it)",
			screens: scrConfirm, do: nil},
	}, connsKeyMap()...)
}

// footerHints is the footer text for screen s: "q quit  ? help  …".
func footerHints(a *App, bs []binding, s screen) []binding {
	var out []binding
	for _, b := range bs {
		if b.screens&s == 0 || b.hint == "" {
			continue
		}
		if b.when != nil && !b.when(a) {
			continue
		}
		out = append(out, b)
	}
	return out
}
