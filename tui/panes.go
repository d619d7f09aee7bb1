package tui

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// pane is a tview primitive that paints itself from the app's state.
type pane struct {
	*tview.Box
	paint func(s tcell.Screen, x, y, w, h int)
	// click, when set, receives left clicks inside the pane.
	click func(x, y int)
}

func (p *pane) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return p.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, _ func(tview.Primitive)) (bool, tview.Primitive) {
		x, y := ev.Position()
		if p.click == nil || action != tview.MouseLeftClick || !p.InRect(x, y) {
			return false, nil
		}
		p.click(x, y)
		return true, nil
	})
}

func newPane(paint func(s tcell.Screen, x, y, w, h int)) *pane {
	return &pane{Box: tview.NewBox(), paint: paint}
}

func (p *pane) Draw(s tcell.Screen) {
	x, y, w, h := p.GetRect()
	if w > 0 && h > 0 {
		p.paint(s, x, y, w, h)
	}
}

// staleAfter is how old the newest sample may get before panes say so.
func (a *App) staleAfter() time.Duration {
	return max(3*a.every.metrics, 2*time.Second)
}

// staleAge returns the age of the data when it is stale, else 0.
func (a *App) staleAge(now time.Time) time.Duration {
	h := a.h
	last := h.lastSample()
	if last.IsZero() {
		return 0
	}
	age := now.Sub(last)
	if h.status.phase != phaseConnected || age > a.staleAfter() {
		return max(age, time.Millisecond)
	}
	return 0
}

// frame draws a pane border whose info side says "stale Ns" when the data
// is stale.
func (a *App) frame(s tcell.Screen, x, y, w, h int, title, info string) (int, int, int, int) {
	if age := a.staleAge(a.now()); age > 0 {
		info = "stale " + widget.Duration(age)
	}
	return widget.Frame(s, x, y, w, h, a.th.frame, a.th.border, a.th.title, title, info)
}

func (a *App) paintHeader(s tcell.Screen, x, y, w, h int) {
	t, hs, now := a.th, a.h, a.now()
	m := hs.metrics
	cx := x
	put := func(text string, st tcell.Style) {
		if cx >= x+w {
			return
		}
		cx += widget.Print(s, cx, y, x+w-cx, text, st)
	}
	put("socktop ", t.title)
	put(hs.hostname(), t.headerHost)
	if a.opts.Demo {
		put(" demo", t.warn)
	}
	if v := hs.hello.GetAgentVersion(); v != "" {
		put("  agent ", t.label)
		put(v, t.value)
	}
	if hs.status.dialect != "" {
		put(" ("+hs.status.dialect+")", t.dim)
	}
	if m != nil {
		up := m.GetUptimeS()
		if up == 0 && hs.hello.GetBootTime() > 0 {
			up = float64(now.Unix() - int64(hs.hello.GetBootTime()))
		}
		if up > 0 {
			put("  up ", t.label)
			put(widget.Duration(time.Duration(up*float64(time.Second))), t.value)
		}
		if m.GetLoad1() > 0 || m.GetLoad5() > 0 {
			put("  load ", t.label)
			put(strconv.FormatFloat(m.GetLoad1(), 'f', 2, 64)+" "+strconv.FormatFloat(m.GetLoad5(), 'f', 2, 64)+" "+
				strconv.FormatFloat(m.GetLoad15(), 'f', 2, 64), t.value)
		}
		if n := m.GetProcessCount(); n > 0 {
			put("  procs ", t.label)
			put(strconv.Itoa(int(n)), t.value)
		}
	}
	if hl := hs.hello; hl.GetArch() != "" {
		put("  "+hl.GetArch(), t.dim)
		if c := hl.GetCores(); c > 0 {
			put("×"+strconv.Itoa(int(c)), t.dim)
		}
		if os := hl.GetOs(); os != "" && x+w-cx > widget.Width(os)+2 {
			put("  "+os, t.dim)
		}
	}
	if h < 2 {
		return
	}
	y++
	cx = x
	st := hs.status
	switch st.phase {
	case phaseConnecting:
		put("◌ connecting to "+hs.url+"…", t.warn)
	case phaseConnected:
		if a.staleAge(now) > 0 {
			// The connection is up but answers stopped (an agent stopped
			// with SIGSTOP, a frozen machine): say so long before the
			// request timeout rebuilds the connection.
			put(t.dot+" not responding", t.warn)
		} else {
			put(t.dot+" connected", t.good)
		}
	case phaseWaiting:
		left := max(st.retryAt.Sub(now), 0)
		secs := int(math.Ceil(left.Seconds()))
		put(t.dot+" reconnecting in "+strconv.Itoa(secs)+" s (attempt "+strconv.Itoa(st.attempt)+")", t.warn)
	case phaseAuth:
		put("✗ "+ErrAuth.Error(), t.bad)
	case phasePin:
		put("✗ pin mismatch", t.bad)
	case phaseFailed:
		put("✗ "+errText(st.err), t.bad)
	}
	if age := a.staleAge(now); age > 0 {
		put("  STALE "+widget.Duration(age), t.bad)
	}
	if st.phase == phaseConnected && st.rtt > 0 {
		put("  rtt ", t.label)
		put(fmtLatency(st.rtt), t.value)
	}
	if last := hs.lastSample(); !last.IsZero() {
		put("  age ", t.label)
		put(strconv.FormatFloat(now.Sub(last).Seconds(), 'f', 1, 64)+"s", t.value)
	}
	put("  ", t.base)
	switch {
	case !isTLS(a.target.URL):
		put("no TLS", t.dim)
	case a.target.Pin != "":
		put("TLS pinned", t.good)
	case a.target.TLSCA != "":
		put("TLS ca-file", t.good)
	default:
		put("TLS unpinned", t.warn)
	}
	if a.target.Token != "" || urlHasToken(a.target.URL) {
		put("  token set", t.dim)
	} else {
		put("  no token", t.dim)
	}
	if st.phase == phaseWaiting && st.err != nil {
		put("  ("+errText(st.err)+")", t.dim)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if i := strings.Index(s, wire.ErrImplausible.Error()); i > 0 && errors.Is(err, wire.ErrImplausible) {
		s = s[i:] // "agent sent an implausible sample: 1000000 cores …", not the decoder's path to it
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func fmtLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + "ms"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// coreColWidth is the width of one per-core column: "c12 ▕████▏ 100% ⣀⣀⣀⣀⣀⣀".
const coreColWidth = 26

func (a *App) paintCPU(s tcell.Screen, x, y, w, h int) {
	t, hs := a.th, a.h
	info := ""
	if hs.cpu.Len() > 0 {
		info = "now " + widget.Percent(hs.cpu.Last()) + " avg " + widget.Percent(hs.cpu.Avg(120))
		if tc := hs.metrics.CpuTempC; tc != nil {
			info += " " + strconv.Itoa(int(*tc)) + "°C"
		}
	}
	ix, iy, iw, ih := a.frame(s, x, y, w, h, "cpu", info)
	if iw <= 0 || ih <= 0 {
		return
	}
	n := len(hs.cores)
	gw := iw
	cols := 0
	if n > 0 && ih > 0 {
		cols = (n + ih - 1) / ih
		if iw-cols*coreColWidth < 20 {
			cols = 0
		}
	}
	if cols > 0 {
		gw = iw - cols*coreColWidth
		rows := (n + cols - 1) / cols
		for i, r := range hs.cores {
			cx := ix + gw + (i/rows)*coreColWidth + 1
			cy := iy + i%rows
			v := r.Last()
			widget.Print(s, cx, cy, 4, "c"+strconv.Itoa(i), t.label)
			widget.Bar(s, cx+4, cy, 6, v/100, t.ascii, t.cpu(v/100), t.barEmpty)
			widget.PrintRight(s, cx+11, cy, 5, widget.Percent(v), t.value)
			widget.Sparkline(s, cx+17, cy, coreColWidth-18, r, 100, t.ascii, t.cpu)
		}
	}
	widget.Graph(s, ix, iy, gw, ih, hs.cpu, 100, t.ascii, t.cpu)
	if hs.cpu.Len() > 0 && gw > 12 {
		widget.Print(s, ix, iy, 6, "100%", t.dim)
	}
}

func (a *App) paintMem(s tcell.Screen, x, y, w, h int) {
	t, m := a.th, a.h.metrics
	ix, iy, iw, ih := a.frame(s, x, y, w, h, "memory", "")
	if iw <= 0 || ih <= 0 || m == nil {
		return
	}
	gauge := func(row int, label string, used, total uint64) {
		if row >= ih {
			return
		}
		frac := 0.0
		if total > 0 {
			frac = float64(used) / float64(total)
		}
		text := widget.Bytes(used) + " / " + widget.Bytes(total) + " " + widget.Percent(100*frac)
		const tw = 19 // "1023M / 1023M 100%" and a space: bars line up
		bw := iw - 5 - tw - 1
		widget.Print(s, ix, iy+row, 5, label, t.label)
		if bw >= 4 {
			widget.Bar(s, ix+5, iy+row, bw, frac, t.ascii, t.level(100*frac), t.barEmpty)
			widget.PrintRight(s, ix+5+bw+1, iy+row, tw, text, t.value)
		} else {
			widget.Print(s, ix+5, iy+row, iw-5, text, t.value)
		}
	}
	gauge(0, "mem", m.GetMemUsed(), m.GetMemTotal())
	if m.GetSwapTotal() > 0 {
		gauge(1, "swap", m.GetSwapUsed(), m.GetSwapTotal())
	} else if ih > 1 {
		widget.Print(s, ix, iy+1, iw, "swap none", t.dim)
	}
	if ih > 2 && (m.GetMemAvailable() > 0 || m.GetMemCached() > 0) {
		line := "avail " + widget.Bytes(m.GetMemAvailable()) + "  cache " + widget.Bytes(m.GetMemCached()) +
			"  buf " + widget.Bytes(m.GetMemBuffers())
		widget.Print(s, ix, iy+2, iw, line, t.dim)
	}
	if ih > 4 {
		widget.Graph(s, ix, iy+3, iw, ih-3, a.h.mem, 100, t.ascii, t.mem)
	}
}

func (a *App) paintNet(s tcell.Screen, x, y, w, h int) {
	t, hs := a.th, a.h
	info := "▼ " + widget.Rate(hs.netRx.Last()) + " ▲ " + widget.Rate(hs.netTx.Last())
	if t.ascii {
		info = "rx " + widget.Rate(hs.netRx.Last()) + " tx " + widget.Rate(hs.netTx.Last())
	}
	ix, iy, iw, ih := a.frame(s, x, y, w, h, "network", info)
	if iw <= 0 || ih <= 0 {
		return
	}
	// interface list on the right when there is room
	listW := 0
	if iw >= 64 {
		listW = min(44, iw/2)
	}
	gw := iw - listW
	top := ih / 2
	bottom := ih - top
	down, up := "▼", "▲"
	if t.ascii {
		down, up = "rx", "tx"
	}
	scale := func(r *widget.Ring) float64 { return max(r.Max(gw*2), 1024) }
	widget.Graph(s, ix, iy, gw, top, hs.netRx, scale(hs.netRx), t.ascii, t.rx)
	widget.Graph(s, ix, iy+top, gw, bottom, hs.netTx, scale(hs.netTx), t.ascii, t.tx)
	widget.Print(s, ix, iy, gw, down+" "+widget.Rate(hs.netRx.Last())+" peak "+widget.Rate(hs.netPeakRx), t.label)
	if bottom > 0 {
		widget.Print(s, ix, iy+top, gw, up+" "+widget.Rate(hs.netTx.Last())+" peak "+widget.Rate(hs.netPeakTx), t.label)
	}
	if listW == 0 {
		return
	}
	lx := ix + gw + 1
	row := 0
	for _, name := range hs.ifaceOrder {
		is := hs.ifaces[name]
		if row >= ih {
			break
		}
		widget.Print(s, lx, iy+row, 10, name, t.label)
		widget.Print(s, lx+11, iy+row, listW-12, down+widget.Rate(is.rx.Last())+" "+up+widget.Rate(is.tx.Last()), t.value)
		row++
		if row < ih && ih >= 2*len(hs.ifaceOrder) {
			widget.Print(s, lx+11, iy+row, listW-12, "peak "+down+widget.Rate(is.peakRx)+" "+up+widget.Rate(is.peakTx), t.dim)
			row++
		}
	}
}

func (a *App) paintDisks(s tcell.Screen, x, y, w, h int) {
	t, hs := a.th, a.h
	ix, iy, iw, ih := a.frame(s, x, y, w, h, "disks", "")
	if iw <= 0 || ih <= 0 || hs.disks == nil {
		return
	}
	row := 0
	for _, d := range hs.disks.GetDisks() {
		if row >= ih {
			break
		}
		name := d.GetName()
		if d.GetIsPartition() {
			name = " └" + name
			if t.ascii {
				name = " `" + d.GetName()
			}
		}
		if mp := d.GetMountPoint(); mp != "" && iw >= 60 {
			name += " " + mp
		}
		total, avail := d.GetTotal(), d.GetAvailable()
		used := total - min(avail, total)
		frac := 0.0
		if total > 0 {
			frac = float64(used) / float64(total)
		}
		nameW := min(max(iw/3, 8), 32)
		widget.Print(s, ix, iy+row, nameW, name, t.label)
		right := widget.Percent(100*frac) + " " + widget.Bytes(used) + "/" + widget.Bytes(total)
		if r, ok := hs.diskRates[d.GetName()]; ok && iw >= 56 {
			right += " r " + widget.Rate(r.read) + " w " + widget.Rate(r.write)
		}
		if tc := d.TemperatureC; tc != nil && iw >= 70 {
			right += " " + strconv.Itoa(int(*tc)) + "°C"
		}
		rw := widget.Width(right)
		bw := iw - nameW - rw - 2
		if bw >= 4 {
			widget.Bar(s, ix+nameW+1, iy+row, bw, frac, t.ascii, t.level(100*frac), t.barEmpty)
			widget.Print(s, ix+nameW+bw+2, iy+row, rw, right, t.value)
		} else {
			widget.Print(s, ix+nameW+1, iy+row, iw-nameW-1, right, t.value)
		}
		row++
	}
}

func (a *App) paintTemps(s tcell.Screen, x, y, w, h int) {
	t, m := a.th, a.h.metrics
	title := "sensors"
	if len(m.GetGpus()) > 0 {
		title = "gpu · sensors"
		if len(m.GetTemperatures()) == 0 {
			title = "gpu"
		}
	}
	ix, iy, iw, ih := a.frame(s, x, y, w, h, title, "")
	if iw <= 0 || ih <= 0 {
		return
	}
	row := 0
	for _, g := range m.GetGpus() {
		if row >= ih {
			return
		}
		line := "gpu " + g.GetName()
		widget.Print(s, ix, iy+row, iw, line, t.label)
		row++
		if row >= ih {
			return
		}
		u := float64(g.GetUsage())
		text := widget.Percent(u)
		if g.GetMemTotal() > 0 {
			text += " " + widget.Bytes(g.GetMemUsed()) + "/" + widget.Bytes(g.GetMemTotal())
		}
		if g.TempC != nil {
			text += " " + strconv.Itoa(int(*g.TempC)) + "°C"
		}
		bw := iw - widget.Width(text) - 1
		if bw >= 4 {
			widget.Bar(s, ix, iy+row, bw, u/100, t.ascii, t.level(u), t.barEmpty)
			widget.Print(s, ix+bw+1, iy+row, iw-bw-1, text, t.value)
		} else {
			widget.Print(s, ix, iy+row, iw, text, t.value)
		}
		row++
	}
	temps := m.GetTemperatures()
	colW := iw
	cols := 1
	if len(temps) > ih-row && iw >= 48 {
		cols, colW = 2, iw/2
	}
	for i, tp := range temps {
		c := i / max(ih-row, 1)
		if c >= cols {
			break
		}
		cy := iy + row + i%max(ih-row, 1)
		if cy >= iy+ih {
			break
		}
		label := tp.GetLabel()
		if label == "" {
			label = tp.GetSensor()
		}
		v := float64(tp.GetValueC())
		val := strconv.FormatFloat(v, 'f', 0, 64) + "°C"
		cx := ix + c*colW
		widget.Print(s, cx, cy, colW-7, label, t.label)
		widget.PrintRight(s, cx+colW-7, cy, 6, val, t.level(v))
	}
}
