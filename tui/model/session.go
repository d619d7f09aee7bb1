package model

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/socktop/socktop/wire"
)

// How often a pushed session re-reads what the screens need (a change
// wakes it at once), and pings the agent (for the round trip shown, and to
// notice an agent that stopped answering: pushes just stop coming).
const (
	WantsEvery = time.Second
	pingEvery  = 5 * time.Second
	// firstPingWait bounds the session's first ping: an agent that does
	// not answer pings is not kept waiting for its data.
	firstPingWait = 2 * time.Second
)

// errNoPush: the agent refused the subscription; poll instead.
var errNoPush = errors.New("agent refused the subscription")

// session subscribes to what the screens show (or polls an agent that does
// not push) until the connection fails or ctx ends, and returns the failure.
func (w *Watcher) session(ctx context.Context, c Client) error {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	var loop loopFunc = func(every time.Duration, kick <-chan struct{}, enabled func() bool, fetch func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				if enabled() {
					rctx, rcancel := context.WithTimeout(sctx, RequestTimeout)
					err := fetch(rctx)
					rcancel()
					w.requests.Add(1)
					if err != nil && sctx.Err() == nil && !requestError(err) {
						cancel(err)
						return
					}
				}
				select {
				case <-sctx.Done():
					return
				case <-t.C:
				case <-kick:
				}
			}
		}()
	}
	pinger, _ := c.(Pinger)
	if pinger != nil {
		// The round trip the header shows is a ping's, taken before any
		// request: behind the first request it would time the agent's
		// first collection (~300 ms), not the network.
		rctx, rcancel := context.WithTimeout(sctx, firstPingWait)
		if rtt, err := pinger.Ping(rctx); err == nil {
			w.post(func() { w.h.Status.RTT = rtt })
		}
		rcancel()
	}
	poll := func() {
		if pinger != nil {
			wg.Add(1)
			go func() { defer wg.Done(); w.pingLoop(sctx, pinger, nil) }()
		}
		loop(w.every.Metrics, nil, func() bool { return true }, func(ctx context.Context) error {
			m, err := c.Metrics(ctx)
			if err != nil {
				return err
			}
			w.gotMetrics(m)
			w.post(func() { w.h.AddMetrics(m, time.Now()) })
			return nil
		})
		var procsAt, disksAt time.Time // the last fetches, for alert rules' slower cadence
		loop(w.every.Processes, nil, func() bool {
			n := w.Needs()
			return has(c, wire.CapProcesses) && due(n.Processes, n.AlertProcesses, &procsAt)
		}, func(ctx context.Context) error {
			p, err := c.ProcessesWith(ctx, w.extras(c))
			if err != nil {
				return err
			}
			w.rec.processes(p)
			w.post(func() { w.h.AddProcs(p, time.Now()) })
			return nil
		})
		loop(w.every.Disks, nil, func() bool {
			n := w.Needs()
			return has(c, wire.CapDisks) && due(n.Disks, n.AlertDisks, &disksAt)
		}, func(ctx context.Context) error {
			d, err := c.Disks(ctx)
			if err != nil {
				return err
			}
			w.rec.disks(d)
			w.post(func() { w.h.AddDisks(d, time.Now()) })
			return nil
		})
		w.pollContainers(c, loop)
	}
	if p, ok := c.(Pusher); ok && p.CanSubscribe() {
		// The agent pushes: one subscription replaces three polling loops,
		// and costs the agent a write per sample instead of a request.
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := w.pushes(sctx, c, p)
			switch {
			case errors.Is(err, errNoPush):
				poll()
			case err != nil && sctx.Err() == nil:
				cancel(err)
			}
		}()
	} else {
		poll()
	}
	loop(detailEvery, w.kick, func() bool { return w.Needs().DetailPID != 0 }, func(ctx context.Context) error {
		pid := w.Needs().DetailPID
		d, err := c.ProcessDetail(ctx, pid)
		w.post(func() { w.h.AddDetail(pid, d, err, time.Now()) })
		return err
	})
	var lastJournal time.Time
	var lastJournalPID uint32
	loop(detailEvery, nil, func() bool {
		n := w.Needs()
		return n.DetailPID != 0 && n.Journal && has(c, wire.CapJournal) &&
			(n.DetailPID != lastJournalPID || time.Since(lastJournal) >= journalEvery)
	}, func(ctx context.Context) error {
		pid := w.Needs().DetailPID
		lastJournal, lastJournalPID = time.Now(), pid
		j, err := c.Journal(ctx, pid, 100)
		w.post(func() { w.h.AddJournal(pid, j, err) })
		return err
	})
	if hc, ok := c.(HistoryClient); ok && has(c, wire.CapHistory) {
		w.history(loop, hc)
	}
	if cc, ok := c.(ConnectionsClient); ok && has(c, wire.CapConnections) {
		// The socket table is polled at the process list's cadence while
		// a screen shows it; a gap longer than a few rounds starts afresh.
		maxGap := 3*w.every.Processes + RequestTimeout
		loop(w.every.Processes, w.kickConns, func() bool { return w.Needs().Connections }, func(ctx context.Context) error {
			cs, err := cc.Connections(ctx)
			w.post(func() { w.h.AddConns(cs, err, time.Now(), maxGap) })
			return err
		})
	}
	wg.Wait()
	return context.Cause(sctx)
}

// gotMetrics notes a metrics sample the watcher received: its time is the
// agent's now, and a recording gets it.
func (w *Watcher) gotMetrics(m *wire.Metrics) {
	at := m.GetSampledAtMs()
	if at == 0 {
		at = uint64(time.Now().UnixMilli())
	}
	w.agentNow.Store(at)
	w.rec.metrics(m, at)
}

// loopFunc starts one of a session's fetch loops (session's loop).
type loopFunc func(every time.Duration, kick <-chan struct{}, enabled func() bool, fetch func(context.Context) error)

// history runs a session's history requests: once, after the first
// metrics sample, the span the graphs cover, to fill them (again after
// Refill); and while a screen shows a zoomed span, that span, refreshed
// as often as it gains a point.
func (w *Watcher) history(loop loopFunc, hc HistoryClient) {
	w.wantFill.Store(true)
	every := w.every.Metrics
	loop(WantsEvery, nil, func() bool { return w.wantFill.Load() && w.agentNow.Load() != 0 }, func(ctx context.Context) error {
		w.wantFill.Store(false)
		now := w.agentNow.Load()
		span := uint64(2 * HistoryLen * every.Milliseconds()) // room for gaps and a slower cadence
		h, err := hc.History(ctx, &wire.HistoryRequest{SinceMs: now - min(now, span), UntilMs: now, MaxPoints: HistoryLen})
		if err != nil {
			return err
		}
		w.post(func() {
			if !w.h.Backfill(h, every) {
				w.wantFill.Store(true) // the graphs were reset since: no sample to count back from yet
			}
		})
		return nil
	})
	var lastAt time.Time
	var last Zoom
	loop(WantsEvery, w.kickTL, func() bool {
		z := w.Needs().Timeline
		return z != ZoomLive && w.agentNow.Load() != 0 && (z != last || time.Since(lastAt) >= refreshEvery(z))
	}, func(ctx context.Context) error {
		z, now := w.Needs().Timeline, w.agentNow.Load()
		last, lastAt = z, time.Now()
		from := now - min(now, uint64(z.Span().Milliseconds()))
		h, err := hc.History(ctx, &wire.HistoryRequest{SinceMs: from, UntilMs: now, MaxPoints: TimelinePoints})
		if err != nil {
			return err
		}
		tl := NewTimeline(z, from, now, h)
		w.post(func() { w.h.SetTimeline(tl) })
		return nil
	})
}

// refreshEvery is how often a zoomed span is asked again: as often as it
// gains a point, at most every 2 s.
func refreshEvery(z Zoom) time.Duration { return max(z.Span()/TimelinePoints, 2*time.Second) }

// pushes keeps a subscription that matches what the screens show and
// hands every pushed sample to the UI, until the connection fails or ctx
// ends.
func (w *Watcher) pushes(ctx context.Context, c Client, p Pusher) error {
	want := func() wire.Cadence {
		n := w.Needs()
		cd := wire.Cadence{Metrics: w.every.Metrics}
		if has(c, wire.CapProcesses) {
			cd.Processes = cadence(n.Processes, n.AlertProcesses, w.every.Processes)
			if cd.Processes != 0 {
				cd.Extras = w.extras(c)
			}
		}
		if has(c, wire.CapDisks) {
			cd.Disks = cadence(n.Disks, n.AlertDisks, w.every.Disks)
		}
		if has(c, wire.CapContainers) {
			cd.Containers = containersCadence(n, w.every.Processes)
		}
		return cd
	}
	pctx, stopPing := context.WithCancelCause(ctx)
	var pinger sync.WaitGroup
	pinger.Add(1)
	go func() { defer pinger.Done(); w.pingLoop(pctx, p, stopPing) }()
	defer func() { stopPing(nil); pinger.Wait() }()

	check := time.NewTicker(WantsEvery)
	defer check.Stop()
	var cur wire.Cadence
	subscribed := false
	for {
		if cd := want(); cd != cur {
			rctx, rcancel := context.WithTimeout(pctx, RequestTimeout)
			_, err := p.Subscribe(rctx, cd)
			rcancel()
			switch {
			case err != nil && !subscribed && requestError(err):
				return errNoPush
			case err != nil:
				return err
			}
			cur, subscribed = cd, true
		}
		select {
		case <-pctx.Done():
			return context.Cause(pctx)
		case <-p.Done():
			return p.Err()
		case <-check.C:
		case <-w.changed:
		case push := <-p.Pushes():
			w.requests.Add(1)
			now := time.Now()
			switch {
			case push.Metrics != nil:
				w.gotMetrics(push.Metrics)
				w.post(func() { w.h.AddMetrics(push.Metrics, now) })
			case push.Processes != nil:
				w.rec.processes(push.Processes)
				w.post(func() { w.h.AddProcs(push.Processes, now) })
			case push.Disks != nil:
				w.rec.disks(push.Disks)
				w.post(func() { w.h.AddDisks(push.Disks, now) })
			case push.Containers != nil:
				w.post(func() { w.h.AddContainers(push.Containers, nil, now) })
			}
		}
	}
}

// due reports whether a polled kind of data is to be fetched now: a screen
// shows it, or alert rules read it and AlertEvery has passed since the
// fetch at *last (which it then moves).
func due(screen, alerts bool, last *time.Time) bool {
	now := time.Now()
	if screen || alerts && now.Sub(*last) >= AlertEvery {
		*last = now
		return true
	}
	return false
}

// cadence is a pushed kind's period: the screens' when one shows it, the
// alert rules' slower one when only they read it, else 0 (not pushed).
func cadence(screen, alerts bool, every time.Duration) time.Duration {
	switch {
	case screen:
		return every
	case alerts:
		return max(AlertEvery, every)
	}
	return 0
}

// pingLoop pings the agent every pingEvery (the session pinged once at
// its start) for the round trip shown. With fail set, a ping unanswered
// for RequestTimeout ends the session through it: a pushing agent that
// stopped answering only stops pushing.
func (w *Watcher) pingLoop(ctx context.Context, p Pinger, fail context.CancelCauseFunc) {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, RequestTimeout)
		rtt, err := p.Ping(rctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			w.post(func() { w.h.Status.RTT = rtt })
		case fail != nil:
			fail(err)
			return
		}
	}
}

// Signal sends sig to pid on the live connection and reports the outcome
// through done on the UI goroutine.
func (w *Watcher) Signal(ctx context.Context, pid uint32, start uint64, sig string, done func(*wire.SignalResult, error)) {
	c := w.current()
	if c == nil {
		done(nil, errors.New("not connected"))
		return
	}
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		rctx, cancel := context.WithTimeout(ctx, RequestTimeout)
		defer cancel()
		res, err := c.Signal(rctx, pid, start, sig)
		if ctx.Err() != nil {
			return
		}
		w.post(func() { done(res, err) })
	}()
}

var (
	_ Client            = (*wireClient)(nil)
	_ Pusher            = (*wireClient)(nil)
	_ ConnectionsClient = (*wireClient)(nil)
)
