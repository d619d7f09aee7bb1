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
)

// errNoPush: the agent refused the subscription; poll instead.
var errNoPush = errors.New("agent refused the subscription")

// session subscribes to what the screens show (or polls an agent that does
// not push) until the connection fails or ctx ends, and returns the failure.
func (w *Watcher) session(ctx context.Context, c Client) error {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	loop := func(every time.Duration, kick <-chan struct{}, enabled func() bool, fetch func(context.Context) error) {
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
	poll := func() {
		loop(w.every.Metrics, nil, func() bool { return true }, func(ctx context.Context) error {
			start := time.Now()
			m, err := c.Metrics(ctx)
			if err != nil {
				return err
			}
			rtt := time.Since(start)
			w.post(func() {
				w.h.AddMetrics(m, time.Now())
				w.h.Status.RTT = rtt
			})
			return nil
		})
		var procsAt, disksAt time.Time // the last fetches, for alert rules' slower cadence
		loop(w.every.Processes, nil, func() bool {
			n := w.Needs()
			return has(c, wire.CapProcesses) && due(n.Processes, n.AlertProcesses, &procsAt)
		}, func(ctx context.Context) error {
			p, err := c.Processes(ctx)
			if err != nil {
				return err
			}
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

// pushes keeps a subscription that matches what the screens show and
// hands every pushed sample to the UI, until the connection fails or ctx
// ends.
func (w *Watcher) pushes(ctx context.Context, c Client, p Pusher) error {
	want := func() wire.Cadence {
		n := w.Needs()
		cd := wire.Cadence{Metrics: w.every.Metrics}
		if has(c, wire.CapProcesses) {
			cd.Processes = cadence(n.Processes, n.AlertProcesses, w.every.Processes)
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
				w.post(func() { w.h.AddMetrics(push.Metrics, now) })
			case push.Processes != nil:
				w.post(func() { w.h.AddProcs(push.Processes, now) })
			case push.Disks != nil:
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

// pingLoop pings the agent every pingEvery and ends the session (through
// fail) when a ping goes unanswered for RequestTimeout.
func (w *Watcher) pingLoop(ctx context.Context, p Pusher, fail context.CancelCauseFunc) {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, RequestTimeout)
		rtt, err := p.Ping(rctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			fail(err)
			return
		}
		w.post(func() { w.h.Status.RTT = rtt })
		select {
		case <-ctx.Done():
			return
		case <-t.C:
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
