package widget

import "github.com/gdamore/tcell/v2"

var eighths = [9]rune{' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'}

// Bar draws a horizontal gauge frac (0..1) full across w cells: eighth
// blocks in Unicode, '#' over '-' in ASCII. The filled part takes fill, the
// rest empty.
func Bar(s tcell.Screen, x, y, w int, frac float64, ascii bool, fill, empty tcell.Style) {
	if w <= 0 {
		return
	}
	if frac < 0 || frac != frac {
		frac = 0
	}
	if frac > 1 {
		frac = 1
	}
	if ascii {
		n := int(frac*float64(w) + 0.5)
		for i := range w {
			if i < n {
				s.SetContent(x+i, y, '#', nil, fill)
			} else {
				s.SetContent(x+i, y, '-', nil, empty)
			}
		}
		return
	}
	e := int(frac*float64(w*8) + 0.5)
	for i := range w {
		switch {
		case e >= 8:
			s.SetContent(x+i, y, '█', nil, fill)
			e -= 8
		case e > 0:
			s.SetContent(x+i, y, eighths[e], nil, fill)
			e = 0
		default:
			s.SetContent(x+i, y, '·', nil, empty)
		}
	}
}
