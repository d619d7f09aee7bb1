// Package shell is the dashboard's one application shell: it owns the
// tview application, the context and the wait group every background
// goroutine is counted in, the one batched post through which those
// goroutines reach the UI, the quit order (cancel, wait, then stop), the
// key dispatch, and the header, footer and help painters. What is on screen
// is a stack of Screens; the top one's key map drives the keys, the footer
// and the help.
package shell

import (
	"context"
	"sync"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/widget"
)

// Screen is one value on the stack: what it draws, its keys, and the hooks
// that tell it when it becomes visible or hidden (where it declares the
// data it needs, and gives it back).
type Screen struct {
	// Name titles the screen's keys in the help ("Dashboard").
	Name string
	// View is what the page area shows; nil for a screen that has only a
	// Bar (a filter being typed).
	View tview.Primitive
	// Focus gets the keys the key map passes on (default: Bar, else View).
	Focus tview.Primitive
	// Bar is drawn in the footer's row instead of the key hints.
	Bar tview.Primitive
	// Overlay screens are drawn over the screens below, which stay
	// visible (help, dialogs); others cover them.
	Overlay bool
	Keys    []Binding
	// Help lists more key maps in the help: the screens this one opens.
	Help []Section
	// Header paints the header while this is the topmost screen with one,
	// in HeaderRows rows.
	Header     func(s tcell.Screen, x, y, w, h int)
	HeaderRows int
	// Shown and Hidden run when the screen becomes visible and stops being
	// visible (covered, or popped).
	Shown, Hidden func()
}

// Options configure a shell.
type Options struct {
	// Screen is where to draw; nil opens the terminal.
	Screen tcell.Screen
	Theme  *widget.Theme
	// Frame is the shortest gap between two redraws caused by posts: what
	// is posted within it is applied together (default 250 ms).
	Frame time.Duration
	// Now is the clock (tests pin it).
	Now func() time.Time
}

// DefaultFrame batches posts so that fifty agents cost a few redraws a
// second, not a hundred.
const DefaultFrame = 250 * time.Millisecond

// Shell is one running application.
type Shell struct {
	app   *tview.Application
	th    *widget.Theme
	now   func() time.Time
	frame time.Duration

	screen *frameScreen // nil until Run opens the terminal

	root   *tview.Flex
	header *widget.Pane
	footer *widget.Pane
	pages  *stackView
	bottom tview.Primitive // what fills the footer's row now
	rows   int             // the header's rows now

	stack   []*Screen
	visible []*Screen // bottom to top, as last drawn

	footerHits []footerHit
	message    string // transient footer message
	messageAt  time.Time

	mu       sync.Mutex // guards pending, spare, stopping
	pending  []func()
	spare    []func()
	stopping bool
	wake     chan struct{}
	loopDone chan struct{} // closed when the event loop has ended

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	quitOnce sync.Once
	started  sync.Once
	onStart  []func()
	every    []func() // run once a second with the clock's redraw
}

// New makes a shell whose context ends with ctx.
func New(ctx context.Context, o Options) *Shell {
	if o.Theme == nil {
		o.Theme = widget.NewTheme(false, false)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Frame <= 0 {
		o.Frame = DefaultFrame
	}
	sh := &Shell{app: tview.NewApplication(), th: o.Theme, now: o.Now, frame: o.Frame,
		wake: make(chan struct{}, 1), loopDone: make(chan struct{})}
	sh.ctx, sh.cancel = context.WithCancel(ctx)
	if o.Screen != nil {
		sh.setScreen(o.Screen)
	}
	sh.app.EnableMouse(true)
	sh.header = widget.NewPane(sh.paintHeader)
	sh.footer = widget.NewPane(sh.paintFooter)
	sh.footer.Click = sh.clickFooter
	sh.pages = &stackView{Box: tview.NewBox(), sh: sh}
	sh.root = tview.NewFlex().SetDirection(tview.FlexRow)
	sh.root.AddItem(sh.header, 0, 0, false)
	sh.root.AddItem(sh.pages, 0, 1, true)
	sh.root.AddItem(sh.footer, 1, 0, false)
	sh.bottom = sh.footer
	sh.app.SetRoot(sh.root, true)
	sh.app.SetInputCapture(sh.onKey)
	return sh
}

// Theme is the shell's theme.
func (sh *Shell) Theme() *widget.Theme { return sh.th }

// Now is the shell's clock.
func (sh *Shell) Now() time.Time { return sh.now() }

// Context ends when the shell quits.
func (sh *Shell) Context() context.Context { return sh.ctx }

// App is the tview application (tests read the screen through it).
func (sh *Shell) App() *tview.Application { return sh.app }

// Root is the whole layout (benchmarks draw it without an event loop).
func (sh *Shell) Root() tview.Primitive { return sh.root }

// Screen is what the layout draws on: the frame buffer over the terminal
// (nil until the terminal is open), whose Tty and Beep are the terminal's.
// Use it on the UI goroutine only: there nothing else writes to it.
// Benchmarks draw on it as tview does.
func (sh *Shell) Screen() tcell.Screen {
	if sh.screen == nil {
		return nil
	}
	return sh.screen
}

// Drawn is the size of the last frame put on the terminal (0, 0 before
// the first); call it on the UI goroutine.
func (sh *Shell) Drawn() (w, h int) {
	if sh.screen == nil {
		return 0, 0
	}
	return sh.screen.drawn()
}

// OnStart runs f once the event loop is live (after the first frame is on
// the terminal), so whatever f starts always has a loop to post to.
func (sh *Shell) OnStart(f func()) { sh.onStart = append(sh.onStart, f) }

// Every runs f on the UI goroutine about once a second, in the redraw
// that moves ages and countdowns, so it costs no redraw of its own. Call
// it before Run.
func (sh *Shell) Every(f func()) { sh.every = append(sh.every, f) }

// Run shows the screens until Quit or the context ends. It returns once
// every goroutine started through Go has ended.
func (sh *Shell) Run() error {
	defer sh.cancel()
	if sh.screen == nil {
		s, err := tcell.NewScreen()
		if err != nil {
			return err
		}
		if sh.setScreen(s); sh.screen.initErr != nil {
			return sh.screen.initErr
		}
		sh.app.EnableMouse(true)
	}
	// the first frame the loop puts on the terminal starts what OnStart
	// queued
	sh.screen.shown = func() { sh.started.Do(sh.start) }
	err := sh.app.Run()
	close(sh.loopDone)
	sh.Quit()
	sh.wg.Wait()
	return err
}

// setScreen draws on s through a frame buffer.
func (sh *Shell) setScreen(s tcell.Screen) {
	sh.screen = newFrameScreen(s)
	sh.app.SetScreen(sh.screen)
}

func (sh *Shell) start() {
	sh.Go(sh.flusher)
	for _, f := range sh.onStart {
		f()
	}
}

// Go runs f on its own goroutine, counted in the shell's wait group: f
// must return when ctx ends. It reports false (and does not run f) once
// the shell is quitting.
func (sh *Shell) Go(f func(ctx context.Context)) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.stopping {
		return false
	}
	sh.wg.Add(1)
	go func() {
		defer sh.wg.Done()
		f(sh.ctx)
	}()
	return true
}

// Quit stops everything in order: the context is cancelled, every
// goroutine started through Go is waited for, then the application stops.
func (sh *Shell) Quit() {
	sh.quitOnce.Do(func() {
		sh.mu.Lock()
		sh.stopping = true
		sh.mu.Unlock()
		sh.cancel()
		go func() {
			sh.wg.Wait()
			sh.app.Stop()
		}()
	})
}

// Post queues fn for the UI goroutine; the flusher applies what gathered
// in one redraw per frame. It never blocks, and drops fn once quitting.
func (sh *Shell) Post(fn func()) {
	if sh.ctx.Err() != nil {
		return
	}
	sh.mu.Lock()
	sh.pending = append(sh.pending, fn)
	first := len(sh.pending) == 1
	sh.mu.Unlock()
	if first {
		select {
		case sh.wake <- struct{}{}:
		default:
		}
	}
}

// flusher hands the pending updates to the UI at most once per frame, and
// redraws every second even when nothing arrives, so ages and countdowns
// move. When the context ends it quits.
func (sh *Shell) flusher(ctx context.Context) {
	defer sh.Quit()
	clock := time.NewTicker(time.Second)
	defer clock.Stop()
	gap := time.NewTimer(sh.frame)
	defer gap.Stop()
	var lastEvery time.Time
	for {
		tick := false
		select {
		case <-ctx.Done():
			return
		case <-sh.wake:
		case <-clock.C:
			tick = true
		}
		sh.mu.Lock()
		batch := sh.pending
		sh.pending = sh.spare[:0]
		sh.mu.Unlock()
		// posts that keep waking the flusher never starve Every
		if now := time.Now(); tick || now.Sub(lastEvery) >= time.Second {
			batch, lastEvery = append(batch, sh.every...), now
		}
		// QueueUpdateDraw returns once the batch ran on the UI goroutine,
		// so its slice is free again afterwards. The loop outlives the
		// flusher on a normal quit; loopDone covers a loop that ended on
		// its own (a terminal error).
		ran := make(chan struct{})
		go func() {
			sh.app.QueueUpdateDraw(func() {
				for i, fn := range batch {
					fn()
					batch[i] = nil
				}
			})
			close(ran)
		}()
		select {
		case <-ran:
		case <-sh.loopDone:
			return
		}
		sh.mu.Lock()
		sh.spare = batch[:0]
		sh.mu.Unlock()
		gap.Reset(sh.frame)
		select {
		case <-ctx.Done():
			return
		case <-gap.C:
		}
	}
}

// Flash shows a message in the footer for a few seconds.
func (sh *Shell) Flash(msg string) { sh.message, sh.messageAt = msg, sh.now() }

// Top is the screen on top, nil when the stack is empty.
func (sh *Shell) Top() *Screen {
	if len(sh.stack) == 0 {
		return nil
	}
	return sh.stack[len(sh.stack)-1]
}

// Stack is the screens, bottom first (a copy).
func (sh *Shell) Stack() []*Screen { return append([]*Screen(nil), sh.stack...) }

// Push shows s on top.
func (sh *Shell) Push(s *Screen) {
	sh.stack = append(sh.stack, s)
	sh.changed()
}

// Pop closes the top screen; popping the last one quits.
func (sh *Shell) Pop() {
	if len(sh.stack) <= 1 {
		sh.Quit()
		return
	}
	sh.stack = sh.stack[:len(sh.stack)-1]
	sh.changed()
}

// changed lays the shell out for the new stack: header, footer or bar,
// focus; then tells the screens that left or entered the view.
func (sh *Shell) changed() {
	was := sh.visible
	sh.visible = visibleOf(sh.stack)
	rows := 0
	for i := len(sh.stack) - 1; i >= 0; i-- {
		if sh.stack[i].Header != nil {
			rows = sh.stack[i].HeaderRows
			break
		}
	}
	if rows != sh.rows {
		sh.rows = rows
		sh.root.ResizeItem(sh.header, rows, 0)
	}
	top := sh.Top()
	bottom := tview.Primitive(sh.footer)
	if top != nil && top.Bar != nil {
		bottom = top.Bar
	}
	if bottom != sh.bottom {
		sh.root.RemoveItem(sh.bottom)
		sh.root.AddItem(bottom, 1, 0, false)
		sh.bottom = bottom
	}
	if top != nil {
		sh.app.SetFocus(focusOf(top, sh.pages))
	}
	for i := len(was) - 1; i >= 0; i-- {
		if s := was[i]; !contains(sh.visible, s) && s.Hidden != nil {
			s.Hidden()
		}
	}
	for _, s := range sh.visible {
		if !contains(was, s) && s.Shown != nil {
			s.Shown()
		}
	}
}

// visibleOf is the screens drawn: the top one and those under overlays.
func visibleOf(stack []*Screen) []*Screen {
	i := len(stack) - 1
	for i > 0 && stack[i].Overlay {
		i--
	}
	if i < 0 {
		return nil
	}
	return append([]*Screen(nil), stack[i:]...)
}

func focusOf(s *Screen, fallback tview.Primitive) tview.Primitive {
	switch {
	case s.Focus != nil:
		return s.Focus
	case s.Bar != nil:
		return s.Bar
	case s.View != nil:
		return s.View
	}
	return fallback
}

func contains(list []*Screen, s *Screen) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (sh *Shell) onKey(ev *tcell.EventKey) *tcell.EventKey {
	if ev.Key() == tcell.KeyCtrlC {
		sh.Quit()
		return nil
	}
	top := sh.Top()
	if top == nil || dispatch(top.Keys, ev) {
		return ev
	}
	return nil
}

// stackView draws the visible screens, bottom first, and hands keys and
// the mouse to the top.
type stackView struct {
	*tview.Box
	sh *Shell
}

func (v *stackView) Draw(s tcell.Screen) {
	x, y, w, h := v.GetRect()
	for _, sc := range v.sh.visible {
		if sc.View != nil {
			sc.View.SetRect(x, y, w, h)
			sc.View.Draw(s)
		}
	}
}

// topView is the topmost visible screen that draws something.
func (v *stackView) topView() tview.Primitive {
	for i := len(v.sh.visible) - 1; i >= 0; i-- {
		if p := v.sh.visible[i].View; p != nil {
			return p
		}
	}
	return nil
}

func (v *stackView) HasFocus() bool {
	for _, sc := range v.sh.visible {
		if sc.View != nil && sc.View.HasFocus() {
			return true
		}
	}
	return v.Box.HasFocus()
}

func (v *stackView) InputHandler() func(ev *tcell.EventKey, setFocus func(tview.Primitive)) {
	return v.WrapInputHandler(func(ev *tcell.EventKey, setFocus func(tview.Primitive)) {
		for i := len(v.sh.visible) - 1; i >= 0; i-- {
			if p := v.sh.visible[i].View; p != nil && p.HasFocus() {
				if h := p.InputHandler(); h != nil {
					h(ev, setFocus)
				}
				return
			}
		}
	})
}

func (v *stackView) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return v.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
		if p := v.topView(); p != nil {
			if h := p.MouseHandler(); h != nil {
				return h(action, ev, setFocus)
			}
		}
		return false, nil
	})
}
