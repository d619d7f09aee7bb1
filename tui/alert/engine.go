package alert

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// State is where one rule stands on one host.
type State uint8

// A rule is Inactive, Pending (its condition holds, for `for` not yet) or
// Firing. Resolved appears only in events: the alert stopped firing and
// the rule is Inactive again.
const (
	Inactive State = iota
	Pending
	Firing
	Resolved
)

func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Firing:
		return "firing"
	case Resolved:
		return "resolved"
	}
	return "inactive"
}

// Event is an alert that fired or resolved.
type Event struct {
	Name string // the rule's name
	Host string // the host as the caller named it (profile name, else host:port)
	// State is Firing or Resolved.
	State State
	// Value is the reading that made the change, for people: "93.2%",
	// "86.0°C", "97.0% on /data", "nginx not running", "unreachable".
	Value string
	// Rule is the rule's text: `cpu > 90 for 5m`.
	Rule string
	// Since is when the condition began to hold, FiredAt when the alert
	// fired, ResolvedAt when it resolved (zero while firing).
	Since, FiredAt, ResolvedAt time.Time
}

// At is when the event happened.
func (e Event) At() time.Time {
	if e.State == Resolved {
		return e.ResolvedAt
	}
	return e.FiredAt
}

// Status is a rule that is pending or firing on a host now.
type Status struct {
	Name, Host, Rule string
	State            State     // Pending or Firing
	Value            string    // the latest known reading
	Since, FiredAt   time.Time // FiredAt is zero while pending
	// NoData: the latest sample lacked this rule's data (the host is down,
	// say); a firing alert stays firing until its data says otherwise.
	NoData bool
}

// HistoryLen is how many events Engine.History keeps.
const HistoryLen = 256

// DefaultMaxAge is how long a piece of a host's data counts after it
// arrived, unless SetMaxAge says otherwise.
const DefaultMaxAge = time.Minute

// Engine holds the rules of every host, what it last heard of each host, and
// the state of each (rule, host). Feed it with Observe whenever some of a
// host's data arrives or its connection changes, and Tick about once a
// second so that `for` elapses while nothing arrives (a host that went
// down). It is safe for concurrent use; it starts nothing.
type Engine struct {
	mu      sync.Mutex
	hosts   map[string]*hostRules
	order   []string // hosts in the order they were added, for stable output
	history []Event  // oldest first, at most HistoryLen
	maxAge  time.Duration
}

type hostRules struct {
	rules  []Rule
	tracks []track
	view   view
}

type track struct {
	state          State
	since, firedAt time.Time
	last           reading // the latest reading
	shown          string  // the latest known reading's text
}

// NewEngine returns an engine with no hosts.
func NewEngine() *Engine { return &Engine{hosts: map[string]*hostRules{}, maxAge: DefaultMaxAge} }

// SetMaxAge sets how long each piece of data counts after it arrived; then
// it is unknown. Make it longer than the slowest cadence of the data the
// rules read (disks every 5 s, say), or their rules flicker to unknown and
// pending ones never fire.
func (e *Engine) SetMaxAge(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.maxAge = d
}

// SetRules gives host its rules (from profiles.Store.AlertsFor and
// CompileAll). A rule that keeps its name and text keeps its state; a rule
// that is gone is dropped silently, firing or not.
func (e *Engine) SetRules(host string, rules []Rule) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old, ok := e.hosts[host]
	if !ok {
		e.order = append(e.order, host)
	}
	h := &hostRules{rules: slices.Clone(rules), tracks: make([]track, len(rules))}
	if old != nil {
		h.view = old.view
		for i, r := range rules {
			if j := slices.IndexFunc(old.rules, func(o Rule) bool { return o.Name == r.Name && o.Text == r.Text }); j >= 0 {
				h.tracks[i] = old.tracks[j]
			}
		}
	}
	e.hosts[host] = h
}

// Forget drops a host and the state of its rules.
func (e *Engine) Forget(host string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.hosts, host)
	e.order = slices.DeleteFunc(e.order, func(h string) bool { return h == host })
}

// Observe takes what s knows of host, evaluates host's rules at now and
// returns the alerts that fired or resolved. s may be partial (a metrics
// sample without disks or processes): its known fields replace what the
// engine holds, the others keep their last value until it is older than
// the max age. An unreachable sample forgets everything but that. A host
// without rules returns nothing.
func (e *Engine) Observe(host string, s Sample, now time.Time) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.hosts[host]
	if h == nil {
		return nil
	}
	h.view.merge(&s, now)
	return e.evaluate(host, h, now)
}

// Tick evaluates every host's rules at now against what the engine holds,
// so that a condition that holds without new data (a host that is down)
// fires once its `for` has elapsed, and data past its max age turns
// unknown.
func (e *Engine) Tick(now time.Time) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Event
	for _, host := range e.order {
		if h := e.hosts[host]; h.view.seen {
			out = append(out, e.evaluate(host, h, now)...)
		}
	}
	return out
}

func (e *Engine) evaluate(host string, h *hostRules, now time.Time) []Event {
	h.view.expire(now, e.maxAge)
	var out []Event
	for i, r := range h.rules {
		t := &h.tracks[i]
		t.last = r.Cond.read(&h.view.s)
		if t.last.known {
			t.shown = t.last.shown
		}
		if ev, ok := t.step(r, now); ok {
			out = append(out, e.record(host, r, t, ev, now))
		}
	}
	return out
}

// step moves t by its latest reading. Unknown data neither fires nor
// resolves: a firing alert stays firing, a pending one starts over (its
// condition was not seen to hold the whole time).
func (t *track) step(r Rule, now time.Time) (State, bool) {
	rd := t.last
	if !rd.known {
		if t.state == Pending {
			t.state = Inactive
		}
		return 0, false
	}
	switch t.state {
	case Inactive:
		if !r.Cond.met(rd, 0) {
			return 0, false
		}
		t.state, t.since = Pending, now
		fallthrough
	case Pending:
		if !r.Cond.met(rd, 0) {
			t.state = Inactive
			return 0, false
		}
		if now.Sub(t.since) >= r.For {
			t.state, t.firedAt = Firing, now
			return Firing, true
		}
	case Firing:
		if !r.Cond.met(rd, r.Cond.Margin()) {
			t.state = Inactive
			return Resolved, true
		}
	}
	return 0, false
}

func (e *Engine) record(host string, r Rule, t *track, st State, now time.Time) Event {
	ev := Event{Name: r.Name, Host: host, State: st, Value: t.shown, Rule: r.Text, Since: t.since, FiredAt: t.firedAt}
	if st == Resolved {
		ev.ResolvedAt = now
	}
	if len(e.history) == HistoryLen {
		e.history = slices.Delete(e.history, 0, 1)
	}
	e.history = append(e.history, ev)
	return ev
}

// Active lists the pending and firing alerts of every host, firing first,
// then by host and name.
func (e *Engine) Active() []Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Status
	for _, host := range e.order {
		out = append(out, e.hosts[host].status(host)...)
	}
	slices.SortStableFunc(out, func(a, b Status) int {
		return cmp.Or(-cmp.Compare(a.State, b.State), cmp.Compare(a.Host, b.Host), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Firing lists host's firing alerts in rule order.
func (e *Engine) Firing(host string) []Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := e.hosts[host]
	if h == nil {
		return nil
	}
	return slices.DeleteFunc(h.status(host), func(s Status) bool { return s.State != Firing })
}

func (h *hostRules) status(host string) []Status {
	var out []Status
	for i, r := range h.rules {
		t := h.tracks[i]
		if t.state == Pending || t.state == Firing {
			s := Status{Name: r.Name, Host: host, Rule: r.Text, State: t.state, Value: t.shown, Since: t.since, NoData: !t.last.known}
			if t.state == Firing {
				s.FiredAt = t.firedAt
			}
			out = append(out, s)
		}
	}
	return out
}

// History lists the latest HistoryLen events, oldest first.
func (e *Engine) History() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.history)
}
