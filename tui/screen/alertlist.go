package screen

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/alert"
	"github.com/socktop/socktop/tui/alert/notify"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
)

// alertList is the `!` screen: every rule firing or pending now, then the
// alerts that resolved (the engine keeps the latest alert.HistoryLen
// events), each with when it fired and resolved.
type alertList struct {
	*tview.Box
	a      *alerting
	t      *widget.Table[alertKey]
	screen *shell.Screen
	rows   []alertRow
}

// alertKey follows a row through refreshes: one alert of one rule on one
// host, from when it began.
type alertKey struct {
	host, name string
	since      time.Time
}

type alertRow struct {
	key                 alertKey
	state               alert.State
	value, rule         string
	fired, resolved     time.Time // zero: not (yet)
	noData              bool
	forSpan             time.Duration
	stateName, forLabel string
}

type alertColumn int

const (
	acState alertColumn = iota
	acHost
	acName
	acValue
	acRule
	acFired
	acResolved
	acFor
	numAlertColumns
)

var alertCols = [numAlertColumns]widget.Column{
	acState:    {Name: "STATE", Width: 10, Desc: true},
	acHost:     {Name: "HOST", Min: 10, Max: 24},
	acName:     {Name: "ALERT", Min: 8, Max: 20},
	acValue:    {Name: "VALUE", Min: 10, Max: 28, NoSort: true},
	acRule:     {Name: "RULE", Min: 12, NoSort: true, Priority: 1},
	acFired:    {Name: "FIRED", Width: 8, Desc: true},
	acResolved: {Name: "RESOLVED", Width: 8, Desc: true, Priority: 2},
	acFor:      {Name: "FOR", Width: 7, Align: widget.AlignRight, Desc: true, Priority: 3},
}

func newAlertList(a *alerting) *alertList {
	v := &alertList{Box: tview.NewBox(), a: a}
	v.t = widget.NewTable[alertKey](a.th, alertCols[:], int(acState))
	v.t.Rows = v
	v.t.Refresh = v.refresh
	v.t.Empty = "no alert has fired yet"
	back := func() { a.sh.Pop() }
	keys := []shell.Binding{
		{Keys: shell.Runes('q'), Label: "q", Hint: "quit", Desc: "quit socktop", Do: a.sh.Quit},
		{Keys: shell.Runes('?'), Label: "?", Hint: "help", Desc: "show this help (generated from the key map)", Do: a.sh.ToggleHelp},
		{Keys: shell.Keys(shell.Special(tcell.KeyEscape), shell.Runes('!')), Label: "Esc/!", Hint: "back", Desc: "back to where `!` was pressed", Do: back},
	}
	keys = append(keys, sortKeys(v.t.MoveSort, v.t.Reverse, "mouse: click a column header; again reverses")...)
	keys = append(keys, moveKeys(v.t, "move the selection (mouse: wheel scrolls)")...)
	v.screen = &shell.Screen{Name: "Alerts", View: v, Keys: keys}
	return v
}

func (v *alertList) open() { v.a.sh.Push(v.screen) }

// refresh rebuilds the rows: the engine's pending and firing alerts, and
// the resolved events of its history (a firing event is the row of its
// alert while it fires, and is told again by its resolved event).
func (v *alertList) refresh() bool {
	now := v.a.sh.Now()
	v.rows = v.rows[:0]
	for _, s := range v.a.m.Engine.Active() {
		r := alertRow{key: alertKey{s.Host, s.Name, s.Since}, state: s.State, value: s.Value, rule: s.Rule, fired: s.FiredAt, noData: s.NoData}
		r.forSpan = now.Sub(s.Since)
		if s.State == alert.Firing {
			r.forSpan = now.Sub(s.FiredAt)
		}
		v.rows = append(v.rows, r)
	}
	for _, ev := range v.a.m.Engine.History() {
		if ev.State != alert.Resolved {
			continue
		}
		v.rows = append(v.rows, alertRow{key: alertKey{ev.Host, ev.Name, ev.Since}, state: ev.State, value: ev.Value,
			rule: ev.Rule, fired: ev.FiredAt, resolved: ev.ResolvedAt, forSpan: ev.ResolvedAt.Sub(ev.FiredAt)})
	}
	for i := range v.rows {
		r := &v.rows[i]
		r.stateName, r.forLabel = r.state.String(), widget.Duration(r.forSpan)
		r.key.host, r.key.name = notify.Sanitize(r.key.host, 256), notify.Sanitize(r.key.name, 256)
		r.value, r.rule = statusValue(alert.Status{Value: r.value, NoData: r.noData}), notify.Sanitize(r.rule, 256)
	}
	col, desc := v.t.Sort()
	slices.SortStableFunc(v.rows, func(a, b alertRow) int {
		c := compareAlerts(&a, &b, alertColumn(col))
		if desc {
			c = -c
		}
		// then the newest first
		return cmp.Or(c, -cmp.Compare(a.fired.UnixNano(), b.fired.UnixNano()), -cmp.Compare(a.key.since.UnixNano(), b.key.since.UnixNano()))
	})
	return true
}

// stateRank orders firing over pending over resolved.
func stateRank(s alert.State) int {
	switch s {
	case alert.Firing:
		return 2
	case alert.Pending:
		return 1
	}
	return 0
}

func compareAlerts(a, b *alertRow, c alertColumn) int {
	switch c {
	case acState:
		return cmp.Compare(stateRank(a.state), stateRank(b.state))
	case acHost:
		return naturalCompare(a.key.host, b.key.host)
	case acName:
		return naturalCompare(a.key.name, b.key.name)
	case acFired:
		return cmp.Compare(a.fired.UnixNano(), b.fired.UnixNano())
	case acResolved:
		return cmp.Compare(a.resolved.UnixNano(), b.resolved.UnixNano())
	case acFor:
		return cmp.Compare(a.forSpan, b.forSpan)
	}
	return 0
}

// The table's rows (widget.Rows).

func (v *alertList) Len() int              { return len(v.rows) }
func (v *alertList) Key(i int) alertKey    { return v.rows[i].key }
func (v *alertList) Style(int) tcell.Style { return v.a.th.Base }

func (v *alertList) Cell(s tcell.Screen, i, col int, c widget.Cell) {
	r := &v.rows[i]
	switch alertColumn(col) {
	case acState:
		if !c.Selected {
			c.Style = v.stateStyle(r.state)
		}
		c.Text(s, v.a.th.Dot+" "+r.stateName)
	case acHost:
		c.Text(s, r.key.host)
	case acName:
		c.Text(s, r.key.name)
	case acValue:
		c.Text(s, r.value)
	case acRule:
		c.Text(s, r.rule)
	case acFired:
		c.Text(s, clock(r.fired))
	case acResolved:
		c.Text(s, clock(r.resolved))
	case acFor:
		c.Text(s, r.forLabel)
	}
}

func (v *alertList) stateStyle(s alert.State) tcell.Style {
	switch s {
	case alert.Firing:
		return v.a.th.Bad
	case alert.Pending:
		return v.a.th.Warn
	}
	return v.a.th.Good
}

// clock is a time of day ("15:04:05"), "-" for none.
func clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("15:04:05")
}

func (v *alertList) Draw(s tcell.Screen) {
	x, y, w, h := v.GetRect()
	th := v.a.th
	v.t.Update()
	firing, pending, resolved := 0, 0, 0
	for i := range v.rows {
		switch v.rows[i].state {
		case alert.Firing:
			firing++
		case alert.Pending:
			pending++
		default:
			resolved++
		}
	}
	info := strconv.Itoa(firing) + " firing · " + strconv.Itoa(pending) + " pending · " + strconv.Itoa(resolved) + " resolved"
	ix, iy, iw, ih := widget.Frame(s, x, y, w, h, th.Frame, th.Border, th.Title, "alerts", info)
	if iw <= 0 || ih <= 1 {
		return
	}
	widget.Print(s, ix+1, iy, iw-1, v.status(), th.Dim)
	v.t.Draw(s, ix, iy+1, iw, ih-1)
}

// status is the line above the table: what runs on each event, and how
// the notify command fared.
func (v *alertList) status() string {
	a := v.a
	out := "notify: "
	switch {
	case a.cfg.Command == "":
		out += "no command"
	default:
		out += "sh -c command"
		if n := a.notifier; n != nil {
			st := n.Stats()
			out += " ran " + strconv.FormatUint(st.Ran, 10)
			if bad := st.Failed + st.TimedOut; bad > 0 {
				out += ", " + strconv.FormatUint(bad, 10) + " failed"
			}
			if st.Dropped > 0 {
				out += ", " + strconv.FormatUint(st.Dropped, 10) + " dropped"
			}
			if st.LastError != "" {
				out += " (" + st.LastError + ")"
			}
		}
	}
	if a.terminal {
		out += " · terminal notifications on"
	}
	return out
}

func (v *alertList) InputHandler() func(ev *tcell.EventKey, setFocus func(tview.Primitive)) {
	return v.WrapInputHandler(func(*tcell.EventKey, func(tview.Primitive)) {})
}

func (v *alertList) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return v.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, _ func(tview.Primitive)) (bool, tview.Primitive) {
		x, y := ev.Position()
		if !v.InRect(x, y) {
			return false, nil
		}
		return v.t.Mouse(action, x, y), nil
	})
}
