package agent

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/socktop/socktop/agent/internal/proctraffic"
	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
	"google.golang.org/protobuf/encoding/protowire"
)

// processesKind is every process with its CPU share since the previous
// sample. The text dialects get upstream's ProcessList.
var processesKind = &kind{
	name: "processes", capability: wire.CapProcesses, features: processFeatures,
	v2:      &wire.Request{Body: &wire.Request_Processes{Processes: &wire.ProcessesRequest{}}},
	v2Query: func(r *wire.Request) query { return query{extras: extrasOf(r.GetProcesses().GetExtras())} },
	text:    dialect.Route{JSON: "processes", Command: "get_processes"},
	encode:  textOf(dialect.ReplyProcesses),
	open: func(a *Agent) source {
		return &processSource{cachedSource: cachedOf(a.cfg.ProcessesTTL, a.coll.processes), sampler: a.coll.procs,
			cmds: a.coll.commands, traffic: a.coll.traffic}
	},
	snapshot:      true,
	snapshotQuery: query{extras: extrasServed()}, // scripts grep the command lines, sort by traffic
	push: &pushSpec{floor: 200 * time.Millisecond, asked: (*wire.SubscribeRequest).GetProcessesMs,
		query: func(s *wire.SubscribeRequest) query { return query{extras: extrasOf(s.GetProcessExtras())} },
		kept: func(s *wire.Subscription, ms uint32, q query) {
			s.ProcessesMs = ms
			if q.extras != 0 {
				s.ProcessExtras = q.extras.message()
			}
		}},
}

// processFeatures: the per-process extras (ProcessExtras) this agent
// serves: the command line, the TCP traffic and the storage I/O, read from
// /proc and sock_diag.
func processFeatures(*Agent) []string {
	if extrasServed() == 0 {
		return nil
	}
	return []string{wire.CapProcessExtras}
}

// extras are the costly per-process fields a request asks for
// (wire.ProcessExtras), as bits; only those served are ever set.
type extras uint8

const (
	extraCommand extras = 1 << iota
	extraNet
	extraIO
	extraAll     = extraCommand | extraNet | extraIO
	extraTraffic = extraNet | extraIO
)

// extrasServed are the extras this agent serves: all of them on Linux.
func extrasServed() extras {
	if runtime.GOOS != "linux" {
		return 0
	}
	return extraAll
}

// extrasOf reads what a request asks of the extras this agent serves.
func extrasOf(e *wire.ProcessExtras) extras {
	var x extras
	if e.GetCommand() {
		x |= extraCommand
	}
	if e.GetNet() {
		x |= extraNet
	}
	if e.GetIo() {
		x |= extraIO
	}
	return x & extrasServed()
}

// message is the extras served, as a Subscription tells them.
func (x extras) message() *wire.ProcessExtras {
	return &wire.ProcessExtras{Command: x&extraCommand != 0, Net: x&extraNet != 0, Io: x&extraIO != 0}
}

// procAux travels with a process sample (sample.aux): what its extras
// are made from.
type procAux struct {
	// opened are the rows' stat openings, for the command lines (nil
	// when nobody asked for them lately).
	opened []uint32
	// traffic is the net and io extras, one per process of the whole
	// list (rows are its first entries).
	traffic trafficSample
}

// has reports whether the sample carries the net and io extras of x.
func (p *procAux) has(x extras) bool {
	var need proctraffic.Want
	if x&extraNet != 0 {
		need |= proctraffic.Net
	}
	if x&extraIO != 0 {
		need |= proctraffic.IO
	}
	return p != nil && p.traffic.want&need == need
}

// processSource is the shared process sample, and the same with the
// extras for the clients that ask for them (made from it once per sample
// and set of extras: a client that asks for nothing pays nothing for
// them). Between clients it lets go of the /proc files the sampler holds
// open.
type processSource struct {
	cachedSource
	sampler *procfs.ProcessSampler
	cmds    *commands
	traffic *traffic

	mu       sync.Mutex
	base     reply    // the sample the variants were made from
	lines    []string // its command lines, once asked
	variants [extraAll + 1]reply
}

func (s *processSource) get(ctx context.Context, q query) (reply, error) {
	x := q.extras & extraAll
	if x == 0 {
		return s.c.Get(ctx)
	}
	if x&extraCommand != 0 {
		s.cmds.asked.Store(time.Now().UnixNano())
	}
	if x&extraTraffic != 0 {
		s.traffic.ask(x)
	}
	r, err := s.c.Get(ctx)
	// A sample collected before anyone asked for net or io lacks them:
	// collect one that has them (twice at most: the first may join a
	// collection that began before the ask). Should it still lack them,
	// the rows say unknown.
	for try := 0; err == nil && try < 2 && !auxOf(r).has(x); try++ {
		r, err = s.c.Renew(ctx, func(r reply) bool { return auxOf(r).has(x) })
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base != r {
		s.base, s.lines, s.variants = r, nil, [extraAll + 1]reply{}
	}
	if v := s.variants[x]; v != nil {
		return v, nil
	}
	smp := r.(*sample[*wire.Processes])
	if x&extraCommand != 0 && s.lines == nil {
		s.lines = s.cmds.lines(smp)
	}
	var ex []proctraffic.Extras
	var tail []byte
	if aux := auxOf(r); aux != nil {
		ex = aux.traffic.ex
		if at := aux.traffic.netAt; x&extraNet != 0 && !at.IsZero() {
			tail = protowire.AppendTag(tail, processesNetSampledAtField, protowire.VarintType)
			tail = protowire.AppendVarint(tail, uint64(at.UnixMilli()))
		}
	}
	v, err := rowsWith(smp, tail, func(i int, b []byte) []byte {
		if x&extraCommand != 0 {
			b = appendCommand(b, s.lines[i])
		}
		if i < len(ex) {
			b = appendTraffic(b, x, &ex[i])
		}
		return b
	})
	if err != nil {
		return nil, err
	}
	s.variants[x] = v
	return v, nil
}

// auxOf is what a process sample's extras are made from (nil: nothing).
func auxOf(r reply) *procAux {
	if s, ok := r.(*sample[*wire.Processes]); ok {
		aux, _ := s.aux.(*procAux)
		return aux
	}
	return nil
}

// ProcessInfo's traffic fields (optional: present only when known), and
// Processes.net_sampled_at_ms (when they were read).
const (
	processesNetSampledAtField protowire.Number = 5

	processNetRxField   protowire.Number = 17
	processNetTxField   protowire.Number = 18
	processIOReadField  protowire.Number = 19
	processIOWriteField protowire.Number = 20
)

// appendTraffic appends the net and io fields of x that e knows.
func appendTraffic(b []byte, x extras, e *proctraffic.Extras) []byte {
	put := func(b []byte, f protowire.Number, v uint64) []byte {
		b = protowire.AppendTag(b, f, protowire.VarintType)
		return protowire.AppendVarint(b, v)
	}
	if x&extraNet != 0 && e.NetKnown {
		b = put(put(b, processNetRxField, e.NetRx), processNetTxField, e.NetTx)
	}
	if x&extraIO != 0 && e.IOKnown {
		b = put(put(b, processIOReadField, e.IORead), processIOWriteField, e.IOWrite)
	}
	return b
}

func (s *processSource) release() {
	s.sampler.Close()
	s.traffic.release()
}

// processes is this agent's process cache.
func (a *Agent) processes() *cache[reply] { return a.sharedCache(processesKind) }

// topProcessMaxAge bounds the age of the process sample a metrics sample
// takes its top process from. Kept under the sampler's stale limit, so an
// overview that asks only for metrics costs one process scan per this long,
// each measuring CPU since the previous one.
const topProcessMaxAge = 4 * time.Second

// topProcess is the busiest process of a recent process sample, scanning
// when the latest is older than topProcessMaxAge.
func (a *Agent) topProcess(ctx context.Context) *wire.ProcessInfo {
	c := a.processes()
	if c == nil {
		return nil
	}
	r, ok := c.Peek()
	if !ok || time.Since(time.UnixMilli(int64(r.message().(*wire.Processes).SampledAtMs))) > topProcessMaxAge {
		var err error
		if r, err = c.Get(ctx); err != nil {
			return nil
		}
	}
	var top *wire.ProcessInfo
	for _, p := range r.message().(*wire.Processes).Processes {
		if top == nil || p.CpuPercent > top.CpuPercent {
			top = p
		}
	}
	return top
}

func (c *collector) processes(ctx context.Context) (*sample[*wire.Processes], error) {
	c.groups.useFor(c.procs)
	ps, err := c.procs.Sample(ctx, c.procBuf)
	if err != nil {
		return nil, err
	}
	c.procBuf = ps
	s := newSample(c.processRows(ps))
	aux := &procAux{}
	if c.commands.wanted() {
		// Command lines are kept per process and read again when its
		// stat file is opened afresh: the sample says which are.
		aux.opened = make([]uint32, len(s.msg.Processes))
		for i := range aux.opened {
			aux.opened[i] = ps[i].StatOpened
		}
	}
	// Over the whole list, before processRows' cut: a process's totals
	// must not depend on where a client's list ends.
	aux.traffic = c.traffic.sample(ps)
	s.aux = aux
	c.mu.Lock()
	c.lastN = uint32(len(ps))
	c.mu.Unlock()
	return s, nil
}

// processRows converts a process sample to the wire list.
func (c *collector) processRows(ps []procfs.Process) *wire.Processes {
	boot := uint64(c.procs.BootTime())
	hz := c.fs.ClockTicks()
	// Lists are cut where a client would refuse them as implausible.
	ps = ps[:min(len(ps), wire.MaxProcesses)]
	// Two allocations for the whole list: the rows and the pointers to them.
	rows := make([]wire.ProcessInfo, len(ps))
	out := &wire.Processes{SampledAtMs: nowMS(), Processes: make([]*wire.ProcessInfo, len(ps)), TicksPerSecond: uint32(hz)}
	// Neighbouring processes mostly share an owner: one user lookup (a
	// lock and a clock read) per run of them.
	lastUID, user := uint32(0), ""
	for i := range ps {
		p := &ps[i]
		r := &rows[i]
		r.Pid, r.Ppid, r.Name, r.State = uint32(p.PID), uint32(p.PPID), validText(p.Name), stateString(p.State)
		if i == 0 || p.UID != lastUID {
			lastUID, user = p.UID, validText(c.users.name(p.UID))
		}
		r.Uid, r.User = p.UID, user
		r.CpuPercent, r.RssBytes, r.VirtualBytes = float32(p.CPU), p.RSS, p.VSize
		r.Threads, r.CpuTicks, r.Nice = uint32(p.Threads), p.UTime+p.STime, p.Nice
		if hz > 0 {
			r.StartTime = boot + p.StartTime/hz
		}
		out.Processes[i] = r
	}
	if c.groups != nil {
		c.groups.nameRows(ps, rows)
	}
	return out
}

// stateStrings avoids allocating a one-letter string per process.
var stateStrings = func() (t [256]string) {
	for i := range t {
		t[i] = string(rune(i))
	}
	return t
}()

func stateString(b byte) string { return stateStrings[b] }
