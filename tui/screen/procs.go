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
// narrow widths CONTAINER, THR, USER, MEM% and S give way, in that order.
var procCols = [model.NumProcCols]widget.Column{
	model.ColPID:       {Name: "PID", Width: 7, Align: widget.AlignRight},
	model.ColUser:      {Name: "USER", Width: 9, Priority: 3},
	model.ColName:      {Name: "NAME", Min: 16},
	model.ColState:     {Name: "S", Width: 2, Priority: 5},
	model.ColCPU:       {Name: "CPU%", Width: 6, Align: widget.AlignRight, Desc: true},
	model.ColMem:       {Name: "MEM", Width: 7, Align: widget.AlignRight, Desc: true},
	model.ColMemPct:    {Name: "MEM%", Width: 6, Align: widget.AlignRight, Desc: true, Priority: 4},
	model.ColThreads:   {Name: "THR", Width: 4, Align: widget.AlignRight, Desc: true, Priority: 2},
	model.ColContainer: {Name: "CONTAINER", Width: 14, Priority: 1, Hidden: true},
}

// procTable is the process list: the table widget over the host's rows,
// filtered, sorted and (t) as a tree. Only the visible rows are drawn, so
// 1000 processes cost no more than 50.
type procTable struct {
	d    *dash
	t    *widget.Table[uint32]
	pane *widget.Pane

	tree   treeMode
	filter string
	flt    model.ProcFilter
	heads  []model.ProcRow // the container heads of a tree grouped by container

	view      []*model.ProcRow
	builtAt   time.Time // ProcsAt of the data the view was built from
	builtCol  int
	builtDesc bool
	dirty     bool
	buf       []byte
	busiest   uint32
}

func newProcTable(d *dash) *procTable {
	p := &procTable{d: d, dirty: true}
	cols := procCols
	p.t = widget.NewTable[uint32](d.th, cols[:], int(model.ColCPU))
	p.t.Rows = p
	p.t.Refresh = p.refresh
	p.t.Activate = d.openDetail
	p.pane = widget.NewPane(p.draw)
	p.pane.Mouse = p.t.Mouse
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

func (p *procTable) setFilter(s string) {
	p.filter, p.flt = s, model.ParseFilter(s)
	p.dirty = true
}

func (p *procTable) treeOn() bool { return p.tree != treeOff && p.d.h.HasTreeData() }

// grouped reports whether the tree is grouped by container.
func (p *procTable) grouped() bool { return p.tree == treeContainers && p.treeOn() }

// refresh rebuilds the view when the data, the filter or the order changed.
func (p *procTable) refresh() bool {
	h := p.d.h
	col, desc := p.t.Sort()
	if !p.dirty && p.builtAt.Equal(h.ProcsAt) && col == p.builtCol && desc == p.builtDesc {
		return false
	}
	if p.grouped() {
		p.view = model.BuildContainerTree(p.view, &p.heads, h.Rows, p.flt, model.ProcCol(col), desc)
	} else {
		p.view = model.BuildView(p.view, h.Rows, p.flt, model.ProcCol(col), desc, p.treeOn())
	}
	p.builtAt, p.builtCol, p.builtDesc, p.dirty = h.ProcsAt, col, desc, false
	p.busiest = 0
	var hasUser, hasState, hasThreads, hasContainer bool
	best := -1.0
	for i := range h.Rows {
		r := &h.Rows[i]
		if r.CPU > best {
			best, p.busiest = r.CPU, r.PID
		}
		hasUser = hasUser || r.User != ""
		hasState = hasState || r.State != ""
		hasThreads = hasThreads || r.Threads != 0
		hasContainer = hasContainer || r.Container != ""
	}
	if best <= 0 {
		p.busiest = 0
	}
	// upstream's list has no user, state or thread count: those columns
	// are hidden then
	if !h.ProcsAt.IsZero() {
		p.t.Cols[model.ColUser].Hidden = !hasUser
		p.t.Cols[model.ColState].Hidden = !hasState
		p.t.Cols[model.ColThreads].Hidden = !hasThreads
		// only agents with containers name them; grouped, heads name them
		p.t.Cols[model.ColContainer].Hidden = !hasContainer || p.grouped()
	}
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
	info := strconv.Itoa(len(p.view))
	if len(p.view) != len(hs.Rows) {
		info += "/" + strconv.Itoa(len(hs.Rows))
	}
	col, desc := p.t.Sort()
	info += " · sort " + procCols[col].Name + t.Arrow(desc)
	switch {
	case p.grouped():
		info += " · tree by container"
	case p.treeOn():
		info += " · tree"
	}
	if p.filter != "" {
		info += " · filter \"" + p.filter + "\""
	}
	ix, iy, iw, ih := d.frame(s, x, y, w, h, "processes", info)
	if iw <= 0 || ih <= 0 {
		return
	}
	p.t.Empty = ""
	if len(hs.Rows) == 0 && hs.ProcsAt.IsZero() {
		p.t.Empty = "waiting for the process list…"
		if !hs.Has(wire.CapProcesses) {
			p.t.Empty = "this agent does not serve processes"
		}
	}
	p.t.Draw(s, ix, iy, iw, ih)
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
		if !c.Selected && r.PID != p.busiest && r.CPU >= 50 {
			c.Style = p.d.th.Warn
		}
		b = widget.AppendNumber(b, r.CPU, 1)
	case model.ColMem:
		b = widget.AppendBytes(b, r.RSS)
	case model.ColMemPct:
		b = widget.AppendNumber(b, r.MemPct, 1)
	case model.ColThreads:
		b = strconv.AppendUint(b, uint64(r.Threads), 10)
	}
	if len(b) > 0 {
		c.ASCII(s, b)
	}
	p.buf = b
}
