package widget

import (
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// Align is where a column's text sits in its cells.
type Align uint8

const (
	AlignLeft Align = iota
	AlignRight
)

// Column describes one column of a Table.
type Column struct {
	Name string
	// Width is the column's width in cells; 0 makes it flexible: it shares
	// what the fixed columns leave, at least Min and at most Max (0: no
	// limit) cells.
	Width, Min, Max int
	// Priority says which columns give way on a narrow screen: the
	// smallest goes first (columns of equal priority go together); 0 never
	// goes.
	Priority int
	Align    Align
	// Desc: the column sorts biggest first when chosen, as htop's CPU%.
	Desc bool
	// NoSort: not a sort key (a history graph).
	NoSort bool
	// Hidden: not shown at all (the data has nothing for it).
	Hidden bool
}

// Rows is what a Table shows: the rows in the order to draw them.
type Rows[K comparable] interface {
	Len() int
	// Key identifies row i across refreshes, so the selection follows it.
	Key(i int) K
	// Style is row i's style when it is not selected.
	Style(i int) tcell.Style
	// Cell draws row i's value of column col.
	Cell(s tcell.Screen, i, col int, c Cell)
}

// Cell is where one value goes, and in which style.
type Cell struct {
	X, Y, W  int
	Align    Align
	Style    tcell.Style
	Selected bool
}

// Text draws text in the cell, aligned; a cut ends with "…".
func (c Cell) Text(s tcell.Screen, text string) {
	if c.Align == AlignRight && Width(text) <= c.W {
		PrintRight(s, c.X, c.Y, c.W, text, c.Style)
		return
	}
	PrintCut(s, c.X, c.Y, c.W, text, c.Style)
}

// ASCII draws ASCII bytes (a formatted number) without making a string.
func (c Cell) ASCII(s tcell.Screen, b []byte) {
	x := c.X
	if c.Align == AlignRight && len(b) < c.W {
		x += c.W - len(b)
	}
	for i := 0; i < len(b) && i < c.W; i++ {
		s.SetContent(x+i, c.Y, rune(b[i]), nil, c.Style)
	}
}

// Table is the one sortable table every list uses (processes, connections,
// the fleet): columns that give way by priority on narrow screens, a sort
// column and direction, a selection that follows its row's key through
// re-sorts and new data, header clicks, and only the visible rows drawn.
// It draws into the rectangle it is given and keeps no keys of its own:
// the screen's key map calls its methods.
type Table[K comparable] struct {
	Cols []Column
	Rows Rows[K]
	// Empty is said under the header when there are no rows.
	Empty string
	// Refresh brings Rows up to date before a draw or a move and reports
	// whether the rows were rebuilt (the selection is then looked up again).
	Refresh func() bool
	// Activate is a double-click on a row.
	Activate func()

	th      *Theme
	col     int
	desc    bool
	sel     int
	key     K
	hasKey  bool
	offset  int
	pageH   int
	x, w    []int
	show    []bool
	hdrY    int
	bodyY   int
	hasDraw bool
}

// NewTable makes a table sorted by column sortCol in its default direction.
func NewTable[K comparable](th *Theme, cols []Column, sortCol int) *Table[K] {
	n := len(cols)
	return &Table[K]{Cols: cols, th: th, col: sortCol, desc: cols[sortCol].Desc,
		x: make([]int, n), w: make([]int, n), show: make([]bool, n), hdrY: -1, bodyY: -1}
}

// Sort is the sort column and direction.
func (t *Table[K]) Sort() (col int, desc bool) { return t.col, t.desc }

// SortBy sorts by column c, or reverses the order when it is already the
// sort column.
func (t *Table[K]) SortBy(c int) {
	if c < 0 || c >= len(t.Cols) || t.Cols[c].NoSort {
		return
	}
	if c == t.col {
		t.desc = !t.desc
		return
	}
	t.col, t.desc = c, t.Cols[c].Desc
}

// MoveSort sorts by the next (d > 0) or previous sortable column among
// those drawn at the last width: a sort never lands on a column that gave
// way on a narrow screen.
func (t *Table[K]) MoveSort(d int) {
	n := len(t.Cols)
	c := t.col
	for range n {
		c = ((c+d)%n + n) % n
		if !t.Cols[c].NoSort && !t.Cols[c].Hidden && (!t.hasDraw || t.show[c]) {
			break
		}
	}
	t.col, t.desc = c, t.Cols[c].Desc
}

// SetSort sorts by column c in the given direction.
func (t *Table[K]) SetSort(c int, desc bool) { t.col, t.desc = c, desc }

// Reverse flips the sort direction.
func (t *Table[K]) Reverse() { t.desc = !t.desc }

// Update brings the rows up to date (Refresh) and, when they were
// rebuilt, finds the selection again. Owners call it rather than their
// Refresh, so the selection never points into old rows.
func (t *Table[K]) Update() {
	if t.Refresh != nil && t.Refresh() {
		t.Follow()
	}
}

// Follow finds the selected key again after the rows changed; when it is
// gone the selection stays at the same place.
func (t *Table[K]) Follow() {
	if t.hasKey {
		for i, n := 0, t.Rows.Len(); i < n; i++ {
			if t.Rows.Key(i) == t.key {
				t.sel = i
				return
			}
		}
	}
	t.clamp()
}

func (t *Table[K]) clamp() {
	n := t.Rows.Len()
	t.sel = max(min(t.sel, n-1), 0)
	if n == 0 {
		var zero K
		t.key, t.hasKey = zero, false
		return
	}
	t.key, t.hasKey = t.Rows.Key(t.sel), true
}

// Selected is the selected row's key; false when there are no rows.
func (t *Table[K]) Selected() (K, bool) {
	t.Update()
	return t.key, t.hasKey
}

// Index is the selected row's position.
func (t *Table[K]) Index() int { return t.sel }

// Select selects the row with key k.
func (t *Table[K]) Select(k K) {
	t.key, t.hasKey = k, true
	t.Follow()
}

// Move moves the selection by d rows; Home, End and the page moves are
// Move with a large or a page-sized step.
func (t *Table[K]) Move(d int) {
	t.Update()
	t.sel += d
	t.clamp()
}

func (t *Table[K]) Home()     { t.Move(-1 << 30) }
func (t *Table[K]) End()      { t.Move(1 << 30) }
func (t *Table[K]) PageUp()   { t.Move(-t.PageRows()) }
func (t *Table[K]) PageDown() { t.Move(t.PageRows()) }

// PageRows is how many rows the last draw showed.
func (t *Table[K]) PageRows() int { return max(t.pageH, 1) }

// Shown reports whether column c was drawn at the last width.
func (t *Table[K]) Shown(c int) bool { return t.show[c] }

// ColumnX is where column c starts; HeaderY the header's row (-1 before
// the first draw).
func (t *Table[K]) ColumnX(c int) int { return t.x[c] }
func (t *Table[K]) HeaderY() int      { return t.hdrY }

// ColumnAt is the column drawn at x.
func (t *Table[K]) ColumnAt(x int) (int, bool) {
	for c := len(t.Cols) - 1; c >= 0; c-- {
		if t.show[c] && x >= t.x[c] && x <= t.x[c]+t.w[c] {
			return c, true
		}
	}
	return 0, false
}

// layout decides which columns are shown at width w and where: columns go
// by priority until every flexible one has its minimum; then the flexible
// ones share what is left equally, up to their maximum.
func (t *Table[K]) layout(x, w int) {
	for c := range t.Cols {
		t.show[c] = !t.Cols[c].Hidden
	}
	need := func() (fixed, mins, flex int) {
		for c, col := range t.Cols {
			switch {
			case !t.show[c]:
			case col.Width > 0:
				fixed += col.Width + 1
			default:
				mins += col.Min
				flex++
			}
		}
		return fixed, mins, flex
	}
	for {
		fixed, mins, flex := need()
		if fixed+mins+flex <= w+1 {
			break
		}
		low := 0
		for c, col := range t.Cols {
			if t.show[c] && col.Priority > 0 && (low == 0 || col.Priority < low) {
				low = col.Priority
			}
		}
		if low == 0 {
			break
		}
		for c, col := range t.Cols {
			if col.Priority == low {
				t.show[c] = false
			}
		}
	}
	fixed, mins, flex := need()
	avail := max(w+1-fixed-flex, 0)
	for c, col := range t.Cols {
		switch {
		case !t.show[c] || col.Width > 0:
			t.w[c] = col.Width
		case avail < mins:
			t.w[c] = col.Min * avail / mins
		default:
			t.w[c] = col.Min
		}
	}
	for spare := avail - mins; spare > 0; {
		open := 0
		for c, col := range t.Cols {
			if t.show[c] && col.Width == 0 && (col.Max == 0 || t.w[c] < col.Max) {
				open++
			}
		}
		if open == 0 {
			break
		}
		share := max(spare/open, 1)
		for c, col := range t.Cols {
			if spare == 0 || !t.show[c] || col.Width > 0 || (col.Max > 0 && t.w[c] >= col.Max) {
				continue
			}
			add := min(share, spare)
			if col.Max > 0 {
				add = min(add, col.Max-t.w[c])
			}
			t.w[c] += add
			spare -= add
		}
	}
	cx := x
	for c := range t.Cols {
		t.x[c] = cx
		if t.show[c] {
			t.w[c] = max(min(t.w[c], x+w-cx), 0)
			cx += t.w[c] + 1
		}
	}
}

// Draw draws the header and the visible rows into the rectangle, keeping
// the selection on screen.
func (t *Table[K]) Draw(s tcell.Screen, x, y, w, h int) {
	t.Update()
	if w <= 0 || h <= 0 {
		return
	}
	th := t.th
	t.layout(x, w)
	t.hdrY, t.bodyY, t.hasDraw = y, y+1, true
	for c, col := range t.Cols {
		if !t.show[c] {
			continue
		}
		st, name := th.ColHeader, col.Name
		if c == t.col {
			// the arrow stays when the name does not fit: "PROT▲"
			name = col.Name
			if a := th.Arrow(t.desc); Width(name+a) > t.w[c] && t.w[c] > 1 {
				name = string([]rune(name)[:max(min(len([]rune(name)), t.w[c]-Width(a)), 0)]) + a
			} else {
				name += a
			}
			st = th.ColSorted
		}
		Cell{X: t.x[c], Y: y, W: t.w[c], Align: col.Align, Style: st}.Text(s, name)
	}
	rows := h - 1
	t.pageH = max(rows, 1)
	n := t.Rows.Len()
	if rows <= 0 {
		return
	}
	if n == 0 {
		if t.Empty != "" {
			Print(s, x+1, y+1, w-1, t.Empty, th.Dim)
		}
		return
	}
	if t.sel < t.offset {
		t.offset = t.sel
	}
	if t.sel >= t.offset+rows {
		t.offset = t.sel - rows + 1
	}
	t.offset = max(min(t.offset, n-rows), 0)
	for i := 0; i < rows && t.offset+i < n; i++ {
		idx, ry := t.offset+i, y+1+i
		selected := idx == t.sel
		st := t.Rows.Style(idx)
		if selected {
			st = th.Selected
			Fill(s, x, ry, w, 1, ' ', st)
		}
		for c, col := range t.Cols {
			if t.show[c] {
				t.Rows.Cell(s, idx, c, Cell{X: t.x[c], Y: ry, W: t.w[c], Align: col.Align, Style: st, Selected: selected})
			}
		}
	}
}

// Mouse handles a mouse event at x, y: a header click sorts (again
// reverses), a click selects a row, a double-click activates it, the wheel
// scrolls. It reports whether the event was the table's.
func (t *Table[K]) Mouse(action tview.MouseAction, x, y int) bool {
	if !t.hasDraw {
		return false
	}
	switch action {
	case tview.MouseLeftClick, tview.MouseLeftDoubleClick:
		if y == t.hdrY {
			if c, ok := t.ColumnAt(x); ok {
				t.SortBy(c)
			}
			return true
		}
		if y < t.bodyY {
			return false
		}
		t.Update()
		if idx := t.offset + y - t.bodyY; idx < t.Rows.Len() {
			t.sel = idx
			t.clamp()
			if action == tview.MouseLeftDoubleClick && t.Activate != nil {
				t.Activate()
			}
		}
		return true
	case tview.MouseScrollUp:
		t.Move(-3)
		return true
	case tview.MouseScrollDown:
		t.Move(3)
		return true
	}
	return false
}
