package widget

import (
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// Pane is a tview primitive that paints itself with a function: the
// screens keep their state and draw it into whatever rectangle the layout
// gives.
type Pane struct {
	*tview.Box
	paint func(s tcell.Screen, x, y, w, h int)
	// Click, when set, receives left clicks inside the pane.
	Click func(x, y int)
	// Mouse, when set, receives every mouse event inside the pane and
	// reports whether it used it.
	Mouse func(action tview.MouseAction, x, y int) bool
}

// NewPane makes a pane drawn by paint.
func NewPane(paint func(s tcell.Screen, x, y, w, h int)) *Pane {
	return &Pane{Box: tview.NewBox(), paint: paint}
}

// Draw paints the pane when it has room.
func (p *Pane) Draw(s tcell.Screen) {
	x, y, w, h := p.GetRect()
	if w > 0 && h > 0 {
		p.paint(s, x, y, w, h)
	}
}

// MouseHandler hands clicks to Click and other events to Mouse.
func (p *Pane) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return p.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, _ func(tview.Primitive)) (bool, tview.Primitive) {
		x, y := ev.Position()
		if !p.InRect(x, y) {
			return false, nil
		}
		if p.Mouse != nil {
			return p.Mouse(action, x, y), nil
		}
		if p.Click == nil || action != tview.MouseLeftClick {
			return false, nil
		}
		p.Click(x, y)
		return true, nil
	})
}
