package tui

import (
	"cmp"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/widget"
)

// fleetStateKind is a host's state as the overview counts and sorts it,
// best first.
type fleetStateKind int

const (
	fsLive fleetStateKind = iota
	fsStale
	fsConnecting
	fsReconnecting
	fsAuth
	fsPin
	fsFailed
	numFleetStates
)

var fleetStateNames = [numFleetStates]string{"live", "stale", "connecting", "reconnecting", "auth failed", "pin mismatch", "failed"}

func (f *fleet) stateStyle(k fleetStateKind) tcell.Style {
	switch k {
	case fsLive:
		return f.th.good
	case fsStale, fsConnecting, fsReconnecting:
		return f.th.warn
	}
	return f.th.bad
}

// fleetState is a host's state and its one-line description: "live",
// "stale 12s · retry in 3s", "reconnecting in 4s (attempt 3)", "auth failed".
func fleetState(a *App, now time.Time) (fleetStateKind, string) {
	h := a.h
	st := h.status
	stale := ""
	if age := a.staleAge(now); age > 0 {
		stale = "stale " + widget.Duration(age)
	}
	secs := func() string {
		return strconv.Itoa(int(math.Ceil(max(st.retryAt.Sub(now), 0).Seconds()))) + "s"
	}
	switch st.phase {
	case phaseConnected:
		if stale != "" {
			return fsStale, stale
		}
		return fsLive, "live"
	case phaseConnecting:
		if stale != "" {
			return fsConnecting, stale + " · connecting"
		}
		return fsConnecting, "connecting…"
	case phaseWaiting:
		if stale != "" {
			return fsReconnecting, stale + " · retry in " + secs()
		}
		return fsReconnecting, "reconnecting in " + secs() + " (attempt " + strconv.Itoa(st.attempt) + ")"
	case phaseAuth:
		return fsAuth, "auth failed"
	case phasePin:
		return fsPin, "pin mismatch"
	}
	return fsFailed, "failed"
}

// fleetRow is one host's figures as the tiles and the table show them,
// taken from its host model at draw time.
type fleetRow struct {
	m     *member
	name  string
	kind  fleetStateKind
	state string

	has        bool // a metrics sample has arrived
	cpu, mem   float64
	memUsed    uint64
	memTotal   uint64
	load       [3]float64
	hasNet     bool
	rx, tx     float64
	hasTemp    bool
	temp       float64
	top        string // the busiest process, when a process list is known
	topCPU     float64
	topAge     time.Duration
	procs      uint32
	up         time.Duration
	errText    string
	ident      string // "hostname · arm64×4"
	hasLoad    bool
	staleValue bool // figures are from a sample that is no longer fresh
}

// hostName is what a tile is called: the profile name (or what the user
// typed), else the URL's host, without the default port.
func hostName(t Target) string {
	if t.Label != "" {
		return t.Label
	}
	u, err := url.Parse(t.URL)
	if err != nil || u.Host == "" {
		return t.URL
	}
	if u.Port() == "3000" {
		return u.Hostname()
	}
	return u.Host
}

func (f *fleet) rowOf(m *member, now time.Time, r *fleetRow) {
	a := m.a
	h := a.h
	*r = fleetRow{m: m, name: hostName(a.target)}
	r.kind, r.state = fleetState(a, now)
	r.staleValue = r.kind != fsLive
	if h.status.err != nil && r.kind != fsLive {
		r.errText = errText(h.status.err)
	}
	mt := h.metrics
	if mt == nil {
		return
	}
	r.has = true
	r.cpu = float64(mt.GetCpuTotal())
	r.memUsed, r.memTotal = mt.GetMemUsed(), mt.GetMemTotal()
	if r.memTotal > 0 {
		r.mem = 100 * float64(r.memUsed) / float64(r.memTotal)
	}
	r.load = [3]float64{mt.GetLoad1(), mt.GetLoad5(), mt.GetLoad15()}
	r.hasLoad = r.load != [3]float64{}
	if h.netRx.Len() > 0 {
		r.hasNet, r.rx, r.tx = true, h.netRx.Last(), h.netTx.Last()
	}
	r.temp, r.hasTemp = hottest(h)
	r.procs = mt.GetProcessCount()
	r.ident = h.hostname()
	if hl := h.hello; hl.GetArch() != "" {
		r.ident += " · " + hl.GetArch()
		if c := hl.GetCores(); c > 0 {
			r.ident += "×" + strconv.Itoa(int(c))
		}
	}
	// The overview asks for metrics only: our agents name the busiest
	// process in every metrics sample; for an upstream agent it is known
	// once this host's dashboard fetched a process list.
	if tp := mt.GetTopProcess(); tp != nil {
		r.top, r.topCPU = tp.GetName(), float64(tp.GetCpuPercent())
		r.topAge = 0 // as fresh as the metrics sample
	} else if h.procs != nil {
		for i := range h.rows {
			p := &h.rows[i]
			if r.top == "" || p.cpu > r.topCPU {
				r.top, r.topCPU = p.name, p.cpu
			}
		}
		r.topAge = now.Sub(h.procsAt)
	}
	up := mt.GetUptimeS()
	if up == 0 && h.hello.GetBootTime() > 0 {
		up = float64(now.Unix() - int64(h.hello.GetBootTime()))
	}
	r.up = time.Duration(up * float64(time.Second))
}

// hottest is the highest temperature the agent reports: sensors, the CPU
// package, GPUs.
func hottest(h *host) (float64, bool) {
	m := h.metrics
	best, ok := 0.0, false
	take := func(v float64) {
		if !ok || v > best {
			best, ok = v, true
		}
	}
	if c := m.CpuTempC; c != nil {
		take(float64(*c))
	}
	for _, t := range m.GetTemperatures() {
		take(float64(t.GetValueC()))
	}
	for _, g := range m.GetGpus() {
		if g.TempC != nil {
			take(float64(*g.TempC))
		}
	}
	return best, ok
}

// fleetColumn is a column of the table; tiles follow the same order.
type fleetColumn int

const (
	fcName fleetColumn = iota
	fcState
	fcCPU
	fcMem
	fcLoad
	fcRx
	fcTx
	fcTemp
	fcTop
	fcUp
	numFleetColumns
)

var fleetColumns = [numFleetColumns]struct {
	name  string
	width int // 0: shares what is left
	right bool
	desc  bool // biggest first when chosen
}{
	fcName:  {"NAME", 0, false, false},
	fcState: {"STATE", 26, false, true},
	fcCPU:   {"CPU%", 6, true, true},
	fcMem:   {"MEM%", 6, true, true},
	fcLoad:  {"LOAD", 6, true, true},
	fcRx:    {"RX/s", 9, true, true},
	fcTx:    {"TX/s", 9, true, true},
	fcTemp:  {"TEMP", 5, true, true},
	fcTop:   {"TOP", 0, false, false},
	fcUp:    {"UP", 8, true, true},
}

// cpuHistW is the width of the table's CPU history column.
const cpuHistW = 12

func compareFleet(a, b *fleetRow, c fleetColumn) int {
	num := func(ok bool, v float64) float64 {
		if !ok {
			return -1
		}
		return v
	}
	var r int
	switch c {
	case fcName:
		r = naturalCompare(a.name, b.name)
	case fcState:
		r = cmp.Compare(a.kind, b.kind)
	case fcCPU:
		r = cmp.Compare(num(a.has, a.cpu), num(b.has, b.cpu))
	case fcMem:
		r = cmp.Compare(num(a.has, a.mem), num(b.has, b.mem))
	case fcLoad:
		r = cmp.Compare(num(a.has, a.load[0]), num(b.has, b.load[0]))
	case fcRx:
		r = cmp.Compare(num(a.hasNet, a.rx), num(b.hasNet, b.rx))
	case fcTx:
		r = cmp.Compare(num(a.hasNet, a.tx), num(b.hasNet, b.tx))
	case fcTemp:
		r = cmp.Compare(num(a.hasTemp, a.temp), num(b.hasTemp, b.temp))
	case fcTop:
		r = cmp.Compare(num(a.top != "", a.topCPU), num(b.top != "", b.topCPU))
	case fcUp:
		r = cmp.Compare(a.up, b.up)
	}
	return r
}

// naturalCompare orders "pi-2" before "pi-10": digit runs compare as
// numbers, the rest case-insensitively.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if r := cmp.Compare(len(na), len(nb)); r != 0 {
				return r
			}
			if r := strings.Compare(na, nb); r != 0 {
				return r
			}
			a, b = a[da:], b[db:]
			continue
		}
		ca, cb := lowerByte(a[0]), lowerByte(b[0])
		if ca != cb {
			return cmp.Compare(ca, cb)
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// fleetView draws the hosts as tiles that reflow with the terminal, or as
// a sortable table (`t`).
type fleetView struct {
	*tview.Box
	f     *fleet
	table bool
	col   fleetColumn
	desc  bool

	rows  []fleetRow
	order []*fleetRow
	selM  *member // the selection follows its host through re-sorts

	// geometry of the last draw, for keys and the mouse
	cols, visRows, offset int
	tiles                 []tileRect
	hdrY, bodyY           int
	colX                  [numFleetColumns + 1]int
	histX                 int
	buf                   []byte
}

type tileRect struct {
	x, y, w, h int
	m          *member
}

// Tile geometry: at least tileMinW columns, tileH rows (border and five
// lines).
const (
	tileMinW = 36
	tileH    = 7
	tileMaxH = 12
)

func newFleetView(f *fleet) *fleetView {
	v := &fleetView{Box: tview.NewBox(), f: f, col: fcName}
	v.rows = make([]fleetRow, len(f.members))
	v.order = make([]*fleetRow, len(f.members))
	if len(f.members) > 0 {
		v.selM = f.members[0]
	}
	return v
}

func (v *fleetView) arrow() string {
	if v.desc {
		return v.f.th.downArrow
	}
	return v.f.th.upArrow
}

func (v *fleetView) sortBy(c fleetColumn) {
	if v.col == c {
		v.desc = !v.desc
		return
	}
	v.col, v.desc = c, fleetColumns[c].desc
}

func (v *fleetView) moveSort(d int) {
	c := (int(v.col) + d + int(numFleetColumns)) % int(numFleetColumns)
	v.col, v.desc = fleetColumn(c), fleetColumns[c].desc
}

// refresh takes every host's figures and sorts them.
func (v *fleetView) refresh() {
	now := v.f.now()
	for i, m := range v.f.members {
		v.f.rowOf(m, now, &v.rows[i])
		v.order[i] = &v.rows[i]
	}
	slices.SortStableFunc(v.order, func(a, b *fleetRow) int {
		r := compareFleet(a, b, v.col)
		if v.desc {
			r = -r
		}
		if r == 0 {
			r = naturalCompare(a.name, b.name)
		}
		if r == 0 {
			r = cmp.Compare(a.m.idx, b.m.idx)
		}
		return r
	})
}

func (v *fleetView) selIndex() int {
	for i, r := range v.order {
		if r.m == v.selM {
			return i
		}
	}
	return 0
}

func (v *fleetView) selected() *member {
	if v.selM == nil && len(v.f.members) > 0 {
		return v.f.members[0]
	}
	return v.selM
}

func (v *fleetView) move(d int) {
	v.refresh()
	if len(v.order) == 0 {
		return
	}
	i := min(max(v.selIndex()+d, 0), len(v.order)-1)
	v.selM = v.order[i].m
}

func (v *fleetView) page() int {
	if v.table {
		return max(v.visRows, 1)
	}
	return max(v.cols*v.visRows, 1)
}

func (v *fleetView) Draw(s tcell.Screen) {
	v.refresh()
	x, y, w, h := v.GetRect()
	if w <= 0 || h <= 0 {
		return
	}
	if v.table {
		v.drawTable(s, x, y, w, h)
		return
	}
	v.drawTiles(s, x, y, w, h)
}

func (v *fleetView) drawTiles(s tcell.Screen, x, y, w, h int) {
	cols := max(w/tileMinW, 1)
	cols = min(cols, max(len(v.order), 1))
	// with room to spare (a few hosts) tiles grow taller: the CPU history
	// becomes a graph
	need := max((len(v.order)+cols-1)/cols, 1)
	th := min(max(h/need, tileH), tileMaxH)
	if h < th {
		th = max(h, 3)
	}
	visRows := max(h/th, 1)
	v.cols, v.visRows = cols, visRows
	sel := v.selIndex()
	selRow := sel / cols
	if selRow < v.offset {
		v.offset = selRow
	}
	if selRow >= v.offset+visRows {
		v.offset = selRow - visRows + 1
	}
	totalRows := (len(v.order) + cols - 1) / cols
	v.offset = max(min(v.offset, totalRows-visRows), 0)
	v.tiles = v.tiles[:0]
	for i := v.offset * cols; i < len(v.order) && i < (v.offset+visRows)*cols; i++ {
		r, c := i/cols-v.offset, i%cols
		// spread the remainder over the first columns so the tiles fill the width
		tx := x + c*(w/cols) + min(c, w%cols)
		tw := w / cols
		if c < w%cols {
			tw++
		}
		ty := y + r*th
		v.tiles = append(v.tiles, tileRect{tx, ty, tw, th, v.order[i].m})
		v.drawTile(s, tx, ty, tw, th, v.order[i], i == sel)
	}
	if totalRows > visRows {
		more := "▼ " + strconv.Itoa(len(v.order)-(v.offset+visRows)*cols) + " more"
		if (v.offset+visRows)*cols < len(v.order) {
			widget.PrintRight(s, x, y+h-1, w-1, more, v.f.th.dim)
		}
	}
}

func (v *fleetView) drawTile(s tcell.Screen, x, y, w, h int, r *fleetRow, selected bool) {
	t := v.f.th
	border := t.border
	switch {
	case selected:
		border = t.title
	case r.kind == fsAuth || r.kind == fsPin || r.kind == fsFailed:
		border = t.bad
	case r.kind != fsLive:
		border = t.warn
	}
	nameSt := t.headerHost
	if selected {
		nameSt = t.selected
	}
	ix, iy, iw, ih := widget.Frame(s, x, y, w, h, t.frame, border, nameSt, r.name, "")
	// the state on the top border, right, in its own colour
	used := widget.Width(r.name) + 4
	if room := w - used - 3; room >= 6 {
		state := r.state
		if widget.Width(state)+2 > room {
			state = fleetStateNames[r.kind]
		}
		widget.PrintRight(s, x+used, y, w-used-2, " "+t.dot+" "+state+" ", v.f.stateStyle(r.kind))
	}
	if iw <= 0 || ih <= 0 {
		return
	}
	ix, iw = ix+1, iw-2 // a little air inside the border
	if !r.has {
		lines := wrap(r.state, iw)
		if r.errText != "" {
			lines = append(lines, wrap(r.errText, iw)...)
		} else if r.kind == fsLive || r.kind == fsConnecting {
			lines = append(lines, "waiting for the first sample…")
		}
		for i, l := range lines {
			if i >= ih {
				break
			}
			st := t.dim
			if i == 0 {
				st = v.f.stateStyle(r.kind)
			}
			widget.Print(s, ix, iy+i, iw, l, st)
		}
		return
	}
	val := t.value
	if r.staleValue {
		val = t.dim
	}
	h0 := r.m.a.h
	lines := 0
	line := func() (int, bool) {
		if lines >= ih {
			return 0, false
		}
		lines++
		return iy + lines - 1, true
	}
	// cpu  12.5% ⣀⣠⣤⣶ — in a tall tile: cpu 12.5% avg 9.8% over a graph
	if ly, ok := line(); ok {
		widget.Print(s, ix, ly, 4, "cpu", t.label)
		pst := t.level(r.cpu)
		if r.staleValue {
			pst = val
		}
		widget.PrintRight(s, ix+4, ly, 6, widget.Percent(r.cpu), pst)
		if extra := ih - 5; extra >= 2 {
			widget.Print(s, ix+11, ly, iw-11, "avg "+widget.Percent(h0.cpu.Avg(120)), t.dim)
			widget.Graph(s, ix, ly+1, iw, extra, h0.cpu, 100, t.ascii, t.cpu)
			lines += extra
		} else if gw := iw - 11; gw > 0 {
			widget.Sparkline(s, ix+11, ly, gw, h0.cpu, 100, t.ascii, t.cpu)
		}
	}
	// mem  45.2% ▕████░░░▏ 3.0G/8.0G
	if ly, ok := line(); ok {
		widget.Print(s, ix, ly, 4, "mem", t.label)
		widget.PrintRight(s, ix+4, ly, 6, widget.Percent(r.mem), val)
		tot := widget.Bytes(r.memUsed) + "/" + widget.Bytes(r.memTotal)
		bw := iw - 11 - widget.Width(tot) - 1
		if bw >= 4 {
			widget.Bar(s, ix+11, ly, bw, r.mem/100, t.ascii, t.mem(r.mem/100), t.barEmpty)
			widget.PrintRight(s, ix+11+bw+1, ly, iw-11-bw-1, tot, val)
		} else if iw > 11 {
			widget.Print(s, ix+11, ly, iw-11, tot, val)
		}
	}
	// load 0.52 0.40 0.31     up 3d 4h
	if ly, ok := line(); ok {
		cx := ix + widget.Print(s, ix, ly, iw, "load ", t.label)
		load := "-"
		if r.hasLoad {
			load = fmtLoad(r.load[0]) + " " + fmtLoad(r.load[1]) + " " + fmtLoad(r.load[2])
		}
		cx += widget.Print(s, cx, ly, ix+iw-cx, load, val)
		if r.up > 0 {
			up := widget.Duration(r.up)
			if ix+iw-cx >= widget.Width(up)+4 {
				widget.PrintRight(s, ix, ly, iw-widget.Width(up)-1, "up", t.label)
				widget.PrintRight(s, ix, ly, iw, up, val)
			}
		}
	}
	// net ▼1.2M/s ▲34K/s          54°C
	if ly, ok := line(); ok {
		cx := ix + widget.Print(s, ix, ly, iw, "net ", t.label)
		if r.hasNet {
			cx += widget.Print(s, cx, ly, ix+iw-cx, t.downArrow+widget.Rate(r.rx)+" ", t.rx(0))
			cx += widget.Print(s, cx, ly, ix+iw-cx, t.upArrow+widget.Rate(r.tx), t.tx(0))
		} else {
			cx += widget.Print(s, cx, ly, ix+iw-cx, "-", t.dim)
		}
		if r.hasTemp {
			temp := strconv.Itoa(int(math.Round(r.temp))) + "°C"
			if ix+iw-cx >= widget.Width(temp)+1 {
				st := t.level(r.temp)
				if r.staleValue {
					st = val
				}
				widget.PrintRight(s, ix, ly, iw, temp, st)
			}
		}
	}
	// top nginx 12.5%             312 procs; before any process list is
	// known (the overview asks for metrics only): the agent's hostname,
	// architecture and cores
	if ly, ok := line(); ok {
		right := ""
		if r.procs > 0 {
			right = strconv.Itoa(int(r.procs)) + " procs"
		}
		room := iw
		if right != "" {
			room -= widget.Width(right) + 1
		}
		if r.top != "" {
			cx := ix + widget.Print(s, ix, ly, iw, "top ", t.label)
			top := r.top + " " + widget.Percent(r.topCPU)
			if r.topAge > 10*time.Second {
				top += " (" + widget.Duration(r.topAge) + " ago)"
			}
			widget.Print(s, cx, ly, room-(cx-ix), top, t.busiest)
		} else {
			widget.Print(s, ix, ly, room, r.ident, t.dim)
		}
		if right != "" {
			widget.PrintRight(s, ix, ly, iw, right, t.dim)
		}
	}
}

func fmtLoad(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// layoutTable fills colX for an inner width. NAME and TOP share what the
// fixed columns leave; at narrow widths TOP, UP, TEMP, TX, the CPU history
// and LOAD go, in that order.
func (v *fleetView) layoutTable(x, w int) (show [numFleetColumns]bool, hist bool) {
	for i := range show {
		show[i] = true
	}
	hist = true
	fixed := func() int {
		n := 0
		for c := range numFleetColumns {
			if show[c] && fleetColumns[c].width > 0 {
				n += fleetColumns[c].width + 1
			}
		}
		if hist {
			n += cpuHistW + 1
		}
		if show[fcTop] {
			n += 12
		}
		return n
	}
	for _, drop := range []fleetColumn{fcTop, fcUp, fcTemp, fcTx, -1, fcLoad, fcRx} {
		if w-fixed() >= 14 {
			break
		}
		if drop < 0 {
			hist = false
			continue
		}
		show[drop] = false
	}
	flex := max(w-fixed(), 8)
	nameW := min(flex, 24)
	topW := 0
	if show[fcTop] {
		topW = 11 + flex - nameW
	}
	cx := x
	for c := range numFleetColumns {
		v.colX[c] = cx
		if !show[c] {
			continue
		}
		cw := fleetColumns[c].width
		switch c {
		case fcName:
			cw = nameW
		case fcTop:
			cw = topW
		}
		cx += cw + 1
		if c == fcCPU {
			v.histX = cx
			if hist {
				cx += cpuHistW + 1
			}
		}
	}
	v.colX[numFleetColumns] = cx
	return show, hist
}

func (v *fleetView) colW(c fleetColumn) int {
	next := v.colX[numFleetColumns]
	for n := c + 1; n < numFleetColumns; n++ {
		if v.colX[n] > v.colX[c] {
			next = v.colX[n]
			break
		}
	}
	if c == fcCPU && v.histX > v.colX[c] && v.histX < next {
		next = v.histX
	}
	return next - v.colX[c] - 1
}

func (v *fleetView) drawTable(s tcell.Screen, x, y, w, h int) {
	t := v.f.th
	info := strconv.Itoa(len(v.order)) + " hosts · sort " + fleetColumns[v.col].name + v.arrow()
	ix, iy, iw, ih := widget.Frame(s, x, y, w, h, t.frame, t.border, t.title, "fleet", info)
	if iw <= 0 || ih <= 0 {
		return
	}
	show, hist := v.layoutTable(ix, iw)
	v.hdrY, v.bodyY = iy, iy+1
	for c := range numFleetColumns {
		if !show[c] {
			continue
		}
		st, name := t.colHeader, fleetColumns[c].name
		if c == v.col {
			st, name = t.colSorted, name+v.arrow()
		}
		if fleetColumns[c].right {
			widget.PrintRight(s, v.colX[c], iy, v.colW(c), name, st)
		} else {
			widget.Print(s, v.colX[c], iy, v.colW(c), name, st)
		}
	}
	rows := ih - 1
	v.cols, v.visRows = 1, max(rows, 1)
	if rows <= 0 {
		return
	}
	sel := v.selIndex()
	if sel < v.offset {
		v.offset = sel
	}
	if sel >= v.offset+rows {
		v.offset = sel - rows + 1
	}
	v.offset = max(min(v.offset, len(v.order)-rows), 0)
	for i := 0; i < rows && v.offset+i < len(v.order); i++ {
		idx := v.offset + i
		r := v.order[idx]
		ry := iy + 1 + i
		st := t.base
		if r.staleValue {
			st = t.dim
		}
		if idx == sel {
			st = t.selected
			widget.Fill(s, ix, ry, iw, 1, ' ', st)
		}
		cell := func(c fleetColumn, text string, cst tcell.Style) {
			if !show[c] {
				return
			}
			if fleetColumns[c].right {
				widget.PrintRight(s, v.colX[c], ry, v.colW(c), text, cst)
			} else {
				widget.Print(s, v.colX[c], ry, v.colW(c), text, cst)
			}
		}
		stSt := v.f.stateStyle(r.kind)
		if idx == sel {
			stSt = st
		}
		cell(fcName, r.name, st)
		state := r.state
		if r.kind >= fsAuth && r.errText != "" && r.kind == fsFailed {
			state += ": " + r.errText
		}
		cell(fcState, t.dot+" "+state, stSt)
		if !r.has {
			cell(fcCPU, "-", st)
			if r.errText != "" && show[fcTop] {
				cell(fcTop, r.errText, st)
			}
			continue
		}
		cell(fcCPU, string(strconv.AppendFloat(v.buf[:0], r.cpu, 'f', 1, 64)), st)
		if hist {
			widget.Sparkline(s, v.histX, ry, cpuHistW, r.m.a.h.cpu, 100, t.ascii, t.cpu)
		}
		cell(fcMem, strconv.FormatFloat(r.mem, 'f', 1, 64), st)
		if r.hasLoad {
			cell(fcLoad, fmtLoad(r.load[0]), st)
		} else {
			cell(fcLoad, "-", st)
		}
		if r.hasNet {
			cell(fcRx, widget.Rate(r.rx), st)
			cell(fcTx, widget.Rate(r.tx), st)
		} else {
			cell(fcRx, "-", st)
			cell(fcTx, "-", st)
		}
		if r.hasTemp {
			cell(fcTemp, strconv.Itoa(int(math.Round(r.temp)))+"°", st)
		} else {
			cell(fcTemp, "-", st)
		}
		if r.top != "" {
			cell(fcTop, r.top+" "+widget.Percent(r.topCPU), st)
		} else {
			cell(fcTop, "-", st)
		}
		if r.up > 0 {
			cell(fcUp, widget.Duration(r.up), st)
		}
	}
}

func (v *fleetView) columnAt(x int) (fleetColumn, bool) {
	for c := numFleetColumns - 1; c >= 0; c-- {
		if x >= v.colX[c] && v.colX[c] < v.colX[numFleetColumns] && (c == numFleetColumns-1 || v.colX[c+1] > v.colX[c]) {
			if x < v.colX[c]+v.colW(c)+1 {
				return c, true
			}
		}
	}
	return 0, false
}

// InputHandler moves the selection: arrows across the tiles (up and down by
// a row of tiles), or the table's rows.
func (v *fleetView) InputHandler() func(ev *tcell.EventKey, setFocus func(tview.Primitive)) {
	return v.WrapInputHandler(func(ev *tcell.EventKey, _ func(tview.Primitive)) {
		step := max(v.cols, 1)
		if v.table {
			step = 1
		}
		switch ev.Key() {
		case tcell.KeyUp:
			v.move(-step)
		case tcell.KeyDown:
			v.move(step)
		case tcell.KeyLeft:
			if !v.table {
				v.move(-1)
			}
		case tcell.KeyRight:
			if !v.table {
				v.move(1)
			}
		case tcell.KeyPgUp:
			v.move(-v.page())
		case tcell.KeyPgDn:
			v.move(v.page())
		case tcell.KeyHome:
			v.move(-len(v.order))
		case tcell.KeyEnd:
			v.move(len(v.order))
		}
	})
}

// MouseHandler: click selects a tile or row (double-click opens it), a
// click on a table header sorts, the wheel scrolls.
func (v *fleetView) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return v.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
		x, y := ev.Position()
		if !v.InRect(x, y) {
			return false, nil
		}
		switch action {
		case tview.MouseLeftClick, tview.MouseLeftDoubleClick:
			setFocus(v)
			var hit *member
			if v.table {
				if y == v.hdrY {
					if c, ok := v.columnAt(x); ok {
						v.sortBy(c)
					}
					return true, nil
				}
				if idx := v.offset + y - v.bodyY; y >= v.bodyY && idx < len(v.order) {
					hit = v.order[idx].m
				}
			} else {
				for _, tr := range v.tiles {
					if x >= tr.x && x < tr.x+tr.w && y >= tr.y && y < tr.y+tr.h {
						hit = tr.m
					}
				}
			}
			if hit != nil {
				v.selM = hit
				if action == tview.MouseLeftDoubleClick {
					v.f.openHost(hit)
				}
			}
			return true, nil
		case tview.MouseScrollUp:
			v.move(-max(v.cols, 1))
			return true, nil
		case tview.MouseScrollDown:
			v.move(max(v.cols, 1))
			return true, nil
		}
		return false, nil
	})
}
