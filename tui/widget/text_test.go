package widget

import (
	"testing"

	"github.com/gdamore/tcell/v2"
)

func TestWrap(t *testing.T) {
	got := Wrap("the quick brown fox jumps over the lazy dog", 12)
	for _, l := range got {
		if len([]rune(l)) > 12 {
			t.Errorf("line %q longer than 12", l)
		}
	}
	if len(got) < 4 {
		t.Errorf("wrap = %q", got)
	}
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
		n := Print(scr, 0, 0, maxW, text, tcell.StyleDefault)
		if n > maxW || n < 0 {
			t.Fatalf("Print used %d cells of %d", n, maxW)
		}
		for _, l := range Wrap(text, maxW+8) {
			if Width(l) > maxW+8 && maxW+8 >= 8 {
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
