package screen

import (
	"strconv"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/wire"
)

// filterBar is a filter being typed: a screen that only replaces the
// footer with an input field, over the table it filters.
type filterBar struct {
	sh     *shell.Shell
	input  *tview.InputField
	screen *shell.Screen
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

// confirmDialog asks before a signal is sent.
type confirmDialog struct {
	d      *dash
	modal  *tview.Modal
	screen *shell.Screen
	pid    uint32
	sig    string
}

func newConfirm(d *dash) *confirmDialog {
	c := &confirmDialog{d: d, modal: tview.NewModal()}
	d.th.StyleModal(c.modal)
	c.screen = &shell.Screen{Name: "Signal dialog", View: c.modal, Overlay: true, Keys: []shell.Binding{
		{Keys: shell.Runes('y'), Label: "y", Hint: "send", Desc: "send the signal", Do: c.send},
		{Keys: shell.Runes('n'), Label: "n", Hint: "cancel", Desc: "cancel (also Esc)", Do: d.sh.Pop},
		{Keys: shell.Special(tcell.KeyEscape), Label: "Esc", Desc: "cancel", Do: d.sh.Pop},
		{Keys: shell.Special(tcell.KeyTab, tcell.KeyLeft, tcell.KeyRight, tcell.KeyEnter), Label: "Tab ←/→ Enter", Hint: "choose",
			Desc: "choose a button and press it (mouse: click it)"},
	}}
	return c
}

// open asks whether to send sig to pid (called name). The names come from
// the agent: tview would read "[red]" in them as a colour, so they are
// escaped.
func (c *confirmDialog) open(pid uint32, name, sig string) {
	d := c.d
	c.pid, c.sig = pid, sig
	c.modal.ClearButtons()
	c.modal.SetText("Send " + sig + " to process " + strconv.FormatUint(uint64(pid), 10) + " (" + tview.Escape(name) + ") on " +
		tview.Escape(d.h.Hostname()) + "?")
	c.modal.AddButtons([]string{"Send " + sig, "Cancel"})
	c.modal.SetDoneFunc(func(i int, _ string) {
		if i == 0 {
			c.send()
			return
		}
		d.sh.Pop()
	})
	c.modal.SetFocus(1) // Cancel is the safe default
	d.sh.Push(c.screen)
}

func (c *confirmDialog) send() {
	d, pid, sig := c.d, c.pid, c.sig
	d.sh.Pop()
	p := strconv.FormatUint(uint64(pid), 10)
	d.w.Signal(d.sh.Context(), pid, sig, func(res *wire.SignalResult, err error) {
		if err != nil {
			d.sh.Flash("signal " + sig + " to " + p + " failed: " + errText(err))
			return
		}
		d.sh.Flash("sent " + res.GetSignal() + " to " + p)
	})
}
