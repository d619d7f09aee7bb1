package screen

import (
	"cmp"
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/alert"
	"github.com/socktop/socktop/tui/alert/notify"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
)

// notifyGrace is how long quitting waits for notify commands still
// running or queued; then they are killed.
const notifyGrace = 2 * time.Second

// alerting is the dashboard's side of the alert rules, one per shell: the
// engine every host on the shell feeds (model.Alerts), ticked once a
// second; the notify command runner; the terminal notification; and the
// list of current and recent alerts (`!`).
type alerting struct {
	sh  *shell.Shell
	th  *widget.Theme
	m   *model.Alerts
	cfg notify.Config
	// terminal: write OSC 9, OSC 777 and the bell for each event.
	terminal bool
	// notifier runs cfg.Command; nil until the shell starts, and without
	// a command.
	notifier *notify.Notifier
	list     *alertList
}

// newAlerting makes the shell's alerting with the [notify] table of s.
func newAlerting(sh *shell.Shell, s alert.Setup) *alerting {
	a := &alerting{sh: sh, th: sh.Theme(), m: model.NewAlerts(), terminal: s.Notify.Terminal}
	if cfg, err := notify.FromProfile(s.Notify); err == nil {
		a.cfg = cfg // profiles.Load checked the timeout already
	}
	a.m.OnEvent = a.onEvent
	a.list = newAlertList(a)
	return a
}

// fleetNotify is the setup of the first member with a [notify] table:
// every member's comes from the same profiles.toml.
func fleetNotify(each []Options) alert.Setup {
	for _, o := range each {
		if n := o.Alerts.Notify; n.Command != "" || n.Terminal {
			return o.Alerts
		}
	}
	return alert.Setup{}
}

// watch feeds d's host into the engine with its rules.
func (a *alerting) watch(d *dash, s alert.Setup) {
	a.m.Watch(cmp.Or(s.Host, d.h.Label), s.Rules, d.h, d.w)
}

// start ticks the engine with the shell's clock redraw and, once the shell
// runs, starts the notify runner; it is closed within the shell's quit
// order (the shell waits for it before the application stops). Nothing
// runs when no host has rules.
func (a *alerting) start() {
	if !a.m.Watched() {
		return
	}
	a.sh.Every(func() { a.m.Tick(time.Now()) })
	if a.cfg.Command == "" {
		return
	}
	a.sh.OnStart(func() {
		n := notify.New(a.cfg)
		a.notifier = n
		a.sh.Go(func(ctx context.Context) {
			<-ctx.Done()
			grace, cancel := context.WithTimeout(context.Background(), notifyGrace)
			defer cancel()
			n.Close(grace)
		})
	})
}

// onEvent runs on the UI goroutine for every alert that fired or resolved;
// nothing in it waits for the command.
func (a *alerting) onEvent(ev alert.Event) {
	if a.notifier != nil {
		a.notifier.Notify(ev)
	}
	if a.terminal {
		ring(a.sh.Screen(), ev)
	}
	a.sh.Flash(ev.Name + " " + ev.State.String() + " on " + ev.Host + " (" + ev.Value + ")")
}

// ring writes ev's terminal notification to the terminal the dashboard
// draws on, between two draws (on the UI goroutine, where tcell writes
// too): OSC 9, OSC 777 and the bell through its tty; a screen without a
// tty gets tcell's bell alone.
func ring(scr tcell.Screen, ev alert.Event) {
	if scr == nil {
		return
	}
	if tty, ok := scr.Tty(); ok && tty != nil {
		if _, err := tty.Write(notify.Terminal(ev)); err == nil {
			return
		}
	}
	scr.Beep()
}

// keys are the bindings every screen that shows alerts has: `!` opens the
// list.
func (a *alerting) keys() []shell.Binding {
	return []shell.Binding{{Keys: shell.Runes('!'), Label: "!", Hint: "alerts",
		Desc: "alerts firing, pending and resolved, with when each fired and resolved (? there for its keys)",
		When: a.m.Watched, WhenText: "profiles have [[alerts]] rules", Do: a.list.open}}
}

// alertMark starts an alert on a header or a tile.
func (a *alerting) alertMark() string {
	if a.th.ASCII {
		return "!"
	}
	return "▲"
}

// putFiring adds h's firing alerts to a header line: "▲ hot 86.0°C for
// 2m10s, busy 93.1% for 45s".
func (a *alerting) putFiring(l *widget.Line, h *model.Host, now time.Time) {
	firing := h.Firing()
	if len(firing) == 0 {
		return
	}
	t := a.th
	l.Put("  "+a.alertMark(), t.Bad)
	for i, f := range firing {
		if i > 0 {
			l.Put(",", t.Dim)
		}
		l.Put(" "+f.Name, t.Bad)
		l.Put(" "+statusValue(f), t.Value)
		l.Put(" for "+widget.Duration(now.Sub(f.FiredAt)), t.Dim)
	}
}

// statusValue is an alert's latest reading, and says so when the data
// stopped coming.
func statusValue(s alert.Status) string {
	v := notify.Sanitize(s.Value, 64)
	if s.NoData {
		v += " (no data)"
	}
	return v
}

// firingText is what a tile or a table row says of a host's firing alerts:
// "hot (86.0°C)" for one, "hot, busy, full" for several.
func firingText(firing []alert.Status) string {
	switch len(firing) {
	case 0:
		return ""
	case 1:
		return firing[0].Name + " (" + statusValue(firing[0]) + ")"
	}
	names := make([]string, len(firing))
	for i, f := range firing {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// drawTileAlert names a tile's firing alerts on its bottom border.
func (a *alerting) drawTileAlert(s tcell.Screen, x, y, w int, r *fleetRow) {
	if r.alerts == 0 || w < 8 {
		return
	}
	text := " " + a.alertMark() + " " + r.alertText + " "
	widget.Print(s, x+2, y, w-4, text, a.th.Bad)
}

// putCount adds "· 2 alerting" to the fleet's header.
func (a *alerting) putCount(l *widget.Line, members []*member) {
	n := 0
	for _, m := range members {
		if len(m.d.h.Firing()) > 0 {
			n++
		}
	}
	if n > 0 {
		l.Put("  · ", a.th.Label)
		l.Put(a.alertMark()+" "+strconv.Itoa(n)+" alerting", a.th.Bad)
	}
}
