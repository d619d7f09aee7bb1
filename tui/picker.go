package tui

import (
	"context"
	"errors"
	"os"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
)

// pick shows the connect picker: every profile (with its URL), then demo.
// It returns the chosen name, or "" when the user quit.
func pick(ctx context.Context, env ConnectOptions, f *connectFlags, store *profiles.Store) (string, error) {
	names := store.Names()
	if env.Screen == nil && !env.Interactive {
		return "", errors.New("no agent given and no terminal for the picker: give a NAME, HOST or URL (socktop connect -h)")
	}
	th := widget.NewTheme(f.ascii, f.noColor || os.Getenv("NO_COLOR") != "")
	sh := shell.New(ctx, shell.Options{Screen: env.Screen, Theme: th})
	list := tview.NewList().ShowSecondaryText(true)
	list.SetBorder(true).SetTitle(" socktop connect: pick an agent (Enter connects, q quits) ")
	choice := ""
	for i, n := range names {
		// names, URLs and groups are the user's text: tview would read
		// "[yellow]" in them as a colour
		p, _ := store.Get(n)
		second := tview.Escape(p.URL)
		if p.Group != "" {
			second += "  (group " + tview.Escape(p.Group) + ")"
		}
		sc := rune(0)
		if i < 9 {
			sc = rune('1' + i)
		}
		list.AddItem(tview.Escape(n), second, sc, nil)
	}
	list.AddItem("demo", "this machine, through an agent on a loopback port", 'd', nil)
	list.SetSelectedFunc(func(i int, _, _ string, _ rune) {
		choice = "demo"
		if i < len(names) {
			choice = names[i]
		}
		sh.Quit()
	})
	sh.Push(&shell.Screen{Name: "Pick an agent", View: list, Keys: []shell.Binding{
		{Keys: shell.Special(tcell.KeyEnter), Label: "Enter", Hint: "connect", Desc: "connect to the selected agent (mouse: click it)"},
		{Keys: shell.Keys(shell.Runes('q'), shell.Special(tcell.KeyEscape)), Label: "q/Esc", Hint: "quit", Desc: "quit without connecting", Do: sh.Quit},
		{Keys: shell.Special(tcell.KeyUp, tcell.KeyDown), Label: "↑/↓ 1-9 d", Desc: "move the selection; a digit or d picks at once"},
	}})
	if env.ready != nil {
		sh.OnStart(func() { go env.ready() })
	}
	if err := sh.Run(); err != nil {
		return "", err
	}
	return choice, nil
}
