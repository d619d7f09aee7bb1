package tui

import (
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/widget"
)

// FuzzFilterView: whatever the user types into / and whatever names the
// agent sends, filtering, sorting and the tree never panic, and every row
// shown matches the filter (outside tree mode).
func FuzzFilterView(f *testing.F) {
	for _, s := range []string{"", "pid:1", "PID:", "user:", "user:root", "nginx", "ñ", "pid:99999999999", "\x00", "İ"} {
		f.Add(s, "name\x1b[2J", uint8(0), true)
	}
	f.Fuzz(func(t *testing.T, filter, name string, col uint8, tree bool) {
		rows := make([]procRow, 20)
		for i := range rows {
			rows[i] = procRow{pid: uint32(i + 1), ppid: uint32(i / 2), name: name + strings.Repeat("x", i%3), user: name, cpu: float64(i % 5)}
		}
		flt := parseFilter(filter)
		v := buildView(nil, rows, flt, sortColumn(col)%numColumns, col%2 == 0, tree)
		if !tree {
			for _, r := range v {
				if !flt.match(r) {
					t.Fatalf("row %d shown but does not match %q", r.pid, filter)
				}
			}
		}
		if len(v) > len(rows) {
			t.Fatalf("view has %d rows from %d", len(v), len(rows))
		}
	})
}

// FuzzPrint: text from the agent (process names, journal lines) is drawn
// clipped to its width, with no control characters reaching the terminal.
func FuzzPrint(f *testing.F) {
	for _, s := range []string{"plain", "\x1b]0;title\x07", "宽字符名字", "e\u0301", "\t\r\n", "\xff\xfe"} {
		f.Add(s, uint8(10))
	}
	scr := tcell.NewSimulationScreen("UTF-8")
	scr.Init()
	scr.SetSize(40, 2)
	f.Fuzz(func(t *testing.T, text string, w uint8) {
		maxW := int(w % 40)
		n := widget.Print(scr, 0, 0, maxW, text, tcell.StyleDefault)
		if n > maxW || n < 0 {
			t.Fatalf("Print used %d cells of %d", n, maxW)
		}
		for _, l := range wrap(text, maxW+8) {
			if widget.Width(l) > maxW+8 && maxW+8 >= 8 {
				t.Fatalf("wrap line %q wider than %d", l, maxW+8)
			}
		}
		scr.Show()
		cells, _, _ := scr.GetContents()
		for _, c := range cells[:40] {
			for _, r := range c.Runes {
				if r < ' ' && r != 0 {
					t.Fatalf("control character %U on screen", r)
				}
			}
		}
	})
}
