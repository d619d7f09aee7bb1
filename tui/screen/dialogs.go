package screen

import (
	"strconv"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// filterBar is a filter being typed: a screen that only replaces the
// footer with an input field, over the table it filters.
type filterBar struct {
	sh     *shell.Shell
	input  *tview.InputField
	screen *shell.Screen
}

// escape is Esc on a screen filtered by this bar: it clears the filter
// (text, what the bar set) first, and only then goes back.
func (f *filterBar) escape(text string) {
	if text != "" {
		f.input.SetText("")
		return
	}
	f.sh.Pop()
}

func newFilterBar(sh *shell.Shell, label string, set func(string)) *filterBar {
	th := sh.Theme()
	f := &filterBar{sh: sh, input: tview.NewInputField().SetLabel(label)}
	f.input.SetChangedFunc(set)
	f.input.SetFieldStyle(th.Value.Underline(true))
	f.input.SetLabelStyle(th.Title)
	f.screen = &shell.Screen{Name: "Filter", Bar: f.input, Overlay: true, Keys: []shell.Binding{
		{Keys: shell.Special(tcell.KeyEnter), Label: "Enter", Hint: "apply", Desc: "keep the filter and return to the table", Do: sh.Pop},
		{Keys: shell.Special(tcell.KeyEscape), Label: "Esc", Hint: "clear", Desc: "clear the filter",
			Do: func() { f.input.SetText(""); sh.Pop() }},
	}}
	return f
}

// open starts editing the filter, which is current now.
func (f *filterBar) open(current string) {
	f.input.SetText(current)
	f.sh.Push(f.screen)
}

// confirmDialog asks before a signal is sent. It draws its own box: the
// process and host names come from the agent and are printed as they are,
// never through tview's markup (where "[red]" is a colour).
type confirmDialog struct {
	*tview.Box
	d       *dash
	screen  *shell.Screen
	pid     uint32
	start   uint64 // the process's start time, which the agent checks
	name    string
	sig     string
	send    bool      // the focused button is Send (Cancel is the safe default)
	buttons [2][2]int // x0, x1 of Send and Cancel in the last draw
	btnY    int
}

func newConfirm(d *dash) *confirmDialog {
	c := &confirmDialog{Box: tview.NewBox(), d: d}
	c.screen = &shell.Screen{Name: "Signal dialog", View: c, Overlay: true, Keys: []shell.Binding{
		{Keys: shell.Runes('y'), Label: "y", Hint: "send", Desc: "send the signal", Do: c.sendNow},
		{Keys: shell.Runes('n'), Label: "n", Hint: "cancel", Desc: "cancel (also Esc)", Do: d.sh.Pop},
		{Keys: shell.Special(tcell.KeyEscape), Label: "Esc", Desc: "cancel", Do: d.sh.Pop},
		{Keys: shell.Special(tcell.KeyTab, tcell.KeyBacktab, tcell.KeyLeft, tcell.KeyRight), Label: "Tab ←/→", Hint: "choose",
			Desc: "choose a button (mouse: click it)", Do: func() { c.send = !c.send }},
		{Keys: shell.Special(tcell.KeyEnter), Label: "Enter", Desc: "press the chosen button", Do: c.press},
	}}
	return c
}

// open asks whether to send sig to pid (called name, started at start).
func (c *confirmDialog) open(pid uint32, start uint64, name, sig string) {
	c.pid, c.start, c.name, c.sig, c.send = pid, start, name, sig, false
	c.d.sh.Push(c.screen)
}

func (c *confirmDialog) press() {
	if c.send {
		c.sendNow()
		return
	}
	c.d.sh.Pop()
}

func (c *confirmDialog) sendNow() {
	d, pid, start, sig := c.d, c.pid, c.start, c.sig
	d.sh.Pop()
	p := strconv.FormatUint(uint64(pid), 10)
	d.w.Signal(d.sh.Context(), pid, start, sig, func(res *wire.SignalResult, err error) {
		if err != nil {
			d.sh.Flash("signal " + sig + " to " + p + " failed: " + errText(err))
			return
		}
		d.sh.Flash("sent " + res.GetSignal() + " to " + p)
	})
}

func (c *confirmDialog) Draw(s tcell.Screen) {
	t := c.d.th
	x, y, w, h := c.GetRect()
	text := "Send " + c.sig + " to process " + strconv.FormatUint(uint64(c.pid), 10) + " (" + c.name + ") on " + c.d.h.Hostname() + "?"
	bw := min(w-4, 60)
	lines := widget.Wrap(text, bw-4)
	bh := len(lines) + 4
	if bw < 20 || h < bh {
		return
	}
	bx, by := x+(w-bw)/2, y+(h-bh)/2
	widget.Fill(s, bx, by, bw, bh, ' ', t.Base)
	ix, iy, iw, _ := widget.Frame(s, bx, by, bw, bh, t.Frame, t.Title, t.Title, "signal", "")
	for i, l := range lines {
		widget.PrintRight(s, ix, iy+i, iw/2+widget.Width(l)/2, l, t.Value)
	}
	labels := [2]string{" Send " + c.sig + " ", " Cancel "}
	cx := ix + (iw-widget.Width(labels[0])-widget.Width(labels[1])-3)/2
	c.btnY = iy + len(lines) + 1
	for i, l := range labels {
		st := t.Value
		if (i == 0) == c.send {
			st = t.Selected
		}
		c.buttons[i] = [2]int{cx, cx + widget.Width(l)}
		cx += widget.Print(s, cx, c.btnY, iw, l, st) + 3
	}
}

func (c *confirmDialog) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return c.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, _ func(tview.Primitive)) (bool, tview.Primitive) {
		x, y := ev.Position()
		if action != tview.MouseLeftClick || y != c.btnY {
			return action == tview.MouseLeftClick, nil
		}
		for i, b := range c.buttons {
			if x >= b[0] && x < b[1] {
				c.send = i == 0
				c.press()
			}
		}
		return true, nil
	})
}
