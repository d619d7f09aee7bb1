package screen

import (
	"math"
	"strconv"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// coreColWidth is the width of one per-core column: "c12 ▕████▏ 100% ⣀⣀⣀⣀⣀⣀".
const coreColWidth = 26

// optCelsius formats an optional temperature with a leading space, or "".
func optCelsius(c *float32) string {
	if c == nil {
		return ""
	}
	return " " + widget.Celsius(float64(*c))
}

func (d *dash) paintCPU(s tcell.Screen, x, y, w, h int) {
	t, hs := d.th, d.h
	tl, mi := d.moment()
	info := ""
	switch {
	case mi >= 0:
		info = "at " + momentClock(tl.Samples[mi].SampledAtMs, hs.AgentNow(d.sh.Now())) + " " + widget.Percent(tl.CPU[mi])
	case hs.CPU.Len() > 0:
		info = "now " + widget.Percent(hs.CPU.Last()) + " avg " + widget.Percent(hs.CPU.Avg(120)) + optCelsius(hs.Metrics.CpuTempC)
	}
	if tl != nil {
		info = tl.Zoom.String() + " · " + info
	}
	ix, iy, iw, ih := d.frame(s, x, y, w, h, "cpu", info)
	if iw <= 0 || ih <= 0 {
		return
	}
	if b := hs.Metrics.GetCpuBreakdown(); b != nil && ih >= 3 && mi < 0 { // a recorded moment has no breakdown
		ih--
		d.paintBreakdown(s, ix, iy+ih, iw, b)
	}
	n := len(hs.Cores)
	gw := iw
	cols := 0
	if n > 0 {
		cols = (n + ih - 1) / ih
		if iw-cols*coreColWidth < 20 {
			cols = 0
		}
	}
	if cols > 0 {
		gw = iw - cols*coreColWidth
		rows := (n + cols - 1) / cols
		for i, r := range hs.Cores {
			cx := ix + gw + (i/rows)*coreColWidth + 1
			cy := iy + i%rows
			v := r.Last()
			if mi >= 0 {
				v = coreAt(tl, i, mi)
			}
			widget.Print(s, cx, cy, 4, "c"+strconv.Itoa(i), t.Label)
			widget.Bar(s, cx+4, cy, 6, v/100, t.ASCII, t.CPU(v/100), t.BarEmpty)
			widget.PrintRight(s, cx+11, cy, 5, widget.Percent(v), t.Value)
			sw := coreColWidth - 18
			widget.Sparkline(s, cx+17, cy, sw, d.series(r, func(tl *model.Timeline) []float64 { return coreValues(tl, i) }, sw), 100, t.ASCII, t.CPU)
		}
	}
	widget.Graph(s, ix, iy, gw, ih, d.series(hs.CPU, func(tl *model.Timeline) []float64 { return tl.CPU }, gw), 100, t.ASCII, t.CPU)
	d.graphDrawn(s, &d.cpuArea, ix, iy, gw, ih, hs.CPU)
	if hs.CPU.Len() > 0 && gw > 12 {
		widget.Print(s, ix, iy, 6, "100%", t.Dim)
	}
}

// paintBreakdown is the line under the CPU graph that says where the time
// went, as top's %Cpu(s): "user 8.1  sys 3.2  iowait 0.4  irq 0.1  steal
// 0.0", in top's short names where that does not fit. iowait and steal
// stand out from 10%: an SD card or a busy hypervisor.
func (d *dash) paintBreakdown(s tcell.Screen, x, y, w int, b *wire.CpuBreakdown) {
	t := d.th
	parts := []struct {
		long, short string
		v           float32
		warn        bool
	}{
		{"user", "us", b.GetUser() + b.GetNice(), false},
		{"sys", "sy", b.GetSystem(), false},
		{"iowait", "wa", b.GetIowait(), true},
		{"irq", "hi", b.GetIrq() + b.GetSoftirq(), false},
		{"steal", "st", b.GetSteal(), true},
	}
	long := 0
	for _, p := range parts {
		long += len(p.long) + 7
	}
	line := widget.NewLine(s, x, y, w)
	for i, p := range parts {
		name := p.long
		if long > w {
			name = p.short
		}
		if i > 0 {
			line.Put("  ", t.Base)
		}
		line.Put(name+" ", t.Label)
		st := t.Value
		if p.warn && p.v >= 10 {
			st = t.Warn
		}
		line.Put(widget.Number(float64(p.v), 1), st)
	}
}

// coreValues are core i's values over a timeline (nil when it had none).
func coreValues(tl *model.Timeline, i int) []float64 {
	if i < len(tl.Cores) {
		return tl.Cores[i]
	}
	return nil
}

// coreAt is core i at the timeline's sample j (NaN when unknown).
func coreAt(tl *model.Timeline, i, j int) float64 {
	if v := coreValues(tl, i); v != nil {
		return v[j]
	}
	return math.NaN()
}

func (d *dash) paintMem(s tcell.Screen, x, y, w, h int) {
	t, m := d.th, d.h.Metrics
	ix, iy, iw, ih := d.frame(s, x, y, w, h, "memory", "")
	if iw <= 0 || ih <= 0 || m == nil {
		return
	}
	gauge := func(row int, label string, used, total uint64) {
		if row >= ih {
			return
		}
		frac := widget.Share(used, total)
		text := widget.Bytes(used) + " / " + widget.Bytes(total) + " " + widget.Percent(100*frac)
		const tw = 19 // "1023M / 1023M 100%" and a space: bars line up
		bw := iw - 5 - tw - 1
		widget.Print(s, ix, iy+row, 5, label, t.Label)
		if bw >= 4 {
			widget.Bar(s, ix+5, iy+row, bw, frac, t.ASCII, t.Level(100*frac), t.BarEmpty)
			widget.PrintRight(s, ix+5+bw+1, iy+row, tw, text, t.Value)
		} else {
			widget.Print(s, ix+5, iy+row, iw-5, text, t.Value)
		}
	}
	used, total, swapUsed, swapTotal := m.GetMemUsed(), m.GetMemTotal(), m.GetSwapUsed(), m.GetSwapTotal()
	tl, mi := d.moment()
	if mi >= 0 {
		hs := tl.Samples[mi]
		used, total, swapUsed, swapTotal = hs.MemUsed, hs.MemTotal, hs.SwapUsed, hs.SwapTotal
	}
	gauge(0, "mem", used, total)
	if swapTotal > 0 {
		gauge(1, "swap", swapUsed, swapTotal)
	} else if ih > 1 {
		widget.Print(s, ix, iy+1, iw, "swap none", t.Dim)
	}
	if ih > 2 && mi >= 0 {
		widget.Print(s, ix, iy+2, iw, "at "+momentClock(tl.Samples[mi].SampledAtMs, d.h.AgentNow(d.sh.Now())), t.Dim)
	} else if ih > 2 && (m.GetMemAvailable() > 0 || m.GetMemCached() > 0) {
		line := "avail " + widget.Bytes(m.GetMemAvailable()) + "  cache " + widget.Bytes(m.GetMemCached()) +
			"  buf " + widget.Bytes(m.GetMemBuffers())
		widget.Print(s, ix, iy+2, iw, line, t.Dim)
	}
	if ih > 4 {
		widget.Graph(s, ix, iy+3, iw, ih-3, d.series(d.h.Mem, func(tl *model.Timeline) []float64 { return tl.Mem }, iw), 100, t.ASCII, t.Mem)
		d.graphDrawn(s, &d.memArea, ix, iy+3, iw, ih-3, d.h.Mem)
	}
}

func (d *dash) paintNet(s tcell.Screen, x, y, w, h int) {
	t, hs := d.th, d.h
	down, up := "▼", "▲"
	if t.ASCII {
		down, up = "rx", "tx"
	}
	rxNow, txNow := hs.NetRx.Last(), hs.NetTx.Last()
	if tl, mi := d.moment(); mi >= 0 {
		rxNow, txNow = tl.NetRx[mi], tl.NetTx[mi]
	}
	info := down + " " + widget.Rate(rxNow) + " " + up + " " + widget.Rate(txNow)
	ix, iy, iw, ih := d.frame(s, x, y, w, h, "network", info)
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
	rx := d.series(hs.NetRx, func(tl *model.Timeline) []float64 { return tl.NetRx }, gw)
	tx := d.series(hs.NetTx, func(tl *model.Timeline) []float64 { return tl.NetTx }, gw)
	widget.Graph(s, ix, iy, gw, top, rx, max(rx.Max(gw*2), 1024), t.ASCII, t.Rx)
	widget.Graph(s, ix, iy+top, gw, bottom, tx, max(tx.Max(gw*2), 1024), t.ASCII, t.Tx)
	d.graphDrawn(s, &d.netArea, ix, iy, gw, ih, hs.NetRx)
	widget.Print(s, ix, iy, gw, down+" "+widget.Rate(rxNow)+" peak "+widget.Rate(hs.NetPeakRx), t.Label)
	if bottom > 0 {
		widget.Print(s, ix, iy+top, gw, up+" "+widget.Rate(txNow)+" peak "+widget.Rate(hs.NetPeakTx), t.Label)
	}
	if listW == 0 {
		return
	}
	lx := ix + gw + 1
	row := 0
	for _, name := range hs.IfaceOrder {
		is := hs.Ifaces[name]
		if row >= ih || is == nil {
			break
		}
		widget.Print(s, lx, iy+row, 10, name, t.Label)
		widget.Print(s, lx+11, iy+row, listW-12, down+widget.Rate(is.Rx.Last())+" "+up+widget.Rate(is.Tx.Last()), t.Value)
		row++
		if row < ih && ih >= 2*len(hs.IfaceOrder) {
			widget.Print(s, lx+11, iy+row, listW-12, "peak "+down+widget.Rate(is.PeakRx)+" "+up+widget.Rate(is.PeakTx), t.Dim)
			row++
		}
	}
}

// diskUse is a disk's figures as df computes them: used = total − free
// (free counts the blocks reserved for root), use% = used ÷ (used +
// available). An agent that sends no used or free (upstream's, older
// ones) gives used as total − available, which counts the reserved
// blocks as used: df reports that only as the gap between its columns, so
// the figure is marked (exact false).
func diskUse(dk *wire.Disk) (used, avail uint64, frac float64, exact bool) {
	total, avail := dk.GetTotal(), dk.GetAvailable()
	used, free := dk.GetUsed(), dk.GetFree()
	if used == 0 && free == 0 {
		used = total - min(avail, total)
		return used, avail, widget.Share(used, total), false
	}
	if used == 0 && free <= total {
		used = total - free
	}
	if avail > math.MaxUint64-used {
		return used, avail, math.NaN(), true
	}
	return used, avail, widget.Share(used, used+avail), true
}

func (d *dash) paintDisks(s tcell.Screen, x, y, w, h int) {
	t, hs := d.th, d.h
	info := ""
	for _, dk := range hs.Disks.GetDisks() {
		if _, _, _, exact := diskUse(dk); !exact && dk.GetTotal() > 0 {
			info = "* used = size − available" // the agent sends no free count
			break
		}
	}
	ix, iy, iw, ih := d.frame(s, x, y, w, h, "disks", info)
	if iw <= 0 || ih <= 0 || hs.Disks == nil {
		return
	}
	for row, dk := range hs.Disks.GetDisks() {
		if row >= ih {
			break
		}
		name := dk.GetName()
		if dk.GetIsPartition() {
			name = " └" + name
			if t.ASCII {
				name = " `" + dk.GetName()
			}
		}
		if mp := dk.GetMountPoint(); mp != "" && iw >= 60 {
			name += " " + mp
		}
		used, avail, frac, exact := diskUse(dk)
		nameW := min(max(iw/3, 8), 32)
		widget.Print(s, ix, iy+row, nameW, name, t.Label)
		pct := widget.Percent(100 * frac)
		if !exact {
			pct += "*"
		}
		r, rated := hs.DiskRates[dk.GetName()]
		if dk.GetTotal() == 0 { // a recording keeps a disk's I/O, not its size
			widget.Print(s, ix+nameW+1, iy+row, iw-nameW-1, "r "+widget.Rate(r.Read)+" w "+widget.Rate(r.Write), t.Value)
			continue
		}
		// "16.0% 15.0G/252G 225G avail", as df's Use% Used Size Avail
		right := pct + " " + widget.Bytes(used) + "/" + widget.Bytes(dk.GetTotal())
		if iw >= 48 {
			right += " " + widget.Bytes(avail) + " avail"
		}
		if rated && iw >= 76 {
			right += " r " + widget.Rate(r.Read) + " w " + widget.Rate(r.Write)
		}
		if iw >= 90 {
			right += optCelsius(dk.TemperatureC)
		}
		rw := widget.Width(right)
		bw := iw - nameW - rw - 2
		if bw >= 4 {
			widget.Bar(s, ix+nameW+1, iy+row, bw, frac, t.ASCII, t.Level(100*frac), t.BarEmpty)
			widget.Print(s, ix+nameW+bw+2, iy+row, rw, right, t.Value)
		} else {
			widget.Print(s, ix+nameW+1, iy+row, iw-nameW-1, right, t.Value)
		}
	}
}

func (d *dash) paintTemps(s tcell.Screen, x, y, w, h int) {
	t, m := d.th, d.h.Metrics
	title := "sensors"
	if len(m.GetGpus()) > 0 {
		title = "gpu · sensors"
		if len(m.GetTemperatures()) == 0 {
			title = "gpu"
		}
	}
	ix, iy, iw, ih := d.frame(s, x, y, w, h, title, "")
	if iw <= 0 || ih <= 0 {
		return
	}
	row := 0
	for _, g := range m.GetGpus() {
		if row >= ih {
			return
		}
		widget.Print(s, ix, iy+row, iw, "gpu "+g.GetName(), t.Label)
		if row++; row >= ih {
			return
		}
		u := float64(g.GetUsage())
		text := widget.Percent(u)
		if g.GetMemTotal() > 0 {
			text += " " + widget.Bytes(g.GetMemUsed()) + "/" + widget.Bytes(g.GetMemTotal())
		}
		text += optCelsius(g.TempC)
		bw := iw - widget.Width(text) - 1
		if bw >= 4 {
			widget.Bar(s, ix, iy+row, bw, u/100, t.ASCII, t.Level(u), t.BarEmpty)
			widget.Print(s, ix+bw+1, iy+row, iw-bw-1, text, t.Value)
		} else {
			widget.Print(s, ix, iy+row, iw, text, t.Value)
		}
		row++
	}
	temps := m.GetTemperatures()
	colW, cols := iw, 1
	if len(temps) > ih-row && iw >= 48 {
		cols, colW = 2, iw/2
	}
	per := max(ih-row, 1)
	for i, tp := range temps {
		if i/per >= cols || iy+row+i%per >= iy+ih {
			break
		}
		label := tp.GetLabel()
		if label == "" {
			label = tp.GetSensor()
		}
		v := float64(tp.GetValueC())
		cx, cy := ix+(i/per)*colW, iy+row+i%per
		widget.Print(s, cx, cy, colW-7, label, t.Label)
		widget.PrintRight(s, cx+colW-7, cy, 6, widget.Celsius(v), t.Level(v))
	}
}
