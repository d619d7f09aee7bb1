package agent

import (
	"context"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
)

// processesKind is every process with its CPU share since the previous
// sample. The text dialects get upstream's ProcessList.
var processesKind = &kind{
	name: "processes", capability: wire.CapProcesses,
	v2:     5,
	text:   dialect.Route{JSON: "processes", Command: "get_processes"},
	encode: textOf(dialect.ReplyProcesses),
	open: func(a *Agent) source {
		return &processSource{cachedOf(a.cfg.ProcessesTTL, a.coll.processes), a.coll.procs}
	},
	snapshot: true,
	push: &pushSpec{floor: 200 * time.Millisecond, asked: (*wire.SubscribeRequest).GetProcessesMs,
		kept: func(s *wire.Subscription, ms uint32) { s.ProcessesMs = ms }},
}

// processSource is the shared process sample; between clients it lets go
// of the /proc files the sampler holds open.
type processSource struct {
	cachedSource
	sampler *procfs.ProcessSampler
}

func (s *processSource) release() { s.sampler.Close() }

// processes is this agent's process cache.
func (a *Agent) processes() *cache[reply] {
	s, ok := a.sourceOf(processesKind)
	if !ok {
		return nil
	}
	return s.(*processSource).c
}

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
	out := c.processRows(ps)
	c.mu.Lock()
	c.lastN = uint32(len(ps))
	c.mu.Unlock()
	return newSample(out), nil
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
		r.Threads, r.CpuTicks = uint32(p.Threads), p.UTime+p.STime
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
