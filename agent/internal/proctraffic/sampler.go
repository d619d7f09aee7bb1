package proctraffic

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/procfs/sockdiag"
)

// Want selects the extras a client asked for; what is not wanted costs
// nothing.
type Want uint8

// The extras.
const (
	Net Want = 1 << iota // TCP bytes received and sent (sock_diag + fd owners)
	IO                   // storage bytes read and written (/proc/<pid>/io)
)

// Extras is what a process row gains. A false Known flag means unknown
// (another user's process, another network namespace, a failed dump, not
// wanted): absent on the wire and "-" on screen, never 0.
type Extras struct {
	NetRx, NetTx    uint64 // cumulative TCP payload bytes received / acked by the peer
	NetKnown        bool
	IORead, IOWrite uint64 // cumulative storage bytes (read_bytes / write_bytes)
	IOKnown         bool
}

// Stats describes the last Sample, for logs and /metrics.
type Stats struct {
	Sockets        int   // TCP sockets in the dump
	TrackedSockets int   // sockets the accumulator follows (live and just closed)
	TrackedProcs   int   // processes with a total
	NetErr         error // why the dump was incomplete (every net total unknown), if it was
	NetUnknown     int   // processes whose net totals are unknown
	IOUnknown      int   // processes whose io counters are unknown
	IORead         int   // io files read (the others were idle: see IORefresh)
	// NetAt is when the net totals given were read (zero: net not
	// sampled); NetReused says they are an earlier dump's (NetRefresh),
	// and the socket figures above are that dump's.
	NetAt     time.Time
	NetReused bool
}

// nsRecheck bounds how long a process's network namespace is trusted: a
// process may move with setns(2) (ip netns exec) without a new pid.
const nsRecheck = time.Minute

// dumpOptions: TCP only (UDP has no counters), no listeners or TIME-WAIT
// entries (no bytes, no owner), owners resolved.
var dumpOptions = sockdiag.Options{TCP: true, Processes: true}

// DefaultIORefresh is how many samples apart an idle process's io file is
// read (see Sampler.IORefresh).
const DefaultIORefresh = 4

// Sampler adds the extras to a process sample: it owns an Accumulator, an
// IOReader and a cache of which processes share the agent's network
// namespace, and uses a sockdiag.Collector that may be shared with the
// connections view (one inode → pid map for both). Safe for concurrent use;
// calls are serialized.
type Sampler struct {
	fs *procfs.FS
	sd *sockdiag.Collector

	// IORefresh bounds the cost of the io extra: a process is read when it
	// is new, running (R) or in disk wait (D), or its CPU time moved since
	// its last read, and otherwise once every IORefresh samples (spread
	// over the samples by pid). Storage I/O is done by the process itself
	// (read_bytes at submission, write_bytes when it dirties pages), so a
	// process whose CPU time did not move by a clock tick did next to
	// none; its counters may then lag by up to IORefresh-1 samples. 1 reads
	// every process every sample. Set before first use; 0 means
	// DefaultIORefresh.
	IORefresh int

	// NetRefresh bounds the cost of the net extra: a dump younger than
	// this is reused, its totals given again to the processes it knew
	// (those started since are unknown until the next dump), so the net
	// totals are at most this old and move in steps; Stats.NetAt says
	// when they were read, for rates. 0 dumps on every sample. Set
	// before first use.
	NetRefresh time.Duration

	mu    sync.Mutex
	io    *procfs.IOReader // opened on the first IO sample
	ioc   ioCache
	acc   *Accumulator
	ns    nsCache
	socks []sockdiag.Socket
	procs []Proc
	ios   []procfs.IOResult
	tots  []Totals
	stats Stats
	last  lastDump
}

// lastDump is what the last socket dump gave, for the samples that reuse
// it.
type lastDump struct {
	at    time.Time
	rows  []netRow // processes whose totals were known, by pid
	stats Stats    // its net figures
}

type netRow struct {
	pid    int32
	start  uint64
	rx, tx uint64
}

// fresh reports whether the dump may be reused at now.
func (d *lastDump) fresh(now time.Time, refresh time.Duration) bool {
	return !d.at.IsZero() && !now.Before(d.at) && now.Sub(d.at) < refresh
}

// record keeps a dump's known totals (tots, in the order of ps).
func (d *lastDump) record(now time.Time, ps []procfs.Process, tots []Totals, st Stats) {
	d.at, d.stats = now, st
	d.rows = d.rows[:0]
	for i, t := range tots {
		if t.Known {
			d.rows = append(d.rows, netRow{pid: ps[i].PID, start: ps[i].StartTime, rx: t.Rx, tx: t.Tx})
		}
	}
	slices.SortFunc(d.rows, func(a, b netRow) int { return cmp.Compare(a.pid, b.pid) })
}

// give sets the totals the dump knew for the processes of ps in dst:
// a process it did not know (started since, or unknown then) stays
// unknown. It returns how many are unknown.
func (d *lastDump) give(ps []procfs.Process, dst []Extras) (unknown int) {
	for i := range ps {
		p := &ps[i]
		j, ok := slices.BinarySearchFunc(d.rows, p.PID, func(r netRow, pid int32) int { return cmp.Compare(r.pid, pid) })
		if !ok || d.rows[j].start != p.StartTime {
			unknown++
			continue
		}
		dst[i].NetRx, dst[i].NetTx, dst[i].NetKnown = d.rows[j].rx, d.rows[j].tx, true
	}
	return unknown
}

// NewSampler returns a sampler reading fs, listing sockets through sd.
func NewSampler(fs *procfs.FS, sd *sockdiag.Collector, lim Limits) *Sampler {
	return &Sampler{fs: fs, sd: sd, acc: NewAccumulator(lim)}
}

// Sample appends the extras of every process of ps (a ProcessSampler's
// sample, in its order) to dst[:0] and returns it.
func (s *Sampler) Sample(ps []procfs.Process, want Want, dst []Extras) []Extras {
	return s.SampleAt(ps, want, dst, time.Now())
}

// SampleAt is Sample for a sample taken at now (the clock NetRefresh and
// Stats.NetAt go by).
func (s *Sampler) SampleAt(ps []procfs.Process, want Want, dst []Extras, now time.Time) []Extras {
	s.mu.Lock()
	defer s.mu.Unlock()
	dst = slices.Grow(dst[:0], len(ps))[:len(ps)]
	clear(dst)
	s.stats = Stats{}
	if want&Net != 0 {
		if s.last.fresh(now, s.NetRefresh) {
			s.stats = s.last.stats
			s.stats.NetUnknown = s.last.give(ps, dst)
			s.stats.NetReused = true
		} else {
			s.sampleNet(ps, dst)
			s.stats.NetAt = now
			s.last.record(now, ps, s.tots, s.stats)
		}
	}
	if want&IO != 0 {
		s.sampleIO(ps, dst)
	}
	return dst
}

func (s *Sampler) sampleIO(ps []procfs.Process, dst []Extras) {
	if s.io == nil {
		s.io = s.fs.NewIOReader()
	}
	every := s.IORefresh
	if every <= 0 {
		every = DefaultIORefresh
	}
	need := s.ioc.plan(ps, every)
	s.ios = s.io.ReadIf(ps, need, s.ios)
	for i := range ps {
		r := s.ioc.result(&ps[i], need[i], s.ios[i])
		if need[i] {
			s.stats.IORead++
		}
		if r.Err != nil {
			s.stats.IOUnknown++
			continue
		}
		dst[i].IORead, dst[i].IOWrite, dst[i].IOKnown = r.IO.ReadBytes, r.IO.WriteBytes, true
	}
	s.ioc.sweep()
}

func (s *Sampler) sampleNet(ps []procfs.Process, dst []Extras) {
	socks, err := s.sd.CollectTCP(s.socks[:0], dumpOptions)
	s.socks = socks
	complete := err == nil
	if st := s.sd.Stats(); complete && !st.Netlink {
		complete, err = false, st.NetlinkErr // /proc/net fallback: no counters
	}
	s.stats.NetErr = err
	s.stats.Sockets = len(socks)
	s.procs = s.procs[:0]
	if complete {
		s.ns.refresh(s.fs, len(ps))
	}
	for i := range ps {
		p := &ps[i]
		visible := complete && s.ns.same(s.fs, p.PID, p.StartTime) && s.sd.FDReadable(int(p.PID), p.UID)
		s.procs = append(s.procs, Proc{PID: p.PID, Start: p.StartTime, Visible: visible})
	}
	s.tots = s.acc.Update(s.procs, socks, complete, s.tots)
	for i, t := range s.tots {
		if !t.Known {
			s.stats.NetUnknown++
			continue
		}
		dst[i].NetRx, dst[i].NetTx, dst[i].NetKnown = t.Rx, t.Tx, true
	}
	s.stats.TrackedSockets, s.stats.TrackedProcs = s.acc.Tracked()
}

// Stats returns what the last Sample did.
func (s *Sampler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Close releases the files held open for io reads (call it when no client
// wants the extras any more); the totals are kept, so a later Sample
// continues them. A later IO sample opens the files again.
func (s *Sampler) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.io != nil {
		return s.io.Close()
	}
	return nil
}

// nsCache remembers, per process (pid and start time), whether it lives in
// the agent's network namespace: the dump lists only that namespace's
// sockets, so another namespace's process (a container's) is unknown, not
// idle. Reading the namespace costs a readlink, paid once per process and
// again after nsRecheck.
type nsCache struct {
	self    uint64 // 0: unknown (then no process is the same)
	readAt  time.Time
	entries map[int32]nsEntry
}

type nsEntry struct {
	start uint64
	same  bool
}

// refresh forgets everything after nsRecheck, or when processes come and
// go so fast that the cache outgrows the process list.
func (c *nsCache) refresh(fs *procfs.FS, procs int) {
	if c.entries == nil || time.Since(c.readAt) > nsRecheck || len(c.entries) > 2*procs+1024 {
		if c.entries == nil {
			c.entries = make(map[int32]nsEntry)
		}
		clear(c.entries)
		c.self, _ = fs.NetNamespace(0)
		c.readAt = time.Now()
	}
}

func (c *nsCache) same(fs *procfs.FS, pid int32, start uint64) bool {
	if c.self == 0 {
		return false
	}
	e, ok := c.entries[pid]
	if !ok || e.start != start {
		ino, err := fs.NetNamespace(pid)
		e = nsEntry{start: start, same: err == nil && ino == c.self}
		c.entries[pid] = e
	}
	return e.same
}

// ioCache remembers each process's last io read, to skip idle processes.
type ioCache struct {
	gen     uint32
	entries map[int32]ioEntry
	need    []bool
}

type ioEntry struct {
	start, cpu uint64 // start time and utime+stime at the last read
	res        procfs.IOResult
	seen       uint32 // the sample that last listed the process
}

// plan says which processes to read this sample.
func (c *ioCache) plan(ps []procfs.Process, every int) []bool {
	if c.entries == nil {
		c.entries = make(map[int32]ioEntry)
	}
	c.gen++
	c.need = slices.Grow(c.need[:0], len(ps))[:len(ps)]
	for i := range ps {
		p := &ps[i]
		e, ok := c.entries[p.PID]
		c.need[i] = !ok || e.start != p.StartTime || e.cpu != p.UTime+p.STime ||
			p.State == 'R' || p.State == 'D' || (c.gen+uint32(p.PID))%uint32(every) == 0
	}
	return c.need
}

// result returns the process's io: the fresh read, or the last one.
func (c *ioCache) result(p *procfs.Process, read bool, r procfs.IOResult) procfs.IOResult {
	if !read {
		e := c.entries[p.PID]
		e.seen = c.gen
		c.entries[p.PID] = e
		return e.res
	}
	c.entries[p.PID] = ioEntry{start: p.StartTime, cpu: p.UTime + p.STime, res: r, seen: c.gen}
	return r
}

// sweep forgets the processes this sample did not list.
func (c *ioCache) sweep() {
	for pid, e := range c.entries {
		if e.seen != c.gen {
			delete(c.entries, pid)
		}
	}
}
