package screen

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// connCols are the Connections table's columns, in model.ConnCol order.
// At narrow widths SEGS IN, SEGS OUT, RETR, RTT, PROTO, PID, STATE, then IN
// and OUT give way; LOCAL, REMOTE and PROCESS share what is left equally,
// the addresses each at least "127.0.0.1:65535" wide and at most an IPv6
// address with its port, the process name at most 32.
var connCols = [model.NumConnCols]widget.Column{
	model.CCProto:   {Name: "PROTO", Width: 5, Priority: 5},
	model.CCLocal:   {Name: "LOCAL", Min: 15, Max: 47},
	model.CCRemote:  {Name: "REMOTE", Min: 15, Max: 47},
	model.CCState:   {Name: "STATE", Width: 10, Priority: 7},
	model.CCPID:     {Name: "PID", Width: 7, Align: widget.AlignRight, Priority: 6},
	model.CCProc:    {Name: "PROCESS", Min: 10, Max: 32},
	model.CCIn:      {Name: "IN", Width: 7, Align: widget.AlignRight, Desc: true, Priority: 8},
	model.CCOut:     {Name: "OUT", Width: 7, Align: widget.AlignRight, Desc: true, Priority: 8},
	model.CCSegsIn:  {Name: "SEGS IN", Width: 8, Align: widget.AlignRight, Desc: true, Priority: 1},
	model.CCSegsOut: {Name: "SEGS OUT", Width: 8, Align: widget.AlignRight, Desc: true, Priority: 2},
	model.CCRateIn:  {Name: "IN/s", Width: 8, Align: widget.AlignRight, Desc: true},
	model.CCRateOut: {Name: "OUT/s", Width: 8, Align: widget.AlignRight, Desc: true},
	model.CCRTT:     {Name: "RTT", Width: 7, Align: widget.AlignRight, Desc: true, Priority: 4},
	model.CCRetrans: {Name: "RETR", Width: 5, Align: widget.AlignRight, Desc: true, Priority: 3},
}

// connsView is the Connections screen: every socket of the agent's
// machine with its process, traffic, rates and RTT, from the socket table
// the host's watcher fetches while the screen is shown.
type connsView struct {
	d      *dash
	t      *widget.Table[model.ConnKey]
	pane   *widget.Pane
	screen *shell.Screen
	filter *filterBar

	text      string // the filter as typed
	flt       model.ConnFilter
	listening bool // show listening sockets
	group     bool // per-process totals
	dns       bool // reverse DNS names instead of addresses
	res       *model.Resolver

	view      []*model.ConnRow
	groups    []model.ConnRow
	builtN    int // Conns.Samples the view was built from
	builtCol  int
	builtDesc bool
	dirty     bool
	visible   int // rows after the listening toggle and the filter, before grouping
}

func newConnsView(d *dash) *connsView {
	v := &connsView{d: d, dirty: true}
	cols := connCols
	v.t, v.pane = tableOf[model.ConnKey]{cols: cols[:], sortCol: int(model.CCRateIn), rows: v,
		refresh: v.refresh, activate: v.openProcess, paint: v.draw}.build(d.th)
	v.filter = newFilterBar(d.sh, "filter connections: ", v.setFilter)
	v.screen = d.filteredScreen("Connections", v.pane, v.keys(), v.filter, model.Needs{Connections: true})
	return v
}

func (v *connsView) keys() []shell.Binding {
	d := v.d
	keys := []shell.Binding{
		{Keys: shell.Keys(shell.Special(tcell.KeyEscape), shell.Runes('c')), Label: "Esc/c", HintLabel: "Esc",
			HintNow: func() string {
				if v.text != "" {
					return "clear filter"
				}
				return "back"
			},
			Desc: "back to the dashboard (Esc clears the filter first)", Do: v.escape},
		{Keys: shell.Runes('/'), Label: "/", Hint: "filter", Desc: "filter: words must all match; port:N pid:N proc:NAME addr:TEXT state:NAME (e.g. state:estab)",
			Do: func() { v.filter.open(v.text) }},
	}
	keys = append(keys, sortKeys(v.moveSort, v.reverse, "mouse: click a column header; again reverses")...)
	keys = append(keys,
		shell.Binding{Keys: shell.Runes('L'), Label: "L", Hint: "listening", Desc: "show or hide listening sockets (TCP LISTEN, unconnected UDP)",
			Do: v.toggleListening},
		shell.Binding{Keys: shell.Runes('g'), Label: "g", Hint: "by process", Desc: "per-process totals instead of sockets (on/off)", Do: v.toggleGroup},
		shell.Binding{Keys: shell.Special(tcell.KeyEnter), Label: "Enter", Hint: "process", Desc: "open the selected connection's process (mouse: double-click a row)",
			When: func() bool { return v.selectedPID() != 0 }, Do: v.openProcess},
		shell.Binding{Keys: shell.Runes('d'), Label: "d", Hint: "dns", Desc: "reverse DNS names for addresses (on/off; looked up in the background, cached)",
			Do: v.toggleDNS},
		d.helpKey(), d.quitKey(),
	)
	return append(keys, moveKeys(v.t, "move the selection (mouse: click a row, wheel scrolls)")...)
}

// open shows the screen; its Shown hook asks the watcher for the table.
func (v *connsView) open() { v.d.sh.Push(v.screen) }

// selectedPID is the selected row's process, 0 for none (a socket the
// agent could not tie to a process).
func (v *connsView) selectedPID() uint32 {
	if _, ok := v.t.Selected(); !ok {
		return 0
	}
	if i := v.t.Index(); i < len(v.view) {
		return v.view[i].PID
	}
	return 0
}

// openProcess opens the selected connection's process in the detail view,
// over this screen: Esc comes back here.
func (v *connsView) openProcess() {
	i := v.t.Index()
	if pid := v.selectedPID(); pid != 0 && i < len(v.view) {
		v.d.detail.open(pid, v.view[i].Proc)
	}
}

// escape clears the filter, then closes the screen.
func (v *connsView) escape() { v.filter.escape(v.text) }

func (v *connsView) setFilter(s string) {
	v.text, v.flt = s, model.ParseConnFilter(s)
	v.dirty = true
}

func (v *connsView) moveSort(d int)   { v.t.MoveSort(d) }
func (v *connsView) reverse()         { v.t.Reverse() }
func (v *connsView) toggleListening() { v.listening = !v.listening; v.dirty = true }

func (v *connsView) toggleGroup() {
	v.group = !v.group
	v.dirty = true
	v.t.Cols[model.CCProto].Hidden = v.group
	v.t.Cols[model.CCLocal].Name, v.t.Cols[model.CCRemote].Name = "LOCAL", "REMOTE"
	if v.group {
		v.t.Cols[model.CCLocal].Name, v.t.Cols[model.CCRemote].Name = "SOCKETS", "PEERS"
	}
	v.t.Home()
}

func (v *connsView) toggleDNS() {
	v.dns = !v.dns
	if v.dns && v.res == nil {
		sh := v.d.sh
		v.res = model.NewResolver(sh.Go, func() { sh.Post(func() { v.dirty = true }) })
	}
	v.dirty = true
}

// names returns the reverse DNS names of a row's addresses from the cache,
// or "" when DNS is off.
func (v *connsView) names(r *model.ConnRow) (string, string) {
	if r.Group {
		return "", ""
	}
	return v.name(r.Key.Local.Addr(), false), v.name(r.Key.Remote.Addr(), false)
}

// name is a's reverse DNS name from the cache (queueing a lookup when
// queue is set), or "" when DNS is off or the name is not known yet.
func (v *connsView) name(a netip.Addr, queue bool) string {
	switch {
	case !v.dns || v.res == nil:
		return ""
	case queue:
		return v.res.Name(a, time.Now())
	}
	return v.res.Peek(a)
}

// refresh rebuilds the visible rows when the data or the view changed.
func (v *connsView) refresh() bool {
	m := &v.d.h.Conns
	col, desc := v.t.Sort()
	if !v.dirty && v.builtN == m.Samples && col == v.builtCol && desc == v.builtDesc {
		return false
	}
	v.view = v.view[:0]
	for i := range m.Rows {
		r := &m.Rows[i]
		if !v.listening && r.Listening() {
			continue
		}
		if !v.flt.Empty() {
			ln, rn := v.names(r)
			if !v.flt.Match(r, ln, rn) {
				continue
			}
		}
		v.view = append(v.view, r)
	}
	v.visible = len(v.view)
	if v.group {
		v.groups = model.GroupConns(v.groups, v.view)
		v.view = v.view[:0]
		for i := range v.groups {
			v.view = append(v.view, &v.groups[i])
		}
	}
	model.SortConns(v.view, model.ConnCol(col), desc)
	v.builtN, v.builtCol, v.builtDesc, v.dirty = m.Samples, col, desc, false
	return true
}

// status is the line above the header: filter, what n/a means, toggles,
// sort; the most important first, as a narrow screen cuts the end.
func (v *connsView) status() string {
	m := &v.d.h.Conns
	var parts []string
	if v.text != "" {
		parts = append(parts, "filter \""+v.text+"\"")
	}
	var why []string
	if m.UDP > 0 {
		why = append(why, "UDP")
	}
	switch {
	case m.Fallback():
		why = append(why, "TCP: agent reads /proc/net")
	case m.TCPUncounted > 0:
		why = append(why, "TIME-WAIT")
	}
	if len(why) > 0 {
		parts = append(parts, "n/a = traffic not counted ("+strings.Join(why, ", ")+")")
	}
	if v.listening {
		parts = append(parts, "listening shown")
	} else {
		parts = append(parts, "listening hidden (L)")
	}
	if v.group {
		parts = append(parts, "per process")
	}
	if v.dns {
		dns := "reverse DNS on"
		if v.res != nil {
			if n := v.res.Pending(); n > 0 {
				dns += " (" + strconv.Itoa(n) + " pending)"
			}
		}
		parts = append(parts, dns)
	}
	col, desc := v.t.Sort()
	parts = append(parts, "sort "+connCols[col].Name+v.d.th.Arrow(desc))
	if m.Err != nil {
		parts = append([]string{errText(m.Err)}, parts...)
	}
	return strings.Join(parts, " · ")
}

func (v *connsView) draw(s tcell.Screen, x, y, w, h int) {
	d, th := v.d, v.d.th
	m := &d.h.Conns
	widget.Fill(s, x, y, w, h, ' ', th.Base)
	v.t.Update()
	info := strconv.Itoa(len(v.view))
	if v.group {
		info += " processes, " + strconv.Itoa(v.visible) + " sockets"
	} else if v.visible != len(m.Rows) {
		info += "/" + strconv.Itoa(len(m.Rows))
	}
	ix, iy, iw, ih := d.frame(s, x, y, w, h, "connections", info)
	if iw <= 0 || ih <= 0 {
		return
	}
	widget.Print(s, ix+1, iy, iw-1, v.status(), th.Dim)
	if ih < 3 {
		return
	}
	v.t.Empty = ""
	if m.Samples == 0 {
		v.t.Empty = "waiting for the socket table…"
		switch {
		case !d.h.Has(wire.CapConnections):
			v.t.Empty = "this agent does not serve connections"
		case m.Err != nil:
			v.t.Empty = errText(m.Err)
		}
	}
	v.t.Draw(s, ix+1, iy+1, iw-1, ih-1)
}
