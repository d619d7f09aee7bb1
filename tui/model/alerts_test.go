package model

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socktop/socktop/tui/alert"
	"github.com/socktop/socktop/wire/wiretest"
)

func rules(t *testing.T, whens ...string) []alert.Rule {
	t.Helper()
	var out []alert.Rule
	for _, w := range whens {
		name, when, _ := strings.Cut(w, "=")
		r, err := alert.NewRule(name, when, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// recorder collects the events an Alerts hands out, as "name:state:value".
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) on(ev alert.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, ev.Name+"@"+ev.Host+":"+ev.State.String()+":"+ev.Value)
}

func (r *recorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.got, " ")
	r.got = nil
	return s
}

// Every kind of sample a Host takes reaches the engine: metrics (with the
// network rates the host derives from two samples), disks, processes; and
// Tick turns a refused or stale connection into `down`.
func TestHostSamplesFeedAlerts(t *testing.T) {
	h := NewHost("pi", "ws://pi:3000/ws")
	w := NewWatcher(Target{URL: "ws://pi:3000/ws"}, nil, func(func()) {}, h, NewCadence(0, 0, 0))
	a := NewAlerts()
	var rec recorder
	a.OnEvent = rec.on
	name := a.Watch("pi", rules(t, "busy=cpu > 10", "rx=net_rx > 1k", "full=disk:/ > 30", "nginx=process:nginx", "gone=down"), h, w)
	if name != "pi" || h.AlertName() != "pi" {
		t.Fatalf("Watch named the host %q (%q)", name, h.AlertName())
	}
	if n := w.Needs(); !n.AlertProcesses || !n.AlertDisks || n.Processes || n.Disks {
		t.Errorf("the watcher was asked for %+v, want processes and disks for alerts only", n)
	}
	now := time.Now()
	h.Status.Phase = PhaseConnected
	m := wiretest.SampleMetrics() // cpu 12.5 %
	h.AddMetrics(m, now)
	if got := rec.take(); got != "busy@pi:firing:12.5%" {
		t.Errorf("first metrics: events %q", got)
	}
	m2 := wiretest.SampleMetrics()
	m2.SampledAtMs += 1000
	m2.Networks[0].RxBytes += 5000 // 5 kB/s
	h.AddMetrics(m2, now.Add(time.Second))
	if got := rec.take(); got != "rx@pi:firing:5.0 kB/s" {
		t.Errorf("second metrics: events %q", got)
	}
	h.AddDisks(wiretest.SampleDisks(), now.Add(time.Second)) // / is 36.4 % used
	if got := rec.take(); !strings.HasPrefix(got, "full@pi:firing:36.") {
		t.Errorf("disks: events %q", got)
	}
	h.AddProcs(wiretest.SampleProcesses(5), now.Add(time.Second)) // no nginx among the first five
	if got := rec.take(); got != "nginx@pi:firing:nginx not running" {
		t.Errorf("processes: events %q", got)
	}
	if f := h.Firing(); len(f) != 4 || f[0].Name != "busy" {
		t.Errorf("Firing = %+v", f)
	}
	// A fresh, connected host is not down; a refused one is.
	a.Tick(now.Add(time.Second))
	if got := rec.take(); got != "" {
		t.Errorf("tick while connected: events %q", got)
	}
	h.Status.Phase = PhaseAuth
	a.Tick(now.Add(2 * time.Second))
	if got := rec.take(); got != "gone@pi:firing:unreachable" {
		t.Errorf("tick while refused: events %q", got)
	}
	// Connected again, the next sample resolves `down` (the others stay
	// firing: their data came back as it was).
	h.Status.Phase = PhaseConnected
	m3 := wiretest.SampleMetrics()
	m3.SampledAtMs += 2000
	m3.Networks[0].RxBytes = m2.Networks[0].RxBytes + 5000
	h.AddMetrics(m3, now.Add(3*time.Second))
	if got := rec.take(); got != "gone@pi:resolved:reachable" {
		t.Errorf("back: events %q", got)
	}
}

// Connected but silent (the agent stopped answering) is down once the data
// is stale; a host still on its first attempt is not.
func TestStaleHostIsDown(t *testing.T) {
	h := NewHost("vps", "ws://vps:3000/ws")
	every := NewCadence(0, 0, 0)
	now := time.Now()
	if h.Unreachable(now, every.StaleAfter()) {
		t.Error("a host connecting for the first time is unreachable")
	}
	h.Status.Phase = PhaseConnected
	h.AddMetrics(wiretest.SampleMetrics(), now)
	if h.Unreachable(now.Add(time.Second), every.StaleAfter()) {
		t.Error("a fresh host is unreachable")
	}
	if !h.Unreachable(now.Add(every.StaleAfter()+time.Second), every.StaleAfter()) {
		t.Error("a host whose data is stale is reachable")
	}
	h.Status.Phase = PhaseConnecting // reconnecting, after data
	if !h.Unreachable(now.Add(time.Second), every.StaleAfter()) {
		t.Error("a host reconnecting after a drop is reachable")
	}
}

// Two hosts of the same name are told apart; a host without rules is not
// watched.
func TestWatchNames(t *testing.T) {
	a := NewAlerts()
	mk := func() (*Host, *Watcher) {
		h := NewHost("x", "ws://x:3000/ws")
		return h, NewWatcher(Target{}, nil, func(func()) {}, h, NewCadence(0, 0, 0))
	}
	h1, w1 := mk()
	h2, w2 := mk()
	h3, w3 := mk()
	if n := a.Watch("x:3000", rules(t, "busy=cpu > 90"), h1, w1); n != "x:3000" {
		t.Errorf("first: %q", n)
	}
	if n := a.Watch("x:3000", rules(t, "busy=cpu > 90"), h2, w2); n != "x:3000 (2)" {
		t.Errorf("second: %q", n)
	}
	if n := a.Watch("y", nil, h3, w3); n != "" || h3.AlertName() != "" || h3.Firing() != nil {
		t.Errorf("a host without rules is watched as %q", n)
	}
	if w1.Needs() != (Needs{}) {
		t.Errorf("a cpu rule asks for %+v", w1.Needs())
	}
}

// uiLoop runs posted functions one after another, as the shell does.
func uiLoop(t *testing.T) (post func(func()), onUI func(func())) {
	ch := make(chan func(), 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for f := range ch {
			f()
		}
	}()
	t.Cleanup(func() { close(ch); <-done })
	post = func(f func()) { ch <- f }
	onUI = func(f func()) {
		ran := make(chan struct{})
		ch <- func() { f(); close(ran) }
		<-ran
	}
	return post, onUI
}

// A process rule makes the watcher fetch process lists on a screen that
// shows none, at AlertEvery rather than the process cadence: against an
// upstream agent (polled) and against a v2 agent (pushed), the rule sees
// the list and fires.
func TestWatcherFetchesProcessesForAlerts(t *testing.T) {
	for _, c := range []struct {
		name  string
		start func(wiretest.Config) *wiretest.Agent
	}{{"upstream", wiretest.NewUpstream}, {"v2", wiretest.NewV2}} {
		t.Run(c.name, func(t *testing.T) {
			ag := c.start(wiretest.Config{Processes: wiretest.SampleProcesses(20)})
			defer ag.Close()
			post, onUI := uiLoop(t)
			h := NewHost("pi", ag.URL)
			every := NewCadence(100*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond)
			w := NewWatcher(Target{URL: ag.URL}, WireDial("test"), post, h, every)
			a := NewAlerts()
			var rec recorder
			onUI(func() {
				a.OnEvent = rec.on
				a.Watch("pi", rules(t, "db=process:postgres-5", "web=process:nginx"), h, w)
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { w.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()

			deadline := time.Now().Add(15 * time.Second)
			var got string
			for !strings.Contains(got, "web@pi:firing:nginx not running") {
				if time.Now().After(deadline) {
					t.Fatalf("the process rule never fired (events %q)", got)
				}
				time.Sleep(20 * time.Millisecond)
				got += rec.take()
			}
			if strings.Contains(got, "db@") {
				t.Errorf("postgres-5 runs, yet: %q", got)
			}
			// While metrics keep coming every 100 ms, the lists come at
			// AlertEvery: one, not one every 200 ms.
			var metrics0 time.Time
			onUI(func() { metrics0 = h.MetricsAt })
			for n := 0; n < 20; {
				time.Sleep(50 * time.Millisecond)
				onUI(func() {
					if h.MetricsAt.After(metrics0) {
						n++
						metrics0 = h.MetricsAt
					}
				})
			}
			if n := processRequests(ag, c.name == "v2"); n != 1 {
				t.Errorf("%d process lists asked for in the first 20 metrics samples, want 1 (AlertEvery = %v)", n, AlertEvery)
			}
		})
	}
}

// processRequests counts the agent's process list requests: v2 requests
// (wiretest's v2 agent refuses subscriptions, so the watcher polls) or
// upstream's get_processes frames.
func processRequests(ag *wiretest.Agent, v2 bool) int {
	n := 0
	if v2 {
		for _, k := range ag.Requests() {
			if k == "processes" {
				n++
			}
		}
		return n
	}
	for _, f := range ag.Frames() {
		if f == "get_processes" {
			n++
		}
	}
	return n
}
