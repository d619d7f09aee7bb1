// Package tui is socktop's terminal dashboard: one agent's CPU, memory,
// network, disks, sensors and processes, drawn with rivo/tview on tcell.
//
// The model (a watcher goroutine per connection, feeding samples) is kept
// apart from the views (panes that paint the latest samples). Watchers hand
// data to the UI only through Application.QueueUpdateDraw and stop through
// a cancelled context before the application stops. The key map is one
// table: the footer and the help screen are generated from it.
package tui

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// Options configures one dashboard run.
type Options struct {
	// Target is the agent to watch.
	Target Target
	// Screen is where to draw; nil opens the terminal. Tests pass a
	// tcell.SimulationScreen.
	Screen tcell.Screen
	// Version is this client's version, sent in Hello.
	Version string
	// Demo marks the header "demo" (socktop demo).
	Demo bool
	// ASCII draws without braille or box characters; NoColor without
	// colour (NO_COLOR in the environment sets it too).
	ASCII, NoColor bool
	// Request intervals; 0 means the defaults (500 ms, 2 s, 5 s). Smaller
	// values are clamped at 100 ms (metrics) and 200 ms (others).
	MetricsInterval, ProcessesInterval, DisksInterval time.Duration
	// Dial opens connections; nil uses the wire client.
	Dial DialFunc
	// Now is the clock; nil uses time.Now (tests pin it).
	Now func() time.Time
}

// App is one running dashboard.
type App struct {
	opts   Options
	target Target
	every  cadence
	th     *theme
	keys   []binding
	now    func() time.Time

	app    *tview.Application
	root   *tview.Flex
	pages  *tview.Pages
	header *pane
	footer *pane
	dash   *dashboard
	procs  *procTable
	detail *detailView
	conns  *connsView
	help   *helpView
	input  *tview.InputField
	modal  *tview.Modal

	h    *host
	w    *watcher
	want wants

	helpOpen, detailOpen, filterOpen, confirmOpen bool
	confirmPID                                    uint32
	confirmStart                                  uint64 // the chosen process's start time
	confirmSig                                    string

	footerHits []footerHit // where each footer hint was drawn, for clicks
	message    string      // transient footer message
	messageAt  time.Time

	// back, when set, is what Esc does on the dashboard instead of quitting:
	// the fleet view returns to its overview.
	back func()

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	quitOnce sync.Once
	started  sync.Once
}

// ErrNoDialer is returned by Run when Options.Dial is nil and no default
// dialer is built in.
var ErrNoDialer = errors.New("tui: no dialer (Options.Dial is nil and the wire client is not available)")

// defaultDial is set by the wire adapter.
var defaultDial DialFunc

// Run shows the dashboard until the user quits or ctx ends. It never
// returns because the agent went away: that is shown and retried.
func Run(ctx context.Context, opts Options) error {
	a, err := newApp(opts)
	if err != nil {
		return err
	}
	return a.run(ctx)
}

func newApp(opts Options) (*App, error) {
	if opts.Dial == nil {
		opts.Dial = defaultDial
		if opts.Version != "" {
			opts.Dial = dialWireVersion(opts.Version)
		}
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
	a := &App{opts: opts, target: opts.Target, now: opts.Now}
	a.every = cadence{
		metrics: clampInterval(opts.MetricsInterval, DefaultMetricsInterval, MinMetricsInterval),
		procs:   clampInterval(opts.ProcessesInterval, DefaultProcessesInterval, MinProcessesInterval),
		disks:   clampInterval(opts.DisksInterval, DefaultDisksInterval, MinDisksInterval),
	}
	a.th = newTheme(opts.ASCII, opts.NoColor)
	a.th.applyTview()
	a.keys = keyMap()
	label := opts.Target.Label
	if label == "" {
		label = opts.Target.URL
	}
	a.h = newHost(label, redactURL(opts.Target.URL))
	a.want.metrics.Store(true)
	a.want.procs.Store(true)
	a.want.disks.Store(true)

	a.app = tview.NewApplication()
	if opts.Screen != nil {
		a.app.SetScreen(opts.Screen)
	}
	a.app.EnableMouse(true)
	a.header = newPane(a.paintHeader)
	a.footer = newPane(a.paintFooter)
	a.footer.click = a.clickFooter
	a.procs = newProcTable(a)
	a.dash = newDashboard(a)
	a.detail = newDetailView(a)
	a.conns = newConnsView(a)
	a.help = &helpView{Box: tview.NewBox(), a: a}
	a.input = tview.NewInputField().SetLabel("filter: ")
	a.input.SetChangedFunc(func(text string) { a.procs.setFilter(text) })
	a.input.SetFieldStyle(a.th.value.Underline(true))
	a.input.SetLabelStyle(a.th.title)
	a.modal = tview.NewModal()
	a.th.styleModal(a.modal)

	a.pages = tview.NewPages()
	a.pages.AddPage("main", a.dash, true, true)
	a.pages.AddPage("detail", a.detail, true, false)
	a.pages.AddPage("conns", a.conns, true, false)
	a.pages.AddPage("help", a.help, true, false)
	a.pages.AddPage("confirm", a.modal, true, false)

	a.root = tview.NewFlex().SetDirection(tview.FlexRow)
	a.root.AddItem(a.header, 2, 0, false)
	a.root.AddItem(a.pages, 0, 1, true)
	a.root.AddItem(a.footer, 1, 0, false)
	a.app.SetRoot(a.root, true)
	a.app.SetFocus(a.procs)
	a.app.SetInputCapture(a.onKey)
	a.app.SetAfterDrawFunc(func(tcell.Screen) { a.started.Do(a.start) })
	return a, nil
}

// redactURL hides a ?token= so the header never shows it.
func redactURL(u string) string {
	if i := strings.Index(u, "token="); i >= 0 {
		j := strings.IndexByte(u[i:], '&')
		if j < 0 {
			return u[:i] + "token=…"
		}
		return u[:i] + "token=…" + u[i+j:]
	}
	return u
}

func (a *App) run(ctx context.Context) error {
	a.ctx, a.cancel = context.WithCancel(ctx)
	defer a.cancel()
	err := a.app.Run()
	if err != nil {
		return err
	}
	a.cancel()
	a.wg.Wait()
	return nil
}

// start runs once the event loop is live (after the first draw), so a
// watcher's QueueUpdateDraw always has a loop to run on.
func (a *App) start() {
	a.w = newWatcher(a.target, a.opts.Dial, a.post, a.h, &a.want, a.every)
	a.wg.Add(3)
	go func() { defer a.wg.Done(); a.w.run(a.ctx) }()
	go func() {
		// Ages and countdowns move even when no data arrives.
		defer a.wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-a.ctx.Done():
				return
			case <-t.C:
				a.post(func() {})
			}
		}
	}()
	go func() {
		defer a.wg.Done()
		<-a.ctx.Done()
		a.quit()
	}()
}

// post runs f on the UI goroutine and redraws.
func (a *App) post(f func()) {
	if a.ctx.Err() != nil {
		return
	}
	a.app.QueueUpdateDraw(f)
}

// quit stops the watchers, then the application.
func (a *App) quit() {
	a.quitOnce.Do(func() {
		go func() {
			a.cancel()
			a.wg.Wait()
			a.app.Stop()
		}()
	})
}

// current is the screen keys are interpreted on.
func (a *App) current() screen {
	switch {
	case a.confirmOpen:
		return scrConfirm
	case a.filterOpen:
		return scrFilter
	case a.helpOpen:
		return scrHelp
	case a.detailOpen:
		return scrDetail
	case a.conns.open:
		return a.conns.screen()
	}
	return scrMain
}

func (a *App) onMain() bool { return !a.detailOpen && !a.conns.open }

func (a *App) onKey(ev *tcell.EventKey) *tcell.EventKey {
	if ev.Key() == tcell.KeyCtrlC {
		a.quit()
		return nil
	}
	scr := a.current()
	for i := range a.keys {
		b := &a.keys[i]
		if b.screens&scr == 0 {
			continue
		}
		for _, k := range b.keys {
			if !k.match(ev) {
				continue
			}
			if b.do == nil {
				return ev
			}
			if b.when != nil && !b.when(a) {
				return nil
			}
			b.do(a)
			return nil
		}
	}
	return ev
}

func (a *App) selectedPID() uint32 {
	if a.detailOpen {
		return a.detail.pid
	}
	if r := a.procs.selected(); r != nil {
		return r.pid
	}
	return 0
}

func (a *App) escape() {
	switch {
	case a.confirmOpen:
		a.closeConfirm()
	case a.filterOpen:
		a.input.SetText("")
		a.procs.setFilter("")
		a.closeFilter()
	case a.helpOpen:
		a.toggleHelp()
	case a.detailOpen:
		a.closeDetail()
	case a.conns.open:
		a.conns.escape()
	case a.procs.filter != "":
		a.procs.setFilter("")
		a.input.SetText("")
	case a.back != nil:
		a.back()
	default:
		a.quit()
	}
}

func (a *App) toggleHelp() {
	a.helpOpen = !a.helpOpen
	if a.helpOpen {
		a.help.offset = 0
		a.pages.ShowPage("help")
		a.app.SetFocus(a.help)
		return
	}
	a.pages.HidePage("help")
	a.refocus()
}

func (a *App) refocus() {
	switch {
	case a.detailOpen:
		a.app.SetFocus(a.detail)
	case a.conns.open:
		a.conns.focus()
	default:
		a.app.SetFocus(a.procs)
	}
}

func (a *App) openFilter() {
	a.filterOpen = true
	a.input.SetText(a.procs.filter)
	a.root.RemoveItem(a.footer)
	a.root.AddItem(a.input, 1, 0, true)
	a.app.SetFocus(a.input)
}

func (a *App) closeFilter() {
	a.filterOpen = false
	a.root.RemoveItem(a.input)
	a.root.AddItem(a.footer, 1, 0, false)
	a.refocus()
}

func (a *App) openDetail() {
	r := a.procs.selected()
	if r == nil {
		return
	}
	a.detailOpen = true
	a.detail.pid, a.detail.name, a.detail.offset = r.pid, r.name, 0
	a.h.openDetail(r.pid)
	a.want.journal.Store(a.h.has("journal"))
	a.want.detailPID.Store(r.pid)
	a.want.procs.Store(false)
	a.want.disks.Store(false)
	a.pages.ShowPage("detail")
	if a.helpOpen {
		a.pages.SendToFront("help")
	}
	a.app.SetFocus(a.detail)
	if a.w != nil {
		a.w.kickDetail()
	}
}

func (a *App) closeDetail() {
	a.detailOpen = false
	a.want.detailPID.Store(0)
	a.want.journal.Store(false)
	a.want.procs.Store(true)
	a.h.detailPID = 0
	a.pages.HidePage("detail")
	a.refocus()
}

// confirmSignal asks before sending sig to the selected process.
func (a *App) confirmSignal(sig string) {
	pid := a.selectedPID()
	if pid == 0 {
		return
	}
	name := a.detail.name
	var start uint64
	if d := a.h.detail; a.detailOpen && d.GetPid() == pid {
		start = d.GetStartTime()
	}
	if !a.detailOpen {
		if r := a.procs.selected(); r != nil {
			name, start = r.name, r.start
		}
	}
	a.confirmOpen, a.confirmPID, a.confirmStart, a.confirmSig = true, pid, start, sig
	a.modal.ClearButtons()
	a.modal.SetText("Send " + sig + " to process " + itoa(pid) + " (" + name + ") on " + a.h.hostname() + "?")
	a.modal.AddButtons([]string{"Send " + sig, "Cancel"})
	a.modal.SetDoneFunc(func(i int, _ string) {
		if i == 0 {
			a.sendSignal()
			return
		}
		a.closeConfirm()
	})
	a.modal.SetFocus(1) // Cancel is the safe default
	a.pages.ShowPage("confirm")
	a.app.SetFocus(a.modal)
}

func (a *App) sendSignal() {
	pid, start, sig := a.confirmPID, a.confirmStart, a.confirmSig
	a.closeConfirm()
	if a.w == nil {
		return
	}
	a.w.signal(a.ctx, pid, start, sig, func(res *wire.SignalResult, err error) {
		if err != nil {
			a.flash("signal " + sig + " to " + itoa(pid) + " failed: " + errText(err))
			return
		}
		a.flash("sent " + res.GetSignal() + " to " + itoa(pid))
	})
}

func (a *App) closeConfirm() {
	a.confirmOpen = false
	a.pages.HidePage("confirm")
	a.refocus()
}

// footerHit is a clickable footer hint: clicking it is pressing its key.
type footerHit struct {
	x0, x1 int
	do     func(*App)
}

func (a *App) clickFooter(x, _ int) {
	for _, h := range a.footerHits {
		if x >= h.x0 && x < h.x1 && h.do != nil {
			h.do(a)
			return
		}
	}
}

// flash shows a message in the footer for a few seconds.
func (a *App) flash(msg string) { a.message, a.messageAt = msg, a.now() }

func (a *App) paintFooter(s tcell.Screen, x, y, w, h int) {
	t := a.th
	end := x + w
	if a.message != "" && a.now().Sub(a.messageAt) < 5*time.Second {
		// the message wins over hints: it reports what the user just did
		mw := min(widget.Width(a.message)+1, w/2)
		widget.PrintRight(s, end-mw, y, mw, a.message, t.footerMsg)
		end -= mw + 1
	}
	cx := x
	a.footerHits = a.footerHits[:0]
	for _, b := range footerHints(a, a.keys, a.current()) {
		label := b.label
		if b.hintLabel != "" {
			label = b.hintLabel
		}
		need := widget.Width(label) + widget.Width(b.hint) + 4
		if cx+need > end {
			break
		}
		x0 := cx
		cx += widget.Print(s, cx, y, end-cx, " "+label+" ", t.footerKey)
		cx += widget.Print(s, cx, y, end-cx, " "+b.hint+" ", t.footerText)
		a.footerHits = append(a.footerHits, footerHit{x0: x0, x1: cx, do: b.do})
	}
}

func itoa(v uint32) string {
	const digits = "0123456789"
	if v == 0 {
		return "0"
	}
	var b [10]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = digits[v%10]
		v /= 10
	}
	return string(b[i:])
}
