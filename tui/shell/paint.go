package shell

import (
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/widget"
)

// paintHeader lets the topmost screen with a header paint it.
func (sh *Shell) paintHeader(s tcell.Screen, x, y, w, h int) {
	for i := len(sh.stack) - 1; i >= 0; i-- {
		if p := sh.stack[i].Header; p != nil {
			p(s, x, y, w, h)
			return
		}
	}
}

// footerHit is a clickable footer hint: clicking it is pressing its key.
type footerHit struct {
	x0, x1 int
	do     func()
}

func (sh *Shell) clickFooter(x, _ int) {
	for _, h := range sh.footerHits {
		if x >= h.x0 && x < h.x1 && h.do != nil {
			h.do()
			return
		}
	}
}

// hints is the footer's bindings for s: those with a hint that apply now,
// each with the hint it has now.
func hints(s *Screen) []Binding {
	var out []Binding
	for _, b := range s.Keys {
		if b.HintNow != nil {
			b.Hint = b.HintNow()
		}
		if b.Hint == "" || (b.When != nil && !b.When()) {
			continue
		}
		out = append(out, b)
	}
	return out
}

// paintFooter is "q quit  ? help  …" from the top screen's key map, and a
// transient message on the right.
func (sh *Shell) paintFooter(s tcell.Screen, x, y, w, _ int) {
	t := sh.th
	end := x + w
	if sh.message != "" && sh.now().Sub(sh.messageAt) < 5*time.Second {
		// the message wins over hints: it reports what the user just did
		mw := min(widget.Width(sh.message)+1, w/2)
		widget.PrintRight(s, end-mw, y, mw, sh.message, t.FooterMsg)
		end -= mw + 1
	}
	sh.footerHits = sh.footerHits[:0]
	top := sh.Top()
	if top == nil {
		return
	}
	cx := x
	for _, b := range hints(top) {
		label := b.Label
		if b.HintLabel != "" {
			label = b.HintLabel
		}
		if cx+widget.Width(label)+widget.Width(b.Hint)+4 > end {
			break
		}
		x0 := cx
		cx += widget.Print(s, cx, y, end-cx, " "+label+" ", t.FooterKey)
		cx += widget.Print(s, cx, y, end-cx, " "+b.Hint+" ", t.FooterText)
		sh.footerHits = append(sh.footerHits, footerHit{x0: x0, x1: cx, do: b.Do})
	}
}

// helpKeys are the help's own bindings.
func (sh *Shell) helpKeys() []Binding {
	return []Binding{
		{Keys: Runes('q'), Label: "q", Hint: "quit", Desc: "quit socktop", Do: sh.Quit},
		{Keys: Runes('?'), Label: "?", Desc: "close this help", Do: sh.Pop},
		{Keys: Special(tcell.KeyEscape), Label: "Esc", Hint: "close", Desc: "close this help (a click anywhere too)", Do: sh.Pop},
		{Keys: Special(tcell.KeyUp, tcell.KeyDown, tcell.KeyPgUp, tcell.KeyPgDn, tcell.KeyHome, tcell.KeyEnd), Label: "↑/↓ PgUp/PgDn", Desc: "scroll the help (mouse: wheel)"},
	}
}

// ToggleHelp opens the help for the top screen, or closes it when it is
// the top screen: the top screen's keys first, then those of the screens
// it opens, all generated from their key maps.
func (sh *Shell) ToggleHelp() {
	top := sh.Top()
	if top == nil {
		return
	}
	if _, ok := top.View.(*helpView); ok {
		sh.Pop()
		return
	}
	v := &helpView{Box: tview.NewBox(), sh: sh}
	v.sections = append([]Section{{Name: top.Name, Keys: top.Keys}}, top.Help...)
	keys := sh.helpKeys()
	v.sections = append(v.sections, Section{Name: "Help", Keys: keys})
	sh.Push(&Screen{Name: "Help", View: v, Overlay: true, Keys: keys})
}

// helpView lists key bindings in a box centred on the screen below.
type helpView struct {
	*tview.Box
	sh       *Shell
	sections []Section
	offset   int
	pageH    int
}

// lines is the help's text for a box w cells wide: a heading per section,
// then a line per binding whose description wraps under itself.
func (v *helpView) lines(w int) []string {
	labelW := 0
	for _, sec := range v.sections {
		for _, b := range sec.Keys {
			labelW = max(labelW, min(widget.Width(b.Label), 20))
		}
	}
	indent := strings.Repeat(" ", 2+labelW+1)
	var out []string
	for i, sec := range v.sections {
		if len(sec.Keys) == 0 {
			continue
		}
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, sec.Name)
		for _, b := range sec.Keys {
			desc := b.Desc
			if b.WhenText != "" {
				desc += " (when the " + b.WhenText + ")"
			}
			lead := "  " + widget.PadRight(b.Label, labelW) + " "
			if widget.Width(lead) > len(indent) {
				// a label wider than the column gets a line of its own
				out = append(out, strings.TrimRight(lead, " "))
				lead = indent
			}
			for j, l := range widget.Wrap(desc, max(w-len(indent), 8)) {
				if j > 0 {
					lead = indent
				}
				out = append(out, lead+l)
			}
		}
	}
	return out
}

func (v *helpView) Draw(s tcell.Screen) {
	t := v.sh.th
	x, y, w, h := v.GetRect()
	bw := min(w-2, 120)
	lines := v.lines(bw - 4)
	bh := min(h-2, len(lines)+2)
	if bw < 20 || bh < 3 {
		return
	}
	bx, by := x+(w-bw)/2, y+(h-bh)/2
	widget.Fill(s, bx, by, bw, bh, ' ', t.Base)
	ih := bh - 2
	v.pageH = max(ih, 1)
	v.offset = min(v.offset, max(len(lines)-ih, 0))
	info := "Esc closes"
	if len(lines) > ih {
		// where the page is: "↑/↓ 21-40 of 83"
		info = "↑/↓ " + strconv.Itoa(v.offset+1) + "-" + strconv.Itoa(min(v.offset+ih, len(lines))) +
			" of " + strconv.Itoa(len(lines)) + " · " + info
	}
	ix, iy, iw, _ := widget.Frame(s, bx, by, bw, bh, t.Frame, t.Title, t.Title, "keys", info)
	DrawLines(s, t, lines[v.offset:], ix+1, iy, iw-2, ih)
}

// DrawLines draws text lines into a rectangle: a line that does not start
// with a space is a heading.
func DrawLines(s tcell.Screen, t *widget.Theme, lines []string, x, y, w, h int) {
	for i := 0; i < h && i < len(lines); i++ {
		st := t.Value
		if !strings.HasPrefix(lines[i], " ") {
			st = t.Title
		}
		widget.Print(s, x, y+i, w, lines[i], st)
	}
}

func (v *helpView) InputHandler() func(ev *tcell.EventKey, setFocus func(tview.Primitive)) {
	return v.WrapInputHandler(func(ev *tcell.EventKey, _ func(tview.Primitive)) {
		Scroll(&v.offset, v.pageH, ev)
	})
}

func (v *helpView) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return v.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, _ func(tview.Primitive)) (bool, tview.Primitive) {
		switch action {
		case tview.MouseScrollUp:
			v.offset = max(v.offset-3, 0)
		case tview.MouseScrollDown:
			v.offset += 3
		case tview.MouseLeftClick:
			v.sh.Pop() // a click anywhere closes the help
		default:
			return false, nil
		}
		return true, nil
	})
}

// Scroll applies a movement key to a scroll offset.
func Scroll(off *int, page int, ev *tcell.EventKey) {
	switch ev.Key() {
	case tcell.KeyUp:
		*off--
	case tcell.KeyDown:
		*off++
	case tcell.KeyPgUp:
		*off -= page
	case tcell.KeyPgDn:
		*off += page
	case tcell.KeyHome:
		*off = 0
	case tcell.KeyEnd:
		*off = 1 << 30
	}
	*off = max(*off, 0)
}
