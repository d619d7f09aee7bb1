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
// narrow widths THR, USER, MEM% and S give way, in that order.
var procCols = [model.NumProcCols]widget.Column{
	model.ColPID:     {Name: "PID", Width: 7, Align: widget.AlignRight},
	model.ColUser:    {Name: "USER", Width: 9, Priority: 2},
	model.ColName:    {Name: "NAME", Min: 16},
	model.ColState:   {Name: "S", Width: 2, Priority: 4},
	model.ColCPU:     {Name: "CPU%", Width: 6, Align: widget.AlignRight, Desc: true},
	model.ColMem:     {Name: "MEM", Width: 7, Align: widget.AlignRight, Desc: true},
	model.ColMemPct:  {Name: "MEM%", Width: 6, Align: widget.AlignRight, Desc: true, Priority: 3},
	model.ColThreads: {Name: "THR", Width: 4, Align: widget.AlignRight, Desc: true, Priority: 1},
}

// procTable is the process list: the table widget over the host's rows,
// filtered, sorted and (t) as a tree. Only the visible rows are drawn, so
// 1000 processes cost no more than 50.
type procTable struct {
	d    *dash
	t    *widget.Table[uint32]
	pane *widget.Pane

	tree   bool
	filter string
	flt    model.ProcFilter

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
	p.t = widget.NewTable[uint32](d.th, cols[:], int(model.ColCPU))
	p.t.Rows = p
	p.t.Refresh = p.refresh
	p.t.Activate = d.openDetail
	p.pane = widget.NewPane(p.draw)
	p.pane.Mouse = p.t.Mouse
	return p
}

func (p *procTable) toggleTree() { p.tree = !p.tree; p.dirty = true }

func (p *procTable) setFilter(s string) {
	p.filter, p.flt = s, model.ParseFilter(s)
	p.dirty = true
}

func (p *procTable) treeOn() bool { return p.tree && p.d.h.HasTreeData() }

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
	p.view = model.BuildView(p.view, rows, p.flt, model.ProcCol(col), desc, p.treeOn() && past == 0)
	p.builtAt, p.builtPast, p.builtCol, p.builtDesc, p.dirty = h.ProcsAt, past, col, desc, false
	p.busiest = 0
	var hasUser, hasState, hasThreads bool
	best := -1.0
	for i := range rows {
		r := &rows[i]
		if r.CPU > best {
			best, p.busiest = r.CPU, r.PID
		}
		hasUser = hasUser || r.User != ""
		hasState = hasState || r.State != ""
		hasThreads = hasThreads || r.Threads != 0
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
	}
	return true
}

// selected is the selected row, nil when there is none.
func (p *procTable) selected() *model.ProcRow {
	if _, ok := p.t.Selected(); !ok {
		return nil
	}
	if i := p.t.Index(); i < len(p.view) {
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
	info += " · sort " + procCols[col].Name + t.Arrow(desc)
	if p.treeOn() {
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
	}
	p.t.Draw(s, ix, iy, iw, ih)
}

// The table's rows (widget.Rows).

func (p *procTable) Len() int         { return len(p.view) }
func (p *procTable) Key(i int) uint32 { return p.view[i].PID }

func (p *procTable) Style(i int) tcell.Style {
	if p.view[i].PID == p.busiest {
		return p.d.th.Busiest
	}
	return p.d.th.Base
}

func (p *procTable) Cell(s tcell.Screen, i, col int, c widget.Cell) {
	r := p.view[i]
	b := p.buf[:0]
	switch model.ProcCol(col) {
	case model.ColPID:
		b = strconv.AppendUint(b, uint64(r.PID), 10)
	case model.ColUser:
		c.Text(s, widget.Dash(r.User))
	case model.ColName:
		name := r.Name
		if r.Prefix != "" && p.treeOn() {
			name = r.Prefix + name
		}
		c.Text(s, name)
	case model.ColState:
		c.Text(s, widget.Dash(r.State))
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
