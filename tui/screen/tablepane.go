package screen

import (
	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
)

// tableOf is what a screen of one table is made of: the table over rows,
// sorted by sortCol first, and the pane that paints it, mouse events
// going to the table (header clicks, selection, a double-click activates).
type tableOf[K comparable] struct {
	cols     []widget.Column
	sortCol  int
	rows     widget.Rows[K]
	refresh  func() bool
	activate func()
	paint    func(s tcell.Screen, x, y, w, h int)
}

func (o tableOf[K]) build(th *widget.Theme) (*widget.Table[K], *widget.Pane) {
	t := widget.NewTable[K](th, o.cols, o.sortCol)
	t.Rows, t.Refresh, t.Activate = o.rows, o.refresh, o.activate
	p := widget.NewPane(o.paint)
	p.Mouse = t.Mouse
	return t, p
}

// filteredScreen is a screen of one pane and its filter bar whose data the
// watcher fetches (needs) only while it is shown.
func (d *dash) filteredScreen(name string, view *widget.Pane, keys []shell.Binding, f *filterBar, needs model.Needs) *shell.Screen {
	sc := &shell.Screen{Name: name, View: view, Keys: keys,
		Help: []shell.Section{{Name: name + " filter", Keys: f.screen.Keys}}}
	sc.Shown = func() { d.w.Need(sc, needs) }
	sc.Hidden = func() { d.w.Release(sc) }
	return sc
}
