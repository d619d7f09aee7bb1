package screen

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/widget"
)

// fleetView draws the hosts as tiles that reflow with the terminal, or as
// the table (`t`). Both share the table widget's sort and selection, which
// follows its host through re-sorts.
type fleetView struct {
	*tview.Box
	f     *fleet
	t     *widget.Table[*member]
	table bool

	rows  []fleetRow
	order []*fleetRow

	// geometry of the last draw, for keys and the mouse
	cols, visRows, offset int
	tiles                 []tileRect
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
	v := &fleetView{Box: tview.NewBox(), f: f}
	cols := fleetCols
	cols[fcAlert].Hidden = !f.al.m.Watched()
	v.t = widget.NewTable[*member](f.th, cols[:], int(fcName))
	v.t.Rows = v
	v.t.Refresh = v.refresh
	v.t.Activate = func() { f.openHost(v.selected()) }
	v.rows = make([]fleetRow, len(f.members))
	v.order = make([]*fleetRow, len(f.members))
	if len(f.members) > 0 {
		v.refresh()
		v.t.Select(f.members[0])
	}
	return v
}

// refresh takes every host's figures and sorts them (they change with
// every sample, so always).
func (v *fleetView) refresh() bool {
	now := v.f.sh.Now()
	for i, m := range v.f.members {
		rowOf(m, now, &v.rows[i])
		v.order[i] = &v.rows[i]
	}
	col, desc := v.t.Sort()
	slices.SortStableFunc(v.order, func(a, b *fleetRow) int {
		r := compareFleet(a, b, fleetColumn(col))
		if desc {
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
	return true
}

func (v *fleetView) selected() *member {
	m, _ := v.t.Selected()
	return m
}

// arrow moves the selection: across the tiles (up and down by a row of
// tiles), or the table's rows.
func (v *fleetView) arrow(ev *tcell.EventKey) {
	step := max(v.cols, 1)
	if v.table {
		step = 1
	}
	page := max(v.cols*v.visRows, 1)
	if v.table {
		page = v.t.PageRows()
	}
	switch ev.Key() {
	case tcell.KeyUp:
		v.t.Move(-step)
	case tcell.KeyDown:
		v.t.Move(step)
	case tcell.KeyLeft:
		if !v.table {
			v.t.Move(-1)
		}
	case tcell.KeyRight:
		if !v.table {
			v.t.Move(1)
		}
	case tcell.KeyPgUp:
		v.t.Move(-page)
	case tcell.KeyPgDn:
		v.t.Move(page)
	case tcell.KeyHome:
		v.t.Home()
	case tcell.KeyEnd:
		v.t.End()
	}
}

func (v *fleetView) Draw(s tcell.Screen) {
	x, y, w, h := v.GetRect()
	if w <= 0 || h <= 0 {
		return
	}
	if v.table {
		v.drawTable(s, x, y, w, h)
		return
	}
	v.t.Update()
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
	sel := v.t.Index()
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
	if rest := len(v.order) - (v.offset+visRows)*cols; totalRows > visRows && rest > 0 {
		widget.PrintRight(s, x, y+h-1, w-1, "▼ "+strconv.Itoa(rest)+" more", v.f.th.Dim)
	}
}

func (v *fleetView) drawTable(s tcell.Screen, x, y, w, h int) {
	t := v.f.th
	v.cols, v.visRows = 1, max(h-3, 1)
	col, desc := v.t.Sort()
	info := strconv.Itoa(len(v.order)) + " hosts · sort " + fleetCols[col].Name + t.Arrow(desc)
	ix, iy, iw, ih := widget.Frame(s, x, y, w, h, t.Frame, t.Border, t.Title, "fleet", info)
	if iw > 0 && ih > 0 {
		v.t.Draw(s, ix, iy, iw, ih)
	}
}

// The table's rows (widget.Rows).

func (v *fleetView) Len() int          { return len(v.order) }
func (v *fleetView) Key(i int) *member { return v.order[i].m }
func (v *fleetView) Style(i int) tcell.Style {
	if v.order[i].staleValue {
		return v.f.th.Dim
	}
	return v.f.th.Base
}

func (v *fleetView) Cell(s tcell.Screen, i, col int, c widget.Cell) {
	r, t := v.order[i], v.f.th
	switch fleetColumn(col) {
	case fcName:
		c.Text(s, r.name)
		return
	case fcState:
		state := r.state
		if r.kind == fsFailed && r.errText != "" {
			state += ": " + r.errText
		}
		if !c.Selected {
			c.Style = v.f.stateStyle(r.kind)
		}
		c.Text(s, t.Dot+" "+state)
		return
	case fcAlert:
		if !c.Selected {
			c.Style = t.Bad
		}
		c.Text(s, r.alertText)
		return
	}
	if !r.has {
		switch fleetColumn(col) {
		case fcCPU:
			c.Text(s, "-")
		case fcTop:
			c.Text(s, r.errText)
		}
		return
	}
	dash := func(ok bool, text string) {
		if !ok {
			text = "-"
		}
		c.Text(s, text)
	}
	switch fleetColumn(col) {
	case fcCPU:
		v.buf = widget.AppendNumber(v.buf[:0], r.cpu, 1)
		c.ASCII(s, v.buf)
	case fcHist:
		widget.Sparkline(s, c.X, c.Y, c.W, r.m.d.h.CPU, 100, t.ASCII, t.CPU)
	case fcMem:
		c.Text(s, widget.Number(r.mem, 1))
	case fcLoad:
		dash(r.hasLoad, widget.Number(r.load[0], 2))
	case fcRx:
		dash(r.hasNet, widget.Rate(r.rx))
	case fcTx:
		dash(r.hasNet, widget.Rate(r.tx))
	case fcTemp:
		dash(r.hasTemp, widget.Celsius(r.temp))
	case fcTop:
		dash(r.top != "", r.top+" "+widget.Percent(r.topCPU))
	case fcUp:
		if r.up > 0 {
			c.Text(s, widget.Duration(r.up))
		}
	}
}

// MouseHandler: click selects a tile or row (double-click opens it), a
// click on a table header sorts, the wheel scrolls.
func (v *fleetView) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return v.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, _ func(tview.Primitive)) (bool, tview.Primitive) {
		x, y := ev.Position()
		if !v.InRect(x, y) {
			return false, nil
		}
		if v.table {
			return v.t.Mouse(action, x, y), nil
		}
		switch action {
		case tview.MouseLeftClick, tview.MouseLeftDoubleClick:
			for _, tr := range v.tiles {
				if x >= tr.x && x < tr.x+tr.w && y >= tr.y && y < tr.y+tr.h {
					v.t.Select(tr.m)
					if action == tview.MouseLeftDoubleClick {
						v.f.openHost(tr.m)
					}
				}
			}
			return true, nil
		case tview.MouseScrollUp:
			v.t.Move(-max(v.cols, 1))
			return true, nil
		case tview.MouseScrollDown:
			v.t.Move(max(v.cols, 1))
			return true, nil
		}
		return false, nil
	})
}
func (v *fleetView) drawTile(s tcell.Screen, x, y, w, h int, r *fleetRow, selected bool) {
	t := v.f.th
	border := t.Border
	switch {
	case selected:
		border = t.Title
	case r.alerts > 0:
		border = t.Bad
	case r.kind == fsAuth || r.kind == fsPin || r.kind == fsFailed:
		border = t.Bad
	case r.kind != fsLive:
		border = t.Warn
	}
	nameSt := t.HeaderHost
	if selected {
		nameSt = t.Selected
	}
	ix, iy, iw, ih := widget.Frame(s, x, y, w, h, t.Frame, border, nameSt, r.name, "")
	v.f.al.drawTileAlert(s, x, y+h-1, w, r)
	// the state on the top border, right, in its own colour
	used := widget.Width(r.name) + 4
	if room := w - used - 3; room >= 6 {
		state := r.state
		if widget.Width(state)+2 > room {
			state = fleetStateNames[r.kind]
		}
		widget.PrintRight(s, x+used, y, w-used-2, " "+t.Dot+" "+state+" ", v.f.stateStyle(r.kind))
	}
	if iw <= 0 || ih <= 0 {
		return
	}
	ix, iw = ix+1, iw-2 // a little air inside the border
	if !r.has {
		lines := widget.Wrap(r.state, iw)
		if r.errText != "" {
			lines = append(lines, widget.Wrap(r.errText, iw)...)
		} else if r.kind == fsLive || r.kind == fsConnecting {
			lines = append(lines, "waiting for the first sample…")
		}
		for i, l := range lines {
			if i >= ih {
				break
			}
			st := t.Dim
			if i == 0 {
				st = v.f.stateStyle(r.kind)
			}
			widget.Print(s, ix, iy+i, iw, l, st)
		}
		return
	}
	val := t.Value
	if r.staleValue {
		val = t.Dim
	}
	h0 := r.m.d.h
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
		widget.Print(s, ix, ly, 4, "cpu", t.Label)
		pst := t.Level(r.cpu)
		if r.staleValue {
			pst = val
		}
		widget.PrintRight(s, ix+4, ly, 6, widget.Percent(r.cpu), pst)
		if extra := ih - 5 - ctrLine(r, ih); extra >= 2 {
			widget.Print(s, ix+11, ly, iw-11, "avg "+widget.Percent(h0.CPU.Avg(120)), t.Dim)
			widget.Graph(s, ix, ly+1, iw, extra, h0.CPU, 100, t.ASCII, t.CPU)
			lines += extra
		} else if gw := iw - 11; gw > 0 {
			widget.Sparkline(s, ix+11, ly, gw, h0.CPU, 100, t.ASCII, t.CPU)
		}
	}
	// mem  45.2% ▕████░░░▏ 3.0G/8.0G
	if ly, ok := line(); ok {
		widget.Print(s, ix, ly, 4, "mem", t.Label)
		widget.PrintRight(s, ix+4, ly, 6, widget.Percent(r.mem), val)
		tot := widget.Bytes(r.memUsed) + "/" + widget.Bytes(r.memTotal)
		bw := iw - 11 - widget.Width(tot) - 1
		if bw >= 4 {
			widget.Bar(s, ix+11, ly, bw, r.mem/100, t.ASCII, t.Mem(r.mem/100), t.BarEmpty)
			widget.PrintRight(s, ix+11+bw+1, ly, iw-11-bw-1, tot, val)
		} else if iw > 11 {
			widget.Print(s, ix+11, ly, iw-11, tot, val)
		}
	}
	// load 0.52 0.40 0.31     up 3d 4h
	if ly, ok := line(); ok {
		cx := ix + widget.Print(s, ix, ly, iw, "load ", t.Label)
		load := "-"
		if r.hasLoad {
			load = widget.Number(r.load[0], 2) + " " + widget.Number(r.load[1], 2) + " " + widget.Number(r.load[2], 2)
		}
		cx += widget.Print(s, cx, ly, ix+iw-cx, load, val)
		if r.up > 0 {
			up := widget.Duration(r.up)
			if ix+iw-cx >= widget.Width(up)+4 {
				widget.PrintRight(s, ix, ly, iw-widget.Width(up)-1, "up", t.Label)
				widget.PrintRight(s, ix, ly, iw, up, val)
			}
		}
	}
	// net ▼1.2M/s ▲34K/s          54°C
	if ly, ok := line(); ok {
		cx := ix + widget.Print(s, ix, ly, iw, "net ", t.Label)
		if r.hasNet {
			cx += widget.Print(s, cx, ly, ix+iw-cx, t.DownArrow+widget.Rate(r.rx)+" ", t.Rx(0))
			cx += widget.Print(s, cx, ly, ix+iw-cx, t.UpArrow+widget.Rate(r.tx), t.Tx(0))
		} else {
			cx += widget.Print(s, cx, ly, ix+iw-cx, "-", t.Dim)
		}
		if r.hasTemp {
			temp := widget.Celsius(r.temp)
			if ix+iw-cx >= widget.Width(temp)+1 {
				st := t.Level(r.temp)
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
			right = strconv.FormatUint(uint64(r.procs), 10) + " procs"
		}
		if ctrLine(r, ih) == 0 && r.ctr != "" {
			// no line of its own: the busiest container takes the count's place
			right = "ctr " + r.ctr + " " + widget.Percent(r.ctrCPU)
		}
		room := iw
		if right != "" {
			room -= widget.Width(right) + 1
		}
		if r.top != "" {
			cx := ix + widget.Print(s, ix, ly, iw, "top ", t.Label)
			top := r.top + " " + widget.Percent(r.topCPU)
			if r.topAge > 10*time.Second {
				top += " (" + widget.Duration(r.topAge) + " ago)"
			}
			widget.PrintCut(s, cx, ly, room-(cx-ix), top, t.Busiest)
		} else {
			widget.PrintCut(s, ix, ly, room, r.ident, t.Dim)
		}
		if right != "" {
			widget.PrintRight(s, ix, ly, iw, right, t.Dim)
		}
	}
	// ctr  homeassistant 20.0% — the busiest container or service, on a
	// line of its own where the tile has one to spare
	if ly, ok := line(); ok && ctrLine(r, ih) == 1 {
		cx := ix + widget.Print(s, ix, ly, iw, "ctr ", t.Label)
		if r.ctr != "" {
			widget.Print(s, cx, ly, ix+iw-cx, r.ctr+" "+widget.Percent(r.ctrCPU), t.Busiest)
		} else {
			widget.Print(s, cx, ly, ix+iw-cx, "-", t.Dim)
		}
	}
}

// ctrLine is 1 when a tile of ih inner lines has a line for the busiest
// container (its agent lists them, and there is a line beyond the five).
func ctrLine(r *fleetRow, ih int) int {
	if r.ctrs && ih >= 6 {
		return 1
	}
	return 0
}
