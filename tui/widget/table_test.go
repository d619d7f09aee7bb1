package widget

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// numbers is a table source: rows are ints, drawn as themselves, keyed by
// their value; it counts the cells drawn.
type numbers struct {
	rows  []int
	drawn int
	dirty bool
}

func (n *numbers) Len() int              { return len(n.rows) }
func (n *numbers) Key(i int) int         { return n.rows[i] }
func (n *numbers) Style(int) tcell.Style { return tcell.StyleDefault }
func (n *numbers) refresh() bool         { d := n.dirty; n.dirty = false; return d }
func (n *numbers) set(rows ...int)       { n.rows, n.dirty = rows, true }
func (n *numbers) Cell(s tcell.Screen, i, col int, c Cell) {
	n.drawn++
	c.Text(s, strconv.Itoa(n.rows[i]*(col+1)))
}

func newNumbers(cols []Column, rows ...int) (*Table[int], *numbers) {
	n := &numbers{rows: rows}
	t := NewTable[int](NewTheme(false, true), cols, 0)
	t.Rows, t.Refresh = n, n.refresh
	return t, n
}

// Columns give way by priority (equal priorities together); flexible ones
// share what is left equally, up to their maximum.
func TestTableLayout(t *testing.T) {
	cols := []Column{
		{Name: "A", Width: 4},
		{Name: "B", Width: 4, Priority: 2},
		{Name: "C", Min: 5, Max: 8},
		{Name: "D", Width: 3, Priority: 1},
		{Name: "E", Width: 3, Priority: 1},
		{Name: "F", Min: 5},
	}
	tb, _ := newNumbers(cols, 1)
	for _, c := range []struct {
		w      int
		shown  string
		cw, fw int
	}{
		{40, "ABCDEF", 8, 13}, // C stops at its maximum, F takes the rest
		{29, "ABCDEF", 5, 5},  // just fits: 4+4+5+3+3+5 and five gaps
		{28, "ABCF", 8, 9},    // D and E go together
		{17, "ACF", 6, 5},     // then B
		{10, "ACF", 2, 2},     // nothing else may go: the flexible ones shrink
	} {
		tb.layout(0, c.w)
		var shown string
		for i, col := range cols {
			if tb.Shown(i) {
				shown += col.Name
			}
		}
		if shown != c.shown || tb.w[2] != c.cw || tb.w[5] != c.fw {
			t.Errorf("width %d: shows %s, C %d F %d; want %s, %d, %d", c.w, shown, tb.w[2], tb.w[5], c.shown, c.cw, c.fw)
		}
		if end := tb.x[5] + tb.w[5]; end > c.w {
			t.Errorf("width %d: the last column ends at %d", c.w, end)
		}
	}
}

// The selection follows its row's key through a rebuild, stays in place
// when its row is gone, and sort keys skip what cannot be sorted.
func TestTableSelectionAndSort(t *testing.T) {
	cols := []Column{{Name: "N", Width: 4}, {Name: "hist", Width: 4, NoSort: true}, {Name: "M", Width: 4, Desc: true}, {Name: "X", Width: 4, Hidden: true}}
	tb, n := newNumbers(cols, 1, 2, 3, 4, 5)
	tb.Move(2)
	if k, _ := tb.Selected(); k != 3 {
		t.Fatalf("selected %d after two moves, want 3", k)
	}
	n.set(5, 4, 3, 2, 1)
	if k, _ := tb.Selected(); k != 3 || tb.Index() != 2 {
		t.Errorf("after a re-sort: %d at %d, want 3 at 2", k, tb.Index())
	}
	n.set(9, 8, 7, 6, 5, 4)
	tb.Move(-1)
	tb.Move(2)
	if k, _ := tb.Selected(); k != 6 {
		t.Errorf("after its row went: selected %d, want 6 (the same place, moved)", k)
	}
	tb.End()
	if k, _ := tb.Selected(); k != 4 {
		t.Errorf("End selects %d", k)
	}
	n.set()
	if _, ok := tb.Selected(); ok {
		t.Error("a selection in an empty table")
	}
	var got []string
	for range 4 {
		tb.MoveSort(+1)
		c, desc := tb.Sort()
		got = append(got, cols[c].Name+strconv.FormatBool(desc))
	}
	if strings.Join(got, " ") != "Mtrue Nfalse Mtrue Nfalse" {
		t.Errorf("l steps through %v; want N and M only, each in its direction", got)
	}
	tb.SortBy(0)
	if c, desc := tb.Sort(); c != 0 || !desc {
		t.Errorf("choosing the sort column again does not reverse it: %d %v", c, desc)
	}
}

// Only the rows that fit are drawn, whatever the table holds; a header
// click sorts by the column under it; a double-click activates a row.
func TestTableDrawsOnlyVisibleRowsAndClicks(t *testing.T) {
	cols := []Column{{Name: "NUM", Width: 6, Align: AlignRight}, {Name: "TWICE", Min: 6}}
	rows := make([]int, 10000)
	for i := range rows {
		rows[i] = i
	}
	tb, n := newNumbers(cols, rows...)
	activated := 0
	tb.Activate = func() { activated++ }
	s := screen(t, 20, 10)
	tb.Draw(s, 0, 0, 20, 10)
	s.Show()
	if n.drawn != 9*2 {
		t.Errorf("%d cells drawn for 9 visible rows of 2 columns", n.drawn)
	}
	if got := row(s, 0); !strings.HasPrefix(got, "NUM▲ TWICE") && !strings.HasPrefix(got, "  NUM▲") {
		t.Errorf("header %q", got)
	}
	if got := strings.TrimSpace(row(s, 2)); got != "1 2" {
		t.Errorf("row 2 %q", got)
	}
	if !tb.Mouse(tview.MouseLeftClick, tb.ColumnX(1)+1, tb.HeaderY()) {
		t.Fatal("a header click was not the table's")
	}
	if c, _ := tb.Sort(); c != 1 {
		t.Errorf("a click on TWICE sorts by column %d", c)
	}
	tb.Mouse(tview.MouseLeftDoubleClick, 3, 4)
	if k, _ := tb.Selected(); k != 3 || activated != 1 {
		t.Errorf("double-click on the fourth row: selected %d, activated %d", k, activated)
	}
	tb.PageDown()
	if k, _ := tb.Selected(); k != 12 || !slices.Contains([]int{9}, tb.PageRows()) {
		t.Errorf("a page down from 3 selects %d (page %d)", k, tb.PageRows())
	}
}
