package tui

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// connectionsClient is a Client that can ask for the socket table; the
// wire adapter is one (conns_wire.go). Test dialers that lack it simply
// get no Connections screen data.
type connectionsClient interface {
	Connections(ctx context.Context) (*wire.Connections, error)
}

// connsView is the Connections screen: the table, and under it the filter
// input while it is being edited.
type connsView struct {
	*tview.Flex
	a     *App
	table *connsTable
	input *tview.InputField

	open      bool // the screen is shown
	filtering bool // the filter input has the keys

	filter    string
	flt       connFilter
	col       connCol
	desc      bool
	listening bool // show listening sockets
	group     bool // per-process totals
	dns       bool // reverse DNS names instead of addresses

	m       connModel
	view    []*connRow
	groups  []connRow
	builtN  int // m.samples the view was built from
	dirty   bool
	selKey  connKey
	sel     int
	offset  int
	pageH   int
	visible int // rows after the listening toggle and the filter, before grouping

	poll connPoller
	res  *resolver
}

// connPoller requests connections only while someone looks at them: the
// screen is open, or the process detail view drew its connection list
// recently.
type connPoller struct {
	running atomic.Bool
	open    atomic.Bool
	demand  atomic.Int64 // UnixNano of the detail view's last request
	kick    chan struct{}
}

func (p *connPoller) wanted(every time.Duration) bool {
	if p.open.Load() {
		return true
	}
	d := p.demand.Load()
	return d != 0 && time.Since(time.Unix(0, d)) < max(3*every, 3*time.Second)
}

func newConnsView(a *App) *connsView {
	v := &connsView{Flex: tview.NewFlex().SetDirection(tview.FlexRow), a: a,
		col: ccRateIn, desc: true, dirty: true}
	v.poll.kick = make(chan struct{}, 1)
	v.table = &connsTable{Box: tview.NewBox(), v: v}
	v.input = tview.NewInputField().SetLabel("filter connections: ")
	v.input.SetChangedFunc(func(text string) { v.setFilter(text) })
	v.input.SetFieldStyle(a.th.value.Underline(true))
	v.input.SetLabelStyle(a.th.title)
	v.Flex.AddItem(v.table, 0, 1, true)
	return v
}

// screen is the key map's screen while the view is open.
func (v *connsView) screen() screen {
	if v.filtering {
		return scrConnsFilter
	}
	return scrConns
}

func (v *connsView) show() {
	a := v.a
	v.open = true
	a.pages.ShowPage("conns")
	if a.helpOpen {
		a.pages.SendToFront("help")
	}
	a.app.SetFocus(v.table)
	v.poll.open.Store(true)
	if !v.ensurePoll() {
		v.kick() // the loop is asleep: fetch now
	}
}

func (v *connsView) hide() {
	if v.filtering {
		v.endFilter()
	}
	v.open = false
	v.poll.open.Store(false)
	v.a.pages.HidePage("conns")
	v.a.refocus()
}

func (v *connsView) focus() {
	if v.filtering {
		v.a.app.SetFocus(v.input)
		return
	}
	v.a.app.SetFocus(v.table)
}

// escape closes the filter input, then clears the filter, then the screen.
func (v *connsView) escape() {
	switch {
	case v.filtering:
		v.input.SetText("")
		v.endFilter()
	case v.filter != "":
		v.input.SetText("")
		v.setFilter("")
	default:
		v.hide()
	}
}

func (v *connsView) startFilter() {
	v.filtering = true
	v.input.SetText(v.filter)
	v.Flex.AddItem(v.input, 1, 0, true)
	v.a.app.SetFocus(v.input)
}

func (v *connsView) endFilter() {
	v.filtering = false
	v.Flex.RemoveItem(v.input)
	v.a.app.SetFocus(v.table)
}

func (v *connsView) setFilter(s string) {
	v.filter, v.flt = s, parseConnFilter(s)
	v.dirty = true
}

func (v *connsView) moveSort(d int) {
	c := (int(v.col) + d + int(numConnCols)) % int(numConnCols)
	v.col, v.desc = connCol(c), connCol(c).descFirst()
	v.dirty = true
}

func (v *connsView) sortBy(c connCol) {
	if v.col == c {
		v.desc = !v.desc
	} else {
		v.col, v.desc = c, c.descFirst()
	}
	v.dirty = true
}

func (v *connsView) reverse()         { v.desc = !v.desc; v.dirty = true }
func (v *connsView) toggleListening() { v.listening = !v.listening; v.dirty = true }
func (v *connsView) toggleGroup()     { v.group = !v.group; v.dirty = true; v.sel, v.offset = 0, 0 }

func (v *connsView) toggleDNS() {
	v.dns = !v.dns
	if v.dns && v.res == nil {
		a := v.a
		v.res = newResolver(a.ctx, &a.wg, func() { a.post(func() { v.dirty = true }) })
	}
	v.dirty = true
}

func (v *connsView) kick() {
	select {
	case v.poll.kick <- struct{}{}:
	default:
	}
}

// ensurePoll starts the request loop if it is not running, and reports
// whether it did (a new loop fetches at once). It runs on the UI
// goroutine, after the watcher exists.
func (v *connsView) ensurePoll() bool {
	a := v.a
	if a.w == nil || a.ctx == nil || a.ctx.Err() != nil {
		return false
	}
	if !v.poll.running.CompareAndSwap(false, true) {
		return false
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		v.pollLoop(a.ctx)
	}()
	return true
}

// pollLoop requests connections at the processes cadence while wanted and
// ends when nobody looks.
func (v *connsView) pollLoop(ctx context.Context) {
	every := v.a.every.procs
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if !v.poll.wanted(every) {
			v.poll.running.Store(false)
			// a demand that came between the test and the store keeps us
			if !v.poll.wanted(every) || !v.poll.running.CompareAndSwap(false, true) {
				return
			}
		}
		v.fetch(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-v.poll.kick:
		}
	}
}

func (v *connsView) fetch(ctx context.Context) {
	w := v.a.w
	c := w.current()
	if c == nil || !w.h0has(wire.CapConnections) {
		return
	}
	cc, ok := c.(connectionsClient)
	if !ok {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	res, err := cc.Connections(rctx)
	cancel()
	w.requests.Add(1)
	if ctx.Err() != nil {
		return
	}
	v.a.post(func() { v.addSample(res, err) })
}

// addSample folds one answer in (UI goroutine).
func (v *connsView) addSample(res *wire.Connections, err error) {
	if err != nil {
		v.m.err = err
		return
	}
	every := v.a.every.procs
	v.m.add(res, time.Now(), 3*every+requestTimeout)
	v.dirty = true
}

// names returns the reverse DNS names of a row's addresses from the cache
// (queueing lookups when queue is set), or "" when DNS is off.
func (v *connsView) names(r *connRow, queue bool) (string, string) {
	if !v.dns || v.res == nil || r.group {
		return "", ""
	}
	now := time.Now()
	get := func(a netip.Addr) string {
		if queue {
			return v.res.name(a, now)
		}
		return v.res.peek(a)
	}
	return get(r.key.local.Addr()), get(r.key.remote.Addr())
}

// refresh rebuilds the visible rows when the data or the view changed,
// keeping the selected row selected.
func (v *connsView) refresh() {
	if !v.dirty && v.builtN == v.m.samples {
		return
	}
	v.view = v.view[:0]
	for i := range v.m.rows {
		r := &v.m.rows[i]
		if !v.listening && r.listening() {
			continue
		}
		if !v.flt.empty() {
			ln, rn := v.names(r, false)
			if !v.flt.match(r, ln, rn) {
				continue
			}
		}
		v.view = append(v.view, r)
	}
	v.visible = len(v.view)
	if v.group {
		v.groups = groupRows(v.groups, v.view)
		v.view = v.view[:0]
		for i := range v.groups {
			v.view = append(v.view, &v.groups[i])
		}
	}
	sortConnRows(v.view, v.col, v.desc)
	v.builtN, v.dirty = v.m.samples, false
	for i, r := range v.view {
		if r.key == v.selKey {
			v.sel = i
			return
		}
	}
	v.clampSel()
}

func (v *connsView) clampSel() {
	v.sel = max(min(v.sel, len(v.view)-1), 0)
	if len(v.view) > 0 {
		v.selKey = v.view[v.sel].key
	}
}

func (v *connsView) move(d int) {
	v.refresh()
	v.sel += d
	v.clampSel()
}

// detailLines is the process detail view's list of pid's connections. Its
// drawing is what keeps connections requested while the detail is open.
func (v *connsView) detailLines(pid uint32) []string {
	if !v.a.h.has(wire.CapConnections) || pid == 0 {
		return nil
	}
	v.poll.demand.Store(time.Now().UnixNano())
	if !v.ensurePoll() && time.Since(v.m.fetchedAt) > v.a.every.procs {
		v.kick()
	}
	if v.m.samples == 0 {
		if v.m.err != nil {
			return []string{"connections: " + errText(v.m.err)}
		}
		return []string{"connections: loading…"}
	}
	var mine []*connRow
	for i := range v.m.rows {
		if r := &v.m.rows[i]; r.pid == pid && !r.closed {
			mine = append(mine, r)
		}
	}
	sortConnRows(mine, ccRateIn, true)
	out := []string{"connections (" + strconv.Itoa(len(mine)) + ")"}
	const most = 40
	for i, r := range mine {
		if i == most {
			out = append(out, "  … "+strconv.Itoa(len(mine)-most)+" more: press Esc, then c")
			break
		}
		l := "  " + padRight(r.proto, 5) + padRight(r.localText, 22) + " → " + padRight(r.remoteText, 22) + " " + padRight(r.stateText(), 11)
		if r.counted {
			l += " in " + widget.Bytes(r.in) + "  out " + widget.Bytes(r.out)
			if r.hasRate {
				l += "  " + widget.Rate(r.rateIn) + " ↓ " + widget.Rate(r.rateOut) + " ↑"
			}
			l += "  rtt " + fmtRTT(r.rttUs)
		} else {
			l += " traffic not counted"
		}
		out = append(out, l)
	}
	return out
}

// connsTable draws the rows; only the visible ones are formatted.
type connsTable struct {
	*tview.Box
	v *connsView

	hdrY, bodyY int
	colX        [numConnCols + 1]int
	show        [numConnCols]bool
	procW       int
}

// column widths; LOCAL and REMOTE share what is left.
var connColWidth = [numConnCols]int{ccProto: 5, ccState: 10, ccPID: 7, ccProc: 15, ccIn: 7, ccOut: 7,
	ccSegsIn: 8, ccSegsOut: 8, ccRateIn: 8, ccRateOut: 8, ccRTT: 7, ccRetrans: 5}

// layout fills colX for an inner width, dropping the least needed columns
// (and narrowing PROCESS) until each address column has at least 15 cells:
// "127.0.0.1:65535" whole.
func (t *connsTable) layout(x, w int, group bool) {
	for i := range t.show {
		t.show[i] = true
	}
	t.show[ccProto] = !group
	t.procW = connColWidth[ccProc]
	fixed := func() int {
		n := 0
		for c := range numConnCols {
			switch {
			case !t.show[c] || c == ccLocal || c == ccRemote:
			case c == ccProc:
				n += t.procW + 1
			default:
				n += connColWidth[c] + 1
			}
		}
		return n + 2
	}
	for _, drop := range [][]connCol{{ccSegsIn}, {ccSegsOut}, {ccRetrans}, {ccRTT}, {ccProto}, nil, {ccPID}, {ccState}, {ccIn, ccOut}} {
		if w-fixed() >= 30 {
			break
		}
		if drop == nil {
			t.procW = 10
		}
		for _, c := range drop {
			t.show[c] = false
		}
	}
	addrW := max((w-fixed())/2, 8)
	addrW = min(addrW, 47)
	cx := x
	for c := range numConnCols {
		t.colX[c] = cx
		if !t.show[c] {
			continue
		}
		cw := connColWidth[c]
		switch c {
		case ccLocal, ccRemote:
			cw = addrW
		case ccProc:
			cw = t.procW
		}
		cx += cw + 1
	}
	t.colX[numConnCols] = cx
}

func (t *connsTable) width(c connCol) int {
	if !t.show[c] {
		return 0
	}
	next := t.colX[numConnCols]
	for n := c + 1; n < numConnCols; n++ {
		if t.show[n] {
			next = t.colX[n]
			break
		}
	}
	return next - t.colX[c] - 1
}

// fitAddr shortens host:port to w cells keeping the port.
func fitAddr(text string, w int) string {
	if widget.Width(text) <= w || w < 4 {
		return text
	}
	i := strings.LastIndexByte(text, ':')
	if i < 0 {
		return text
	}
	port := text[i:]
	rs := []rune(text[:i])
	keep := w - widget.Width(port) - 1
	if keep < 1 {
		return text
	}
	return string(rs[:min(keep, len(rs))]) + "…" + port
}

// status is the line above the header: filter, what n/a means, toggles,
// sort; the most important first, as a narrow screen cuts the end.
func (t *connsTable) status() string {
	v := t.v
	th := v.a.th
	var parts []string
	if v.filter != "" {
		parts = append(parts, "filter \""+v.filter+"\"")
	}
	var why []string
	if v.m.udp > 0 {
		why = append(why, "UDP")
	}
	switch {
	case v.m.fallback():
		why = append(why, "TCP: agent reads /proc/net")
	case v.m.tcpUncounted > 0:
		why = append(why, "TIME-WAIT")
	}
	if len(why) > 0 {
		parts = append(parts, "n/a = traffic not counted ("+strings.Join(why, ", ")+")")
	}
	if v.listening {
		parts = append(parts, "listening shown")
	} else {
		parts = append(parts, "listening hidden (L)")
	}
	if v.group {
		parts = append(parts, "per process")
	}
	if v.dns {
		d := "reverse DNS on"
		if v.res != nil {
			if n := v.res.pending(); n > 0 {
				d += " (" + strconv.Itoa(n) + " pending)"
			}
		}
		parts = append(parts, d)
	}
	arrow := th.upArrow
	if v.desc {
		arrow = th.downArrow
	}
	parts = append(parts, "sort "+connColNames[v.col]+arrow)
	return strings.Join(parts, " · ")
}

func (t *connsTable) Draw(s tcell.Screen) {
	v, a := t.v, t.v.a
	th := a.th
	x, y, w, h := t.GetRect()
	widget.Fill(s, x, y, w, h, ' ', th.base)
	v.refresh()
	info := strconv.Itoa(len(v.view))
	if v.group {
		info += " processes, " + strconv.Itoa(v.visible) + " sockets"
	} else if v.visible != len(v.m.rows) {
		info += "/" + strconv.Itoa(len(v.m.rows))
	}
	ix, iy, iw, ih := a.frame(s, x, y, w, h, "connections", info)
	if iw <= 0 || ih <= 0 {
		return
	}
	st := t.status()
	if v.m.err != nil {
		st = errText(v.m.err) + " · " + st
	}
	widget.Print(s, ix+1, iy, iw-1, st, th.dim)
	if ih < 3 {
		return
	}
	t.layout(ix+1, iw-1, v.group)
	t.hdrY, t.bodyY = iy+1, iy+2
	for c := range numConnCols {
		if !t.show[c] {
			continue
		}
		cs := th.colHeader
		name := connColNames[c]
		if v.group {
			switch c {
			case ccLocal:
				name = "SOCKETS"
			case ccRemote:
				name = "PEERS"
			}
		}
		if c == v.col {
			cs = th.colSorted
			if v.desc {
				name += th.downArrow
			} else {
				name += th.upArrow
			}
		}
		if c.rightAligned() {
			widget.PrintRight(s, t.colX[c], t.hdrY, t.width(c), name, cs)
		} else {
			widget.Print(s, t.colX[c], t.hdrY, t.width(c), name, cs)
		}
	}
	rows := ih - 2
	v.pageH = max(rows, 1)
	if v.m.samples == 0 {
		msg := "waiting for the socket table…"
		switch {
		case !a.h.has(wire.CapConnections):
			msg = "this agent does not serve connections"
		case v.m.err != nil:
			msg = errText(v.m.err)
		}
		widget.Print(s, ix+1, t.bodyY, iw-1, msg, th.dim)
		return
	}
	if v.sel < v.offset {
		v.offset = v.sel
	}
	if v.sel >= v.offset+rows {
		v.offset = v.sel - rows + 1
	}
	v.offset = max(min(v.offset, len(v.view)-rows), 0)
	for i := 0; i < rows && v.offset+i < len(v.view); i++ {
		idx := v.offset + i
		t.drawRow(s, v.view[idx], t.bodyY+i, idx == v.sel, ix, iw)
	}
}

func (t *connsTable) drawRow(s tcell.Screen, r *connRow, y int, selected bool, ix, iw int) {
	v, th := t.v, t.v.a.th
	st := th.base
	if r.closed {
		st = th.dim
	}
	if selected {
		st = th.selected
		widget.Fill(s, ix, y, iw, 1, ' ', st)
	}
	na := th.dim
	if selected {
		na = st
	}
	cell := func(c connCol, text string, cs tcell.Style) {
		if !t.show[c] {
			return
		}
		if c.rightAligned() {
			widget.PrintRight(s, t.colX[c], y, t.width(c), text, cs)
		} else {
			widget.Print(s, t.colX[c], y, t.width(c), text, cs)
		}
	}
	num := func(c connCol, text string) {
		if !r.counted {
			cell(c, "n/a", na)
			return
		}
		cell(c, text, st)
	}
	local, remote := r.localText, r.remoteText
	if r.group {
		local = strconv.Itoa(r.socks)
		remote = strconv.Itoa(r.peers)
	} else if ln, rn := v.names(r, true); ln != "" || rn != "" {
		if ln != "" {
			local = ln + ":" + portText(r.key.local)
		}
		if rn != "" {
			remote = rn + ":" + portText(r.key.remote)
		}
	}
	if !r.group {
		cell(ccProto, r.proto, st)
	}
	cell(ccLocal, fitAddr(local, t.width(ccLocal)), st)
	cell(ccRemote, fitAddr(remote, t.width(ccRemote)), st)
	stState := st
	if r.closed && !selected {
		stState = th.warn
	}
	cell(ccState, r.stateText(), stState)
	pid := "-"
	if r.pid != 0 {
		pid = strconv.FormatUint(uint64(r.pid), 10)
	}
	cell(ccPID, pid, st)
	cell(ccProc, dash(r.proc), st)
	num(ccIn, widget.Bytes(r.in))
	num(ccOut, widget.Bytes(r.out))
	num(ccSegsIn, fmtCount(r.segsIn))
	num(ccSegsOut, fmtCount(r.segsOut))
	rate := func(c connCol, bps float64) {
		if r.counted && !r.hasRate {
			cell(c, "-", na) // first seen: a rate needs two samples
			return
		}
		num(c, widget.Rate(bps))
	}
	rate(ccRateIn, r.rateIn)
	rate(ccRateOut, r.rateOut)
	if r.group {
		cell(ccRTT, "", st)
	} else {
		num(ccRTT, fmtRTT(r.rttUs))
	}
	num(ccRetrans, strconv.FormatUint(uint64(r.retrans), 10))
}

func portText(ap netip.AddrPort) string {
	if ap.Port() == 0 {
		return "*"
	}
	return strconv.Itoa(int(ap.Port()))
}

// columnAt maps a header x position to the column drawn there.
func (t *connsTable) columnAt(x int) (connCol, bool) {
	for c := numConnCols - 1; c >= 0; c-- {
		if t.show[c] && x >= t.colX[c] && x <= t.colX[c]+t.width(c) {
			return c, true
		}
	}
	return 0, false
}

func (t *connsTable) InputHandler() func(ev *tcell.EventKey, setFocus func(tview.Primitive)) {
	return t.WrapInputHandler(func(ev *tcell.EventKey, _ func(tview.Primitive)) {
		v := t.v
		switch ev.Key() {
		case tcell.KeyRune:
			switch ev.Rune() {
			case 'h', '<':
				v.moveSort(-1)
			case 'l', '>':
				v.moveSort(+1)
			case 'I':
				v.reverse()
			}
		case tcell.KeyLeft:
			v.moveSort(-1)
		case tcell.KeyRight:
			v.moveSort(+1)
		case tcell.KeyUp:
			v.move(-1)
		case tcell.KeyDown:
			v.move(1)
		case tcell.KeyPgUp:
			v.move(-v.pageH)
		case tcell.KeyPgDn:
			v.move(v.pageH)
		case tcell.KeyHome:
			v.move(-1 << 30)
		case tcell.KeyEnd:
			v.move(1 << 30)
		}
	})
}

// MouseHandler: click a header to sort (again to reverse), click a row to
// select it, wheel to scroll.
func (t *connsTable) MouseHandler() func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
	return t.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
		x, y := ev.Position()
		if !t.InRect(x, y) {
			return false, nil
		}
		v := t.v
		switch action {
		case tview.MouseLeftClick:
			if v.filtering {
				v.endFilter()
			}
			setFocus(t)
			if y == t.hdrY {
				if c, ok := t.columnAt(x); ok {
					v.sortBy(c)
				}
				return true, nil
			}
			if y >= t.bodyY {
				v.refresh()
				if idx := v.offset + y - t.bodyY; idx < len(v.view) {
					v.sel = idx
					v.clampSel()
				}
			}
			return true, nil
		case tview.MouseScrollUp:
			v.move(-3)
			return true, nil
		case tview.MouseScrollDown:
			v.move(3)
			return true, nil
		}
		return false, nil
	})
}

// connsKeyMap is the Connections screen's key bindings; keyMap appends
// them, and the footer and help are generated from them as for every
// screen.
func connsKeyMap() []binding {
	on := func(f func(v *connsView)) func(a *App) { return func(a *App) { f(a.conns) } }
	return []binding{
		{keys: keys(specialKeys(tcell.KeyEscape), runeKeys('c')), label: "Esc/c", hint: "back", hintLabel: "Esc", desc: "back to the dashboard (Esc clears the filter first)", screens: scrConns,
			do: on((*connsView).escape)},
		{keys: runeKeys('/'), label: "/", hint: "filter", desc: "filter: words must all match; port:N pid:N proc:NAME addr:TEXT state:NAME (e.g. state:estab)",
			screens: scrConns, do: on((*connsView).startFilter)},
		// handled by the table itself (do is nil), so one help line says it all
		{keys: keys(runeKeys('h', '<', 'l', '>', 'I'), specialKeys(tcell.KeyLeft, tcell.KeyRight, tcell.KeyUp, tcell.KeyDown, tcell.KeyPgUp, tcell.KeyPgDn, tcell.KeyHome, tcell.KeyEnd)),
			label: "h/l I ↑/↓", hint: "sort", hintLabel: "h/l I", desc: "h/l ←/→ sort by previous/next column, I reverses; ↑/↓ PgUp/PgDn Home/End move",
			screens: scrConns, do: nil},
		{keys: runeKeys('L'), label: "L", hint: "listening", desc: "show or hide listening sockets (TCP LISTEN, unconnected UDP)", screens: scrConns,
			do: on((*connsView).toggleListening)},
		{keys: runeKeys('g'), label: "g", hint: "by process", desc: "per-process totals instead of sockets (on/off)", screens: scrConns,
			do: on((*connsView).toggleGroup)},
		{keys: runeKeys('d'), label: "d", hint: "dns", desc: "reverse DNS names for addresses (on/off; looked up in the background, cached)", screens: scrConns,
			do: on((*connsView).toggleDNS)},
		{keys: runeKeys('?'), label: "?", hint: "help", desc: "show this help (generated from the key map)", screens: scrConns, do: (*App).toggleHelp},
		{keys: runeKeys('q'), label: "q", hint: "quit", desc: "quit socktop", screens: scrConns, do: (*App).quit},
		{keys: specialKeys(tcell.KeyEnter), label: "Enter", hint: "apply", desc: "keep the filter and return to the table", screens: scrConnsFilter,
			do: func(a *App) { a.conns.endFilter() }},
		{keys: specialKeys(tcell.KeyEscape), label: "Esc", hint: "clear", desc: "clear the filter", screens: scrConnsFilter, do: on((*connsView).escape)},
	}
}

// connsOpenBinding is the dashboard's key for the screen, shown in the
// footer only when the agent serves connections.
func connsOpenBinding() binding {
	return binding{keys: runeKeys('c'), label: "c", hint: "conns", desc: "connections: every socket with its process, traffic, rates and RTT",
		screens: scrMain, when: func(a *App) bool { return a.h.has(wire.CapConnections) }, whenText: "agent advertises connections",
		do: func(a *App) { a.conns.show() }}
}
