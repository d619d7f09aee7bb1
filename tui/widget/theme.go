package widget

import (
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// Theme is every style the dashboard paints with. The NO_COLOR theme uses
// attributes only (bold, reverse, dim) so nothing depends on colour.
type Theme struct {
	ASCII   bool
	NoColor bool
	Frame   FrameChars

	Base, Border, Title, Dim, Label, Value  tcell.Style
	HeaderHost, Good, Warn, Bad             tcell.Style
	ColHeader, ColSorted, Selected, Busiest tcell.Style
	BarEmpty                                tcell.Style
	FooterKey, FooterText, FooterMsg        tcell.Style

	CPU, Mem, Rx, Tx        Shade
	UpArrow, DownArrow, Dot string
}

// NewTheme makes the theme for --ascii and --no-color (NO_COLOR).
func NewTheme(ascii, noColor bool) *Theme {
	d := tcell.StyleDefault
	t := &Theme{ASCII: ascii, NoColor: noColor, Frame: FrameUnicode,
		UpArrow: "▲", DownArrow: "▼", Dot: "●"}
	if ascii {
		t.Frame, t.UpArrow, t.DownArrow, t.Dot = FrameASCII, "^", "v", "*"
	}
	if noColor {
		t.Base, t.Border, t.Title, t.Dim = d, d, d.Bold(true), d.Dim(true)
		t.Label, t.Value, t.HeaderHost = d.Dim(true), d, d.Bold(true)
		t.Good, t.Warn, t.Bad = d, d.Bold(true), d.Bold(true).Reverse(true)
		t.ColHeader, t.ColSorted = d.Underline(true), d.Underline(true).Bold(true)
		t.Selected, t.Busiest, t.BarEmpty = d.Reverse(true), d.Bold(true), d.Dim(true)
		t.FooterKey, t.FooterText, t.FooterMsg = d.Reverse(true), d, d.Bold(true)
		flat := func(float64) tcell.Style { return d }
		t.CPU, t.Mem, t.Rx, t.Tx = flat, flat, flat, flat
		return t
	}
	c := func(fg tcell.Color) tcell.Style { return d.Foreground(fg) }
	t.Base = d
	t.Border = c(tcell.ColorGray)
	t.Title = c(tcell.ColorAqua).Bold(true)
	t.Dim = c(tcell.ColorGray)
	t.Label = c(tcell.ColorSilver)
	t.Value = c(tcell.ColorWhite)
	t.HeaderHost = c(tcell.ColorAqua).Bold(true)
	t.Good, t.Warn, t.Bad = c(tcell.ColorGreen), c(tcell.ColorYellow), c(tcell.ColorRed).Bold(true)
	t.ColHeader = c(tcell.ColorSilver).Bold(true)
	t.ColSorted = c(tcell.ColorAqua).Bold(true).Underline(true)
	t.Selected = d.Background(tcell.ColorNavy).Foreground(tcell.ColorWhite).Bold(true)
	t.Busiest = c(tcell.ColorOrange)
	t.BarEmpty = c(tcell.ColorDarkSlateGray)
	t.FooterKey = d.Background(tcell.ColorTeal).Foreground(tcell.ColorBlack)
	t.FooterText = c(tcell.ColorSilver)
	t.FooterMsg = c(tcell.ColorYellow)
	heat := func(frac float64) tcell.Style {
		switch {
		case frac > 0.8:
			return c(tcell.ColorRed)
		case frac > 0.5:
			return c(tcell.ColorYellow)
		}
		return c(tcell.ColorGreen)
	}
	t.CPU = heat
	t.Mem = func(frac float64) tcell.Style {
		if frac > 0.85 {
			return c(tcell.ColorRed)
		}
		return c(tcell.ColorFuchsia)
	}
	t.Rx = func(float64) tcell.Style { return c(tcell.ColorDodgerBlue) }
	t.Tx = func(float64) tcell.Style { return c(tcell.ColorMediumPurple) }
	return t
}

// Level picks good/warn/bad for a 0..100 load.
func (t *Theme) Level(pct float64) tcell.Style {
	switch {
	case pct >= 90:
		return t.Bad
	case pct >= 70:
		return t.Warn
	}
	return t.Good
}

// ApplyTview makes tview's own widgets (modal, input field, pages) follow
// the theme: the terminal's background, no colour under NO_COLOR, ASCII
// borders with --ascii. tview keeps these in package variables.
func (t *Theme) ApplyTview() {
	tview.Styles.PrimitiveBackgroundColor = tcell.ColorDefault
	if t.NoColor {
		s := &tview.Styles
		for _, c := range []*tcell.Color{&s.ContrastBackgroundColor, &s.MoreContrastBackgroundColor, &s.BorderColor,
			&s.TitleColor, &s.GraphicsColor, &s.PrimaryTextColor, &s.SecondaryTextColor, &s.TertiaryTextColor,
			&s.InverseTextColor, &s.ContrastSecondaryTextColor} {
			*c = tcell.ColorDefault
		}
	}
	if t.ASCII {
		b := &tview.Borders
		b.Horizontal, b.Vertical, b.HorizontalFocus, b.VerticalFocus = '-', '|', '=', '|'
		b.TopLeft, b.TopRight, b.BottomLeft, b.BottomRight = '+', '+', '+', '+'
		b.TopLeftFocus, b.TopRightFocus, b.BottomLeftFocus, b.BottomRightFocus = '+', '+', '+', '+'
		b.LeftT, b.RightT, b.TopT, b.BottomT, b.Cross = '+', '+', '+', '+', '+'
	}
}

// Arrow is the sort direction mark: ▼ for biggest first.
func (t *Theme) Arrow(desc bool) string {
	if desc {
		return t.DownArrow
	}
	return t.UpArrow
}
