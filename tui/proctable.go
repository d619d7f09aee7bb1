package tui

import (
	"strconv"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/widget"
)

// procTable is the process list: sortable columns, filter, tree, keyboard
// and mouse selection. It draws only the visible rows straight from the
// sorted view, so 1000 processes cost no more than 50.
type procTable struct {
	*tview.Box
	a *App

	col    sortColumn
	desc   bool
	tree   bool
	filter string
	flt    procFilter

	view    []*procRow
	builtAt time.Time // procsAt of the data the view was built from
	dirty   bool

	selPID uint32
	sel    int
	offset int
	pageH  int // data rows visible in the last draw

	// header geometry of the last draw, for mouse clicks
	hdrY    int
	colX    [numColumns + 1]int
	bodyY   int
	buf     []byte
	busiest uint32
	// which optional columns the data fills (upstream's list has no user,
	// state or thread count: those columns are hidden then)
	hasUser, hasState, hasThreads bool
}

func newProcTable(a *App) *procTable {
	return &procTable{Box: tview.NewBox(), a: a, col: colCPU, desc: true, dirty: true}
}

func (p *procTable) sortBy(c sortColumn) {
	if p.col == c {
		p.desc = !p.desc
	} else {
		p.col, p.desc = c, c.defaultDescending()
	}
	p.dirty = true
}

func (p *procTable) moveSort(d int) {
	c := (int(p.col) + d + int(numColumns)) % int(numColumns)
	p.col, p.desc = sortColumn(c), sortColumn(c).defaultDescending()
	p.dirty = true
}

func (p *procTable) reverse()    { p.desc = !p.desc; p.dirty = true }
func (p *procTable) toggleTree() { p.tree = !p.tree; p.dirty = true }

func (p *procTable) setFilter(s string) {
	p.filter, p.flt = s, parseFilter(s)
	p.dirty = true
}

// refresh rebuilds the view when the data or the ordering changed, keeping
// the selected pid selected.
func (p *procTable) refresh() {
	h := p.a.h
	if !p.dirty && p.builtAt.Equal(h.procsAt) {
		return
	}
	p.view = buildView(p.view, h.rows, p.flt, p.col, p.desc, p.tree && h.hasTreeData())
	p.builtAt, p.dirty = h.procsAt, false
	p.busiest = 0
	p.hasUser, p.hasState, p.hasThreads = false, false, false
	best := -1.0
	for i := range h.rows {
		r := &h.rows[i]
		if r.cpu > best {
			best, p.busiest = r.cpu, r.pid
		}
		p.hasUser = p.hasUser || r.user != ""
		p.hasState = p.hasState || r.state != ""
		p.hasThreads = p.hasThreads || r.threads != 0
	}
	if best <= 0 {
		p.busiest = 0
	}
	if p.selPID != 0 {
		for i, r := range p.view {
			if r.pid == p.selPID {
				p.sel = i
				return
			}
		}
	}
	p.clampSel()
}

func (p *procTable) clampSel() {
	if p.sel >= len(p.view) {
		p.sel = len(p.view) - 1
	}
	if p.sel < 0 {
		p.sel = 0
	}
	if len(p.view) > 0 {
		p.selPID = p.view[p.sel].pid
	} else {
		p.selPID = 0
	}
}

func (p *procTable) selected() *procRow {
	p.refresh()
	if p.sel < len(p.view) && p.sel >= 0 {
		return p.view[p.sel]
	}
	return nil
}

func (p *procTable) move(d int) {
	p.refresh()
	p.sel += d
	p.clampSel()
}

func (p *procTable) home() { p.refresh(); p.sel = 0; p.clampSel() }
func (p *procTable) end()  { p.refresh(); p.sel = len(p.view) - 1; p.clampSel() }

// column widths; NAME takes what is left.
var colWidth = [numColumns]int{colPID: 7, colUser: 9, colName: 0, colState: 2, colCPU: 6, colMem: 7, colMemPct: 6, colThreads: 4}

// layoutColumns fills colX for an inner width; columns that do not fit at
// narrow widths are dropped from the right (threads, then user, then mem%).
func (p *procTable) layoutColumns(x, w int) (show [numColumns]bool) {
	for i := range show {
		show[i] = true
	}
	if !p.builtAt.IsZero() {
		show[colUser], show[colState], show[colThreads] = p.hasUser, p.hasState, p.hasThreads
	}
	fixed := func() int {
		n := 0
		for c := range numColumns {
			if show[c] && c != colName {
				n += colWidth[c] + 1
			}
		}
		return n
	}
	for _, drop := range []sortColumn{colThreads, colUser, colMemPct, colState} {
		if w-fixed() >= 16 {
			break
		}
		show[drop] = false
	}
	nameW := max(w-fixed(), 4)
	cx := x
	for c := range numColumns {
		p.colX[c] = cx
		if !show[c] {
			continue
		}
		cw := colWidth[c]
		if c == colName {
			cw = nameW
		}
		cx += cw + 1
	}
	p.colX[numColumns] = cx
	return show
}

func (p *procTable) width(c sortColumn) int {
	next := p.colX[numColumns]
	for n := c + 1; n < numColumns; n++ {
		if p.colX[n] > p.colX[c] {
			next = p.colX[n]
			break
		}
	}
	return next - p.colX[c] - 1
}

func (p *procTable) Draw(s tcell.Screen) {
	a, t := p.a, p.a.th
	x, y, w, h := p.GetRect()
	p.refresh()
	h0 := a.h
	info := strconv.Itoa(len(p.view))
	if len(p.view) != len(h0.rows) {
		info += "/" + strconv.Itoa(len(h0.rows))
	}
	info += " · sort " + columnNames[p.col]
	if p.desc {
		info += t.downArrow
	} else {
		info += t.upArrow
	}
	if p.tree && h0.hasTreeData() {
		info += " · tree"
	}
	if p.filter != "" {
		info += " · filter \"" + p.filter + "\""
	}
	ix, iy, iw, ih := a.frame(s, x, y, w, h, "processes", info)
	if iw <= 0 || ih <= 0 {
		return
	}
	show := p.layoutColumns(ix, iw)
	p.hdrY, p.bodyY = iy, iy+1
	for c := range numColumns {
		if !show[c] {
			continue
		}
		st := t.colHeader
		name := columnNames[c]
		if c == p.col {
			st = t.colSorted
			if p.desc {
				name += t.downArrow
			} else {
				name += t.upArrow
			}
		}
		if rightAligned(c) {
			widget.PrintRight(s, p.colX[c], iy, p.width(c), name, st)
		} else {
			widget.Print(s, p.colX[c], iy, p.width(c), name, st)
		}
	}
	rows := ih - 1
	p.pageH = max(rows, 1)
	if rows <= 0 {
		return
	}
	if len(h0.rows) == 0 && h0.procsAt.IsZero() {
		msg := "waiting for the process list…"
		if !h0.has("processes") {
			msg = "this agent does not serve processes"
		}
		widget.Print(s, ix+1, iy+1, iw-1, msg, t.dim)
		return
	}
	// keep the selection on screen
	if p.sel < p.offset {
		p.offset = p.sel
	}
	if p.sel >= p.offset+rows {
		p.offset = p.sel - rows + 1
	}
	if p.offset > len(p.view)-rows {
		p.offset = max(len(p.view)-rows, 0)
	}
	tree := p.tree && h0.hasTreeData()
	for i := 0; i < rows && p.offset+i < len(p.view); i++ {
		idx := p.offset + i
		r := p.view[idx]
		ry := iy + 1 + i
		st := t.base
		if r.pid == p.busiest {
			st = t.busiest
		}
		if idx == p.sel {
			st = t.selected
			widget.Fill(s, ix, ry, iw, 1, ' ', st)
		}
		p.cell(s, colPID, ry, strconv.AppendUint(p.buf[:0], uint64(r.pid), 10), st)
		if show[colUser] {
			p.cellStr(s, colUser, ry, dash(r.user), st)
		}
		name := r.name
		if tree && r.prefix != "" {
			name = r.prefix + name
		}
		p.cellStr(s, colName, ry, name, st)
		if show[colState] {
			p.cellStr(s, colState, ry, dash(r.state), st)
		}
		cst := st
		if idx != p.sel && r.pid != p.busiest && r.cpu >= 50 {
			cst = t.warn
		}
		p.cell(s, colCPU, ry, strconv.AppendFloat(p.buf[:0], r.cpu, 'f', 1, 64), cst)
		p.cell(s, colMem, ry, widget.AppendBytes(p.buf[:0], r.rss), st)
		if show[colMemPct] {
			p.cell(s, colMemPct, ry, strconv.AppendFloat(p.buf[:0], r.memPct, 'f', 1, 64), st)
		}
		if show[colThreads] {
			p.cell(s, colThreads, ry, strconv.AppendUint(p.buf[:0], uint64(r.threads), 10), st)
		}
	}
}

func rightAligned(c sortColumn) bool {
	return c == colPID || c == colCPU || c == colMem || c == colMemPct || c == colThreads
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cell prints ASCII bytes in column c, right-aligned for numbers.
func (p *procTable) cell(s tcell.Screen, c sortColumn, y int, b []byte, st tcell.Style) {
	p.buf = b
	w := p.width(c)
	x := p.colX[c]
	if rightAligned(c) && len(b) < w {
		x += w - len(b)
	}
	for i := 0; i < len(b) && i < w; i++ {
		s.SetContent(x+i, y, rune(b[i]), nil, st)
	}
}

func (p *procTable) cellStr(s tcell.Screen, c sortColumn, y int, text string, st tcell.Style) {
	widget.Print(s, p.colX[c], y, p.width(c), text, st)
}

// columnAt maps a header x position to the column drawn there.
func (p *procTable) columnAt(x int) (sortColumn, bool) {
	for c := numColumns - 1; c >= 0; c-- {
		if p.width(c) > 0 && x >= p.colX[c] && x < p.colX[c]+p.width(c)+1 {
			return c, true
		}
	}
	return 0, false
}

// InputHandler moves the selection; everything else is the key map's.
func (p *procTable) InputHandler() func(ev *tcell.EventKey, setFocus func(tview.Primitive)) {
	return p.WrapInputHandler(func(ev *tcell.EventKey, _ func(tview.Primitive)) {
		switch ev.Key() {
		case tcell.KeyUp:
			p.move(-1)
		case tcell.KeyDown:
			p.move(1)
		case tcell.KeyPgUp:
			p.move(-p.pageH)
		case tcell.KeyPgDn:
			p.move(p.pageH)
		case tcell.KeyHome:
			p.home()
		case tcell.KeyEnd:
			p.end()
		}
	})
}

// MouseHandler: click a header to sort (again to reverse), click a row to
// select, double-click to open it, wheel to scroll.
func (p *procTable) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return p.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
		x, y := ev.Position()
		if !p.InRect(x, y) {
			return false, nil
		}
		switch action {
		case tview.MouseLeftClick, tview.MouseLeftDoubleClick:
			setFocus(p)
			if y == p.hdrY {
				if c, ok := p.columnAt(x); ok {
					p.sortBy(c)
				}
				return true, nil
			}
			if y >= p.bodyY {
				idx := p.offset + y - p.bodyY
				p.refresh()
				if idx < len(p.view) {
					p.sel = idx
					p.clampSel()
					if action == tview.MouseLeftDoubleClick {
						p.a.openDetail()
					}
				}
			}
			return true, nil
		case tview.MouseScrollUp:
			p.move(-3)
			return true, nil
		case tview.MouseScrollDown:
			p.move(3)
			return true, nil
		}
		return false, nil
	})
}
