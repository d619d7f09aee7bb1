package widget

import (
	"math"

	"github.com/gdamore/tcell/v2"
)

// Series is a history of samples, oldest first (model.Ring is one).
type Series interface {
	Len() int
	At(i int) float64
}

// Counted is a Series that knows how many samples it was ever given: a
// graph of it keeps each sample in the same cell until the cell is full,
// so a braille graph shifts one cell every two samples instead of half a
// cell every sample — which rewrote every cell of it on the terminal.
type Counted interface {
	Series
	Pushed() uint64
}

// Shade picks a style for a value that fills frac (0..1) of its scale, so a
// graph can run green → yellow → red as btop's do.
type Shade func(frac float64) tcell.Style

// braille dot bits, indexed [column][row from the top].
var brailleDots = [2][4]rune{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}

// asciiLevels fill one cell in quarters for terminals without braille.
var asciiLevels = [5]rune{' ', '_', '.', ':', '#'}

// Graph draws history as an area graph in the rectangle, newest sample at
// the right edge. top is the top of the scale (values above are clipped);
// with ascii false each cell shows two samples and four dot rows (braille),
// with ascii true one sample in quarter steps.
func Graph(s tcell.Screen, x, y, w, h int, r Series, top float64, ascii bool, shade Shade) {
	if w <= 0 || h <= 0 || r == nil {
		return
	}
	if top <= 0 {
		top = 1
	}
	perCell, dotsPerCell := 2, 4
	if ascii {
		perCell = 1
	}
	total := h * dotsPerCell
	samples := w * perCell
	n := r.Len()
	// the slots after the newest sample, up to the end of its cell
	pad := 0
	if c, ok := r.(Counted); ok {
		pad = int((uint64(perCell) - c.Pushed()%uint64(perCell)) % uint64(perCell))
	}
	// height in dots of sample k (0 = leftmost slot); slots before the
	// first sample and after the newest are empty.
	level := func(k int) int {
		i := n - samples + k + pad
		if i < 0 || i >= n {
			return 0
		}
		v := r.At(i) / top
		if v <= 0 || math.IsNaN(v) {
			return 0
		}
		if v > 1 {
			v = 1
		}
		d := int(math.Round(v * float64(total)))
		if d == 0 {
			d = 1 // any activity shows
		}
		return d
	}
	for cx := 0; cx < w; cx++ {
		var lv [2]int
		for c := 0; c < perCell; c++ {
			lv[c] = level(cx*perCell + c)
		}
		for row := 0; row < h; row++ {
			// dots below this cell's bottom edge, counted from the graph bottom
			base := (h - 1 - row) * dotsPerCell
			frac := float64(h-row) / float64(h)
			st := shade(frac)
			if ascii {
				fill := lv[0] - base
				fill = min(max(fill, 0), 4)
				s.SetContent(x+cx, y+row, asciiLevels[fill], nil, st)
				continue
			}
			ch := rune(0x2800)
			for c := range 2 {
				fill := lv[c] - base
				for d := 0; d < 4 && d < fill; d++ {
					ch |= brailleDots[c][3-d]
				}
			}
			s.SetContent(x+cx, y+row, ch, nil, st)
		}
	}
}

// Sparkline draws history in one row (a braille row of four levels, or
// ASCII quarters), newest sample on the right.
func Sparkline(s tcell.Screen, x, y, w int, r Series, top float64, ascii bool, shade Shade) {
	Graph(s, x, y, w, 1, r, top, ascii, shade)
}
