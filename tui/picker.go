package tui

import (
	"context"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
)

// PickItem is one line of the picker: a name, the text beside it, and a
// key that picks it at once (0: none).
type PickItem struct {
	Name, Detail string
	Key          rune
}

// PickOptions configure Pick.
type PickOptions struct {
	// Screen is where the picker draws; nil is the terminal.
	Screen         tcell.Screen
	ASCII, NoColor bool
	Title          string
	Items          []PickItem
	// OnReady, when set, is called once the picker is on screen.
	OnReady func()
}

// Pick shows the items in a list and returns the name of the one chosen
// (Enter, a click or its key), or "" when the user quit (q, Esc).
func Pick(ctx context.Context, o PickOptions) (string, error) {
	sh := shell.New(ctx, shell.Options{Screen: o.Screen, Theme: widget.NewTheme(o.ASCII, o.NoColor)})
	list := tview.NewList().ShowSecondaryText(true)
	list.SetBorder(true).SetTitle(" " + tview.Escape(o.Title) + " ")
	for _, it := range o.Items {
		// names, URLs and groups are the user's text: tview would read
		// "[yellow]" in them as a colour
		list.AddItem(tview.Escape(it.Name), tview.Escape(it.Detail), it.Key, nil)
	}
	choice := ""
	list.SetSelectedFunc(func(i int, _, _ string, _ rune) {
		choice = o.Items[i].Name
		sh.Quit()
	})
	sh.Push(&shell.Screen{Name: "Pick an agent", View: list, Keys: []shell.Binding{
		{Keys: shell.Special(tcell.KeyEnter), Label: "Enter", Hint: "connect", Desc: "connect to the selected agent (mouse: click it)"},
		{Keys: shell.Keys(shell.Runes('q'), shell.Special(tcell.KeyEscape)), Label: "q/Esc", Hint: "quit", Desc: "quit without connecting", Do: sh.Quit},
		{Keys: shell.Special(tcell.KeyUp, tcell.KeyDown), Label: "↑/↓ 1-9 d", Desc: "move the selection; a digit or d picks at once"},
	}})
	if o.OnReady != nil {
		sh.OnStart(func() { go o.OnReady() })
	}
	if err := sh.Run(); err != nil {
		return "", err
	}
	return choice, nil
}
