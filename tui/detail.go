package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/widget"
)

// detailView is the process detail screen: identity, resources, the
// process's CPU and memory history while open, threads and children, and
// its journal lines when the agent serves them.
type detailView struct {
	*tview.Box
	a      *App
	pid    uint32
	name   string
	offset int // scroll of the lower list
	pageH  int
}

func newDetailView(a *App) *detailView { return &detailView{Box: tview.NewBox(), a: a} }

var priorityNames = [8]string{"EMERG", "ALERT", "CRIT", "ERR", "WARN", "NOTICE", "INFO", "DEBUG"}

func (v *detailView) lowerLines() []string {
	h := v.a.h
	d := h.detail
	var out []string
	if d != nil {
		if kids := d.GetChildProcesses(); len(kids) > 0 {
			out = append(out, "children ("+strconv.Itoa(len(kids))+")")
			for _, c := range kids {
				out = append(out, fmt.Sprintf("  %7d  %-24s %6s %7s  %s", c.GetPid(), clipText(c.GetName(), 24),
					widget.Percent(float64(c.GetCpuUsage())), widget.Bytes(c.GetMemBytes()), c.GetCommand()))
			}
		}
		out = append(out, v.a.conns.detailLines(v.pid)...)
		if ths := d.GetThreads(); len(ths) > 0 {
			out = append(out, "threads ("+strconv.Itoa(len(ths))+")")
			for _, t := range ths {
				cpu := time.Duration(t.GetCpuTimeUser()+t.GetCpuTimeSystem()) * time.Microsecond
				out = append(out, fmt.Sprintf("  %7d  %-24s %-10s cpu %s", t.GetTid(), clipText(t.GetName(), 24),
					t.GetStatus(), cpu.Truncate(time.Millisecond)))
			}
		}
	}
	if h.has("journal") {
		switch {
		case h.journalErr != nil:
			out = append(out, "journal: "+errText(h.journalErr))
		case h.journal == nil:
			out = append(out, "journal: loading…")
		default:
			j := h.journal
			head := "journal (" + strconv.Itoa(len(j.GetEntries())) + " lines"
			if j.GetTruncated() {
				head += " of " + strconv.Itoa(int(j.GetTotalCount()))
			}
			out = append(out, head+")")
			if j.Notice != nil && len(j.GetEntries()) == 0 {
				out = append(out, "  "+j.GetNotice())
			}
			for _, e := range j.GetEntries() {
				ts := time.UnixMicro(int64(e.GetTimestampUs())).Local().Format("01-02 15:04:05")
				pr := "?"
				if p := e.GetPriority(); p < 8 {
					pr = priorityNames[p]
				}
				out = append(out, "  "+ts+" "+pr+" "+strings.TrimRight(e.GetMessage(), "\n"))
			}
		}
	}
	return out
}

func (v *detailView) Draw(s tcell.Screen) {
	a, t, h := v.a, v.a.th, v.a.h
	x, y, w, hh := v.GetRect()
	widget.Fill(s, x, y, w, hh, ' ', t.base)
	d := h.detail
	title := "process " + strconv.Itoa(int(v.pid)) + " " + v.name
	info := ""
	if h.detailErr != nil {
		info = errText(h.detailErr)
	}
	ix, iy, iw, ih := a.frame(s, x, y, w, hh, title, info)
	if iw <= 0 || ih <= 0 {
		return
	}
	if d == nil {
		msg := "loading…"
		if h.detailErr != nil {
			msg = errText(h.detailErr)
		}
		widget.Print(s, ix+1, iy, iw-1, msg, t.dim)
		return
	}
	fields := [][2]string{
		{"command", d.GetCommand()},
		{"exe", d.GetExecutablePath()},
		{"cwd", d.GetWorkingDirectory()},
		{"user", userText(d.GetUser(), d.GetUserId(), d.GetGroupId())},
		{"status", d.GetStatus()},
		{"parent", optU32(d.ParentPid)},
		{"started", startText(d.GetStartTime(), a.now())},
		{"threads", strconv.Itoa(int(d.GetThreadCount())) + "   children " + strconv.Itoa(len(d.GetChildProcesses())) + "   fds " + optU32(d.FdCount)},
		{"cpu", widget.Percent(float64(d.GetCpuUsage())) + "   user " + usText(d.GetCpuTimeUser()) + "  system " + usText(d.GetCpuTimeSystem())},
		{"memory", "rss " + widget.Bytes(d.GetMemBytes()) + "  virt " + widget.Bytes(d.GetVirtualMemBytes()) + "  shared " + optBytes(d.SharedMemBytes)},
		{"I/O", "read " + optBytes(d.ReadBytes) + "  written " + optBytes(d.WriteBytes)},
	}
	leftW := iw
	graphs := iw >= 70 && ih >= 14
	if graphs {
		leftW = iw * 55 / 100
	}
	top := min(len(fields), ih)
	for i := 0; i < top; i++ {
		widget.Print(s, ix+1, iy+i, 9, fields[i][0], t.label)
		widget.Print(s, ix+11, iy+i, leftW-12, dash(fields[i][1]), t.value)
	}
	if graphs {
		gx, gw := ix+leftW+1, iw-leftW-1
		gh := top / 2
		widget.Print(s, gx, iy, gw, "cpu "+widget.Percent(h.detailCPU.Last())+"  peak "+widget.Percent(h.detailCPU.Max(0)), t.label)
		widget.Graph(s, gx, iy+1, gw, gh-1, h.detailCPU, max(h.detailCPU.Max(0), 1), t.ascii, t.cpu)
		widget.Print(s, gx, iy+gh, gw, "rss "+widget.Bytes(uint64(h.detailMem.Last()))+"  peak "+widget.Bytes(uint64(h.detailMem.Max(0))), t.label)
		widget.Graph(s, gx, iy+gh+1, gw, top-gh-1, h.detailMem, max(h.detailMem.Max(0), 1), t.ascii, t.mem)
	}
	lines := v.lowerLines()
	ly := iy + top + 1
	rows := iy + ih - ly
	v.pageH = max(rows, 1)
	if rows <= 0 {
		return
	}
	v.offset = min(v.offset, max(len(lines)-rows, 0))
	for i := 0; i < rows && v.offset+i < len(lines); i++ {
		l := lines[v.offset+i]
		st := t.value
		if !strings.HasPrefix(l, " ") {
			st = t.title
		}
		widget.Print(s, ix+1, ly+i, iw-2, l, st)
	}
}

// clipText shortens s to n runes so columns stay aligned.
func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func userText(user string, uid, gid uint32) string {
	s := "uid " + strconv.Itoa(int(uid)) + " gid " + strconv.Itoa(int(gid))
	if user != "" {
		return user + " (" + s + ")"
	}
	return s
}

func optU32(v *uint32) string {
	if v == nil {
		return "-"
	}
	return strconv.Itoa(int(*v))
}

func optBytes(v *uint64) string {
	if v == nil {
		return "-"
	}
	return widget.Bytes(*v)
}

func usText(us uint64) string {
	return (time.Duration(us) * time.Microsecond).Truncate(10 * time.Millisecond).String()
}

func startText(sec uint64, now time.Time) string {
	if sec == 0 {
		return "-"
	}
	t := time.Unix(int64(sec), 0)
	return t.Local().Format("2006-01-02 15:04:05") + " (" + widget.Duration(now.Sub(t)) + " ago)"
}

func (v *detailView) InputHandler() func(ev *tcell.EventKey, setFocus func(tview.Primitive)) {
	return v.WrapInputHandler(func(ev *tcell.EventKey, _ func(tview.Primitive)) {
		scroll(&v.offset, v.pageH, ev)
	})
}

func (v *detailView) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return v.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, _ func(tview.Primitive)) (bool, tview.Primitive) {
		switch action {
		case tview.MouseScrollUp:
			v.offset = max(v.offset-3, 0)
			return true, nil
		case tview.MouseScrollDown:
			v.offset += 3
			return true, nil
		}
		return false, nil
	})
}

// scroll applies a movement key to a scroll offset.
func scroll(off *int, page int, ev *tcell.EventKey) {
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

// helpView lists every key binding, generated from the key map.
type helpView struct {
	*tview.Box
	a      *App
	offset int
	pageH  int
}

func (v *helpView) lines() []string {
	var out []string
	for _, st := range screenTitles {
		first := true
		for _, b := range v.a.keys {
			if b.screens&st.s == 0 {
				continue
			}
			if first {
				out = append(out, st.name)
				first = false
			}
			l := "  " + padRight(b.label, 11) + " " + b.desc
			if b.whenText != "" {
				l += " (when the " + b.whenText + ")"
			}
			out = append(out, l)
		}
	}
	return out
}

func padRight(s string, n int) string {
	if w := widget.Width(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

func (v *helpView) Draw(s tcell.Screen) {
	t := v.a.th
	x, y, w, h := v.GetRect()
	lines := v.lines()
	bw := min(w-2, 110)
	bh := min(h-2, len(lines)+2)
	if bw < 20 || bh < 3 {
		return
	}
	bx, by := x+(w-bw)/2, y+(h-bh)/2
	widget.Fill(s, bx, by, bw, bh, ' ', t.base)
	ix, iy, iw, ih := widget.Frame(s, bx, by, bw, bh, t.frame, t.title, t.title, "keys", "Esc closes")
	v.pageH = max(ih, 1)
	v.offset = min(v.offset, max(len(lines)-ih, 0))
	for i := 0; i < ih && v.offset+i < len(lines); i++ {
		l := lines[v.offset+i]
		st := t.value
		if !strings.HasPrefix(l, " ") {
			st = t.title
		}
		widget.Print(s, ix+1, iy+i, iw-2, l, st)
	}
}

func (v *helpView) InputHandler() func(ev *tcell.EventKey, setFocus func(tview.Primitive)) {
	return v.WrapInputHandler(func(ev *tcell.EventKey, _ func(tview.Primitive)) {
		scroll(&v.offset, v.pageH, ev)
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
			v.a.escape() // a click anywhere closes help
		default:
			return false, nil
		}
		return true, nil
	})
}
