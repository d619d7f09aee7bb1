package model

import (
	"slices"
	"strconv"
	"time"

	"github.com/socktop/socktop/tui/alert"
	"github.com/socktop/socktop/wire"
)

// AlertEvery is how often a watcher fetches the process list or the disks
// for alert rules alone: a host whose rules read them (process:NAME,
// disk), on a screen that does not show them (the fleet overview asks for
// metrics only). A screen that shows them fetches them at its own, faster
// cadence.
const AlertEvery = 10 * time.Second

// Alerts feeds the samples of every watched host to one alert engine. It
// lives on the UI goroutine: a Host hands it each sample as it takes it,
// and the screen calls Tick about once a second.
type Alerts struct {
	Engine *alert.Engine
	// OnEvent, when set, is given every alert that fired or resolved, on
	// the UI goroutine. It must not block (notify commands run elsewhere).
	OnEvent func(alert.Event)

	feeds []*alertFeed
}

// alertFeed is one host's link to the engine.
type alertFeed struct {
	a          *Alerts
	name       string
	h          *Host
	staleAfter time.Duration
}

// NewAlerts is a feed into a new engine.
func NewAlerts() *Alerts { return &Alerts{Engine: alert.NewEngine()} }

// Watch gives the engine h's rules under name and feeds it every sample h
// takes from now on; w is asked for the process list and the disks (every
// AlertEvery) when the rules read them. A host without rules is not
// watched. Two hosts given the same name are told apart as "name (2)". It
// returns the name events use.
func (a *Alerts) Watch(name string, rules []alert.Rule, h *Host, w *Watcher) string {
	if len(rules) == 0 {
		return ""
	}
	base := name
	for i := 2; slices.ContainsFunc(a.feeds, func(f *alertFeed) bool { return f.name == name }); i++ {
		name = base + " (" + strconv.Itoa(i) + ")"
	}
	f := &alertFeed{a: a, name: name, h: h, staleAfter: w.Every().StaleAfter()}
	a.feeds = append(a.feeds, f)
	a.Engine.SetRules(name, rules)
	h.alerts = f
	var n Needs
	for _, r := range rules {
		n.AlertProcesses = n.AlertProcesses || r.Cond.Metric == alert.Process
		n.AlertDisks = n.AlertDisks || r.Cond.Metric == alert.Disk
	}
	if n != (Needs{}) {
		w.Need(f, n)
	}
	return name
}

// Watched reports whether any host has rules.
func (a *Alerts) Watched() bool { return len(a.feeds) > 0 }

// Tick evaluates every host at now: a host that is unreachable, or whose
// data is stale, is observed as such (its `down` rules hold), and every
// rule's `for` moves on while no data arrives.
func (a *Alerts) Tick(now time.Time) {
	for _, f := range a.feeds {
		if f.h.Unreachable(now, f.staleAfter) {
			f.emit(a.Engine.Observe(f.name, alert.Sample{Unreachable: true}, now))
		}
	}
	for _, ev := range a.Engine.Tick(now) {
		a.emit(ev)
	}
}

func (a *Alerts) emit(ev alert.Event) {
	if a.OnEvent != nil {
		a.OnEvent(ev)
	}
}

func (f *alertFeed) emit(evs []alert.Event) {
	for _, ev := range evs {
		f.a.emit(ev)
	}
}

// observe hands the engine what h just took.
func (f *alertFeed) observe(s alert.Sample, now time.Time) {
	f.emit(f.a.Engine.Observe(f.name, s, now))
}

// Unreachable reports whether the host's data is not coming: the
// connection is down or refused, or its data is stale. A host still on
// its first connection attempt is not (yet) unreachable.
func (h *Host) Unreachable(now time.Time, staleAfter time.Duration) bool {
	switch h.Status.Phase {
	case PhaseConnected, PhaseConnecting:
		return h.StaleAge(now, staleAfter) > 0
	}
	return true
}

// AlertName is the name the host's alerts go by ("" when it has no rules).
func (h *Host) AlertName() string {
	if h.alerts == nil {
		return ""
	}
	return h.alerts.name
}

// Firing lists the host's firing alerts in rule order (nil without rules).
func (h *Host) Firing() []alert.Status {
	if h.alerts == nil {
		return nil
	}
	return h.alerts.a.Engine.Firing(h.alerts.name)
}

// The hooks of AddMetrics, AddDisks and AddProcs: each sample goes to the
// engine as it arrives (both when polled and when pushed).

func (h *Host) alertMetrics(m *wire.Metrics, netValid bool, now time.Time) {
	if h.alerts == nil {
		return
	}
	s := alert.FromMetrics(m)
	if netValid {
		s.NetRx, s.NetTx = alert.Known(h.NetRx.Last()), alert.Known(h.NetTx.Last())
	}
	h.alerts.observe(s, now)
}

func (h *Host) alertDisks(d *wire.Disks, now time.Time) {
	if h.alerts != nil {
		var s alert.Sample
		s.SetDisks(d)
		h.alerts.observe(s, now)
	}
}

func (h *Host) alertProcs(p *wire.Processes, now time.Time) {
	if h.alerts != nil {
		var s alert.Sample
		s.SetProcesses(p)
		h.alerts.observe(s, now)
	}
}
