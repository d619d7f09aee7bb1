package procfs

import (
	"context"
	"sync"
	"time"
)

// pfKthread is PF_KTHREAD in the flags field of /proc/<pid>/stat.
const pfKthread = 0x00200000

// Process is one process (thread group) as listed by ProcessSampler.
type Process struct {
	PID, PPID int32
	// Name is the command name: the text between the first '(' and the last
	// ')' of /proc/<pid>/stat, byte for byte (it may hold spaces, ')',
	// newlines or invalid UTF-8).
	Name string
	// State is the one-letter state: R, S, D, Z, T, t, X, I, …
	State byte
	// Kernel marks kernel threads (PF_KTHREAD).
	Kernel bool
	// UID is the owner of /proc/<pid> (the effective uid, as ps shows it;
	// root for non-dumpable processes).
	UID     uint32
	Nice    int32
	Threads int32
	// UTime and STime are cumulative CPU times in jiffies (FS.ClockTicks per second).
	UTime, STime uint64
	// StartTime is jiffies after boot; with the boot time it gives the start.
	StartTime uint64
	RSS       uint64 // resident set, bytes
	VSize     uint64 // virtual size, bytes
	// CPU is Δ(utime+stime) ÷ Δ(total machine jiffies) × 100 over the sample
	// window: the share of the whole machine, 0..100.
	CPU float64
	// StatOpened tells the opening of <pid>/stat this row was read from:
	// a new number whenever the sampler opened the file afresh (first
	// sight, a reused pid) or read its owner again (every refreshReads
	// scans), the same one while it re-reads a file it holds. A caller
	// keeping values read elsewhere (the command line) reads them again
	// when it changes.
	StatOpened uint32
	// Group is what ProcessSampler.GroupOf made of the process's
	// /proc/<pid>/cgroup; "" without GroupOf.
	Group string
}

// ProcStat is the parsed content of /proc/<pid>/stat (times in jiffies,
// RSS in pages).
type ProcStat struct {
	PID, PPID, PGRP, Session int32
	Name                     string
	State                    byte
	Flags                    uint64
	UTime, STime             uint64
	CUTime, CSTime           int64
	Priority, Nice           int32
	Threads                  int32
	StartTime                uint64
	VSize                    uint64
	RSSPages                 uint64
}

// ParseProcStat parses /proc/<pid>/stat (also /proc/<pid>/task/<tid>/stat).
func ParseProcStat(b []byte) (ProcStat, error) {
	var s ProcStat
	name, err := parseProcStat(b, &s)
	if err != nil {
		return ProcStat{}, err
	}
	s.Name = string(name)
	return s, nil
}

// parseProcStat fills everything but Name and returns the name bytes (a
// sub-slice of b) so the sampler can intern them without allocating.
func parseProcStat(b []byte, s *ProcStat) ([]byte, error) {
	*s = ProcStat{} // a field left out (a negative rss, no vsize) is 0, not the last process's
	open, close := -1, -1
	for i, c := range b {
		if c == '(' {
			open = i
			break
		}
	}
	for i := len(b) - 1; i > open; i-- {
		if b[i] == ')' {
			close = i
			break
		}
	}
	if open < 0 || close < 0 {
		return nil, malformed("stat", "no (comm)")
	}
	pid, ok := parseInt(trimSpace(b[:open]))
	if !ok || pid < 0 || pid > 1<<31-1 {
		return nil, malformed("stat", "bad pid")
	}
	s.PID = int32(pid)
	name := b[open+1 : close]
	rest := b[close+1:]
	var f []byte
	// Field numbers as in proc(5); field 3 is the state.
	for n := 3; n <= 24; n++ {
		f, rest = nextField(rest)
		if len(f) == 0 {
			if n < 23 {
				return nil, malformed("stat", "too few fields")
			}
			break // vsize/rss missing on some odd kernels: leave zero
		}
		if n == 3 {
			if len(f) != 1 {
				return nil, malformed("stat", "bad state")
			}
			s.State = f[0]
			continue
		}
		switch n {
		case 4, 5, 6, 18, 19, 20:
			v, ok := parseInt(f)
			if !ok || v < -1<<31 || v > 1<<31-1 {
				return nil, malformed("stat", "bad field")
			}
			switch n {
			case 4:
				s.PPID = int32(v)
			case 5:
				s.PGRP = int32(v)
			case 6:
				s.Session = int32(v)
			case 18:
				s.Priority = int32(v)
			case 19:
				s.Nice = int32(v)
			case 20:
				s.Threads = int32(v)
			}
		case 16, 17:
			v, ok := parseInt(f)
			if !ok {
				return nil, malformed("stat", "bad field")
			}
			if n == 16 {
				s.CUTime = v
			} else {
				s.CSTime = v
			}
		case 9, 14, 15, 22, 23, 24:
			v, ok := parseUint(f)
			if !ok {
				if n == 24 && len(f) > 0 && f[0] == '-' { // rss can be printed negative in races
					continue
				}
				return nil, malformed("stat", "bad field")
			}
			switch n {
			case 9:
				s.Flags = v
			case 14:
				s.UTime = v
			case 15:
				s.STime = v
			case 22:
				s.StartTime = v
			case 23:
				s.VSize = v
			case 24:
				s.RSSPages = v
			}
		}
	}
	return name, nil
}

// refreshReads bounds how long an owner read serves: it is read when the
// stat file is opened and again (a stat of the path <pid>/stat) every this many
// scans, so a process that changes user (a daemon dropping root) shows its
// new user within as many.
const refreshReads = 30

// procState is what the sampler remembers of a process between samples.
type procState struct {
	pid   int32
	start uint64
	cpu   uint64 // utime+stime
	name  string
	group string // GroupOf's answer, groupAge scans ago
	// groupAge counts the scans since the group was read; groupRead is
	// false until it has been.
	groupAge  uint16
	groupRead bool
}

// ProcessSampler lists every process with its CPU share since the previous
// sample. It reuses its buffers and interns names, so a steady-state Sample
// allocates (almost) nothing.
//
// On Linux it holds each <pid>/stat open between samples, and for a
// process with one thread its <pid>/schedstat too: while that says the
// process has not run since its stat was read, the row is the last read's,
// for at most 9 scans in a row, and never when the process's parent has
// exited. What can change while a process does not run shows within 10
// scans: resident memory the kernel reclaims, a nice value or a name set
// from outside, the virtual size grown by a vfork child sharing its
// memory, a wake-up not yet run (R), a freezer's D.
//
// The first Sample, and one whose previous sample is older than StaleAfter,
// scans twice Window apart, so the CPU column reflects current load — never
// zeros and never an average since the last client left. A Sample sooner
// than Window after the previous one waits until Window has passed.
//
// Safe for use by one goroutine at a time; concurrent calls are serialized.
type ProcessSampler struct {
	fs         *FS
	Window     time.Duration
	StaleAfter time.Duration
	// GroupOf, when set, names each process's group (Process.Group) from
	// the content of its /proc/<pid>/cgroup (nil when unreadable). The file
	// is read when a process is first seen and again as its owner is, every
	// refreshReads scans (when the held stat file is opened again), not on
	// every scan: a process rarely changes group, and reading a second file
	// per process would double a scan's cost. Set it before the first
	// Sample, or between samples.
	GroupOf func(cgroup []byte) string

	mu        sync.Mutex
	prev, cur []procState // sorted by pid (readdir of /proc is ascending)
	prevTotal uint64      // machine jiffies at prev
	prevAt    time.Time
	have      bool
	stat      Stat
	scratch   []Process
	scan      scanner
	due       []int // the processes (their index in cur and in the sample) whose group is to be read
}

// groupsDue reads the groups the scan left due, at its end: dst and s.cur
// hold the scan's processes in the same order.
func (s *ProcessSampler) groupsDue(dst []Process) {
	for _, i := range s.due {
		st := &s.cur[i]
		st.group, st.groupRead = s.GroupOf(s.scan.readPIDFile(st.pid, "/cgroup")), true
		dst[i].Group = st.group
	}
}

// NewProcessSampler returns a sampler reading fs.
func (fs *FS) NewProcessSampler() *ProcessSampler {
	s := &ProcessSampler{fs: fs, Window: DefaultWindow, StaleAfter: DefaultStaleAfter}
	s.scan.heldBy(s)
	return s
}

// Close releases the /proc files the sampler keeps open between samples
// (one per process on Linux, bounded by RLIMIT_NOFILE). A sampler that is
// garbage collected releases them too; one used after Close opens them
// again.
func (s *ProcessSampler) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scan.close()
	return nil
}

// BootTime is the boot time read with the latest sample (epoch seconds).
func (s *ProcessSampler) BootTime() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stat.BootTime
}

// Sample appends every process to dst[:0] and returns it. Pass the previous
// result back in to reuse its memory. Processes that exit during the scan
// are skipped.
func (s *ProcessSampler) Sample(ctx context.Context, dst []Process) ([]Process, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if since := time.Since(s.prevAt); !s.have || since > s.StaleAfter {
		var err error
		if s.scratch, err = s.sampleOnce(s.scratch[:0]); err != nil {
			return dst[:0], err
		}
		if err := sleepCtx(ctx, s.Window); err != nil {
			return dst[:0], err
		}
	} else if since < s.Window {
		// Called again right away: a few jiffies would give a table of zeros
		// and noise, so let at least one Window pass.
		if err := sleepCtx(ctx, s.Window-since); err != nil {
			return dst[:0], err
		}
	}
	return s.sampleOnce(dst[:0])
}

func (s *ProcessSampler) sampleOnce(dst []Process) ([]Process, error) {
	if err := s.fs.ReadStat(&s.stat); err != nil {
		return dst, err
	}
	total := s.stat.Total.Total()
	var dTotal float64
	if s.have && total > s.prevTotal {
		dTotal = float64(total - s.prevTotal)
	}
	s.cur, s.due = s.cur[:0], s.due[:0]
	hint := 0
	var err error
	dst, err = s.scan.each(s.fs, dst, func(p *Process, ps *ProcStat, name []byte) {
		cpu := ps.UTime + ps.STime
		// Find the previous state: the cursor hint works because /proc lists
		// pids in ascending order; fall back to binary search otherwise.
		var old *procState
		if hint < len(s.prev) && s.prev[hint].pid < ps.PID {
			for hint < len(s.prev) && s.prev[hint].pid < ps.PID {
				hint++
			}
		}
		if hint < len(s.prev) && s.prev[hint].pid == ps.PID {
			old = &s.prev[hint]
		} else {
			old = findState(s.prev, ps.PID)
		}
		st := procState{pid: ps.PID, start: ps.StartTime, cpu: cpu}
		var delta uint64
		if old != nil && old.start == ps.StartTime {
			if cpu > old.cpu {
				delta = cpu - old.cpu
			}
			if string(name) == old.name {
				st.name = old.name
			}
		} else {
			delta = cpu // new process (or pid reused): all its time is in the window
		}
		if ps.Name != "" {
			st.name = ps.Name // interned by the scanner (a held file's parse)
		} else if st.name == "" && len(name) > 0 {
			if old != nil && string(name) == old.name {
				st.name = old.name
			} else {
				st.name = string(name)
			}
		}
		p.Name = st.name
		if s.GroupOf != nil {
			if old != nil && old.start == ps.StartTime && old.groupRead && old.groupAge < refreshReads {
				st.group, st.groupAge, st.groupRead = old.group, old.groupAge+1, true
			} else {
				// Read after the scan (groupsDue): its ordinary calls
				// would wake the runtime's monitor for the whole scan.
				s.due = append(s.due, len(s.cur))
			}
			p.Group = st.group
		}
		if dTotal > 0 {
			p.CPU = float64(delta) / dTotal * 100
			if p.CPU > 100 {
				p.CPU = 100
			}
		}
		s.cur = append(s.cur, st)
	}, s.groupsDue)
	if err != nil {
		return dst, err
	}
	s.prev, s.cur = s.cur, s.prev
	if !sortedStates(s.prev) {
		sortStates(s.prev)
	}
	s.prevTotal, s.prevAt, s.have = total, time.Now(), true
	return dst, nil
}

func findState(states []procState, pid int32) *procState {
	lo, hi := 0, len(states)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if states[m].pid < pid {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(states) && states[lo].pid == pid {
		return &states[lo]
	}
	return nil
}

func sortedStates(st []procState) bool {
	for i := 1; i < len(st); i++ {
		if st[i].pid <= st[i-1].pid {
			return false
		}
	}
	return true
}

func sortStates(st []procState) {
	// insertion sort: the input is nearly sorted when it is not sorted at all
	for i := 1; i < len(st); i++ {
		for j := i; j > 0 && st[j].pid < st[j-1].pid; j-- {
			st[j], st[j-1] = st[j-1], st[j]
		}
	}
}

// fillProcess copies the parsed stat into p (without Name and CPU).
func (fs *FS) fillProcess(p *Process, ps *ProcStat) {
	*p = Process{
		PID: ps.PID, PPID: ps.PPID, State: ps.State,
		Kernel:  ps.Flags&pfKthread != 0,
		Nice:    ps.Nice,
		Threads: ps.Threads,
		UTime:   ps.UTime, STime: ps.STime,
		StartTime: ps.StartTime,
		RSS:       ps.RSSPages * fs.pageSize,
		VSize:     ps.VSize,
	}
}
