package model

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/socktop/socktop/wire"
)

// The containers table: one row per container or service the agent
// found, with rates from two successive samples. The screen that draws it
// is screen/containers.go.

// ContainersClient is a Client that can ask for the containers list; the
// wire adapter is one.
type ContainersClient interface {
	Containers(ctx context.Context) (*wire.Containers, error)
}

var _ ContainersClient = (*wireClient)(nil)

// ContainerRow is one row of the Containers screen.
type ContainerRow struct {
	ID, Name, Runtime, Cgroup, Pod string
	// CPU is the share of the whole machine, 0..100; LimitPct the share of
	// the group's CPU limit (NaN without one), CPULimit that limit in cores.
	CPU, LimitPct, CPULimit float64
	Mem, MemLimit           uint64 // MemLimit 0: none
	// MemPct is Mem as a share of MemLimit (NaN without one).
	MemPct        float64
	Pids, PidsMax uint32 // PidsMax 0: none
	// Read and Write are bytes/s, Throttled the share of the machine's CPU
	// time (all cores) the group's threads spent throttled, since the
	// previous sample; NaN until two
	// samples (or when the agent does not know).
	Read, Write, Throttled float64
	// Pressure: PSI "some" avg10 of CPU, memory and I/O; NaN when absent.
	CPUPressure, MemPressure, IOPressure float64
}

// ContainerModel is what the Containers screen shows: the rows of the last
// sample and what the next needs for its rates.
type ContainerModel struct {
	Rows    []ContainerRow
	At      time.Time // when the last sample arrived
	Samples int
	Err     error

	prev   map[string]*wire.Container // by cgroup path
	prevMS uint64
}

// MaxContainerRows bounds what one sample may make the dashboard hold.
const MaxContainerRows = 4096

// AddContainers folds a containers sample in.
func (h *Host) AddContainers(cs *wire.Containers, err error, now time.Time) {
	m := &h.Containers
	if err != nil {
		m.Err = err
		return
	}
	cores := float64(h.Hello.GetCores())
	if cores == 0 {
		cores = float64(len(h.Metrics.GetCpuPerCore()))
	}
	at := cs.GetSampledAtMs()
	dt := 0.0
	if m.prevMS != 0 && at > m.prevMS {
		dt = float64(at-m.prevMS) / 1000
	}
	list := cs.GetContainers()
	list = list[:min(len(list), MaxContainerRows)]
	m.Rows = m.Rows[:0]
	next := make(map[string]*wire.Container, len(list))
	for _, c := range list {
		r := ContainerRow{ID: c.GetId(), Name: c.GetName(), Runtime: c.GetRuntime(), Cgroup: c.GetCgroup(), Pod: c.GetPod(),
			CPU: float64(c.GetCpuPercent()), LimitPct: nan, Mem: c.GetMemBytes(), MemPct: nan,
			Pids: c.GetPids(), PidsMax: c.GetPidsMax(), Read: nan, Write: nan, Throttled: nan,
			CPUPressure: optional(c.CpuPressure), MemPressure: optional(c.MemoryPressure), IOPressure: optional(c.IoPressure)}
		if r.Name == "" {
			r.Name = r.ID
		}
		if c.CpuLimitCores != nil && c.GetCpuLimitCores() > 0 && cores > 0 {
			r.CPULimit = float64(c.GetCpuLimitCores())
			r.LimitPct = r.CPU / 100 * cores / r.CPULimit * 100
		}
		if c.MemLimit != nil && c.GetMemLimit() > 0 {
			r.MemLimit = c.GetMemLimit()
			r.MemPct = 100 * float64(r.Mem) / float64(r.MemLimit)
		}
		if p, ok := m.prev[r.Cgroup]; ok && dt > 0 {
			if c.IoReadBytes != nil && p.IoReadBytes != nil && c.GetIoReadBytes() >= p.GetIoReadBytes() &&
				c.GetIoWriteBytes() >= p.GetIoWriteBytes() {
				r.Read = float64(c.GetIoReadBytes()-p.GetIoReadBytes()) / dt
				r.Write = float64(c.GetIoWriteBytes()-p.GetIoWriteBytes()) / dt
			}
			// the kernel adds up throttled time over the CPUs the group was
			// throttled on, so a second holds up to one second per core
			if c.GetThrottledUs() >= p.GetThrottledUs() && cores > 0 {
				r.Throttled = min(float64(c.GetThrottledUs()-p.GetThrottledUs())/(dt*1e6*cores)*100, 100)
			}
		}
		next[r.Cgroup] = c
		m.Rows = append(m.Rows, r)
	}
	m.prev, m.prevMS = next, at
	m.At, m.Err = now, nil
	m.Samples++
}

func optional(v *float32) float64 {
	if v == nil {
		return nan
	}
	return float64(*v)
}

// Busiest is the container or service using the most CPU, false when
// none uses any (or no containers sample is known).
func (m *ContainerModel) Busiest() (ContainerRow, bool) {
	best := -1
	for i := range m.Rows {
		if m.Rows[i].CPU > 0 && (best < 0 || m.Rows[i].CPU > m.Rows[best].CPU) {
			best = i
		}
	}
	if best < 0 {
		return ContainerRow{}, false
	}
	return m.Rows[best], true
}

// ContainerCol identifies a Containers screen column (the order they are
// drawn in).
type ContainerCol int

const (
	KCName ContainerCol = iota
	KCRuntime
	KCCPU
	KCLimit
	KCMem
	KCMemBar
	KCPids
	KCRead
	KCWrite
	KCThrottled
	KCCPUPressure
	KCMemPressure
	KCIOPressure
	NumContainerCols
)

// CompareContainers orders two rows by column c, then by name and path.
func CompareContainers(a, b *ContainerRow, c ContainerCol) int {
	var r int
	switch c {
	case KCName:
		r = CompareFold(a.Name, b.Name)
	case KCRuntime:
		r = CompareFold(a.Runtime, b.Runtime)
	case KCCPU:
		r = cmp.Compare(a.CPU, b.CPU)
	case KCLimit:
		r = cmp.Compare(a.LimitPct, b.LimitPct)
	case KCMem:
		r = cmp.Compare(a.Mem, b.Mem)
	case KCMemBar:
		r = cmp.Compare(a.MemPct, b.MemPct)
	case KCPids:
		r = cmp.Compare(a.Pids, b.Pids)
	case KCRead:
		r = cmp.Compare(a.Read, b.Read)
	case KCWrite:
		r = cmp.Compare(a.Write, b.Write)
	case KCThrottled:
		r = cmp.Compare(a.Throttled, b.Throttled)
	case KCCPUPressure:
		r = cmp.Compare(a.CPUPressure, b.CPUPressure)
	case KCMemPressure:
		r = cmp.Compare(a.MemPressure, b.MemPressure)
	case KCIOPressure:
		r = cmp.Compare(a.IOPressure, b.IOPressure)
	}
	if r == 0 {
		r = CompareFold(a.Name, b.Name)
	}
	if r == 0 {
		r = strings.Compare(a.Cgroup, b.Cgroup)
	}
	return r
}

// ContainerFilter is a parsed `/` filter of the Containers screen: every
// word must match; runtime:NAME matches the runtime, any other word a part
// of the name, id or cgroup path.
type ContainerFilter struct {
	words    []string
	runtimes []string
}

// ParseContainerFilter parses what the user typed after /.
func ParseContainerFilter(s string) ContainerFilter {
	var f ContainerFilter
	for _, w := range strings.Fields(strings.ToLower(s)) {
		if rt, ok := strings.CutPrefix(w, "runtime:"); ok {
			f.runtimes = append(f.runtimes, rt)
			continue
		}
		f.words = append(f.words, w)
	}
	return f
}

// Empty reports whether the filter lets every row through.
func (f ContainerFilter) Empty() bool { return len(f.words) == 0 && len(f.runtimes) == 0 }

// Match reports whether r passes the filter.
func (f ContainerFilter) Match(r *ContainerRow) bool {
	for _, rt := range f.runtimes {
		if !strings.EqualFold(r.Runtime, rt) {
			return false
		}
	}
	for _, w := range f.words {
		if !ContainsFold(r.Name, w) && !ContainsFold(r.ID, w) && !ContainsFold(r.Cgroup, w) {
			return false
		}
	}
	return true
}

// BuildContainerView is the visible rows, filtered and sorted; it reuses dst.
func BuildContainerView(dst []*ContainerRow, rows []ContainerRow, f ContainerFilter, col ContainerCol, desc bool) []*ContainerRow {
	dst = dst[:0]
	for i := range rows {
		if f.Match(&rows[i]) {
			dst = append(dst, &rows[i])
		}
	}
	slices.SortFunc(dst, func(a, b *ContainerRow) int {
		if desc {
			return CompareContainers(b, a, col)
		}
		return CompareContainers(a, b, col)
	})
	return dst
}

// BuildContainerTree is the process tree grouped by container: one head
// row per container (its name, the sum of its processes' CPU and memory,
// Depth -1) followed by its processes as a tree by parent pid, heads in
// the sort order of their sums; processes in no container come last under
// a head named "(none)". A head's PID is ContainerHeadPID(i) so that the
// table can follow it; heads are kept in *heads (reused).
func BuildContainerTree(dst []*ProcRow, heads *[]ProcRow, rows []ProcRow, f ProcFilter, col ProcCol, desc bool) []*ProcRow {
	dst = dst[:0]
	byName := map[string][]ProcRow{}
	var order []string
	for i := range rows {
		name := rows[i].Container
		if _, ok := byName[name]; !ok {
			order = append(order, name)
		}
		byName[name] = append(byName[name], rows[i])
	}
	*heads = (*heads)[:0]
	for _, name := range order {
		h := ProcRow{Container: name, Name: name, Depth: -1, MemPct: 0}
		if name == "" {
			h.Name = "(none)"
		}
		for _, r := range byName[name] {
			h.CPU += r.CPU
			h.RSS += r.RSS
			h.MemPct += r.MemPct
			h.Threads += r.Threads
		}
		*heads = append(*heads, h)
	}
	hs := *heads
	idx := make([]int, len(hs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if (hs[a].Container == "") != (hs[b].Container == "") {
			if hs[a].Container == "" {
				return 1
			}
			return -1
		}
		r := CompareProcs(&hs[a], &hs[b], col)
		if col == ColPID || col == ColUser || col == ColState {
			r = CompareFold(hs[a].Name, hs[b].Name)
		}
		if desc {
			r = -r
		}
		if r == 0 {
			r = CompareFold(hs[a].Name, hs[b].Name)
		}
		return r
	})
	for n, i := range idx {
		members := byName[hs[i].Container]
		sub := BuildView(nil, members, f, col, desc, true)
		if len(sub) == 0 {
			continue
		}
		hs[i].PID = ContainerHeadPID(n)
		dst = append(dst, &hs[i])
		// BuildView points into members, a copy kept alive by dst.
		for _, r := range sub {
			r.Depth++
			dst = append(dst, r)
		}
	}
	return dst
}

// ContainerHeadPID is the table key of the i-th container head of a tree
// grouped by container: above any pid a kernel gives out (PID_MAX_LIMIT is
// 2²²), so it never names a process.
func ContainerHeadPID(i int) uint32 { return math.MaxUint32 - uint32(i) }

// IsContainerHead reports whether r is a container head of a grouped tree.
func (r *ProcRow) IsContainerHead() bool { return r.Depth < 0 }

// TileEvery is how often the fleet's tiles learn each host's busiest
// container: under the agent's 5 s after which a sample measures CPU over a
// short window only, so each share covers the whole interval.
const TileEvery = 4 * time.Second

// containersCadence is how often containers are pushed for what the
// screens need (0: not).
func containersCadence(n Needs, processes time.Duration) time.Duration {
	switch {
	case n.Containers:
		return processes
	case n.TileContainers:
		return TileEvery
	}
	return 0
}

// pollContainers asks an agent that does not push for its containers while
// a screen lists them (at the processes cadence) or the fleet's tile names
// the busiest (every TileEvery).
func (w *Watcher) pollContainers(c Client, loop func(time.Duration, <-chan struct{}, func() bool, func(context.Context) error)) {
	cc, ok := c.(ContainersClient)
	if !ok || !has(c, wire.CapContainers) {
		return
	}
	var last time.Time
	loop(min(w.every.Processes, TileEvery), nil, func() bool {
		n := w.Needs()
		every := containersCadence(n, w.every.Processes)
		if every == 0 || time.Since(last) < every-every/8 {
			return false
		}
		last = time.Now()
		return true
	}, func(ctx context.Context) error {
		cs, err := cc.Containers(ctx)
		w.post(func() { w.h.AddContainers(cs, err, time.Now()) })
		return err
	})
}
