// Package model is what the dashboard knows about each agent and how it
// learns it: a Host holds one agent's samples and the histories and rates
// derived from them; a Watcher owns the agent's connection and fetches or
// subscribes to what the visible screens need. It draws nothing.
package model

import (
	"slices"
	"strconv"
	"time"

	"github.com/socktop/socktop/wire"
)

// HistoryLen is how many samples each graph keeps: enough for a 200-column
// braille graph (two samples a cell).
const HistoryLen = 400

// Bounds on what one agent can make the dashboard remember, whatever it
// sends: interfaces not seen for IfaceForget are forgotten, and no more
// than MaxIfaces interfaces or MaxCores per-core histories are kept.
const (
	IfaceForget = 60 * time.Second
	MaxIfaces   = 256
	MaxCores    = 1024
)

// Iface is one network interface's rate history.
type Iface struct {
	Name           string
	Rx, Tx         *Ring
	PeakRx, PeakTx float64
	lastRx, lastTx uint64
	seenAt         uint64 // sample time (ms) it was last listed
	seen           bool
}

// DiskRate is one disk's read and write rates from two samples.
type DiskRate struct{ Read, Write float64 }

// Host is everything known about one agent. It is only touched on the UI
// goroutine: the watcher hands it new samples through the shell's post.
type Host struct {
	Label string // profile name or host as the user typed it
	URL   string // with any token hidden

	Hello *wire.Hello
	caps  map[string]bool

	Metrics    *wire.Metrics
	MetricsAt  time.Time // local time the sample arrived
	CPU        *Ring
	Cores      []*Ring
	Mem, Swap  *Ring
	NetRx      *Ring // all interfaces but lo together, bytes/s
	NetTx      *Ring
	Ifaces     map[string]*Iface
	IfaceOrder []string // this sample's interfaces, in the agent's order
	NetPeakRx  float64
	NetPeakTx  float64
	lastNetAt  uint64 // sampled_at_ms of the previous sample

	Disks      *wire.Disks
	DisksAt    time.Time
	DiskRates  map[string]DiskRate
	prevDisks  map[string]*wire.Disk
	prevDiskMS uint64

	Procs   *wire.Processes
	ProcsAt time.Time
	Rows    []ProcRow // unsorted, derived from Procs
	// HasCommands: some row carries its command line; HasNice: some row
	// a nice value other than 0 (the field is not sent by older agents).
	HasCommands, HasNice bool
	// HasTraffic: some row carries TCP or I/O counters (ProcessExtras net
	// and io were asked for and the agent knows them).
	HasTraffic bool
	// prevTraffic is each process's counters in the previous list that
	// had them, taken at prevTrafficMS, for the rates.
	prevTraffic   map[uint32]procCounters
	prevTrafficMS uint64

	Status Status

	// the detail view's process, while it is open
	DetailPID uint32
	Detail    *wire.DetailedProcess
	DetailAt  time.Time
	DetailErr error
	DetailCPU *Ring
	DetailMem *Ring
	// the detail's process's TCP and storage rates (bytes/s) from the
	// process lists asked while it is open (NaN: unknown then)
	DetailNetIn, DetailNetOut, DetailDiskRead, DetailDiskWrite *Ring
	Journal                                                    *wire.Journal
	JournalErr                                                 error

	// Conns is the socket table while a screen shows it.
	Conns ConnModel
	// Containers are the containers and services while a screen (or the
	// fleet's tile) shows them.
	Containers ContainerModel

	// What the agent remembers (travel.go): the span the graphs show, its
	// timeline, and the moment the time cursor is on (Unix ms on the
	// agent's clock; 0 is live).
	Zoom     Zoom
	Timeline *Timeline
	CursorAt uint64
	// firstAt and lastAt are the times of the graphs' oldest and newest
	// metrics samples; step the gap between the last two.
	firstAt, lastAt uint64
	step            time.Duration

	alerts *alertFeed // nil: no alert rules (alerts.go)
}

// NewHost is an empty host called label, at url.
func NewHost(label, url string) *Host {
	return &Host{
		Label: label, URL: RedactURL(url),
		CPU: NewRing(HistoryLen), Mem: NewRing(HistoryLen), Swap: NewRing(HistoryLen),
		NetRx: NewRing(HistoryLen), NetTx: NewRing(HistoryLen),
		Ifaces: map[string]*Iface{}, DiskRates: map[string]DiskRate{},
	}
}

// UpstreamCaps is what an agent that never said Hello (upstream's command
// dialect) serves.
var UpstreamCaps = []string{wire.CapMetrics, wire.CapDisks, wire.CapProcesses, wire.CapProcessDetail, wire.CapJournal}

// SetHello takes the agent's handshake reply.
func (h *Host) SetHello(hl *wire.Hello) {
	h.Hello = hl
	h.caps = map[string]bool{}
	caps := hl.GetCapabilities()
	if len(caps) == 0 {
		caps = UpstreamCaps
	}
	for _, c := range caps {
		h.caps[c] = true
	}
}

// Has reports whether the agent serves capability c. Before Hello the
// basic panes are assumed so the layout does not jump.
func (h *Host) Has(c string) bool {
	if h.caps == nil {
		return slices.Contains(UpstreamCaps, c)
	}
	return h.caps[c]
}

// Hostname is the agent's own name for its machine, else the label.
func (h *Host) Hostname() string {
	if n := h.Metrics.GetHostname(); n != "" {
		return n
	}
	if n := h.Hello.GetHostname(); n != "" {
		return n
	}
	return h.Label
}

// LastSample is when any data last arrived.
func (h *Host) LastSample() time.Time {
	t := h.MetricsAt
	if h.ProcsAt.After(t) {
		t = h.ProcsAt
	}
	return t
}

// StaleAge is the age of the data when it is stale (older than
// staleAfter, or the connection is down), else 0.
func (h *Host) StaleAge(now time.Time, staleAfter time.Duration) time.Duration {
	last := h.LastSample()
	if last.IsZero() {
		return 0
	}
	age := now.Sub(last)
	if h.Status.Phase != PhaseConnected || age > staleAfter {
		return max(age, time.Millisecond)
	}
	return 0
}

// Uptime is how long the agent's machine has been up, from the sample or
// the boot time in Hello; 0 when unknown.
func (h *Host) Uptime(now time.Time) float64 {
	up := h.Metrics.GetUptimeS()
	if up == 0 && h.Hello.GetBootTime() > 0 {
		up = float64(now.Unix() - int64(h.Hello.GetBootTime()))
	}
	return up
}

// OpenDetail starts a fresh history for pid.
func (h *Host) OpenDetail(pid uint32) {
	h.DetailPID, h.Detail, h.DetailErr, h.Journal, h.JournalErr = pid, nil, nil, nil, nil
	h.DetailCPU, h.DetailMem = NewRing(HistoryLen), NewRing(HistoryLen)
	h.DetailNetIn, h.DetailNetOut = NewRing(HistoryLen), NewRing(HistoryLen)
	h.DetailDiskRead, h.DetailDiskWrite = NewRing(HistoryLen), NewRing(HistoryLen)
}

// CloseDetail forgets the detail view's process.
func (h *Host) CloseDetail() { h.DetailPID = 0 }

// AddDetail takes a process detail answer for pid (late answers for a view
// already closed are dropped).
func (h *Host) AddDetail(pid uint32, d *wire.ProcessDetail, err error, now time.Time) {
	if pid != h.DetailPID || h.DetailCPU == nil {
		return
	}
	h.DetailErr = err
	if err != nil {
		return
	}
	h.Detail, h.DetailAt = d.GetProcess(), now
	h.DetailCPU.Push(float64(h.Detail.GetCpuUsage()))
	h.DetailMem.Push(float64(h.Detail.GetMemBytes()))
}

// AddJournal takes a journal answer for pid.
func (h *Host) AddJournal(pid uint32, j *wire.Journal, err error) {
	if pid != h.DetailPID {
		return
	}
	h.Journal, h.JournalErr = j, err
}

// AddMetrics folds a metrics sample into the histories and rates.
func (h *Host) AddMetrics(m *wire.Metrics, now time.Time) {
	h.Metrics, h.MetricsAt = m, now
	at := m.GetSampledAtMs()
	if at == 0 {
		at = uint64(now.UnixMilli())
	}
	if h.CPU.Len() > 0 && at == h.lastAt {
		// the same sample again (a fetch and the subscription's first
		// push can carry one cached sample): one point in the graphs
		return
	}
	if h.CPU.Len() == 0 {
		h.firstAt = at
	} else if at > h.lastAt {
		h.step = time.Duration(at-h.lastAt) * time.Millisecond
	}
	h.lastAt = at
	h.CPU.Push(float64(m.GetCpuTotal()))
	pc := m.GetCpuPerCore()
	pc = pc[:min(len(pc), MaxCores)]
	if len(h.Cores) != len(pc) {
		h.Cores = make([]*Ring, len(pc))
		for i := range h.Cores {
			h.Cores[i] = NewRing(HistoryLen)
		}
	}
	for i, v := range pc {
		h.Cores[i].Push(float64(v))
	}
	if t := m.GetMemTotal(); t > 0 {
		h.Mem.Push(100 * float64(m.GetMemUsed()) / float64(t))
	}
	if t := m.GetSwapTotal(); t > 0 {
		h.Swap.Push(100 * float64(m.GetSwapUsed()) / float64(t))
	}
	h.alertMetrics(m, h.addNet(m), now)
}

// addNet folds in the interfaces' counters; it reports whether the sample
// gave new rates.
func (h *Host) addNet(m *wire.Metrics) bool {
	at := m.GetSampledAtMs()
	if at == 0 {
		at = uint64(h.MetricsAt.UnixMilli())
	}
	dt := float64(at-h.lastNetAt) / 1000
	valid := h.lastNetAt != 0 && at > h.lastNetAt
	h.lastNetAt = at
	var sumRx, sumTx float64
	order := h.IfaceOrder[:0]
	for _, n := range m.GetNetworks() {
		name := n.GetName()
		is := h.Ifaces[name]
		if is == nil {
			if len(h.Ifaces) >= MaxIfaces {
				h.makeRoom(at)
			}
			if len(h.Ifaces) >= MaxIfaces {
				continue // full of this sample's interfaces: this one is not followed
			}
			is = &Iface{Name: name, Rx: NewRing(HistoryLen), Tx: NewRing(HistoryLen)}
			h.Ifaces[name] = is
		}
		order = append(order, name)
		rx, tx := n.GetRxBytes(), n.GetTxBytes()
		if valid && is.seen && rx >= is.lastRx && tx >= is.lastTx {
			r, t := float64(rx-is.lastRx)/dt, float64(tx-is.lastTx)/dt
			is.Rx.Push(r)
			is.Tx.Push(t)
			is.PeakRx, is.PeakTx = max(is.PeakRx, r), max(is.PeakTx, t)
			if name != "lo" {
				sumRx += r
				sumTx += t
			}
		}
		is.lastRx, is.lastTx, is.seen, is.seenAt = rx, tx, true, at
	}
	h.IfaceOrder = order
	if len(h.Ifaces) > len(order) {
		h.forgetIfaces(at)
	}
	if valid {
		h.NetRx.Push(sumRx)
		h.NetTx.Push(sumTx)
		h.NetPeakRx, h.NetPeakTx = max(h.NetPeakRx, sumRx), max(h.NetPeakTx, sumTx)
	}
	return valid
}

// forgetIfaces drops the interfaces not listed for IfaceForget before at.
func (h *Host) forgetIfaces(at uint64) {
	for name, is := range h.Ifaces {
		if at > is.seenAt && at-is.seenAt > uint64(IfaceForget/time.Millisecond) {
			delete(h.Ifaces, name)
		}
	}
}

// makeRoom, when MaxIfaces are followed, forgets the stale ones and, if
// that is not enough, every one this sample (taken at at) does not list:
// what the agent lists now wins over what it listed before.
func (h *Host) makeRoom(at uint64) {
	if h.forgetIfaces(at); len(h.Ifaces) < MaxIfaces {
		return
	}
	for name, is := range h.Ifaces {
		if is.seenAt != at {
			delete(h.Ifaces, name)
		}
	}
}

// AddDisks stores a disks sample and computes I/O rates against the last;
// disks that are gone lose their rates.
func (h *Host) AddDisks(d *wire.Disks, now time.Time) {
	h.Disks, h.DisksAt = d, now
	at := d.GetSampledAtMs()
	prev, prevRates := h.prevDisks, h.DiskRates
	dt := float64(at-h.prevDiskMS) / 1000
	h.prevDisks = make(map[string]*wire.Disk, len(d.GetDisks()))
	h.DiskRates = make(map[string]DiskRate, len(d.GetDisks()))
	for _, dk := range d.GetDisks() {
		name := dk.GetName()
		h.prevDisks[name] = dk
		if p, ok := prev[name]; ok && at > h.prevDiskMS && h.prevDiskMS != 0 &&
			dk.GetReadBytes() >= p.GetReadBytes() && dk.GetWriteBytes() >= p.GetWriteBytes() {
			h.DiskRates[name] = DiskRate{
				Read:  float64(dk.GetReadBytes()-p.GetReadBytes()) / dt,
				Write: float64(dk.GetWriteBytes()-p.GetWriteBytes()) / dt,
			}
		} else if r, ok := prevRates[name]; ok {
			h.DiskRates[name] = r
		}
	}
	h.prevDiskMS = at
	h.alertDisks(d, now)
}

// AddProcs stores a process list and derives the table rows.
func (h *Host) AddProcs(p *wire.Processes, now time.Time) {
	h.Procs, h.ProcsAt = p, now
	memTotal := h.Metrics.GetMemTotal()
	if memTotal == 0 {
		memTotal = h.Hello.GetMemTotal()
	}
	list := p.GetProcesses()
	if cap(h.Rows) < len(list) {
		h.Rows = make([]ProcRow, len(list))
	}
	h.Rows = h.Rows[:len(list)]
	h.HasCommands, h.HasNice, h.HasTraffic = false, false, false
	at := p.GetSampledAtMs()
	// The agent may refresh the TCP totals less often than the list
	// (PROTOCOL.md §5.3): their rates go by when they were read; an agent
	// that does not say read them with the list.
	netAt := p.GetNetSampledAtMs()
	if netAt == 0 {
		netAt = at
	}
	prev, prevMS := h.prevTraffic, h.prevTrafficMS
	var next map[uint32]procCounters
	for i, pi := range list {
		r := &h.Rows[i]
		*r = ProcRow{
			PID: pi.GetPid(), PPID: pi.GetPpid(), Name: pi.GetName(), User: pi.GetUser(),
			State: pi.GetState(), CPU: float64(pi.GetCpuPercent()), RSS: pi.GetRssBytes(),
			Threads: pi.GetThreads(), Start: pi.GetStartTime(), Container: pi.GetContainer(),
			Command: pi.GetCommand(), Nice: pi.GetNice(), Ticks: pi.GetCpuTicks(),
		}
		h.HasCommands = h.HasCommands || r.Command != ""
		h.HasNice = h.HasNice || r.Nice != 0
		if r.User == "" && pi.GetUid() != 0 {
			r.User = strconv.FormatUint(uint64(pi.GetUid()), 10)
		}
		if memTotal > 0 {
			r.MemPct = memShare(r.RSS, memTotal)
		}
		r.NetIn, r.NetOut, r.DiskRead, r.DiskWrite = nan, nan, nan, nan
		if pc, ok := countersOf(pi, netAt); ok {
			h.HasTraffic = true
			if next == nil {
				next = make(map[uint32]procCounters, len(list))
			}
			if was, ok := prev[r.PID]; ok {
				if at > prevMS {
					r.DiskRead, r.DiskWrite = pc.ioRates(was, float64(at-prevMS)/1000)
				}
				pc.netRates(was)
			}
			r.NetIn, r.NetOut = pc.netIn, pc.netOut
			next[r.PID] = pc
		}
		if r.PID == h.DetailPID && h.DetailNetIn != nil && next != nil {
			h.DetailNetIn.Push(r.NetIn)
			h.DetailNetOut.Push(r.NetOut)
			h.DetailDiskRead.Push(r.DiskRead)
			h.DetailDiskWrite.Push(r.DiskWrite)
		}
	}
	if next != nil || at > prevMS+uint64(trafficForget/time.Millisecond) {
		// a list without counters (the columns went off screen) keeps the
		// last ones for a while, so rates resume at once when they return
		h.prevTraffic, h.prevTrafficMS = next, at
	}
	h.alertProcs(p, now)
}

// trafficForget is how long counters are kept across lists without them.
const trafficForget = 30 * time.Second

// procCounters is one process's cumulative TCP and storage counters;
// start (its start time) tells a reused pid from the process before.
// netAt is when its TCP totals were read (ms), netIn and netOut the rates
// they gave (NaN: none yet).
type procCounters struct {
	start               uint64
	rx, tx, read, wrote uint64
	net, io             bool // which are known
	netAt               uint64
	netIn, netOut       float64
}

func countersOf(pi *wire.ProcessInfo, netAt uint64) (procCounters, bool) {
	c := procCounters{start: pi.GetStartTime(), rx: pi.GetNetRxBytes(), tx: pi.GetNetTxBytes(),
		read: pi.GetIoReadBytes(), wrote: pi.GetIoWriteBytes(),
		net: pi.NetRxBytes != nil && pi.NetTxBytes != nil, io: pi.IoReadBytes != nil && pi.IoWriteBytes != nil,
		netAt: netAt, netIn: nan, netOut: nan}
	return c, c.net || c.io
}

// counterRate is a counter's per-second rate from then to now over dt
// seconds; NaN for a counter that went backwards (the agent started its
// totals over).
func counterRate(now, then uint64, dt float64) float64 {
	if now < then || dt <= 0 {
		return nan
	}
	return float64(now-then) / dt
}

// ioRates are the storage rates since was, dt seconds before; NaN for a
// counter unknown in either or another process under the same pid.
func (c *procCounters) ioRates(was procCounters, dt float64) (read, write float64) {
	if c.start != was.start || !c.io || !was.io {
		return nan, nan
	}
	return counterRate(c.read, was.read, dt), counterRate(c.wrote, was.wrote, dt)
}

// netRates sets the TCP rates since was's totals: over the time between
// the two readings; the same reading (the agent reused its socket dump)
// keeps was's rates and totals, so the next reading's rate covers the
// whole time since.
func (c *procCounters) netRates(was procCounters) {
	if c.start != was.start || !c.net || !was.net {
		return
	}
	switch {
	case c.netAt == was.netAt:
		c.rx, c.tx, c.netIn, c.netOut = was.rx, was.tx, was.netIn, was.netOut
	case c.netAt > was.netAt:
		dt := float64(c.netAt-was.netAt) / 1000
		c.netIn, c.netOut = counterRate(c.rx, was.rx, dt), counterRate(c.tx, was.tx, dt)
	}
}

// TicksPerSecond is the unit of the process list's CPU ticks (USER_HZ);
// 0 when the agent did not say (upstream's list has no ticks).
func (h *Host) TicksPerSecond() uint32 { return h.Procs.GetTicksPerSecond() }

// CoreCount is how many CPUs the agent's machine has: Hello's count, else
// the per-core list's length; 0 when unknown.
func (h *Host) CoreCount() int {
	if c := h.Hello.GetCores(); c > 0 && c <= MaxCores {
		return int(c)
	}
	return len(h.Cores)
}

// memShare is rss as a percentage of total; NaN (drawn "-") when rss is
// more than the machine has, which no resident set can be.
func memShare(rss, total uint64) float64 {
	if rss > total {
		return nan
	}
	return 100 * float64(rss) / float64(total)
}

// HasTreeData reports whether the process list carries parent pids (the
// upstream list does not, so no tree can be drawn from it).
func (h *Host) HasTreeData() bool {
	for i := range h.Rows {
		if h.Rows[i].PPID != 0 {
			return true
		}
	}
	return false
}

// AddConns folds a connections answer in.
func (h *Host) AddConns(cs *wire.Connections, err error, now time.Time, maxGap time.Duration) {
	if err != nil {
		h.Conns.Err = err
		return
	}
	h.Conns.Add(cs, now, maxGap)
}
