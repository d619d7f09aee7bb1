package screen

import (
	"strconv"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// containerCols are the Containers table's columns, in model.ContainerCol
// order. At narrow widths the pressure columns, THROT%, the I/O rates,
// RUNTIME, PIDS, LIM% and then the memory gauge give way; NAME, CPU% and
// MEM always stay.
var containerCols = [model.NumContainerCols]widget.Column{
	model.KCName:        {Name: "NAME", Min: 12, Max: 40},
	model.KCRuntime:     {Name: "RUNTIME", Width: 10, Priority: 4},
	model.KCCPU:         {Name: "CPU%", Width: 6, Align: widget.AlignRight, Desc: true},
	model.KCLimit:       {Name: "LIM%", Width: 6, Align: widget.AlignRight, Desc: true, Priority: 6},
	model.KCMem:         {Name: "MEM", Width: 7, Align: widget.AlignRight, Desc: true},
	model.KCMemBar:      {Name: "MEM/LIMIT", Min: 14, Max: 30, Desc: true, Priority: 7},
	model.KCPids:        {Name: "PIDS", Width: 5, Align: widget.AlignRight, Desc: true, Priority: 5},
	model.KCRead:        {Name: "READ/s", Width: 8, Align: widget.AlignRight, Desc: true, Priority: 3},
	model.KCWrite:       {Name: "WRITE/s", Width: 8, Align: widget.AlignRight, Desc: true, Priority: 3},
	model.KCThrottled:   {Name: "THROT%", Width: 6, Align: widget.AlignRight, Desc: true, Priority: 2},
	model.KCCPUPressure: {Name: "P.CPU", Width: 5, Align: widget.AlignRight, Desc: true, Priority: 1},
	model.KCMemPressure: {Name: "P.MEM", Width: 5, Align: widget.AlignRight, Desc: true, Priority: 1},
	model.KCIOPressure:  {Name: "P.IO", Width: 5, Align: widget.AlignRight, Desc: true, Priority: 1},
}

// containersView is the Containers screen: one row per container or
// service of the agent's machine with its CPU (of the machine and of its
// limit), memory against its limit, pids, I/O rates, throttling and
// pressure, from the list the host's watcher asks for while the screen is
// shown. Enter lists the selected container's processes.
type containersView struct {
	d      *dash
	t      *widget.Table[string]
	pane   *widget.Pane
	screen *shell.Screen
	filter *filterBar

	text string
	flt  model.ContainerFilter

	view      []*model.ContainerRow
	builtN    int
	builtCol  int
	builtDesc bool
	dirty     bool
	buf       []byte
}

func newContainersView(d *dash) *containersView {
	v := &containersView{d: d, dirty: true}
	cols := containerCols
	v.t, v.pane = tableOf[string]{cols: cols[:], sortCol: int(model.KCCPU), rows: v,
		refresh: v.refresh, activate: v.processes, paint: v.draw}.build(d.th)
	v.filter = newFilterBar(d.sh, "filter containers: ", v.setFilter)
	v.screen = d.filteredScreen("Containers", v.pane, v.keys(), v.filter, model.Needs{Containers: true})
	return v
}

func (v *containersView) keys() []shell.Binding {
	d := v.d
	keys := []shell.Binding{
		{Keys: shell.Keys(shell.Special(tcell.KeyEscape), shell.Runes('C')), Label: "Esc/C", Hint: "back", HintLabel: "Esc",
			Desc: "back to the dashboard (Esc clears the containers filter first)", Do: v.escape},
		{Keys: shell.Special(tcell.KeyEnter), Label: "Enter", Hint: "processes",
			Desc: "its processes: the process table filtered by container:NAME (mouse: double-click)",
			When: func() bool { return v.selected() != nil }, Do: v.processes},
		{Keys: shell.Runes('/'), Label: "/", Hint: "filter", Desc: "filter: words match the name, id or cgroup path; runtime:NAME (e.g. runtime:docker)",
			Do: func() { v.filter.open(v.text) }},
	}
	keys = append(keys, sortKeys(v.t.MoveSort, v.t.Reverse, "mouse: click a column header; again reverses")...)
	keys = append(keys, d.helpKey(), d.quitKey())
	return append(keys, moveKeys(v.t, "move the selection (mouse: click a row, wheel scrolls)")...)
}

// open shows the screen; its Shown hook asks the watcher for the list.
func (v *containersView) open() { v.d.sh.Push(v.screen) }

func (v *containersView) escape() { v.filter.escape(v.text) }

func (v *containersView) setFilter(s string) {
	v.text, v.flt = s, model.ParseContainerFilter(s)
	v.dirty = true
}

func (v *containersView) selected() *model.ContainerRow {
	if _, ok := v.t.Selected(); !ok {
		return nil
	}
	if i := v.t.Index(); i < len(v.view) {
		return v.view[i]
	}
	return nil
}

// processes goes back to the dashboard with its process table filtered to
// the selected container.
func (v *containersView) processes() {
	r := v.selected()
	if r == nil {
		return
	}
	v.d.sh.Pop()
	v.d.procs.setFilter("container:" + r.Name)
}

func (v *containersView) refresh() bool {
	m := &v.d.h.Containers
	col, desc := v.t.Sort()
	if !v.dirty && v.builtN == m.Samples && col == v.builtCol && desc == v.builtDesc {
		return false
	}
	v.view = model.BuildContainerView(v.view, m.Rows, v.flt, model.ContainerCol(col), desc)
	v.builtN, v.builtCol, v.builtDesc, v.dirty = m.Samples, col, desc, false
	return true
}

// status is the line above the header: the filter, the busiest, the sort.
func (v *containersView) status() string {
	m := &v.d.h.Containers
	var parts []string
	if m.Err != nil {
		parts = append(parts, errText(m.Err))
	}
	if v.text != "" {
		parts = append(parts, "filter \""+v.text+"\"")
	}
	if b, ok := m.Busiest(); ok {
		parts = append(parts, "busiest "+b.Name+" "+widget.Percent(b.CPU))
	}
	parts = append(parts, "CPU% and THROT% of the machine, LIM% of its limit")
	col, desc := v.t.Sort()
	parts = append(parts, "sort "+containerCols[col].Name+v.d.th.Arrow(desc))
	return strings.Join(parts, " · ")
}

func (v *containersView) draw(s tcell.Screen, x, y, w, h int) {
	d, th := v.d, v.d.th
	m := &d.h.Containers
	widget.Fill(s, x, y, w, h, ' ', th.Base)
	v.t.Update()
	info := strconv.Itoa(len(v.view))
	if len(v.view) != len(m.Rows) {
		info += "/" + strconv.Itoa(len(m.Rows))
	}
	ix, iy, iw, ih := d.frame(s, x, y, w, h, "containers", info)
	if iw <= 0 || ih <= 0 {
		return
	}
	widget.Print(s, ix+1, iy, iw-1, v.status(), th.Dim)
	if ih < 3 {
		return
	}
	v.t.Empty = ""
	switch {
	case !d.h.Has(wire.CapContainers):
		v.t.Empty = "this agent does not serve containers"
	case m.Samples == 0 && m.Err != nil:
		v.t.Empty = errText(m.Err)
	case m.Samples == 0:
		v.t.Empty = "waiting for the containers list…"
	case len(m.Rows) == 0:
		v.t.Empty = "no containers or services found in the agent's cgroups"
	}
	v.t.Draw(s, ix+1, iy+1, iw-1, ih-1)
}

// The table's rows (widget.Rows).

func (v *containersView) Len() int         { return len(v.view) }
func (v *containersView) Key(i int) string { return v.view[i].Cgroup }

func (v *containersView) Style(int) tcell.Style { return v.d.th.Base }

func (v *containersView) Cell(s tcell.Screen, i, col int, c widget.Cell) {
	r, th := v.view[i], v.d.th
	b := v.buf[:0]
	warn := func(pct float64) {
		if !c.Selected && widget.Valid(pct) && pct >= 70 {
			c.Style = th.Level(pct)
		}
	}
	switch model.ContainerCol(col) {
	case model.KCName:
		c.Text(s, r.Name)
	case model.KCRuntime:
		c.Text(s, widget.Dash(r.Runtime))
	case model.KCCPU:
		b = widget.AppendNumber(b, r.CPU, 1)
	case model.KCLimit:
		warn(r.LimitPct)
		b = widget.AppendNumber(b, r.LimitPct, 1)
	case model.KCMem:
		b = widget.AppendBytes(b, r.Mem)
	case model.KCMemBar:
		v.memGauge(s, c, r)
	case model.KCPids:
		b = strconv.AppendUint(b, uint64(r.Pids), 10)
	case model.KCRead:
		c.Text(s, widget.Rate(r.Read))
	case model.KCWrite:
		c.Text(s, widget.Rate(r.Write))
	case model.KCThrottled:
		warn(r.Throttled)
		b = widget.AppendNumber(b, r.Throttled, 1)
	case model.KCCPUPressure:
		b = widget.AppendNumber(b, r.CPUPressure, 1)
	case model.KCMemPressure:
		b = widget.AppendNumber(b, r.MemPressure, 1)
	case model.KCIOPressure:
		b = widget.AppendNumber(b, r.IOPressure, 1)
	}
	if len(b) > 0 {
		c.ASCII(s, b)
	}
	v.buf = b
}

// memGauge draws memory against the limit: a bar and "512M/1.0G", or "no
// limit" when there is none.
func (v *containersView) memGauge(s tcell.Screen, c widget.Cell, r *model.ContainerRow) {
	th := v.d.th
	if r.MemLimit == 0 {
		c.Text(s, "no limit")
		return
	}
	label := widget.Bytes(r.Mem) + "/" + widget.Bytes(r.MemLimit)
	bw := c.W - widget.Width(label) - 1
	if bw < 3 {
		c.Text(s, label)
		return
	}
	frac := r.MemPct / 100
	fill := th.Mem(frac)
	if c.Selected {
		fill = c.Style
	}
	widget.Bar(s, c.X, c.Y, bw, frac, th.ASCII, fill, th.BarEmpty)
	widget.PrintRight(s, c.X+bw+1, c.Y, c.W-bw-1, label, c.Style)
}
