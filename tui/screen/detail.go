package screen

import (
	"fmt"
	"math"
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
	// The process list with the extras feeds the traffic and I/O graphs.
	traffic := h.Has(wire.CapProcessExtras)
	v.d.w.Need(v.screen, model.Needs{DetailPID: v.pid, Journal: h.Has(wire.CapJournal), Connections: h.Has(wire.CapConnections),
		Processes: traffic, Traffic: traffic})
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
		scale := v.d.procs.cpuScale()
		if kids := dp.GetChildProcesses(); len(kids) > 0 {
			out = append(out, "children ("+ofTotal(len(kids), dp.GetChildrenTotal())+")")
			for _, c := range kids {
				out = append(out, fmt.Sprintf("  %7d  %-24s %6s %7s  %s", c.GetPid(), widget.Clip(c.GetName(), 24),
					widget.Percent(float64(c.GetCpuUsage())*scale), widget.Bytes(c.GetMemBytes()), c.GetCommand()))
			}
		}
		out = append(out, v.connLines()...)
		if ths := dp.GetThreads(); len(ths) > 0 {
			out = append(out, "threads ("+ofTotal(len(ths), dp.GetThreadCount())+")")
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

// ofTotal is "64", or "64 of 120" when the agent listed fewer than there
// are (it bounds its reply).
func ofTotal(listed int, total uint32) string {
	n := strconv.Itoa(listed)
	if uint64(total) > uint64(listed) {
		n += " of " + strconv.FormatUint(uint64(total), 10)
	}
	return n
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
		head += " of " + strconv.FormatUint(uint64(j.GetTotalCount()), 10)
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
	ix, iy, iw, ih := d.frame(s, x, y, w, hh, "process "+strconv.FormatUint(uint64(v.pid), 10)+" "+v.name, info)
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
	scale := d.procs.cpuScale()
	kids := strconv.Itoa(len(dp.GetChildProcesses()))
	if n := dp.GetChildrenTotal(); int64(n) > int64(len(dp.GetChildProcesses())) {
		kids = strconv.FormatUint(uint64(n), 10) + " (" + kids + " listed)"
	}
	fields := [][2]string{
		{"exe", dp.GetExecutablePath()},
		{"cwd", dp.GetWorkingDirectory()},
		{"user", userText(dp.GetUser(), dp.GetUserId(), dp.GetGroupId())},
		{"status", dp.GetStatus()},
		{"parent", optU32(dp.ParentPid)},
		{"started", startText(dp.GetStartTime(), d.sh.Now())},
		{"threads", strconv.FormatUint(uint64(dp.GetThreadCount()), 10) + "   children " + kids + "   fds " + optU32(dp.FdCount)},
		{"cpu", widget.Percent(float64(dp.GetCpuUsage())*scale) + " " + d.procs.cpuMode() + "   user " + usText(dp.GetCpuTimeUser()) + "  system " + usText(dp.GetCpuTimeSystem())},
		{"memory", "rss " + widget.Bytes(dp.GetMemBytes()) + "  virt " + widget.Bytes(dp.GetVirtualMemBytes()) + "  shared " + optBytes(dp.SharedMemBytes)},
		{"I/O", "read " + optBytes(dp.ReadBytes) + "  written " + optBytes(dp.WriteBytes)},
	}
	if dp.GetTruncated() {
		fields = append(fields, [2]string{"note", "the agent left parts out to keep its reply bounded: a cut text ends with …, the counts say how many threads and children there are"})
	}
	leftW := iw
	graphs := iw >= 70 && ih >= 14
	if graphs {
		leftW = iw * 55 / 100
	}
	// every value whole, wrapped at spaces; the command line a quarter of
	// the height at most
	var upper [][2]string
	add := func(label, value string, most int) {
		lines := widget.Wrap(widget.Dash(value), leftW-12)
		if len(lines) > most {
			lines = lines[:most]
			lines[most-1] = widget.Clip(lines[most-1]+" …", leftW-12)
		}
		for i, l := range lines {
			if i > 0 {
				label = ""
			}
			upper = append(upper, [2]string{label, l})
		}
	}
	add("command", dp.GetCommand(), max(ih/4, 1))
	for _, f := range fields {
		add(f[0], f[1], 3)
	}
	top := min(len(upper), ih)
	traffic := graphs && h.Has(wire.CapProcessExtras) && h.DetailNetIn != nil && ih >= 28
	if traffic {
		top = max(top, 16) // four graphs: cpu, rss, tcp, disk
	}
	for i := 0; i < min(top, len(upper)); i++ {
		widget.Print(s, ix+1, iy+i, 9, upper[i][0], t.Label)
		widget.Print(s, ix+11, iy+i, leftW-12, upper[i][1], t.Value)
	}
	if graphs {
		gx, gw := ix+leftW+1, iw-leftW-1
		gh := top / 2
		if traffic {
			gh = top / 4
		}
		cpu, mem := h.DetailCPU, h.DetailMem
		// a fixed scale: 100% of a core (per core; more cores when the
		// process uses more) or of the machine, never the process's own
		// peak, so 2.6% draws low
		full := 100 / scale
		if peak := cpu.Max(0); peak > full {
			full *= math.Ceil(peak / full)
		}
		widget.Print(s, gx, iy, gw, "cpu "+widget.Percent(cpu.Last()*scale)+"  peak "+widget.Percent(cpu.Max(0)*scale)+
			"  (graph 0-"+widget.Percent(full*scale)+")", t.Label)
		widget.Graph(s, gx, iy+1, gw, gh-1, cpu, full, t.ASCII, t.CPU)
		memH := top - gh
		if traffic {
			memH = gh
		}
		widget.Print(s, gx, iy+gh, gw, "rss "+widget.Bytes(uint64(mem.Last()))+"  peak "+widget.Bytes(uint64(mem.Max(0))), t.Label)
		widget.Graph(s, gx, iy+gh+1, gw, memH-1, mem, max(mem.Max(0), 1), t.ASCII, t.Mem)
		if traffic {
			ty := iy + 2*gh
			v.pairGraph(s, gx, ty, gw, gh, "tcp", "▼", "▲", h.DetailNetIn, h.DetailNetOut)
			v.pairGraph(s, gx, ty+gh, gw, top-3*gh, "disk", "read", "written", h.DetailDiskRead, h.DetailDiskWrite)
		}
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

// pairGraph draws two rates of the process over h rows: a label with
// their latest values, then each one's graph, on a scale shared by both.
func (v *detailView) pairGraph(s tcell.Screen, x, y, w, h int, what, a, b string, ra, rb *model.Ring) {
	t := v.d.th
	last := func(r *model.Ring) string {
		if r.Len() == 0 {
			return "-"
		}
		return widget.Rate(r.Last())
	}
	widget.Print(s, x, y, w, what+" "+a+" "+last(ra)+"  "+b+" "+last(rb), t.Label)
	top := max(ra.Max(0), rb.Max(0), 1024)
	ha := (h - 1) / 2
	widget.Graph(s, x, y+1, w, ha, ra, top, t.ASCII, t.Rx)
	widget.Graph(s, x, y+1+ha, w, h-1-ha, rb, top, t.ASCII, t.Tx)
}

func userText(user string, uid, gid uint32) string {
	s := "uid " + strconv.FormatUint(uint64(uid), 10) + " gid " + strconv.FormatUint(uint64(gid), 10)
	if user != "" {
		return user + " (" + s + ")"
	}
	return s
}

func optU32(v *uint32) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatUint(uint64(*v), 10)
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
