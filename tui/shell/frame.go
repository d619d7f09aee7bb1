package shell

import (
	"sync/atomic"

	"github.com/gdamore/tcell/v2"
)

// frameScreen is the terminal as tview sees it: every frame is drawn into
// a buffer of its own, and Show hands tcell only the cells whose final
// content differs from what it holds.
//
// Why: tview clears the whole screen before each frame, and tcell (2.13)
// marks a cell dirty whenever a write changes its current content — so the
// clear, then the same character drawn again, made every non-blank cell
// dirty and every frame rewrote the whole terminal (~9 KB at 120×40, three
// times a second). Drawing over the buffer, tcell's cells change only when
// a frame really changed them, and its diff sends only those.
type frameScreen struct {
	tcell.Screen
	frame  tcell.CellBuffer
	pushed []pushedCell // what tcell was last given, cell by cell
	w, h   int
	// resized is set by the event loop on every resize event: the next
	// frame pushes every cell, since the terminal may have dropped cells
	// (shrunk, then grown back to the size of the last frame).
	resized atomic.Bool
	// initErr is Init's error: tview's SetScreen drops it.
	initErr error
	// shown runs after each frame reached the terminal.
	shown func()
}

type pushedCell struct {
	str   string
	style tcell.Style
	ok    bool
}

func newFrameScreen(s tcell.Screen) *frameScreen { return &frameScreen{Screen: s} }

func (f *frameScreen) Init() error {
	f.initErr = f.Screen.Init()
	return f.initErr
}

// fit sizes the buffer to the terminal; after a resize everything is
// pushed again.
func (f *frameScreen) fit() {
	w, h := f.Screen.Size()
	if w == f.w && h == f.h && !f.resized.Swap(false) {
		return
	}
	f.w, f.h = w, h
	f.frame.Resize(w, h)
	f.pushed = make([]pushedCell, w*h)
}

// PollEvent is the terminal's next event; a resize marks the frame for a
// full push.
func (f *frameScreen) PollEvent() tcell.Event {
	ev := f.Screen.PollEvent()
	if _, ok := ev.(*tcell.EventResize); ok {
		f.resized.Store(true)
	}
	return ev
}

// drawn is the size of the last frame pushed to the terminal.
func (f *frameScreen) drawn() (w, h int) { return f.w, f.h }

func (f *frameScreen) Clear() { f.Fill(' ', tcell.StyleDefault) }

func (f *frameScreen) Fill(r rune, st tcell.Style) {
	f.fit()
	f.frame.Fill(r, st)
}

func (f *frameScreen) SetContent(x, y int, primary rune, combining []rune, st tcell.Style) {
	str := string(primary)
	if len(combining) > 0 {
		str += string(combining)
	}
	f.frame.Put(x, y, str, st)
}

func (f *frameScreen) SetCell(x, y int, st tcell.Style, ch ...rune) {
	if len(ch) == 0 {
		ch = []rune{' '}
	}
	f.SetContent(x, y, ch[0], ch[1:], st)
}

func (f *frameScreen) Put(x, y int, str string, st tcell.Style) (string, int) {
	return f.frame.Put(x, y, str, st)
}

func (f *frameScreen) PutStr(x, y int, str string) { f.PutStrStyled(x, y, str, tcell.StyleDefault) }

func (f *frameScreen) PutStrStyled(x, y int, str string, st tcell.Style) {
	for str != "" && x < f.w {
		var w int
		if str, w = f.frame.Put(x, y, str, st); w == 0 {
			return
		}
		x += w
	}
}

func (f *frameScreen) Get(x, y int) (string, tcell.Style, int) { return f.frame.Get(x, y) }

func (f *frameScreen) GetContent(x, y int) (rune, []rune, tcell.Style, int) {
	str, st, w := f.frame.Get(x, y)
	rs := []rune(str)
	if len(rs) == 0 {
		return ' ', nil, st, w
	}
	return rs[0], rs[1:], st, w
}

// Show hands tcell the cells that changed since the last frame, then lets
// it write what differs from the terminal.
func (f *frameScreen) Show() {
	f.push()
	f.Screen.Show()
	if f.shown != nil {
		f.shown()
	}
}

// Sync repaints the whole terminal (after it was disturbed).
func (f *frameScreen) Sync() {
	f.push()
	f.Screen.Sync()
}

func (f *frameScreen) push() {
	f.fit()
	for y := 0; y < f.h; y++ {
		for x := 0; x < f.w; x++ {
			str, st, _ := f.frame.Get(x, y)
			p := &f.pushed[y*f.w+x]
			if p.ok && p.str == str && p.style == st {
				continue
			}
			f.Screen.Put(x, y, str, st)
			*p = pushedCell{str: str, style: st, ok: true}
		}
	}
}
