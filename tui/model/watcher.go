package model

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socktop/socktop/wire"
)

// RequestTimeout bounds one request: an agent that does not answer within
// it is treated as gone and the connection is rebuilt.
const RequestTimeout = 10 * time.Second

// detailEvery and journalEvery are the detail view's cadences.
const (
	detailEvery  = time.Second
	journalEvery = 5 * time.Second
)

// Needs is what a visible screen needs from its agent besides metrics,
// which every screen shows and are always fetched. The watcher fetches the
// union of what its screens need, so hidden panes cost nothing.
type Needs struct {
	Processes, Disks, Connections, Journal bool
	// Commands: the process list with command lines (a column shows
	// them, or a filter matches them); they cost the agent a read per
	// new process, so they are asked for only then.
	Commands bool
	// Traffic: the process list with each process's TCP and storage
	// counters (ProcessExtras net and io: a socket dump and an io file per
	// process on the agent), asked for only while a column or the detail
	// view shows them.
	Traffic   bool
	DetailPID uint32 // 0: no process detail
	// AlertProcesses, AlertDisks: alert rules read them; they are fetched
	// every AlertEvery unless a screen needs them more often.
	AlertProcesses, AlertDisks bool
	// Timeline is the span of the agent's history the graphs show
	// (ZoomLive: none).
	Timeline Zoom
	// Containers: a screen lists them (at the processes cadence);
	// TileContainers: the fleet's tile names the busiest (every TileEvery).
	Containers, TileContainers bool
}

func (n Needs) union(o Needs) Needs {
	n.Processes = n.Processes || o.Processes
	n.Commands = n.Commands || o.Commands
	n.Traffic = n.Traffic || o.Traffic
	n.Disks = n.Disks || o.Disks
	n.Connections = n.Connections || o.Connections
	n.Journal = n.Journal || o.Journal
	n.AlertProcesses = n.AlertProcesses || o.AlertProcesses
	n.AlertDisks = n.AlertDisks || o.AlertDisks
	n.Containers = n.Containers || o.Containers
	n.TileContainers = n.TileContainers || o.TileContainers
	if o.DetailPID != 0 {
		n.DetailPID = o.DetailPID
	}
	n.Timeline = max(n.Timeline, o.Timeline)
	return n
}

// Watcher owns one agent's connection: it dials, fetches or subscribes to
// what the screens need, reconnects with backoff, and hands every result
// to the UI through post (which runs the function on the UI goroutine).
// It is the only code in the dashboard that talks to the agent.
type Watcher struct {
	target Target
	dial   DialFunc
	post   func(func())
	h      *Host
	every  Cadence

	retry     chan struct{} // `r`: retry now
	kick      chan struct{} // the detail view opened: fetch now
	kickConns chan struct{} // connections wanted now
	changed   chan struct{} // the needs changed: re-subscribe now
	kickTL    chan struct{} // another span of history wanted now

	// agentNow is the newest metrics sample's time (Unix ms on the
	// agent's clock), what history requests count back from; wantFill
	// asks for the graphs to be backfilled from the agent's history.
	agentNow atomic.Uint64
	wantFill atomic.Bool
	rec      *Recording // nil: not recording

	bg sync.WaitGroup // signal requests in flight

	mu     sync.Mutex
	cur    Client        // the live connection, nil between connections
	claims map[any]Needs // what each visible screen asked for
	needs  atomic.Pointer[Needs]

	requests atomic.Int64 // answers and pushes received
}

// NewWatcher makes the watcher of t, feeding h through post.
func NewWatcher(t Target, dial DialFunc, post func(func()), h *Host, every Cadence) *Watcher {
	w := &Watcher{target: t, dial: dial, post: post, h: h, every: every,
		retry: make(chan struct{}, 1), kick: make(chan struct{}, 1), kickConns: make(chan struct{}, 1),
		changed: make(chan struct{}, 1), kickTL: make(chan struct{}, 1), claims: map[any]Needs{}}
	w.needs.Store(&Needs{})
	return w
}

// Need records what screen id needs (replacing what it needed before) and
// wakes the loops that now have something to fetch.
func (w *Watcher) Need(id any, n Needs) {
	w.mu.Lock()
	if old, ok := w.claims[id]; ok && old == n {
		w.mu.Unlock()
		return
	}
	w.claims[id] = n
	w.update()
}

// Release forgets what screen id needed.
func (w *Watcher) Release(id any) {
	w.mu.Lock()
	if _, ok := w.claims[id]; !ok {
		w.mu.Unlock()
		return
	}
	delete(w.claims, id)
	w.update()
}

// update recomputes the union; it is called with w.mu held and unlocks it.
func (w *Watcher) update() {
	var all Needs
	for _, n := range w.claims {
		all = all.union(n)
	}
	old := *w.needs.Load()
	w.needs.Store(&all)
	w.mu.Unlock()
	if all.DetailPID != old.DetailPID && all.DetailPID != 0 {
		signal(w.kick)
	}
	if all.Connections && !old.Connections {
		signal(w.kickConns)
	}
	if all.Timeline != old.Timeline {
		signal(w.kickTL)
	}
	signal(w.changed)
}

// Needs is what the visible screens need now.
func (w *Watcher) Needs() Needs { return *w.needs.Load() }

// processExtras are the extras the process list may be asked to carry,
// by [commands][traffic]: one value each, so that two cadences asking for
// the same compare equal.
var processExtras = [2][2]*wire.ProcessExtras{
	{nil, {Net: true, Io: true}},
	{{Command: true}, {Command: true, Net: true, Io: true}},
}

// extras is what the process list is asked to carry on c now.
func (w *Watcher) extras(c Client) *wire.ProcessExtras {
	if !has(c, wire.CapProcessExtras) {
		return nil
	}
	n := w.Needs()
	return processExtras[b2i(n.Commands)][b2i(n.Traffic)]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// RetryNow cuts a reconnect wait short (or re-tries a refused connection).
func (w *Watcher) RetryNow() { signal(w.retry) }

// KickConnections asks for the socket table now.
func (w *Watcher) KickConnections() { signal(w.kickConns) }

// Record writes every sample the watcher receives to r (call it before
// Run).
func (w *Watcher) Record(r *Recording) { w.rec = r }

// Refill asks for the graphs to be filled from the agent's history again
// once the next metrics sample has arrived (a replay that jumped, whose
// graphs were reset).
func (w *Watcher) Refill() {
	w.agentNow.Store(0)
	w.wantFill.Store(true)
}

// Requests counts the answers and pushes received.
func (w *Watcher) Requests() int64 { return w.requests.Load() }

// Host is the model the watcher feeds.
func (w *Watcher) Host() *Host { return w.h }

// Every is the watcher's cadence.
func (w *Watcher) Every() Cadence { return w.every }

// Run connects and reconnects until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	defer w.bg.Wait()
	attempt, connected := 0, false
	for ctx.Err() == nil {
		n0 := attempt // the closure runs later, on the UI goroutine
		w.post(func() {
			w.h.Status.Phase = PhaseConnecting
			w.h.Status.Attempt = n0
		})
		dctx, cancel := context.WithTimeout(ctx, RequestTimeout)
		c, err := w.dial(dctx, w.target)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			attempt++
			phase := classify(err, connected)
			if !w.wait(ctx, phase, err, attempt, phase == PhaseWaiting) {
				return
			}
			continue
		}
		attempt, connected = 0, true
		hello, dialect := c.Hello(), c.Dialect()
		w.post(func() {
			w.h.SetHello(hello)
			w.h.Status = Status{Phase: PhaseConnected, Dialect: dialect,
				TLS: w.target.TLS(), Pinned: w.target.Pin != "" || w.target.TLSCA != "",
				HasToken: w.target.HasToken(), RTT: w.h.Status.RTT}
		})
		w.setCurrent(c)
		err = w.session(ctx, c)
		w.setCurrent(nil)
		c.Close()
		if ctx.Err() != nil {
			return
		}
		// The agent went away: keep the data, show the countdown.
		if !w.wait(ctx, PhaseWaiting, err, 1, true) {
			return
		}
	}
}

// wait shows phase and waits for the backoff (when timed) or for `r`; it
// returns false when ctx ended.
func (w *Watcher) wait(ctx context.Context, phase Phase, err error, attempt int, timed bool) bool {
	delay := retryDelay(attempt)
	w.post(func() {
		w.h.Status.Phase, w.h.Status.Err, w.h.Status.Attempt = phase, err, attempt
		w.h.Status.RetryAt = time.Now().Add(delay)
	})
	var timer <-chan time.Time
	if timed {
		t := time.NewTimer(delay)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-w.retry:
	case <-timer:
	}
	return true
}

func (w *Watcher) setCurrent(c Client) {
	w.mu.Lock()
	w.cur = c
	w.mu.Unlock()
}

func (w *Watcher) current() Client {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur
}

// requestError reports whether err is the agent's answer to one request
// (unknown pid, not permitted…) rather than a broken connection.
func requestError(err error) bool {
	var coded interface{ GetCode() wire.ErrorCode }
	var ae *wire.AgentError
	for _, s := range []error{wire.ErrUnknownPID, wire.ErrNotPermitted, wire.ErrNotSupported,
		wire.ErrRateLimited, wire.ErrBadRequest, wire.ErrInternal, errNoNewSample} {
		if errors.Is(err, s) {
			return true
		}
	}
	return errors.As(err, &coded) || errors.As(err, &ae)
}

// has reports whether the live connection's agent serves capability c,
// without touching the host (which belongs to the UI goroutine).
func has(c Client, capability string) bool {
	caps := c.Hello().GetCapabilities()
	if len(caps) == 0 {
		caps = UpstreamCaps
	}
	for _, x := range caps {
		if x == capability {
			return true
		}
	}
	return false
}
