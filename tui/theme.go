package tui

import (
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/widget"
)

// theme is every style the dashboard paints with. The NO_COLOR theme uses
// attributes only (bold, reverse, dim) so nothing depends on colour.
type theme struct {
	ascii   bool
	noColor bool
	frame   widget.FrameChars

	base, border, title, dim, label, value  tcell.Style
	headerHost, good, warn, bad             tcell.Style
	colHeader, colSorted, selected, busiest tcell.Style
	barEmpty                                tcell.Style
	footerKey, footerText, footerMsg        tcell.Style

	cpu, mem, rx, tx        widget.Shade
	upArrow, downArrow, dot string
}

func newTheme(ascii, noColor bool) *theme {
	d := tcell.StyleDefault
	t := &theme{ascii: ascii, noColor: noColor, frame: widget.FrameUnicode,
		upArrow: "▲", downArrow: "▼", dot: "●"}
	if ascii {
		t.frame, t.upArrow, t.downArrow, t.dot = widget.FrameASCII, "^", "v", "*"
	}
	if noColor {
		t.base, t.border, t.title, t.dim = d, d, d.Bold(true), d.Dim(true)
		t.label, t.value, t.headerHost = d.Dim(true), d, d.Bold(true)
		t.good, t.warn, t.bad = d, d.Bold(true), d.Bold(true).Reverse(true)
		t.colHeader, t.colSorted = d.Underline(true), d.Underline(true).Bold(true)
		t.selected, t.busiest, t.barEmpty = d.Reverse(true), d.Bold(true), d.Dim(true)
		t.footerKey, t.footerText, t.footerMsg = d.Reverse(true), d, d.Bold(true)
		flat := func(float64) tcell.Style { return d }
		t.cpu, t.mem, t.rx, t.tx = flat, flat, flat, flat
		return t
	}
	c := func(fg tcell.Color) tcell.Style { return d.Foreground(fg) }
	t.base = d
	t.border = c(tcell.ColorGray)
	t.title = c(tcell.ColorAqua).Bold(true)
	t.dim = c(tcell.ColorGray)
	t.label = c(tcell.ColorSilver)
	t.value = c(tcell.ColorWhite)
	t.headerHost = c(tcell.ColorAqua).Bold(true)
	t.good, t.warn, t.bad = c(tcell.ColorGreen), c(tcell.ColorYellow), c(tcell.ColorRed).Bold(true)
	t.colHeader = c(tcell.ColorSilver).Bold(true)
	t.colSorted = c(tcell.ColorAqua).Bold(true).Underline(true)
	t.selected = d.Background(tcell.ColorNavy).Foreground(tcell.ColorWhite).Bold(true)
	t.busiest = c(tcell.ColorOrange)
	t.barEmpty = c(tcell.ColorDarkSlateGray)
	t.footerKey = d.Background(tcell.ColorTeal).Foreground(tcell.ColorBlack)
	t.footerText = c(tcell.ColorSilver)
	t.footerMsg = c(tcell.ColorYellow)
	heat := func(frac float64) tcell.Style {
		switch {
		case frac > 0.8:
			return c(tcell.ColorRed)
		case frac > 0.5:
			return c(tcell.ColorYellow)
		}
		return c(tcell.ColorGreen)
	}
	t.cpu = heat
	t.mem = func(frac float64) tcell.Style {
		if frac > 0.85 {
			return c(tcell.ColorRed)
		}
		return c(tcell.ColorFuchsia)
	}
	t.rx = func(float64) tcell.Style { return c(tcell.ColorDodgerBlue) }
	t.tx = func(float64) tcell.Style { return c(tcell.ColorMediumPurple) }
	return t
}

// level picks good/warn/bad for a 0..100 load.
func (t *theme) level(pct float64) tcell.Style {
	switch {
	case pct >= 90:
		return t.bad
	case pct >= 70:
		return t.warn
	}
	return t.good
}

// applyTview makes tview's own widgets (modal, input field, pages) follow
// the theme: the terminal's background, no colour under NO_COLOR, ASCII
// borders with --ascii. tview keeps these in package variables.
func (t *theme) applyTview() {
	tview.Styles.PrimitiveBackgroundColor = tcell.ColorDefault
	if t.noColor {
		s := &tview.Styles
		for _, c := range []*tcell.Color{&s.ContrastBackgroundColor, &s.MoreContrastBackgroundColor, &s.BorderColor,
			&s.TitleColor, &s.GraphicsColor, &s.PrimaryTextColor, &s.SecondaryTextColor, &s.TertiaryTextColor,
			&s.InverseTextColor, &s.ContrastSecondaryTextColor} {
			*c = tcell.ColorDefault
		}
	}
	if t.ascii {
		b := &tview.Borders
		b.Horizontal, b.Vertical, b.HorizontalFocus, b.VerticalFocus = '-', '|', '=', '|'
		b.TopLeft, b.TopRight, b.BottomLeft, b.BottomRight = '+', '+', '+', '+'
		b.TopLeftFocus, b.TopRightFocus, b.BottomLeftFocus, b.BottomRightFocus = '+', '+', '+', '+'
		b.LeftT, b.RightT, b.TopT, b.BottomT, b.Cross = '+', '+', '+', '+', '+'
	}
}

// styleModal gives a modal dialog the theme's look.
func (t *theme) styleModal(m *tview.Modal) {
	if !t.noColor {
		return
	}
	m.SetBackgroundColor(tcell.ColorDefault)
	m.SetTextColor(tcell.ColorDefault)
	m.SetButtonStyle(tcell.StyleDefault)
	m.SetButtonActivatedStyle(tcell.StyleDefault.Reverse(true))
}
