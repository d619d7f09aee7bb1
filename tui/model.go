package tui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// historyLen is how many samples each graph keeps: enough for a 200-column
// braille graph (two samples a cell).
const historyLen = 400

// connPhase is where a connection is in its life.
type connPhase int

const (
	phaseConnecting connPhase = iota
	phaseConnected
	phaseWaiting // waiting to reconnect after a failure
	phaseAuth    // refused: token missing or wrong; not retried blindly
	phasePin     // refused: certificate fingerprint mismatch; not retried
	phaseFailed  // other permanent failure (bad URL, protocol version)
)

// connStatus is what the header shows about the connection.
type connStatus struct {
	phase    connPhase
	attempt  int       // failed attempts since the last success
	retryAt  time.Time // when phaseWaiting ends
	err      error     // the last failure
	rtt      time.Duration
	dialect  string
	tls      bool
	pinned   bool
	hasToken bool
}

// ifaceState is one network interface's rate history.
type ifaceState struct {
	name           string
	rx, tx         *widget.Ring
	lastRx, lastTx uint64
	peakRx, peakTx float64
	seen           bool
}

// diskRate is one disk's read and write rates from two samples.
type diskRate struct{ read, write float64 }

// procRow is one row of the process table, derived from the agent's list.
type procRow struct {
	pid, ppid uint32
	name      string
	user      string
	state     string
	cpu       float64
	rss       uint64
	memPct    float64
	threads   uint32
	start     uint64 // start time (Unix s): a signal names the process by pid and this
	depth     int    // tree depth when the tree view is on
	prefix    string // tree branch drawing
}

// host is everything known about one agent. It is only touched on the UI
// goroutine: watchers hand it new samples through QueueUpdateDraw.
type host struct {
	label string // profile name or host as the user typed it
	url   string

	hello *wire.Hello
	caps  map[string]bool

	metrics    *wire.Metrics
	metricsAt  time.Time // local time the sample arrived
	cpu        *widget.Ring
	cores      []*widget.Ring
	mem, swap  *widget.Ring
	netRx      *widget.Ring // all interfaces together, bytes/s
	netTx      *widget.Ring
	ifaces     map[string]*ifaceState
	ifaceOrder []string
	lastNetAt  uint64 // sampled_at_ms of the previous sample
	netPeakRx  float64
	netPeakTx  float64

	disks      *wire.Disks
	disksAt    time.Time
	diskRates  map[string]diskRate
	prevDisks  map[string]*wire.Disk
	prevDiskMS uint64

	procs   *wire.Processes
	procsAt time.Time
	rows    []procRow // unsorted, derived from procs

	status connStatus

	// the detail view's process, while it is open
	detailPID  uint32
	detail     *wire.DetailedProcess
	detailAt   time.Time
	detailErr  error
	detailCPU  *widget.Ring
	detailMem  *widget.Ring
	journal    *wire.Journal
	journalErr error
}

// openDetail starts a fresh history for pid.
func (h *host) openDetail(pid uint32) {
	h.detailPID, h.detail, h.detailErr, h.journal, h.journalErr = pid, nil, nil, nil, nil
	h.detailCPU, h.detailMem = widget.NewRing(historyLen), widget.NewRing(historyLen)
}

func (h *host) addDetail(pid uint32, d *wire.ProcessDetail, err error, now time.Time) {
	if pid != h.detailPID {
		return // an answer for a view already closed
	}
	h.detailErr = err
	if err != nil {
		return
	}
	h.detail, h.detailAt = d.GetProcess(), now
	h.detailCPU.Push(float64(h.detail.GetCpuUsage()))
	h.detailMem.Push(float64(h.detail.GetMemBytes()))
}

func (h *host) addJournal(pid uint32, j *wire.Journal, err error) {
	if pid != h.detailPID {
		return
	}
	h.journal, h.journalErr = j, err
}

func newHost(label, url string) *host {
	return &host{
		label: label, url: url,
		cpu: widget.NewRing(historyLen), mem: widget.NewRing(historyLen), swap: widget.NewRing(historyLen),
		netRx: widget.NewRing(historyLen), netTx: widget.NewRing(historyLen),
		ifaces: map[string]*ifaceState{}, diskRates: map[string]diskRate{},
	}
}

// upstreamCaps is what an agent that never said Hello (upstream's command
// dialect) serves.
var upstreamCaps = []string{wire.CapMetrics, wire.CapDisks, wire.CapProcesses, wire.CapProcessDetail, wire.CapJournal}

func (h *host) setHello(hl *wire.Hello) {
	h.hello = hl
	h.caps = map[string]bool{}
	caps := hl.GetCapabilities()
	if len(caps) == 0 {
		caps = upstreamCaps
	}
	for _, c := range caps {
		h.caps[c] = true
	}
}

// has reports whether the agent serves capability c. Before Hello the
// basic panes are assumed so the layout does not jump.
func (h *host) has(c string) bool {
	if h.caps == nil {
		return slices.Contains(upstreamCaps, c)
	}
	return h.caps[c]
}

func (h *host) hostname() string {
	if n := h.metrics.GetHostname(); n != "" {
		return n
	}
	if n := h.hello.GetHostname(); n != "" {
		return n
	}
	return h.label
}

// addMetrics folds a metrics sample into the histories and rates.
func (h *host) addMetrics(m *wire.Metrics, now time.Time) {
	h.metrics, h.metricsAt = m, now
	h.cpu.Push(float64(m.GetCpuTotal()))
	pc := m.GetCpuPerCore()
	if len(h.cores) != len(pc) {
		h.cores = make([]*widget.Ring, len(pc))
		for i := range h.cores {
			h.cores[i] = widget.NewRing(historyLen)
		}
	}
	for i, v := range pc {
		h.cores[i].Push(float64(v))
	}
	if t := m.GetMemTotal(); t > 0 {
		h.mem.Push(100 * float64(m.GetMemUsed()) / float64(t))
	}
	if t := m.GetSwapTotal(); t > 0 {
		h.swap.Push(100 * float64(m.GetSwapUsed()) / float64(t))
	}
	h.addNet(m)
}

func (h *host) addNet(m *wire.Metrics) {
	at := m.GetSampledAtMs()
	if at == 0 {
		at = uint64(h.metricsAt.UnixMilli())
	}
	dt := float64(at-h.lastNetAt) / 1000
	valid := h.lastNetAt != 0 && at > h.lastNetAt
	h.lastNetAt = at
	var sumRx, sumTx float64
	order := h.ifaceOrder[:0]
	for _, n := range m.GetNetworks() {
		name := n.GetName()
		is := h.ifaces[name]
		if is == nil {
			is = &ifaceState{name: name, rx: widget.NewRing(historyLen), tx: widget.NewRing(historyLen)}
			h.ifaces[name] = is
		}
		order = append(order, name)
		rx, tx := n.GetRxBytes(), n.GetTxBytes()
		if valid && is.seen && rx >= is.lastRx && tx >= is.lastTx {
			r, t := float64(rx-is.lastRx)/dt, float64(tx-is.lastTx)/dt
			is.rx.Push(r)
			is.tx.Push(t)
			is.peakRx, is.peakTx = max(is.peakRx, r), max(is.peakTx, t)
			if name != "lo" {
				sumRx += r
				sumTx += t
			}
		}
		is.lastRx, is.lastTx, is.seen = rx, tx, true
	}
	h.ifaceOrder = order
	if valid {
		h.netRx.Push(sumRx)
		h.netTx.Push(sumTx)
		h.netPeakRx, h.netPeakTx = max(h.netPeakRx, sumRx), max(h.netPeakTx, sumTx)
	}
}

// addDisks stores a disks sample and computes I/O rates against the last.
func (h *host) addDisks(d *wire.Disks, now time.Time) {
	h.disks, h.disksAt = d, now
	at := d.GetSampledAtMs()
	prev := h.prevDisks
	dt := float64(at-h.prevDiskMS) / 1000
	h.prevDisks = make(map[string]*wire.Disk, len(d.GetDisks()))
	for _, dk := range d.GetDisks() {
		h.prevDisks[dk.GetName()] = dk
		if p, ok := prev[dk.GetName()]; ok && at > h.prevDiskMS && h.prevDiskMS != 0 &&
			dk.GetReadBytes() >= p.GetReadBytes() && dk.GetWriteBytes() >= p.GetWriteBytes() {
			h.diskRates[dk.GetName()] = diskRate{
				read:  float64(dk.GetReadBytes()-p.GetReadBytes()) / dt,
				write: float64(dk.GetWriteBytes()-p.GetWriteBytes()) / dt,
			}
		}
	}
	h.prevDiskMS = at
}

// addProcs stores a process list and derives the table rows.
func (h *host) addProcs(p *wire.Processes, now time.Time) {
	h.procs, h.procsAt = p, now
	memTotal := h.metrics.GetMemTotal()
	if memTotal == 0 {
		memTotal = h.hello.GetMemTotal()
	}
	list := p.GetProcesses()
	if cap(h.rows) < len(list) {
		h.rows = make([]procRow, len(list))
	}
	h.rows = h.rows[:len(list)]
	for i, pi := range list {
		r := &h.rows[i]
		*r = procRow{
			pid: pi.GetPid(), ppid: pi.GetPpid(), name: pi.GetName(), user: pi.GetUser(),
			state: pi.GetState(), cpu: float64(pi.GetCpuPercent()), rss: pi.GetRssBytes(),
			threads: pi.GetThreads(), start: pi.GetStartTime(),
		}
		if r.user == "" && pi.GetUid() != 0 {
			r.user = strconv.FormatUint(uint64(pi.GetUid()), 10)
		}
		if memTotal > 0 {
			r.memPct = 100 * float64(r.rss) / float64(memTotal)
		}
	}
}

// hasTreeData reports whether the process list carries parent pids (the
// upstream list does not, so no tree can be drawn from it).
func (h *host) hasTreeData() bool {
	for i := range h.rows {
		if h.rows[i].ppid != 0 {
			return true
		}
	}
	return false
}

// lastSample is when any data last arrived.
func (h *host) lastSample() time.Time {
	t := h.metricsAt
	if h.procsAt.After(t) {
		t = h.procsAt
	}
	return t
}

// sortColumn identifies a process table column.
type sortColumn int

const (
	colPID sortColumn = iota
	colUser
	colName
	colState
	colCPU
	colMem
	colMemPct
	colThreads
	numColumns
)

var columnNames = [numColumns]string{"PID", "USER", "NAME", "S", "CPU%", "MEM", "MEM%", "THR"}

// defaultDescending reports whether a column sorts biggest first when
// chosen, as htop does for CPU and memory.
func (c sortColumn) defaultDescending() bool {
	return c == colCPU || c == colMem || c == colMemPct || c == colThreads
}

func compareRows(a, b *procRow, c sortColumn) int {
	var r int
	switch c {
	case colPID:
		r = cmp.Compare(a.pid, b.pid)
	case colUser:
		r = compareFold(a.user, b.user)
	case colName:
		r = compareFold(a.name, b.name)
	case colState:
		r = compareFold(a.state, b.state)
	case colCPU:
		r = cmp.Compare(a.cpu, b.cpu)
	case colMem, colMemPct:
		r = cmp.Compare(a.rss, b.rss)
	case colThreads:
		r = cmp.Compare(a.threads, b.threads)
	}
	if r == 0 {
		r = cmp.Compare(a.pid, b.pid)
	}
	return r
}

// compareFold compares case-insensitively without allocating.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if la, lb := unicode.ToLower(ra), unicode.ToLower(rb); la != lb {
			return cmp.Compare(la, lb)
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// procFilter is a parsed `/` filter: a substring of the name or command,
// or pid:N / user:NAME.
type procFilter struct {
	text string
	pid  uint32
	user string
	kind int // 0 none, 1 text, 2 pid, 3 user
}

func parseFilter(s string) procFilter {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return procFilter{}
	case strings.HasPrefix(strings.ToLower(s), "pid:"):
		v := strings.TrimSpace(s[4:])
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return procFilter{kind: 1, text: strings.ToLower(s)}
		}
		return procFilter{kind: 2, pid: uint32(n)}
	case strings.HasPrefix(strings.ToLower(s), "user:"):
		return procFilter{kind: 3, user: strings.ToLower(strings.TrimSpace(s[5:]))}
	}
	return procFilter{kind: 1, text: strings.ToLower(s)}
}

func (f procFilter) match(r *procRow) bool {
	switch f.kind {
	case 1:
		return containsFold(r.name, f.text) || strings.Contains(strconv.FormatUint(uint64(r.pid), 10), f.text)
	case 2:
		return r.pid == f.pid
	case 3:
		return strings.EqualFold(r.user, f.user) || (f.user != "" && containsFold(r.user, f.user))
	}
	return true
}

// containsFold is a case-insensitive substring test; needle is lower case.
func containsFold(hay, needle string) bool {
	if needle == "" {
		return true
	}
	for i := 0; i+len(needle) <= len(hay); i++ {
		if strings.EqualFold(hay[i:i+len(needle)], needle) {
			return true
		}
	}
	return false
}

// view builds the visible row order: filtered, sorted, and in tree mode
// depth-first under each parent with siblings sorted. It reuses dst.
func buildView(dst []*procRow, rows []procRow, f procFilter, col sortColumn, desc, tree bool) []*procRow {
	dst = dst[:0]
	less := func(a, b *procRow) int {
		r := compareRows(a, b, col)
		if desc {
			return -r
		}
		return r
	}
	if !tree {
		for i := range rows {
			if f.match(&rows[i]) {
				dst = append(dst, &rows[i])
			}
		}
		slices.SortFunc(dst, less)
		return dst
	}
	byPID := make(map[uint32]*procRow, len(rows))
	for i := range rows {
		byPID[rows[i].pid] = &rows[i]
	}
	children := make(map[uint32][]*procRow, len(rows)/2)
	var roots []*procRow
	for i := range rows {
		r := &rows[i]
		if _, ok := byPID[r.ppid]; ok && r.ppid != r.pid {
			children[r.ppid] = append(children[r.ppid], r)
		} else {
			roots = append(roots, r)
		}
	}
	// With a filter, keep a row when it or any descendant matches, so the
	// matches stay in context.
	keep := map[uint32]bool{}
	if f.kind != 0 {
		var mark func(r *procRow, seen int) bool
		mark = func(r *procRow, seen int) bool {
			k := f.match(r)
			if seen < 512 { // bounded depth: a ppid cycle cannot loop
				for _, c := range children[r.pid] {
					if mark(c, seen+1) {
						k = true
					}
				}
			}
			keep[r.pid] = k
			return k
		}
		for _, r := range roots {
			mark(r, 0)
		}
	}
	slices.SortFunc(roots, less)
	var walk func(r *procRow, depth int, prefix string, last bool)
	walk = func(r *procRow, depth int, prefix string, last bool) {
		if f.kind != 0 && !keep[r.pid] {
			return
		}
		r.depth = depth
		switch {
		case depth == 0:
			r.prefix = ""
		case last:
			r.prefix = prefix + "└─"
		default:
			r.prefix = prefix + "├─"
		}
		dst = append(dst, r)
		if depth >= 512 {
			return
		}
		kids := children[r.pid]
		slices.SortFunc(kids, less)
		next := prefix
		if depth > 0 {
			if last {
				next += "  "
			} else {
				next += "│ "
			}
		}
		visible := kids
		if f.kind != 0 {
			visible = visible[:0:0]
			for _, k := range kids {
				if keep[k.pid] {
					visible = append(visible, k)
				}
			}
		}
		for i, k := range visible {
			walk(k, depth+1, next, i == len(visible)-1)
		}
	}
	for i, r := range roots {
		walk(r, 0, "", i == len(roots)-1)
	}
	return dst
}
