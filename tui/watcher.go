package tui

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socktop/socktop/wire"
)

// requestTimeout bounds one request: an agent that does not answer within it
// is treated as gone and the connection is rebuilt.
const requestTimeout = 10 * time.Second

// detailEvery and journalEvery are the detail view's cadences.
const (
	detailEvery  = time.Second
	journalEvery = 5 * time.Second
)

// wants is what the visible screen needs; the UI sets it, the watcher
// reads it before each request so hidden panes cost nothing.
type wants struct {
	metrics   atomic.Bool
	disks     atomic.Bool
	procs     atomic.Bool
	detailPID atomic.Uint32 // 0: no detail view open
	journal   atomic.Bool
}

// cadence is the request intervals after defaults and clamping.
type cadence struct {
	metrics, procs, disks time.Duration
}

// watcher owns one agent connection: it dials, polls what the screen
// wants, reconnects with backoff, and hands every result to the UI through
// post (which runs the function on the UI goroutine and redraws).
type watcher struct {
	target Target
	dial   DialFunc
	post   func(func())
	h      *host
	want   *wants
	every  cadence

	retry chan struct{} // `r`: retry now
	kick  chan struct{} // the detail view opened: fetch now

	bg sync.WaitGroup // signal requests in flight

	mu  sync.Mutex
	cur Client // the live connection, nil between connections

	// counters for tests and the CPU measurement harness
	requests atomic.Int64
}

func newWatcher(t Target, dial DialFunc, post func(func()), h *host, want *wants, every cadence) *watcher {
	return &watcher{target: t, dial: dial, post: post, h: h, want: want, every: every,
		retry: make(chan struct{}, 1), kick: make(chan struct{}, 1)}
}

// retryNow cuts a reconnect wait short (or re-tries a refused connection).
func (w *watcher) retryNow() {
	select {
	case w.retry <- struct{}{}:
	default:
	}
}

func (w *watcher) kickDetail() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// backoff is the wait before reconnect attempt n (1-based): 1, 2, 4, 8,
// 16, then 30 s.
func backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 5 {
		return 30 * time.Second
	}
	return time.Second << (n - 1)
}

// classify maps a dial error onto the phase the header shows.
func classify(err error) connPhase {
	switch {
	case errors.Is(err, ErrAuth):
		return phaseAuth
	case errors.Is(err, ErrPinMismatch):
		return phasePin
	case errors.Is(err, errPermanent):
		return phaseFailed
	}
	return phaseWaiting
}

// errPermanent marks dial errors that retrying cannot fix (a malformed
// URL, an unsupported protocol version).
var errPermanent = errors.New("permanent")

// run connects and reconnects until ctx ends.
func (w *watcher) run(ctx context.Context) {
	defer w.bg.Wait()
	attempt := 0
	for ctx.Err() == nil {
		n0 := attempt // the closure runs later, on the UI goroutine
		w.post(func() {
			w.h.status.phase = phaseConnecting
			w.h.status.attempt = n0
		})
		dctx, cancel := context.WithTimeout(ctx, requestTimeout)
		c, err := w.dial(dctx, w.target)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			attempt++
			phase := classify(err)
			delay := backoff(attempt)
			n := attempt
			w.post(func() {
				w.h.status.phase, w.h.status.err, w.h.status.attempt = phase, err, n
				w.h.status.retryAt = time.Now().Add(delay)
			})
			var wait <-chan time.Time
			var t *time.Timer
			if phase == phaseWaiting {
				t = time.NewTimer(delay)
				wait = t.C
			}
			select {
			case <-ctx.Done():
			case <-w.retry:
			case <-wait:
			}
			if t != nil {
				t.Stop()
			}
			continue
		}
		attempt = 0
		hello := c.Hello()
		dialect := c.Dialect()
		w.post(func() {
			w.h.setHello(hello)
			w.h.status = connStatus{phase: phaseConnected, dialect: dialect,
				tls: isTLS(w.target.URL), pinned: w.target.Pin != "" || w.target.TLSCA != "",
				hasToken: w.target.Token != "" || urlHasToken(w.target.URL), rtt: w.h.status.rtt}
		})
		w.setCurrent(c)
		err = w.session(ctx, c)
		w.setCurrent(nil)
		c.Close()
		if ctx.Err() != nil {
			return
		}
		// The agent went away: keep the data, show the countdown.
		attempt = 1
		delay := backoff(attempt)
		w.post(func() {
			w.h.status.phase, w.h.status.err, w.h.status.attempt = phaseWaiting, err, 1
			w.h.status.retryAt = time.Now().Add(delay)
		})
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.retry:
		case <-t.C:
		}
		t.Stop()
	}
}

func (w *watcher) setCurrent(c Client) {
	w.mu.Lock()
	w.cur = c
	w.mu.Unlock()
}

func (w *watcher) current() Client {
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
		wire.ErrRateLimited, wire.ErrBadRequest, wire.ErrInternal} {
		if errors.Is(err, s) {
			return true
		}
	}
	return errors.As(err, &coded) || errors.As(err, &ae)
}

// session subscribes to what the screen shows (or polls an agent that does
// not push) until the connection fails or ctx ends, and returns the failure.
func (w *watcher) session(ctx context.Context, c Client) error {
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
					rctx, rcancel := context.WithTimeout(sctx, requestTimeout)
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
		loop(w.every.metrics, nil, func() bool { return w.want.metrics.Load() }, func(ctx context.Context) error {
			start := time.Now()
			m, err := c.Metrics(ctx)
			if err != nil {
				return err
			}
			rtt := time.Since(start)
			w.post(func() {
				w.h.addMetrics(m, time.Now())
				w.h.status.rtt = rtt
			})
			return nil
		})
		loop(w.every.procs, nil, func() bool { return w.want.procs.Load() && w.h0has(wire.CapProcesses) }, func(ctx context.Context) error {
			p, err := c.Processes(ctx)
			if err != nil {
				return err
			}
			w.post(func() { w.h.addProcs(p, time.Now()) })
			return nil
		})
		loop(w.every.disks, nil, func() bool { return w.want.disks.Load() && w.h0has(wire.CapDisks) }, func(ctx context.Context) error {
			d, err := c.Disks(ctx)
			if err != nil {
				return err
			}
			w.post(func() { w.h.addDisks(d, time.Now()) })
			return nil
		})
	}
	if p, ok := c.(pusher); ok && p.CanSubscribe() {
		// The agent pushes: one subscription replaces three polling loops,
		// and costs the agent a write per sample instead of a request.
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := w.pushes(sctx, p)
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
	loop(detailEvery, w.kick, func() bool { return w.want.detailPID.Load() != 0 }, func(ctx context.Context) error {
		pid := w.want.detailPID.Load()
		d, err := c.ProcessDetail(ctx, pid)
		w.post(func() { w.h.addDetail(pid, d, err, time.Now()) })
		return err
	})
	var lastJournal time.Time
	var lastJournalPID uint32
	loop(detailEvery, nil, func() bool {
		pid := w.want.detailPID.Load()
		return pid != 0 && w.want.journal.Load() && (pid != lastJournalPID || time.Since(lastJournal) >= journalEvery)
	}, func(ctx context.Context) error {
		pid := w.want.detailPID.Load()
		lastJournal, lastJournalPID = time.Now(), pid
		j, err := c.Journal(ctx, pid, 100)
		w.post(func() { w.h.addJournal(pid, j, err) })
		return err
	})
	wg.Wait()
	return context.Cause(sctx)
}

// pusher is a Client whose agent pushes samples (a socktop.v2 agent).
type pusher interface {
	CanSubscribe() bool
	Subscribe(ctx context.Context, c wire.Cadence) (wire.Cadence, error)
	Pushes() <-chan wire.Push
	Ping(ctx context.Context) (time.Duration, error)
	Done() <-chan struct{}
	Err() error
}

// How often a pushed session re-reads what the screen wants, and pings the
// agent (for the round trip shown, and to notice an agent that stopped
// answering: pushes just stop coming).
const (
	wantsEvery = time.Second
	pingEvery  = 5 * time.Second
)

// errNoPush: the agent refused the subscription; poll instead.
var errNoPush = errors.New("agent refused the subscription")

// pushes keeps a subscription that matches what the screen shows and hands
// every pushed sample to the UI, until the connection fails or ctx ends.
func (w *watcher) pushes(ctx context.Context, p pusher) error {
	want := func() wire.Cadence {
		var c wire.Cadence
		if w.want.metrics.Load() {
			c.Metrics = w.every.metrics
		}
		if w.want.procs.Load() && w.h0has(wire.CapProcesses) {
			c.Processes = w.every.procs
		}
		if w.want.disks.Load() && w.h0has(wire.CapDisks) {
			c.Disks = w.every.disks
		}
		return c
	}
	pctx, stopPing := context.WithCancelCause(ctx)
	defer stopPing(nil)
	go w.pingLoop(pctx, p, stopPing)

	check := time.NewTicker(wantsEvery)
	defer check.Stop()
	var cur wire.Cadence
	subscribed := false
	for {
		if c := want(); c != cur {
			rctx, rcancel := context.WithTimeout(pctx, requestTimeout)
			_, err := p.Subscribe(rctx, c)
			rcancel()
			switch {
			case err != nil && !subscribed && requestError(err):
				return errNoPush
			case err != nil:
				return err
			}
			cur, subscribed = c, true
		}
		select {
		case <-pctx.Done():
			return context.Cause(pctx)
		case <-p.Done():
			return p.Err()
		case <-check.C:
		case push := <-p.Pushes():
			w.requests.Add(1)
			now := time.Now()
			switch {
			case push.Metrics != nil:
				w.post(func() { w.h.addMetrics(push.Metrics, now) })
			case push.Processes != nil:
				w.post(func() { w.h.addProcs(push.Processes, now) })
			case push.Disks != nil:
				w.post(func() { w.h.addDisks(push.Disks, now) })
			}
		}
	}
}

// pingLoop pings the agent every pingEvery and ends the session (through
// fail) when a ping goes unanswered for requestTimeout.
func (w *watcher) pingLoop(ctx context.Context, p pusher, fail context.CancelCauseFunc) {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		rtt, err := p.Ping(rctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			fail(err)
			return
		}
		w.post(func() { w.h.status.rtt = rtt })
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// h0has reads the capability set captured at connect time without
// touching host (which belongs to the UI goroutine).
func (w *watcher) h0has(c string) bool {
	cl := w.current()
	if cl == nil {
		return false
	}
	caps := cl.Hello().GetCapabilities()
	if len(caps) == 0 {
		caps = upstreamCaps
	}
	for _, x := range caps {
		if x == c {
			return true
		}
	}
	return false
}

// signal sends sig to pid on the live connection and reports the outcome
// through done on the UI goroutine.
func (w *watcher) signal(ctx context.Context, pid uint32, start uint64, sig string, done func(*wire.SignalResult, error)) {
	c := w.current()
	if c == nil {
		done(nil, errors.New("not connected"))
		return
	}
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		res, err := c.Signal(rctx, pid, start, sig)
		if ctx.Err() != nil {
			return
		}
		w.post(func() { done(res, err) })
	}()
}
