package agent

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/socktop/socktop/agent/internal/containernames"
	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/procfs/cgroup"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
)

// containersKind is every cgroup recognised as a container, a pod's
// container, an LXC guest, a systemd service or a user session, with what
// it uses (PROTOCOL.md §5). The JSON dialect gets the snapshot's JSON on
// one line; upstream's command dialect has no such request.
var containersKind = &kind{
	name: "containers", capability: wire.CapContainers,
	served:   func(a *Agent) bool { return a.coll.groups.available() },
	unserved: noContainers,
	v2:       &wire.Request{Body: &wire.Request_Containers{Containers: &wire.ContainersRequest{}}},
	text:     dialect.Route{JSON: "containers"},
	encode:   textOf(replyContainers),
	open: func(a *Agent) source {
		g := newGroupCollector(a.fs, a.cfg)
		a.coll.groups = g
		return &containerSource{cachedOf(a.cfg.ContainersTTL, g.collect), g, a.cfg.ContainersTTL,
			cachedOf(a.cfg.ContainersTTL, g.collectWithin(max(g.StaleAfter, scrapeStaleAfter))).c}
	},
	snapshot: true,
	push: &pushSpec{floor: 200 * time.Millisecond, asked: (*wire.SubscribeRequest).GetContainersMs,
		kept: func(s *wire.Subscription, ms uint32, _ query) { s.ContainersMs = ms }},
	prom: func(p *promWriter, r reply) { writeContainerMetrics(p, r.message().(*wire.Containers)) },
}

const noContainers = "containers is not available on this agent: it found no cgroup file system (check --proc-root and --sys-root)"

// replyContainers is the JSON dialect's reply: what `socktop snapshot
// containers` prints, on one line.
func replyContainers(d wire.Dialect, m *wire.Containers) wire.Frame {
	return dialect.ReplyJSON(d, SnapshotJSON(m, ""))
}

// containerSource is the shared containers sample; between clients it
// lets go of the cgroup files the sampler holds open.
type containerSource struct {
	cachedSource
	g *groupCollector
	// A scrape (which writes no CPU share) takes the clients' sample while
	// it is fresh, else one measured since the previous sample however old
	// (scrapeStaleAfter), without a fresh window's second walk.
	ttl    time.Duration
	scrape *cache[reply]
}

func (s *containerSource) release() { s.g.release() }

func (s *containerSource) get(ctx context.Context, q query) (reply, error) {
	if q.scrape {
		if r, ok := s.c.PeekWithin(s.ttl); ok {
			return r, nil
		}
		return s.scrape.Get(ctx)
	}
	return s.c.Get(ctx)
}

// groupCollector samples the machine's groups for the containers kind and
// names each process's group for the process list. What discovery finds
// (the mounted hierarchies) is kept for the agent's life, the sampler's
// open files only while someone watches.
type groupCollector struct {
	fs      cgroup.FS
	procs   *procfs.FS
	sockets []string // nil: containernames.DefaultSockets

	once   sync.Once
	layout cgroup.Layout
	ok     bool

	// Window and StaleAfter are as the process sampler's: a first sample,
	// or one after a pause longer than StaleAfter, measures CPU over Window.
	Window, StaleAfter time.Duration

	mu        sync.Mutex // the sample (the cache collects one at a time; release comes from elsewhere)
	sampler   *cgroup.Sampler
	buf       []cgroup.Sample
	share     []float64         // CPU share of buf[i]
	prev, cur map[string]uint64 // group path → CPU ns at the previous sample, at this one
	prevTotal uint64            // machine CPU ns at the previous sample
	prevAt    time.Time
	have      bool
	stat      procfs.Stat

	namesMu sync.Mutex // what process scans and samples share: the groups known and their names
	names   *containernames.Resolver
	raw     map[string]string      // a process's cgroup path → its group's path ("" for none)
	groups  map[string]*groupEntry // group path → how it is named
}

// groupEntry is one group as processes and samples name it.
type groupEntry struct {
	g     cgroup.Group
	name  string
	named bool      // the runtime's own name is known, or none can be
	asked time.Time // when the runtime's API was last asked
}

// Bounds of what the collector remembers: past them it starts afresh (the
// next scan fills the maps again), and /metrics writes at most
// maxContainerSeries groups.
const (
	maxRawPaths        = 4096
	maxGroupNames      = 2048
	nameRecheck        = time.Second // how often an unnamed container's name is looked up again
	maxLabelBytes      = 128
	maxContainerSeries = 256
)

func newGroupCollector(fs *procfs.FS, cfg Config) *groupCollector {
	return &groupCollector{fs: cgroup.NewFS(fs.ProcRoot(), fs.SysRoot()), procs: fs, sockets: cfg.ContainerSockets,
		Window: procfs.DefaultWindow, StaleAfter: cfg.StaleAfter,
		prev: map[string]uint64{}, cur: map[string]uint64{},
		raw: map[string]string{}, groups: map[string]*groupEntry{}}
}

// available finds the cgroup hierarchies, once: the kind is served when
// one is mounted and can be listed (a fixture tree or a container may show
// a mount whose directory it does not have).
func (g *groupCollector) available() bool {
	if g == nil {
		return false
	}
	g.once.Do(func() {
		if runtime.GOOS != "linux" {
			return
		}
		l, err := g.fs.Discover()
		if err != nil {
			return
		}
		g.layout = l
		_, err = l.Groups()
		g.ok = err == nil || errors.Is(err, cgroup.ErrTruncated)
	})
	return g.ok
}

// release closes the files the sampler holds; the next sample opens them
// again.
func (g *groupCollector) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sampler != nil {
		g.sampler.Close()
	}
}

// collect samples every group with its CPU share since the previous
// sample.
func (g *groupCollector) collect(ctx context.Context) (*sample[*wire.Containers], error) {
	return g.collectWithin(g.StaleAfter)(ctx)
}

// collectWithin is collect measuring since a previous sample at most
// staleAfter old.
func (g *groupCollector) collectWithin(staleAfter time.Duration) func(context.Context) (*sample[*wire.Containers], error) {
	return func(ctx context.Context) (*sample[*wire.Containers], error) { return g.collectSince(ctx, staleAfter) }
}

func (g *groupCollector) collectSince(ctx context.Context, staleAfter time.Duration) (*sample[*wire.Containers], error) {
	if !g.available() {
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_NOT_SUPPORTED, "%s", noContainers)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sampler == nil {
		g.sampler = g.layout.NewSampler()
	}
	if since := time.Since(g.prevAt); !g.have || since > staleAfter {
		if err := g.read(); err != nil {
			return nil, err
		}
		if err := sleep(ctx, g.Window); err != nil {
			return nil, err
		}
	} else if since < g.Window {
		// Asked again at once: a few milliseconds would give zeros and noise.
		if err := sleep(ctx, g.Window-since); err != nil {
			return nil, err
		}
	}
	if err := g.read(); err != nil {
		return nil, err
	}
	return newSample(g.rows()), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// read samples the groups and the machine's CPU time and works out each
// group's share of the machine since the previous read: Δ group CPU time ÷
// Δ machine CPU time (all cores, /proc/stat) × 100, as a process's.
func (g *groupCollector) read() error {
	var err error
	g.buf, err = g.sampler.Sample(g.buf[:0])
	if err != nil && len(g.buf) == 0 && !errors.Is(err, cgroup.ErrTruncated) {
		return err
	}
	var total, dTotal uint64
	if hz := g.procs.ClockTicks(); hz > 0 && g.procs.ReadStat(&g.stat) == nil {
		total = g.stat.Total.Total() * (uint64(time.Second) / hz)
	}
	if g.have && total > g.prevTotal {
		dTotal = total - g.prevTotal
	}
	clear(g.cur)
	g.share = g.share[:0]
	for i := range g.buf {
		s := &g.buf[i]
		share := 0.0
		if s.Stats.Has&cgroup.HasCPU != 0 {
			g.cur[s.Path] = s.Stats.CPUUsageNs
			if dTotal > 0 {
				delta := s.Stats.CPUUsageNs // a new group: all its time is in the window
				if old, seen := g.prev[s.Path]; seen {
					delta = s.Stats.CPUUsageNs - min(old, s.Stats.CPUUsageNs)
				}
				share = min(float64(delta)/float64(dTotal)*100, 100)
			}
		}
		g.share = append(g.share, share)
	}
	g.prev, g.cur = g.cur, g.prev
	g.prevTotal, g.prevAt, g.have = total, time.Now(), true
	return nil
}

// rows converts the last read to the wire list.
func (g *groupCollector) rows() *wire.Containers {
	now := time.Now()
	n := len(g.buf)
	rows := make([]wire.Container, n)
	out := &wire.Containers{SampledAtMs: nowMS(), Containers: make([]*wire.Container, n)}
	g.namesMu.Lock()
	defer g.namesMu.Unlock()
	for i := range g.buf {
		s, r := &g.buf[i], &rows[i]
		st := &s.Stats
		r.Id, r.Runtime, r.Cgroup, r.Pod = validText(s.ID), s.Runtime, validText(s.Path), validText(s.Pod)
		r.Name = g.nameOf(g.entry(s.Group), now)
		r.CpuPercent = float32(g.share[i])
		if c, ok := st.CPULimit(); ok {
			v := float32(c)
			r.CpuLimitCores = &v
		}
		r.CpuUsageNs, r.NrThrottled, r.ThrottledUs = st.CPUUsageNs, st.NrThrottled, st.ThrottledNs/1000
		r.MemBytes = st.MemoryCurrent
		r.MemLimit = limited(st, cgroup.HasMemoryMax, st.MemoryMax)
		if st.Has&cgroup.HasMemoryPeak != 0 {
			v := st.MemoryPeak // not a pointer into g.buf, which the next sample reuses
			r.MemPeak = &v
		}
		r.Pids = uint32(min(st.PIDsCurrent, math.MaxUint32))
		if p := limited(st, cgroup.HasPIDsMax, st.PIDsMax); p != nil {
			v := uint32(min(*p, math.MaxUint32))
			r.PidsMax = &v
		}
		if st.Has&cgroup.HasIO != 0 {
			rd, wr := st.IOReadBytes, st.IOWriteBytes
			r.IoReadBytes, r.IoWriteBytes = &rd, &wr
		}
		r.CpuPressure = pressure(st, cgroup.HasCPUPressure, st.CPUPressure)
		r.MemoryPressure = pressure(st, cgroup.HasMemoryPressure, st.MemoryPressure)
		r.IoPressure = pressure(st, cgroup.HasIOPressure, st.IOPressure)
		out.Containers[i] = r
	}
	return out
}

// limited is a limit read, or nil when it was not read or there is none.
func limited(st *cgroup.Stats, f cgroup.Fields, v uint64) *uint64 {
	if st.Has&f == 0 || v == cgroup.Unlimited {
		return nil
	}
	return &v
}

func pressure(st *cgroup.Stats, f cgroup.Fields, v float64) *float32 {
	if st.Has&f == 0 {
		return nil
	}
	p := float32(v)
	return &p
}

// listedKind reports whether processes in a group of kind k are said to
// belong to it: the kinds the containers list has (slices and pods are
// their parents).
func listedKind(k cgroup.Kind) bool {
	return k == cgroup.KindContainer || k == cgroup.KindService || k == cgroup.KindUser
}

// entry is how group gr is named, made on first sight. Called with
// namesMu held.
func (g *groupCollector) entry(gr cgroup.Group) *groupEntry {
	if e, ok := g.groups[gr.Path]; ok {
		return e
	}
	if len(g.groups) >= maxGroupNames {
		clear(g.groups)
	}
	e := &groupEntry{g: gr, name: validText(gr.Name)}
	e.named = gr.Runtime != cgroup.RuntimeDocker && gr.Runtime != cgroup.RuntimePodman
	g.groups[gr.Path] = e
	return e
}

// nameOf is the group's display name: the container's name when Docker's
// or Podman's API told it, else the short id or unit name. An unnamed
// container is looked up at most once per nameRecheck; the lookup never
// waits (containernames refreshes in the background). Called with
// namesMu held.
func (g *groupCollector) nameOf(e *groupEntry, now time.Time) string {
	if e.named || now.Sub(e.asked) < nameRecheck {
		return e.name
	}
	e.asked = now
	if g.names == nil {
		g.names = containernames.New(containernames.Options{Sockets: g.sockets})
	}
	if n, ok := g.names.Name(e.g.ID); ok {
		e.name, e.named = n, true
	}
	return e.name
}

// groupOf is the process sampler's GroupOf: the path of the listed group
// a process's /proc/<pid>/cgroup puts it in, "" for none. Paths are
// interned, so a scan allocates only for a path it has not seen.
func (g *groupCollector) groupOf(b []byte) string {
	p, err := cgroup.ProcessPath(b)
	if err != nil {
		return ""
	}
	g.namesMu.Lock()
	defer g.namesMu.Unlock()
	if key, ok := g.raw[string(p)]; ok {
		return key
	}
	path := string(p)
	key := ""
	if gr := cgroup.Classify(path); listedKind(gr.Kind) {
		key = g.entry(gr).g.Path
	}
	if len(g.raw) >= maxRawPaths {
		clear(g.raw)
	}
	g.raw[path] = key
	return key
}

// useFor makes the process sampler name each process's group, where the
// agent serves containers. The process cache calls it before each scan.
func (g *groupCollector) useFor(s *procfs.ProcessSampler) {
	if s.GroupOf == nil && g.available() {
		s.GroupOf = g.groupOf
	}
}

// nameRows fills each row's container from its process's group.
func (g *groupCollector) nameRows(ps []procfs.Process, rows []wire.ProcessInfo) {
	now := time.Now()
	g.namesMu.Lock()
	defer g.namesMu.Unlock()
	for i := range rows {
		if key := ps[i].Group; key != "" {
			e, ok := g.groups[key]
			if !ok {
				e = g.entry(cgroup.Classify(key))
			}
			rows[i].Container = g.nameOf(e, now)
		}
	}
}

// writeContainerMetrics writes the groups' series, for at most
// maxContainerSeries groups (in the list's order, by cgroup path) so that
// a machine with thousands of units cannot flood a scrape.
func writeContainerMetrics(p *promWriter, cs *wire.Containers) {
	list := cs.Containers[:min(len(cs.Containers), maxContainerSeries)]
	p.gauge("socktop_container_groups", "Containers, services and sessions the agent found (series are written for at most 256).",
		float64(len(cs.Containers)))
	if len(list) == 0 {
		return
	}
	labels := func(c *wire.Container) []string {
		return []string{"id", clip(c.Id, maxLabelBytes), "name", clip(c.Name, maxLabelBytes), "runtime", clip(c.Runtime, maxLabelBytes)}
	}
	families := []struct {
		name, typ, help string
		value           func(*wire.Container) (float64, bool)
	}{
		{"socktop_container_cpu_seconds_total", "counter", "CPU time used by the group's processes.",
			func(c *wire.Container) (float64, bool) { return float64(c.CpuUsageNs) / 1e9, true }},
		{"socktop_container_memory_bytes", "gauge", "Memory the group uses (memory.current, or v1 memory.usage_in_bytes); no series when unknown.",
			func(c *wire.Container) (float64, bool) {
				return float64(c.MemBytes), c.MemBytes > 0 || c.MemPeak != nil || c.MemLimit != nil
			}},
		{"socktop_container_memory_limit_bytes", "gauge", "The group's memory limit; no series when it has none.",
			func(c *wire.Container) (float64, bool) { return float64(c.GetMemLimit()), c.MemLimit != nil }},
		{"socktop_container_pids", "gauge", "Tasks in the group; no series when unknown.",
			func(c *wire.Container) (float64, bool) { return float64(c.Pids), c.Pids > 0 || c.PidsMax != nil }},
	}
	for _, f := range families {
		wrote := false
		for _, c := range list {
			v, ok := f.value(c)
			if !ok {
				continue
			}
			if !wrote {
				p.family(f.name, f.typ, f.help)
				wrote = true
			}
			p.sample(f.name, v, labels(c)...)
		}
	}
}
