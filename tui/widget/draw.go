// Package widget holds the dashboard's drawing pieces: braille graphs with
// an ASCII fallback, gauges, the one table every list uses, the theme, and
// the text and value formatting every screen draws through. Everything draws
// straight onto a tcell.Screen inside a rectangle it is given, so the screens
// decide the layout and the widgets only paint. It knows nothing of agents.
package widget

import (
	"github.com/gdamore/tcell/v2"
	"github.com/mattn/go-runewidth"
)

// Print writes s at (x, y), clipped to maxW cells, and returns the number of
// cells used. Wide runes count twice; control characters are shown as '?'
// so a hostile process name cannot move the cursor.
func Print(s tcell.Screen, x, y, maxW int, text string, st tcell.Style) int {
	used := 0
	for _, r := range text {
		if r < ' ' || r == 0x7f {
			r = '?'
		}
		w := 1
		if r >= 0x80 {
			w = runewidth.RuneWidth(r)
			if w == 0 {
				continue // combining marks are dropped, not stacked
			}
		}
		if used+w > maxW {
			break
		}
		s.SetContent(x+used, y, r, nil, st)
		used += w
	}
	return used
}

// PrintRight writes text so that it ends at column x+maxW-1.
func PrintRight(s tcell.Screen, x, y, maxW int, text string, st tcell.Style) int {
	w := Width(text)
	if w > maxW {
		return Print(s, x, y, maxW, text, st)
	}
	return Print(s, x+maxW-w, y, w, text, st)
}

// PrintCut is Print that ends a cut with "…", so a reader knows there is
// more: "kworker/0:1-ev…".
func PrintCut(s tcell.Screen, x, y, maxW int, text string, st tcell.Style) int {
	if maxW <= 0 {
		return 0
	}
	if Width(text) <= maxW {
		return Print(s, x, y, maxW, text, st)
	}
	used := Print(s, x, y, maxW-1, text, st)
	s.SetContent(x+used, y, '…', nil, st)
	return used + 1
}

// Width is the number of cells text occupies.
func Width(text string) int {
	n := 0
	for _, r := range text {
		if r < 0x80 {
			n++
			continue
		}
		n += runewidth.RuneWidth(r)
	}
	return n
}

// Fill paints a rectangle with r in style st.
func Fill(s tcell.Screen, x, y, w, h int, r rune, st tcell.Style) {
	for j := range h {
		for i := range w {
			s.SetContent(x+i, y+j, r, nil, st)
		}
	}
}

// FrameChars are the runes of a box border.
type FrameChars struct {
	H, V, TL, TR, BL, BR rune
}

// Unicode and ASCII borders.
var (
	FrameUnicode = FrameChars{'─', '│', '╭', '╮', '╰', '╯'}
	FrameASCII   = FrameChars{'-', '|', '+', '+', '+', '+'}
)

// Frame draws a border around the rectangle with a title on the left of the
// top edge and info on its right, and returns the inner rectangle.
func Frame(s tcell.Screen, x, y, w, h int, fc FrameChars, border, title tcell.Style, titleText, info string) (ix, iy, iw, ih int) {
	if w < 2 || h < 2 {
		return x, y, 0, 0
	}
	for i := 1; i < w-1; i++ {
		s.SetContent(x+i, y, fc.H, nil, border)
		s.SetContent(x+i, y+h-1, fc.H, nil, border)
	}
	for j := 1; j < h-1; j++ {
		s.SetContent(x, y+j, fc.V, nil, border)
		s.SetContent(x+w-1, y+j, fc.V, nil, border)
	}
	s.SetContent(x, y, fc.TL, nil, border)
	s.SetContent(x+w-1, y, fc.TR, nil, border)
	s.SetContent(x, y+h-1, fc.BL, nil, border)
	s.SetContent(x+w-1, y+h-1, fc.BR, nil, border)
	used := 0
	if titleText != "" && w > 4 {
		used = PrintCut(s, x+2, y, w-4, " "+titleText+" ", title)
	}
	if info != "" {
		room := w - 4 - used - 1
		if iw := Width(info) + 2; iw <= room {
			PrintRight(s, x+2, y, w-4, " "+info+" ", border)
		}
	}
	return x + 1, y + 1, w - 2, h - 2
}

// Line writes pieces of text one after another along a row, clipped at
// its end: a header made of labelled values.
type Line struct {
	s         tcell.Screen
	x, y, end int
}

// NewLine starts a line at (x, y), w cells wide.
func NewLine(s tcell.Screen, x, y, w int) *Line { return &Line{s: s, x: x, y: y, end: x + w} }

// Put writes text in style st after what is already on the line; a
// piece that does not fit is cut with "…" and ends the line.
func (l *Line) Put(text string, st tcell.Style) {
	if l.x >= l.end {
		return
	}
	if Width(text) > l.end-l.x {
		PrintCut(l.s, l.x, l.y, l.end-l.x, text, st)
		l.x = l.end
		return
	}
	l.x += Print(l.s, l.x, l.y, l.end-l.x, text, st)
}

// Room is how many cells are left.
func (l *Line) Room() int { return l.end - l.x }

// MarkColumn shows column x of the rows y to y+h-1 in reverse video,
// keeping what is drawn there (a graph's time cursor).
func MarkColumn(s tcell.Screen, x, y, h int) {
	for row := y; row < y+h; row++ {
		str, st, _ := s.Get(x, row)
		if str == "" {
			str = " "
		}
		s.Put(x, row, str, st.Reverse(true))
	}
}
