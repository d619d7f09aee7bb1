package screen

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// detailView is the process detail screen: identity, resources, the
// process's CPU and memory history while open, children, connections and
// threads, and its journal lines when the agent serves them.
type detailView struct {
	*tview.Box
	d      *dash
	screen *shell.Screen
	pid    uint32
	name   string
	offset int // scroll of the lower list
	pageH  int
}

func newDetailView(d *dash) *detailView {
	v := &detailView{Box: tview.NewBox(), d: d}
	keys := []shell.Binding{d.quitKey(), d.helpKey()}
	keys = append(keys, d.signalKeys()...)
	keys = append(keys, d.retryKey(),
		shell.Binding{Keys: shell.Special(tcell.KeyEscape), Label: "Esc", Hint: "back", Desc: "back to the screen it was opened from (the dashboard or the connections)", Do: d.sh.Pop},
		shell.Binding{Keys: shell.Special(tcell.KeyUp, tcell.KeyDown, tcell.KeyPgUp, tcell.KeyPgDn, tcell.KeyHome, tcell.KeyEnd),
			Label: "↑/↓ PgUp/PgDn", Desc: "scroll the lists (mouse: wheel)"})
	v.screen = &shell.Screen{Name: "Process detail", View: v, Keys: keys, Shown: v.shown, Hidden: v.hidden}
	return v
}

// open shows pid's detail.
func (v *detailView) open(pid uint32, name string) {
	v.pid, v.name, v.offset = pid, name, 0
	v.d.sh.Push(v.screen)
}

// shown asks for the process's detail, journal and connections; the
// dashboard below is hidden, so its process list is not asked for.
func (v *detailView) shown() {
	h := v.d.h
	h.OpenDetail(v.pid)
	v.d.w.Need(v.screen, model.Needs{DetailPID: v.pid, Journal: h.Has(wire.CapJournal), Connections: h.Has(wire.CapConnections)})
}

func (v *detailView) hidden() {
	v.d.w.Release(v.screen)
	v.d.h.CloseDetail()
}

var priorityNames = [8]string{"EMERG", "ALERT", "CRIT", "ERR", "WARN", "NOTICE", "INFO", "DEBUG"}

func (v *detailView) lowerLines() []string {
	h := v.d.h
	dp := h.Detail
	var out []string
	if dp != nil {
		if kids := dp.GetChildProcesses(); len(kids) > 0 {
			out = append(out, "children ("+strconv.Itoa(len(kids))+")")
			for _, c := range kids {
				out = append(out, fmt.Sprintf("  %7d  %-24s %6s %7s  %s", c.GetPid(), widget.Clip(c.GetName(), 24),
					widget.Percent(float64(c.GetCpuUsage())), widget.Bytes(c.GetMemBytes()), c.GetCommand()))
			}
		}
		out = append(out, v.connLines()...)
		if ths := dp.GetThreads(); len(ths) > 0 {
			out = append(out, "threads ("+strconv.Itoa(len(ths))+")")
			for _, t := range ths {
				cpu := time.Duration(t.GetCpuTimeUser()+t.GetCpuTimeSystem()) * time.Microsecond
				out = append(out, fmt.Sprintf("  %7d  %-24s %-10s cpu %s", t.GetTid(), widget.Clip(t.GetName(), 24),
					t.GetStatus(), max(cpu, 0).Truncate(time.Millisecond)))
			}
		}
	}
	if h.Has(wire.CapJournal) {
		out = append(out, v.journalLines()...)
	}
	return out
}

func (v *detailView) journalLines() []string {
	h := v.d.h
	switch {
	case h.JournalErr != nil:
		return []string{"journal: " + errText(h.JournalErr)}
	case h.Journal == nil:
		return []string{"journal: loading…"}
	}
	j := h.Journal
	head := "journal (" + strconv.Itoa(len(j.GetEntries())) + " lines"
	if j.GetTruncated() {
		head += " of " + strconv.Itoa(int(j.GetTotalCount()))
	}
	out := []string{head + ")"}
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
	return out
}

// connLines is the process's connections, from the socket table the
// watcher fetches while this screen is shown.
func (v *detailView) connLines() []string {
	h := v.d.h
	if !h.Has(wire.CapConnections) || v.pid == 0 {
		return nil
	}
	m := &h.Conns
	if m.Samples == 0 {
		if m.Err != nil {
			return []string{"connections: " + errText(m.Err)}
		}
		return []string{"connections: loading…"}
	}
	var mine []*model.ConnRow
	for i := range m.Rows {
		if r := &m.Rows[i]; r.PID == v.pid && !r.Closed {
			mine = append(mine, r)
		}
	}
	model.SortConns(mine, model.CCRateIn, true)
	out := []string{"connections (" + strconv.Itoa(len(mine)) + ")"}
	const most = 40
	for i, r := range mine {
		if i == most {
			out = append(out, "  … "+strconv.Itoa(len(mine)-most)+" more: press Esc, then c")
			break
		}
		l := "  " + widget.PadRight(r.Proto, 5) + widget.PadRight(r.LocalText, 22) + " → " + widget.PadRight(r.RemoteText, 22) +
			" " + widget.PadRight(r.StateText(), 11)
		if r.Counted {
			l += " in " + widget.Bytes(r.In) + "  out " + widget.Bytes(r.Out)
			if r.HasRate {
				l += "  " + widget.Rate(r.RateIn) + " ↓ " + widget.Rate(r.RateOut) + " ↑"
			}
			l += "  rtt " + widget.Micros(r.RTTUs)
		} else {
			l += " traffic not counted"
		}
		out = append(out, l)
	}
	return out
}

func (v *detailView) Draw(s tcell.Screen) {
	d, t, h := v.d, v.d.th, v.d.h
	x, y, w, hh := v.GetRect()
	widget.Fill(s, x, y, w, hh, ' ', t.Base)
	dp := h.Detail
	info := ""
	if h.DetailErr != nil {
		info = errText(h.DetailErr)
	}
	ix, iy, iw, ih := d.frame(s, x, y, w, hh, "process "+strconv.Itoa(int(v.pid))+" "+v.name, info)
	if iw <= 0 || ih <= 0 {
		return
	}
	if dp == nil {
		msg := "loading…"
		if h.DetailErr != nil {
			msg = errText(h.DetailErr)
		}
		widget.Print(s, ix+1, iy, iw-1, msg, t.Dim)
		return
	}
	fields := [][2]string{
		{"command", dp.GetCommand()},
		{"exe", dp.GetExecutablePath()},
		{"cwd", dp.GetWorkingDirectory()},
		{"user", userText(dp.GetUser(), dp.GetUserId(), dp.GetGroupId())},
		{"status", dp.GetStatus()},
		{"parent", optU32(dp.ParentPid)},
		{"started", startText(dp.GetStartTime(), d.sh.Now())},
		{"threads", strconv.Itoa(int(dp.GetThreadCount())) + "   children " + strconv.Itoa(len(dp.GetChildProcesses())) + "   fds " + optU32(dp.FdCount)},
		{"cpu", widget.Percent(float64(dp.GetCpuUsage())) + "   user " + usText(dp.GetCpuTimeUser()) + "  system " + usText(dp.GetCpuTimeSystem())},
		{"memory", "rss " + widget.Bytes(dp.GetMemBytes()) + "  virt " + widget.Bytes(dp.GetVirtualMemBytes()) + "  shared " + optBytes(dp.SharedMemBytes)},
		{"I/O", "read " + optBytes(dp.ReadBytes) + "  written " + optBytes(dp.WriteBytes)},
	}
	leftW := iw
	graphs := iw >= 70 && ih >= 14
	if graphs {
		leftW = iw * 55 / 100
	}
	top := min(len(fields), ih)
	for i := 0; i < top; i++ {
		widget.Print(s, ix+1, iy+i, 9, fields[i][0], t.Label)
		widget.Print(s, ix+11, iy+i, leftW-12, widget.Dash(fields[i][1]), t.Value)
	}
	if graphs {
		gx, gw := ix+leftW+1, iw-leftW-1
		gh := top / 2
		cpu, mem := h.DetailCPU, h.DetailMem
		widget.Print(s, gx, iy, gw, "cpu "+widget.Percent(cpu.Last())+"  peak "+widget.Percent(cpu.Max(0)), t.Label)
		widget.Graph(s, gx, iy+1, gw, gh-1, cpu, max(cpu.Max(0), 1), t.ASCII, t.CPU)
		widget.Print(s, gx, iy+gh, gw, "rss "+widget.Bytes(uint64(mem.Last()))+"  peak "+widget.Bytes(uint64(mem.Max(0))), t.Label)
		widget.Graph(s, gx, iy+gh+1, gw, top-gh-1, mem, max(mem.Max(0), 1), t.ASCII, t.Mem)
	}
	lines := v.lowerLines()
	ly := iy + top + 1
	rows := iy + ih - ly
	v.pageH = max(rows, 1)
	if rows <= 0 {
		return
	}
	v.offset = min(v.offset, max(len(lines)-rows, 0))
	shell.DrawLines(s, t, lines[v.offset:], ix+1, ly, iw-2, rows)
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
	return max(time.Duration(us)*time.Microsecond, 0).Truncate(10 * time.Millisecond).String()
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
		shell.Scroll(&v.offset, v.pageH, ev)
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
