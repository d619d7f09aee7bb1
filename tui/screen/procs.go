package screen

import (
	"strconv"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// procCols are the process table's columns, in model.ProcCol order. At
// narrow widths CONTAINER, DISK-R and -W, TCP▼ and ▲, NI, THR, TIME+, the
// command (when the name is shown too), USER, MEM% and S give way, in
// that order: the traffic columns cost the agent a socket dump and an io
// read per process, so they are drawn (and asked for) where the screen
// has room for everything else, or while the table is sorted by one.
var procCols = [model.NumProcCols]widget.Column{
	model.ColPID:       {Name: "PID", Width: 7, Align: widget.AlignRight},
	model.ColUser:      {Name: "USER", Width: 9, Priority: 8},
	model.ColName:      {Name: "NAME", Min: 16},
	model.ColState:     {Name: "S", Width: 2, Priority: 10},
	model.ColCPU:       {Name: "CPU%", Width: 6, Align: widget.AlignRight, Desc: true},
	model.ColMem:       {Name: "MEM", Width: 7, Align: widget.AlignRight, Desc: true},
	model.ColMemPct:    {Name: "MEM%", Width: 6, Align: widget.AlignRight, Desc: true, Priority: 9},
	model.ColThreads:   {Name: "THR", Width: 4, Align: widget.AlignRight, Desc: true, Priority: 5},
	model.ColNice:      {Name: "NI", Width: 3, Align: widget.AlignRight, Priority: 4},
	model.ColTime:      {Name: "TIME+", Width: 9, Align: widget.AlignRight, Desc: true, Priority: 6},
	model.ColNetIn:     {Name: "TCP▼", Width: 7, Align: widget.AlignRight, Desc: true, Priority: trafficPriority + 1},
	model.ColNetOut:    {Name: "TCP▲", Width: 7, Align: widget.AlignRight, Desc: true, Priority: trafficPriority + 1},
	model.ColDiskRead:  {Name: "DISK-R", Width: 7, Align: widget.AlignRight, Desc: true, Priority: trafficPriority},
	model.ColDiskWrite: {Name: "DISK-W", Width: 7, Align: widget.AlignRight, Desc: true, Priority: trafficPriority},
	model.ColCommand:   {Name: "COMMAND", Min: 16},
	model.ColContainer: {Name: "CONTAINER", Width: 14, Priority: 1, Hidden: true},
}

// trafficPriority is where the disk columns give way (the TCP ones next).
const trafficPriority = 2

// nameMode is what the process table shows of each process: its name,
// its command line, or both (the name, then the command line in the
// spare width); `p` goes round them, as htop's and btop's keys do.
type nameMode int

const (
	showBoth nameMode = iota
	showName
	showCommand
	numNameModes
)

var nameModeNames = [numNameModes]string{"name and command", "name", "command"}

// procTable is the process list: the table widget over the host's rows,
// filtered, sorted and (t) as a tree. Only the visible rows are drawn, so
// 1000 processes cost no more than 50.
type procTable struct {
	d    *dash
	t    *widget.Table[uint32]
	pane *widget.Pane

	tree    treeMode
	filter  string
	flt     model.ProcFilter
	heads   []model.ProcRow // the container heads of a tree grouped by container
	names   nameMode
	machine bool // CPU% as a share of the whole machine (upstream's), not of one core (top's)
	// commands: the command lines are wanted (their column was drawn, or
	// a filter matches them), as last told to the watcher
	commands bool
	// traffic: the TCP and I/O counters are wanted (a column of them was
	// drawn), as last told to the watcher
	traffic bool

	view      []*model.ProcRow
	past      []model.ProcRow // a past moment's rows (its top processes)
	builtAt   time.Time       // ProcsAt of the data the view was built from
	builtPast uint64          // the past moment's time, 0 for live rows
	builtCol  int
	builtDesc bool
	dirty     bool
	buf       []byte
	busiest   uint32
}

func newProcTable(d *dash) *procTable {
	p := &procTable{d: d, dirty: true}
	cols := procCols
	p.t, p.pane = tableOf[uint32]{cols: cols[:], sortCol: int(model.ColCPU), rows: p,
		refresh: p.refresh, activate: d.openDetail, paint: p.draw}.build(d.th)
	p.columns()
	return p
}

// treeMode is how the table is arranged: a list, a tree by parent pid,
// or that tree grouped by container.
type treeMode uint8

const (
	treeOff treeMode = iota
	treeParents
	treeContainers
)

// toggleTree goes from the list to the tree, to the tree grouped by
// container (where processes name one), back to the list.
func (p *procTable) toggleTree() {
	switch {
	case p.tree == treeOff:
		p.tree = treeParents
	case p.tree == treeParents && p.hasContainers():
		p.tree = treeContainers
	default:
		p.tree = treeOff
	}
	p.dirty = true
}

func (p *procTable) hasContainers() bool {
	for i := range p.d.h.Rows {
		if p.d.h.Rows[i].Container != "" {
			return true
		}
	}
	return false
}

// cycleNames shows the name, the command line, or both, in turn.
func (p *procTable) cycleNames() {
	p.names = (p.names + 1) % numNameModes
	p.dirty = true
	p.columns()
	// a sort by name or command follows the text column that is shown
	name, cmd := p.t.Cols[model.ColName].Hidden, p.t.Cols[model.ColCommand].Hidden
	if col, desc := p.t.Sort(); col == int(model.ColName) && name && !cmd {
		p.t.SetSort(int(model.ColCommand), desc)
	} else if col == int(model.ColCommand) && cmd {
		p.t.SetSort(int(model.ColName), desc)
	}
	p.d.sh.Flash("processes: " + nameModeNames[p.names])
}

// toggleCPU switches CPU% between one core's share and the machine's.
func (p *procTable) toggleCPU() {
	p.machine = !p.machine
	p.d.sh.Flash("CPU% " + p.cpuMode())
}

// cpuMode names the CPU% convention on: "per core" (a process using a
// whole core shows 100, as in top) or "of machine" (upstream's; what
// agents send).
func (p *procTable) cpuMode() string {
	if p.machine {
		return "of machine"
	}
	return "per core"
}

// cpuScale turns the agents' share of the machine into what CPU% shows:
// per core it is the share times the cores.
func (p *procTable) cpuScale() float64 {
	if n := p.d.h.CoreCount(); !p.machine && n > 0 {
		return float64(n)
	}
	return 1
}

// columns shows and hides columns for the data and the name mode. The
// command column is shown where the agent sends command lines or can
// (process extras); elsewhere the name stays.
func (p *procTable) columns() {
	h, cols := p.d.h, p.t.Cols
	if !h.ProcsAt.IsZero() {
		// upstream's list has no user, state, thread count, nice or CPU
		// time: those columns are hidden then
		var hasUser, hasState, hasThreads, hasTicks, hasContainer bool
		for i := range h.Rows {
			r := &h.Rows[i]
			hasUser = hasUser || r.User != ""
			hasState = hasState || r.State != ""
			hasThreads = hasThreads || r.Threads != 0
			hasTicks = hasTicks || r.Ticks != 0
			hasContainer = hasContainer || r.Container != ""
		}
		// only agents with containers name them; grouped, heads name them
		cols[model.ColContainer].Hidden = !hasContainer || p.grouped()
		cols[model.ColUser].Hidden = !hasUser
		cols[model.ColState].Hidden = !hasState
		cols[model.ColThreads].Hidden = !hasThreads
		cols[model.ColNice].Hidden = !h.HasNice
		cols[model.ColTime].Hidden = !hasTicks || h.TicksPerSecond() == 0
	}
	past := h.CursorAt != 0 // a recorded moment keeps pid, name, CPU and memory only
	if past {
		for _, c := range []model.ProcCol{model.ColContainer, model.ColUser, model.ColState, model.ColThreads, model.ColNice, model.ColTime} {
			cols[c].Hidden = true
		}
	}
	extras := h.Has(wire.CapProcessExtras)
	sortCol, _ := p.t.Sort()
	for c := model.ColNetIn; c <= model.ColDiskWrite; c++ {
		cols[c] = procCols[c]
		switch c { // the theme's arrows (--ascii: v and ^)
		case model.ColNetIn:
			cols[c].Name = "TCP" + p.d.th.DownArrow
		case model.ColNetOut:
			cols[c].Name = "TCP" + p.d.th.UpArrow
		}
		// only agents with the extras count them; a past moment's rows
		// have none
		cols[c].Hidden = !extras || h.CursorAt != 0
		if model.ProcCol(sortCol).IsTraffic() {
			cols[c].Priority = 0 // sorted by one: they stay
		}
	}
	commands := h.HasCommands || extras
	name, cmd := &cols[model.ColName], &cols[model.ColCommand]
	*name, *cmd = procCols[model.ColName], procCols[model.ColCommand]
	switch {
	case !commands || p.names == showName || past:
		cmd.Hidden = true
	case p.names == showCommand:
		name.Hidden = true
	default: // both: a short name, the command line in the spare width, which goes first
		name.Min, name.Max = 12, 20
		cmd.Priority = 7
	}
}

// wantCommands tells the watcher whether the command lines are needed:
// while their column is drawn, or a text filter may match them.
func (p *procTable) wantCommands() {
	want := p.t.Shown(int(model.ColCommand)) || p.flt.Text()
	if want != p.commands {
		p.commands = want
		p.d.view.claim()
	}
}

// wantTraffic tells the watcher whether the TCP and I/O counters are
// needed: while a column of them is drawn.
func (p *procTable) wantTraffic() {
	want := false
	for c := model.ColNetIn; c <= model.ColDiskWrite; c++ {
		want = want || p.t.Shown(int(c))
	}
	if want != p.traffic {
		p.traffic = want
		p.d.view.claim()
	}
}

// sortTraffic sorts by the first of two traffic columns, or by the second
// when already sorted by the first (B: TCP received, then sent; D: disk
// read, then written). It shows them if the screen has room.
func (p *procTable) sortTraffic(first, second model.ProcCol) {
	col, _ := p.t.Sort()
	next := first
	if model.ProcCol(col) == first {
		next = second
	}
	p.t.SetSort(int(next), true)
	p.columns()
	p.dirty = true
}

func (p *procTable) setFilter(s string) {
	p.filter, p.flt = s, model.ParseFilter(s)
	p.dirty = true
}

func (p *procTable) treeOn() bool { return p.tree != treeOff && p.d.h.HasTreeData() }

// grouped reports whether the tree is grouped by container.
func (p *procTable) grouped() bool { return p.tree == treeContainers && p.treeOn() }

// rows are the rows shown: the live list, or with the time cursor on a
// past moment that moment's top processes; at is that moment (0: live).
func (p *procTable) rows() (rows []model.ProcRow, at uint64) {
	h := p.d.h
	if h.CursorAt == 0 {
		return h.Rows, 0
	}
	m := h.Moment()
	if m == nil {
		return nil, 1 // the moment is on its way
	}
	if m.SampledAtMs != p.builtPast {
		p.past = model.MomentRows(p.past, m)
	}
	return p.past, m.SampledAtMs
}

// refresh rebuilds the view when the data, the moment, the filter or the
// order changed.
func (p *procTable) refresh() bool {
	h := p.d.h
	col, desc := p.t.Sort()
	rows, past := p.rows()
	if !p.dirty && p.builtAt.Equal(h.ProcsAt) && past == p.builtPast && col == p.builtCol && desc == p.builtDesc {
		return false
	}
	if p.grouped() && past == 0 {
		p.view = model.BuildContainerTree(p.view, &p.heads, rows, p.flt, model.ProcCol(col), desc)
	} else {
		p.view = model.BuildView(p.view, rows, p.flt, model.ProcCol(col), desc, p.treeOn() && past == 0)
	}
	p.builtAt, p.builtPast, p.builtCol, p.builtDesc, p.dirty = h.ProcsAt, past, col, desc, false
	p.busiest = 0
	best := -1.0
	for i := range rows {
		if r := &rows[i]; r.CPU > best {
			best, p.busiest = r.CPU, r.PID
		}
	}
	if best <= 0 {
		p.busiest = 0
	}
	p.columns()
	return true
}

// selected is the selected process, nil when there is none (or the
// selection is a container's head row, which is no process).
func (p *procTable) selected() *model.ProcRow {
	if _, ok := p.t.Selected(); !ok {
		return nil
	}
	if i := p.t.Index(); i < len(p.view) && !p.view[i].IsContainerHead() {
		return p.view[i]
	}
	return nil
}

func (p *procTable) draw(s tcell.Screen, x, y, w, h int) {
	d, t := p.d, p.d.th
	hs := d.h
	p.t.Update()
	rows, past := p.rows()
	info := strconv.Itoa(len(p.view))
	if len(p.view) != len(rows) {
		info += "/" + strconv.Itoa(len(rows))
	}
	title := "processes"
	if past != 0 {
		// A past moment keeps only its busiest and largest processes.
		title = "processes · history"
		info = "top " + info
		if past > 1 {
			title += " " + momentClock(past, hs.AgentNow(d.sh.Now()))
		}
	}
	col, desc := p.t.Sort()
	info += " · sort " + p.t.Cols[col].Name + t.Arrow(desc) + " · CPU% " + p.cpuMode()
	switch {
	case p.grouped() && past == 0:
		info += " · tree by container"
	case p.treeOn() && past == 0:
		info += " · tree"
	}
	if p.filter != "" {
		info += " · filter \"" + p.filter + "\""
	}
	ix, iy, iw, ih := d.frame(s, x, y, w, h, title, info)
	if iw <= 0 || ih <= 0 {
		return
	}
	p.t.Empty = ""
	switch {
	case past == 1:
		p.t.Empty = "asking the agent for that moment…"
	case past != 0 && len(rows) == 0:
		p.t.Empty = "no processes were recorded at that moment"
	case len(hs.Rows) == 0 && hs.ProcsAt.IsZero():
		p.t.Empty = "waiting for the process list…"
		if !hs.Has(wire.CapProcesses) {
			p.t.Empty = "this agent does not serve processes"
		}
	case p.filter != "":
		p.t.Empty = "no process matches \"" + p.filter + "\" (Esc clears the filter)"
	}
	p.t.Draw(s, ix, iy, iw, ih)
	p.wantCommands()
	p.wantTraffic()
}

// The table's rows (widget.Rows).

func (p *procTable) Len() int         { return len(p.view) }
func (p *procTable) Key(i int) uint32 { return p.view[i].PID }

func (p *procTable) Style(i int) tcell.Style {
	if p.view[i].IsContainerHead() {
		return p.d.th.Title
	}
	if p.view[i].PID == p.busiest {
		return p.d.th.Busiest
	}
	return p.d.th.Base
}

func (p *procTable) Cell(s tcell.Screen, i, col int, c widget.Cell) {
	r := p.view[i]
	b := p.buf[:0]
	head := r.IsContainerHead()
	switch model.ProcCol(col) {
	case model.ColPID:
		if !head {
			b = strconv.AppendUint(b, uint64(r.PID), 10)
		}
	case model.ColUser:
		if !head {
			c.Text(s, widget.Dash(r.User))
		}
	case model.ColName:
		name := r.Name
		switch {
		case head:
			name = p.d.th.Dot + " " + name
		case p.grouped():
			name = "  " + r.Prefix + name
		case r.Prefix != "" && p.treeOn():
			name = r.Prefix + name
		}
		c.Text(s, name)
	case model.ColContainer:
		c.Text(s, widget.Dash(r.Container))
	case model.ColState:
		if !head {
			c.Text(s, widget.Dash(r.State))
		}
	case model.ColCPU:
		v := r.CPU * p.cpuScale()
		if !c.Selected && r.PID != p.busiest && v >= 50 {
			c.Style = p.d.th.Warn
		}
		b = widget.AppendNumber(b, v, 1)
	case model.ColMem:
		b = widget.AppendBytes(b, r.RSS)
	case model.ColMemPct:
		b = widget.AppendNumber(b, r.MemPct, 1)
	case model.ColThreads:
		b = strconv.AppendUint(b, uint64(r.Threads), 10)
	case model.ColNice:
		if !head {
			b = strconv.AppendInt(b, int64(r.Nice), 10)
		}
	case model.ColTime:
		if !head {
			b = widget.AppendCPUTime(b, r.Ticks, p.d.h.TicksPerSecond())
		}
	case model.ColNetIn:
		b = appendRate(b, r.NetIn)
	case model.ColNetOut:
		b = appendRate(b, r.NetOut)
	case model.ColDiskRead:
		b = appendRate(b, r.DiskRead)
	case model.ColDiskWrite:
		b = appendRate(b, r.DiskWrite)
	case model.ColCommand:
		nameHidden := p.t.Cols[model.ColName].Hidden
		if head {
			if nameHidden { // the head's name must show somewhere
				c.Text(s, p.d.th.Dot+" "+r.Name)
			}
			break
		}
		if r.Command == "" && !c.Selected {
			c.Style = p.d.th.Dim // no command line (a kernel thread, an older agent): the name
		}
		text := r.CommandText()
		switch {
		case p.grouped() && nameHidden:
			text = "  " + r.Prefix + text
		case r.Prefix != "" && p.treeOn() && nameHidden:
			text = r.Prefix + text
		}
		c.Text(s, text)
	}
	if len(b) > 0 {
		c.ASCII(s, b)
	}
	p.buf = b
}

// appendRate is a traffic cell: bytes per second, "-" when unknown.
func appendRate(b []byte, bps float64) []byte {
	if !widget.Valid(bps) {
		return append(b, '-')
	}
	return append(widget.AppendBytes(b, uint64(max(bps, 0))), "/s"...)
}
