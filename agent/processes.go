package agent

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
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
		return &processSource{cachedSource: cachedOf(a.cfg.ProcessesTTL, a.coll.processes), sampler: a.coll.procs, cmds: a.coll.commands}
	},
	snapshot:      true,
	snapshotQuery: query{extras: extraCommand}, // scripts grep the command lines
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
// serves: the command line, read from /proc.
func processFeatures(*Agent) []string {
	if runtime.GOOS != "linux" {
		return nil
	}
	return []string{wire.CapProcessExtras}
}

// extras are the costly per-process fields a request asks for
// (wire.ProcessExtras), as bits; only those served are ever set.
type extras uint8

const extraCommand extras = 1 << iota

// extrasOf reads what a request asks of the extras this agent serves.
func extrasOf(e *wire.ProcessExtras) extras {
	var x extras
	if e.GetCommand() {
		x |= extraCommand
	}
	return x
}

// message is the extras served, as a Subscription tells them.
func (x extras) message() *wire.ProcessExtras {
	return &wire.ProcessExtras{Command: x&extraCommand != 0}
}

// processSource is the shared process sample, and the same with the
// command lines for the clients that ask for them (made from it once per
// sample: a client that asks for nothing pays nothing for them). Between
// clients it lets go of the /proc files the sampler holds open.
type processSource struct {
	cachedSource
	sampler *procfs.ProcessSampler
	cmds    *commands

	mu          sync.Mutex
	base        reply // the sample withCommand was made from
	withCommand reply
}

func (s *processSource) get(ctx context.Context, q query) (reply, error) {
	r, err := s.c.Get(ctx)
	if err != nil || q.extras&extraCommand == 0 {
		return r, err
	}
	s.cmds.asked.Store(time.Now().UnixNano())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base != r {
		s.base, s.withCommand = r, nil
		if s.withCommand, err = s.cmds.add(r.(*sample[*wire.Processes])); err != nil {
			s.base = nil
			return nil, err
		}
	}
	return s.withCommand, nil
}

func (s *processSource) release() { s.sampler.Close() }

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
	if c.commands.wanted() {
		// Command lines are kept per process and read again when its
		// stat file is opened afresh: the sample says which are.
		opened := make([]uint32, len(s.msg.Processes))
		for i := range opened {
			opened[i] = ps[i].StatOpened
		}
		s.aux = opened
	}
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
	for i := range ps {
		p := &ps[i]
		r := &rows[i]
		r.Pid, r.Ppid, r.Name, r.State = uint32(p.PID), uint32(p.PPID), validText(p.Name), stateString(p.State)
		r.Uid, r.User = p.UID, validText(c.users.name(p.UID))
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
