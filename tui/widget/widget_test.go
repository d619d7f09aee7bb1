package widget

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
)

func TestUnits(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{Bytes(0), "0B"}, {Bytes(1023), "1023B"}, {Bytes(1536), "1.5K"},
		{Bytes(5 << 30), "5.0G"}, {Bytes(931 << 30), "931G"},
		{Rate(2.5 * 1024 * 1024), "2.5M/s"}, {Rate(-1), "0B/s"},
		{Percent(3.14159), "3.1%"}, {Percent(100), "100%"}, {Percent(-5), "0.0%"},
		{Duration(42 * time.Second), "42s"}, {Duration(3*time.Hour + 4*time.Minute), "3h04m"},
		{Duration(50*time.Hour + 10*time.Minute), "2d 2h"}, {Duration(61 * time.Second), "1m01s"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func screen(t testing.TB, w, h int) tcell.SimulationScreen {
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	s.SetSize(w, h)
	return s
}

func row(s tcell.SimulationScreen, y int) string {
	cells, w, _ := s.GetContents()
	var b strings.Builder
	for x := range w {
		c := cells[y*w+x]
		if len(c.Runes) == 0 {
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(c.Runes[0])
	}
	return b.String()
}

func TestGraphBraille(t *testing.T) {
	s := screen(t, 4, 2)
	r := series{0, 100, 50, 25}
	Graph(s, 0, 0, 2, 2, r, 100, false, func(float64) tcell.Style { return tcell.StyleDefault })
	s.Show()
	// four samples over 2 cells × 2 rows = 8 dots high: 0, 8, 4, 2 dots.
	top, bottom := []rune(row(s, 0)), []rune(row(s, 1))
	// cell 0: left empty, right full → top right column all four dots,
	// bottom the same.
	if top[0] != 0x2800|0x08|0x10|0x20|0x80 || bottom[0] != 0x2800|0x08|0x10|0x20|0x80 {
		t.Errorf("cell 0 = %U %U", top[0], bottom[0])
	}
	// cell 1: left 4 dots (bottom row full), right 2 dots.
	if top[1] != 0x2800 || bottom[1] != 0x2800|0x01|0x02|0x04|0x40|0x20|0x80 {
		t.Errorf("cell 1 = %U %U", top[1], bottom[1])
	}
}

func TestGraphASCIIAndBar(t *testing.T) {
	s := screen(t, 10, 3)
	r := series{100, 50}
	Graph(s, 0, 0, 2, 2, r, 100, true, func(float64) tcell.Style { return tcell.StyleDefault })
	Bar(s, 0, 2, 10, 0.5, true, tcell.StyleDefault, tcell.StyleDefault)
	s.Show()
	if got := row(s, 0)[:2]; got != "# " {
		t.Errorf("ascii top row %q", got)
	}
	if got := row(s, 1)[:2]; got != "##" {
		t.Errorf("ascii bottom row %q", got)
	}
	if got := row(s, 2); got != "#####-----" {
		t.Errorf("ascii bar %q", got)
	}
	Bar(s, 0, 2, 4, 0.5, false, tcell.StyleDefault, tcell.StyleDefault)
	s.Show()
	if got := row(s, 2)[:len("██··")]; got != "██··" {
		t.Errorf("unicode bar %q", got)
	}
}

func TestPrintClipsAndSanitises(t *testing.T) {
	s := screen(t, 8, 1)
	n := Print(s, 0, 0, 5, "a\x1b[2Jbcdef", tcell.StyleDefault)
	s.Show()
	if n != 5 || !strings.HasPrefix(row(s, 0), "a?[2J") {
		t.Errorf("print = %d %q", n, row(s, 0))
	}
}

// series is a plain history for the graph tests.
type series []float64

func (s series) Len() int         { return len(s) }
func (s series) At(i int) float64 { return s[i] }

// Values that cannot be are drawn as "-"; negative amounts as 0.
func TestValuesThatCannotBe(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct{ got, want string }{
		{Percent(nan), "-"}, {Percent(inf), "-"}, {Percent(-inf), "-"}, {Percent(1e300), "-"},
		{Rate(nan), "-"}, {Rate(inf), "-"}, {Bytes(math.MaxUint64), "-"}, {Bytes(1 << 62), "4.0E"},
		{Count(math.MaxUint64), "-"}, {Number(nan, 1), "-"}, {Number(-3, 1), "0.0"}, {Number(2.345, 2), "2.35"},
		{Celsius(nan), "-"}, {Celsius(inf), "-"}, {Celsius(1e30), "-"}, {Celsius(-300), "-"}, {Celsius(48.6), "49°C"},
		{Duration(Seconds(inf)), "0s"}, {Duration(Seconds(nan)), "0s"}, {Duration(Seconds(90)), "1m30s"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if s := Share(1, 0); !math.IsNaN(s) {
		t.Errorf("a share of nothing is %v", s)
	}
	if s := Share(math.MaxUint64, 8<<30); !math.IsNaN(s) {
		t.Errorf("more than the whole is a share of %v", s)
	}
}

// counted is a series that says how many samples it was ever given.
type counted struct {
	series
	pushed uint64
}

func (c counted) Pushed() uint64 { return c.pushed }

// A braille graph of a counted series keeps each sample in its cell: a
// sample that fills the newest cell's second half changes that cell only;
// the next one starts a new cell and shifts the rest by one cell.
func TestGraphShiftsByCells(t *testing.T) {
	s := screen(t, 4, 1)
	shade := func(float64) tcell.Style { return tcell.StyleDefault }
	draw := func(c counted) string {
		Graph(s, 0, 0, 4, 1, c, 100, false, shade)
		s.Show()
		return row(s, 0)
	}
	// an odd count: the newest sample is the left half of the last cell
	a := []rune(draw(counted{series{100, 0, 100, 0, 100}, 5}))
	b := []rune(draw(counted{series{100, 0, 100, 0, 100, 100}, 6}))
	for x := range 3 {
		if a[x] != b[x] {
			t.Errorf("cell %d changed (%q → %q) when the newest cell filled", x, a[x], b[x])
		}
	}
	if a[3] == b[3] || a[3] != '⡇' || b[3] != '⣿' {
		t.Errorf("the newest cell went %q → %q, want ⡇ → ⣿", a[3], b[3])
	}
	c := []rune(draw(counted{series{100, 0, 100, 0, 100, 100, 0}, 7}))
	if string(c[:3]) != string(b[1:]) {
		t.Errorf("a new cell did not shift the graph by one cell: %q then %q", string(b), string(c))
	}
}

func reversed(st tcell.Style) bool {
	_, _, attr := st.Decompose()
	return attr&tcell.AttrReverse != 0
}

// TestMarkColumn: the column is shown reversed with what was drawn kept.
func TestMarkColumn(t *testing.T) {
	s := tcell.NewSimulationScreen("UTF-8")
	s.Init()
	s.SetSize(4, 3)
	s.SetContent(1, 0, '⣿', nil, tcell.StyleDefault)
	MarkColumn(s, 1, 0, 2)
	for row, want := range []string{"⣿", " "} {
		str, st, _ := s.Get(1, row)
		if str != want || !reversed(st) {
			t.Errorf("row %d: %q reverse %v, want %q reversed", row, str, reversed(st), want)
		}
	}
	if _, st, _ := s.Get(1, 2); reversed(st) {
		t.Error("a row below the marked ones is reversed")
	}
}
