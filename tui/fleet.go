package tui

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// The fleet view watches many agents on one screen: a tile (or a table
// row) per agent with its state and headline figures. Enter opens one
// host's full dashboard over the same connection; Esc comes back to the
// fleet, which never stopped updating.
//
// Every agent has its own watcher (connection, cadence, reconnect backoff)
// feeding its own host model; no lock is held across a network call. The
// watchers' results are batched into one redraw per frame, so fifty agents
// cost a few redraws a second, not a hundred.

// fleetFrame is the shortest gap between two redraws caused by data: the
// samples that arrive within it are applied together.
const fleetFrame = 250 * time.Millisecond

// ErrNoTargets is returned by RunFleet when it is given no agent.
var ErrNoTargets = errors.New("tui: fleet view needs at least one agent")

// member is one agent of the fleet: a dashboard App (built but never run
// on its own: its tview application is the fleet's) whose host model and
// wants the fleet's watcher for that agent feeds and obeys.
type member struct {
	idx int // position in the order the user gave
	a   *App
	w   *watcher
}

// fleet is one running fleet view.
type fleet struct {
	opts    Options
	th      *theme
	now     func() time.Time
	members []*member

	app    *tview.Application
	root   *tview.Flex
	pages  *tview.Pages
	view   *fleetView
	header *pane
	footer *pane
	help   *fleetHelp
	keys   []fleetBinding

	open     *member // the host whose dashboard is shown, nil on the fleet
	helpOpen bool

	mu      sync.Mutex // guards pending
	pending []func()
	spare   []func()
	wake    chan struct{}

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	quitOnce sync.Once
	started  sync.Once
}

// RunFleet shows the fleet view for targets until the user quits or ctx
// ends. opts applies to every agent (opts.Target is ignored): cadence,
// dialer, screen, ASCII and colour. Each agent gets its own connection; an
// agent that is slow, gone or refusing never delays the others.
func RunFleet(ctx context.Context, targets []Target, opts Options) error {
	each := make([]Options, len(targets))
	for i, t := range targets {
		each[i] = opts
		each[i].Target = t
	}
	return RunFleetOptions(ctx, each, opts)
}

// RunFleetOptions is RunFleet with each agent's own options (its Target and
// intervals, e.g. from its profile). From shared it takes the screen,
// dialer, clock, version, ASCII and colour.
func RunFleetOptions(ctx context.Context, each []Options, shared Options) error {
	f, err := newFleet(ctx, each, shared)
	if err != nil {
		return err
	}
	return f.run()
}

func newFleet(ctx context.Context, each []Options, opts Options) (*fleet, error) {
	if len(each) == 0 {
		return nil, ErrNoTargets
	}
	if opts.Dial == nil {
		opts.Dial = defaultDial
	}
	if opts.Dial == nil {
		return nil, ErrNoDialer
	}
	if os.Getenv("NO_COLOR") != "" {
		opts.NoColor = true
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &fleet{opts: opts, now: opts.Now, th: newTheme(opts.ASCII, opts.NoColor), wake: make(chan struct{}, 1)}
	f.th.applyTview()
	f.ctx, f.cancel = context.WithCancel(ctx)
	f.app = tview.NewApplication()
	if opts.Screen != nil {
		f.app.SetScreen(opts.Screen)
	}
	f.app.EnableMouse(true)
	for i, mo := range each {
		mo.Screen = nil // the member never opens a screen of its own
		mo.Dial, mo.Now, mo.Version = opts.Dial, opts.Now, opts.Version
		mo.ASCII, mo.NoColor = opts.ASCII, opts.NoColor
		a, err := newApp(mo)
		if err != nil {
			f.cancel()
			return nil, err
		}
		// The member's dashboard lives inside the fleet's application.
		a.app = f.app
		a.ctx, a.cancel = context.WithCancel(f.ctx)
		// On the fleet only metrics are asked for; the dashboard turns the
		// rest on while it is shown.
		a.want.procs.Store(false)
		a.want.disks.Store(false)
		m := &member{idx: i, a: a}
		m.w = newWatcher(mo.Target, opts.Dial, f.post, a.h, &a.want, a.every)
		a.w = m.w
		a.back = f.closeHost
		f.members = append(f.members, m)
	}
	f.keys = fleetKeyMap()
	f.view = newFleetView(f)
	f.header = newPane(f.paintHeader)
	f.footer = newPane(f.paintFooter)
	f.help = newFleetHelp(f)
	f.pages = tview.NewPages()
	f.pages.AddPage("fleet", f.view, true, true)
	f.pages.AddPage("help", f.help, true, false)
	f.root = tview.NewFlex().SetDirection(tview.FlexRow)
	f.root.AddItem(f.header, 1, 0, false)
	f.root.AddItem(f.pages, 0, 1, true)
	f.root.AddItem(f.footer, 1, 0, false)
	f.app.SetRoot(f.root, true)
	f.app.SetFocus(f.view)
	f.app.SetInputCapture(f.onKey)
	f.app.SetAfterDrawFunc(func(tcell.Screen) { f.started.Do(f.start) })
	return f, nil
}

func (f *fleet) run() error {
	defer f.cancel()
	err := f.app.Run()
	f.cancel()
	f.wg.Wait()
	return err
}

// start runs once the event loop is live: the watchers and the frame
// batcher.
func (f *fleet) start() {
	for _, m := range f.members {
		f.wg.Add(1)
		go func() { defer f.wg.Done(); m.w.run(f.ctx) }()
	}
	f.wg.Add(1)
	go func() { defer f.wg.Done(); f.flusher() }()
}

// post queues fn for the UI goroutine; the flusher applies what gathered
// in one QueueUpdateDraw per frame. It never blocks on the UI.
func (f *fleet) post(fn func()) {
	if f.ctx.Err() != nil {
		return
	}
	f.mu.Lock()
	f.pending = append(f.pending, fn)
	first := len(f.pending) == 1
	f.mu.Unlock()
	if first {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

// flusher hands the pending updates to the UI at most once per fleetFrame,
// and redraws every second even when no data arrives, so ages and
// countdowns move. When ctx ends it stops the application.
func (f *fleet) flusher() {
	defer f.quit()
	clock := time.NewTicker(time.Second)
	defer clock.Stop()
	gap := time.NewTimer(fleetFrame)
	defer gap.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-f.wake:
		case <-clock.C:
		}
		f.mu.Lock()
		batch := f.pending
		f.pending = f.spare[:0]
		f.mu.Unlock()
		done := make(chan struct{})
		f.app.QueueUpdateDraw(func() {
			for i, fn := range batch {
				fn()
				batch[i] = nil
			}
			close(done)
		})
		// Keep the next batch gathering while this frame is drawn and the
		// frame gap passes; then recycle this batch's slice.
		gap.Reset(fleetFrame)
		select {
		case <-f.ctx.Done():
			return
		case <-gap.C:
		}
		select {
		case <-done:
			f.mu.Lock()
			f.spare = batch[:0]
			f.mu.Unlock()
		default:
			f.spare = nil // still queued: do not reuse its slice
		}
	}
}

// quit stops the watchers, then the application.
func (f *fleet) quit() {
	f.quitOnce.Do(func() {
		go func() {
			f.cancel()
			f.wg.Wait()
			f.app.Stop()
		}()
	})
}

// openHost shows m's dashboard. Its watcher is already connected: the
// dashboard's panes turn on the process and disk requests as they draw.
func (f *fleet) openHost(m *member) {
	if m == nil {
		return
	}
	f.open = m
	if f.helpOpen {
		f.toggleHelp()
	}
	f.app.SetRoot(m.a.root, true)
	m.a.refocus()
	if m.a.h.status.phase == phaseWaiting {
		m.w.retryNow() // a host the user looks at is worth a reconnect now
	}
}

// closeHost returns to the fleet; the host goes back to metrics only.
func (f *fleet) closeHost() {
	m := f.open
	if m == nil {
		return
	}
	a := m.a
	if a.detailOpen {
		a.closeDetail()
	}
	if a.helpOpen {
		a.toggleHelp()
	}
	if a.filterOpen {
		a.closeFilter()
	}
	a.want.detailPID.Store(0)
	a.want.journal.Store(false)
	a.want.procs.Store(false)
	a.want.disks.Store(false)
	a.want.metrics.Store(true)
	f.open = nil
	f.app.SetRoot(f.root, true)
	f.app.SetFocus(f.view)
}

// onKey routes keys: to the open dashboard (whose Esc, once nothing is
// left to close there, comes back here instead of quitting), or to the
// fleet's key map.
func (f *fleet) onKey(ev *tcell.EventKey) *tcell.EventKey {
	if ev.Key() == tcell.KeyCtrlC {
		f.quit()
		return nil
	}
	if m := f.open; m != nil {
		return m.a.onKey(ev) // its Esc comes back here (App.back)
	}
	scr := fscrFleet
	if f.helpOpen {
		scr = fscrHelp
	}
	for i := range f.keys {
		b := &f.keys[i]
		if b.screens&scr == 0 {
			continue
		}
		for _, k := range b.keys {
			if k.match(ev) {
				if b.do == nil {
					return ev
				}
				b.do(f)
				return nil
			}
		}
	}
	return ev
}

func (f *fleet) toggleHelp() {
	f.helpOpen = !f.helpOpen
	if f.helpOpen {
		f.help.ScrollToBeginning()
		f.pages.ShowPage("help")
		f.app.SetFocus(f.help)
		return
	}
	f.pages.HidePage("help")
	f.app.SetFocus(f.view)
}

func (f *fleet) escape() {
	if f.helpOpen {
		f.toggleHelp()
	}
}

// retrySelected reconnects the selected agent now; retryAll every agent
// that is not connected.
func (f *fleet) retrySelected() {
	if m := f.view.selected(); m != nil {
		m.w.retryNow()
	}
}

func (f *fleet) retryAll() {
	for _, m := range f.members {
		if m.a.h.status.phase != phaseConnected {
			m.w.retryNow()
		}
	}
}
