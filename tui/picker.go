package tui

import (
	"errors"
	"sync"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/profiles"
)

// pick shows the connect picker: every profile (with its URL), then demo.
// It returns the chosen name, or "" when the user quit.
func pick(env connectEnv, store *profiles.Store) (string, error) {
	names := store.Names()
	if env.screen == nil && !env.interactive {
		return "", errors.New("no agent given and no terminal for the picker: give a NAME, HOST or URL (socktop connect -h)")
	}
	app := tview.NewApplication()
	if env.screen != nil {
		app.SetScreen(env.screen)
	}
	list := tview.NewList().ShowSecondaryText(true)
	list.SetBorder(true).SetTitle(" socktop connect: pick an agent (Enter connects, q quits) ")
	choice := ""
	for i, n := range names {
		p, _ := store.Get(n)
		second := p.URL
		if p.Group != "" {
			second += "  (group " + p.Group + ")"
		}
		sc := rune(0)
		if i < 9 {
			sc = rune('1' + i)
		}
		list.AddItem(n, second, sc, nil)
	}
	list.AddItem("demo", "this machine, through an agent on a loopback port", 'd', nil)
	list.SetSelectedFunc(func(i int, main, _ string, _ rune) {
		choice = main
		app.Stop()
	})
	app.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Key() == tcell.KeyEscape || (ev.Key() == tcell.KeyRune && ev.Rune() == 'q') {
			app.Stop()
			return nil
		}
		return ev
	})
	app.EnableMouse(true)
	if env.ready != nil {
		var once sync.Once
		app.SetAfterDrawFunc(func(tcell.Screen) { once.Do(func() { go env.ready() }) })
	}
	if err := app.SetRoot(list, true).Run(); err != nil {
		return "", err
	}
	return choice, nil
}
