// Package proctraffic gives each process cumulative TCP byte counters (and,
// through Sampler, its storage I/O counters): the agent's per-process
// "who uses the network and the disk" columns.
//
// The kernel counts bytes per socket (tcpi_bytes_received and
// tcpi_bytes_acked, read through sock_diag without privileges), not per
// process, and a socket's counters vanish when it closes. An Accumulator
// turns a series of socket samples into per-process totals that never go
// backwards while the process lives:
//
//   - each socket is tracked by its kernel cookie (unique per boot), with
//     the counters already credited to a process; each sample credits only
//     what grew since, so a socket that closes leaves its bytes in its
//     process's total;
//   - a socket is credited to one process only, the owner sockdiag
//     resolves (the first process found holding it, kept while that
//     process lives; after a full rescan, the lowest pid). A socket shared
//     after fork or SCM_RIGHTS is thus counted once. When the owner
//     changes (it exited, or a rescan names another holder), bytes already
//     credited stay with the old owner and later growth goes to the new
//     one;
//   - a socket that outlives its file (closed but still sending its queue:
//     FIN-WAIT, inode 0) keeps being credited to its last owner;
//   - a process is keyed by pid and start time: when it exits, or its pid
//     is reused, its totals are dropped;
//   - totals count what sockets carried while socktop watched, plus the
//     whole history of sockets alive at their first sample: a socket that
//     opened and closed between two samples is not seen;
//   - UDP is not counted: Linux keeps no per-socket UDP byte counters.
//
// State is bounded (Limits); what does not fit is unknown, never zero.
package proctraffic

import (
	"cmp"
	"slices"

	"github.com/socktop/socktop/procfs/sockdiag"
)

// Proc is one process of a sample.
type Proc struct {
	PID int32
	// Start is the start time (jiffies after boot): a reused pid with
	// another start time is another process.
	Start uint64
	// Visible is whether all the TCP sockets the process holds can be
	// seen: false when its fds cannot be read (sockdiag.Collector.FDReadable)
	// or it lives in another network namespace (not in our dump).
	Visible bool
}

// Totals is one process's TCP bytes; Rx and Tx mean something only when
// Known.
type Totals struct {
	Rx, Tx uint64
	Known  bool
}

// Limits bound an Accumulator's state.
type Limits struct {
	// Sockets is the most sockets tracked at once (default 65,536),
	// counting those closed in the last few samples (kept in case a dump
	// missed them): the owners of sockets past it are unknown, rather than
	// risking bytes counted twice.
	Sockets int
	// Procs is the most processes with a total (default 65,536): processes
	// past it are unknown.
	Procs int
}

// DefaultLimits are generous for a server (a tracked socket costs ~50 bytes).
var DefaultLimits = Limits{Sockets: 65536, Procs: 65536}

// keepMissing is how many samples a socket may be missing from the dump
// before it is forgotten. A sock_diag dump is not atomic: a socket can be
// skipped when its hash bucket changes between two batches, and forgetting
// it at once would credit its whole history again when it reappears.
const keepMissing = 3

type sockState struct {
	pid    int32
	start  uint64
	rx, tx uint64 // counters already credited
	seen   uint32 // generation of the last sample that listed it
}

type procTotal struct {
	start  uint64
	rx, tx uint64
}

// Accumulator keeps per-process TCP totals across samples. It is not safe
// for concurrent use (Sampler serializes it).
type Accumulator struct {
	lim   Limits
	socks map[uint64]sockState // by socket cookie
	procs map[int32]procTotal  // only processes that own or owned a socket
	gen   uint32

	byPID []int  // scratch: indexes into the sample's procs, sorted by pid
	over  []bool // scratch: processes past a limit in this sample
}

// NewAccumulator returns an empty accumulator; zero limits take the defaults.
func NewAccumulator(lim Limits) *Accumulator {
	if lim.Sockets <= 0 {
		lim.Sockets = DefaultLimits.Sockets
	}
	if lim.Procs <= 0 {
		lim.Procs = DefaultLimits.Procs
	}
	return &Accumulator{lim: lim, socks: make(map[uint64]sockState), procs: make(map[int32]procTotal)}
}

// Tracked returns the numbers of sockets and processes held.
func (a *Accumulator) Tracked() (sockets, procs int) { return len(a.socks), len(a.procs) }

// Update credits one sample's sockets to their owners and appends each
// process's totals to dst[:0], in the order of procs. complete says that
// socks is a whole dump with counters and resolved owners; when it is not
// (netlink refused, owner lookup failed) nothing is credited or forgotten
// and every total is unknown, so a bad sample can neither lose nor
// double-count bytes.
func (a *Accumulator) Update(procs []Proc, socks []sockdiag.Socket, complete bool, dst []Totals) []Totals {
	a.indexProcs(procs)
	a.over = slices.Grow(a.over[:0], len(procs))[:len(procs)]
	clear(a.over)
	a.dropExited(procs)
	if complete {
		a.gen++
		for i := range socks {
			a.credit(procs, &socks[i])
		}
		for c, st := range a.socks {
			if a.gen-st.seen >= keepMissing {
				delete(a.socks, c)
			}
		}
	}
	dst = dst[:0]
	for i, p := range procs {
		t := Totals{Known: complete && p.Visible && !a.over[i]}
		if pt, ok := a.procs[p.PID]; t.Known && ok && pt.start == p.Start {
			t.Rx, t.Tx = pt.rx, pt.tx
		}
		dst = append(dst, t)
	}
	return dst
}

// credit adds what one socket's counters grew since they were last
// credited to its owner's total.
func (a *Accumulator) credit(procs []Proc, s *sockdiag.Socket) {
	if s.Proto != sockdiag.TCP || !s.CountersAvailable || s.Cookie == 0 {
		return
	}
	st, tracked := a.socks[s.Cookie]
	pid := int32(s.PID)
	if s.PID <= 0 || s.PID > 1<<31-1 {
		pid = 0
		if tracked && s.Inode == 0 {
			pid = st.pid // closed but still draining: its last owner's
		}
	}
	idx := a.find(procs, pid)
	if idx >= 0 && tracked && s.PID == 0 && procs[idx].Start != st.start {
		idx = -1 // the last owner's pid belongs to another process now
	}
	if idx < 0 {
		a.keep(s.Cookie, st, tracked) // ownerless for now: growth waits for the next owner
		return
	}
	p := procs[idx]
	if !tracked && len(a.socks) >= a.lim.Sockets {
		a.over[idx] = true
		return
	}
	pt, ok := a.procs[p.PID]
	if !ok || pt.start != p.Start {
		if !ok && len(a.procs) >= a.lim.Procs {
			a.over[idx] = true
			a.keep(s.Cookie, st, tracked)
			return
		}
		pt = procTotal{start: p.Start}
	}
	// A socket's counters only grow; should one ever shrink, credit nothing
	// and follow it from there.
	if s.BytesReceived > st.rx {
		pt.rx += s.BytesReceived - st.rx
	}
	if s.BytesAcked > st.tx {
		pt.tx += s.BytesAcked - st.tx
	}
	a.procs[p.PID] = pt
	a.socks[s.Cookie] = sockState{pid: p.PID, start: p.Start, rx: s.BytesReceived, tx: s.BytesAcked, seen: a.gen}
}

// keep marks a tracked socket as listed without crediting it, so that it is
// not forgotten (and its history credited again later).
func (a *Accumulator) keep(cookie uint64, st sockState, tracked bool) {
	if tracked {
		st.seen = a.gen
		a.socks[cookie] = st
	}
}

// dropExited forgets the totals of processes that are not in procs (gone)
// or are there with another start time (pid reused).
func (a *Accumulator) dropExited(procs []Proc) {
	for pid, pt := range a.procs {
		if i := a.find(procs, pid); i < 0 || procs[i].Start != pt.start {
			delete(a.procs, pid)
		}
	}
}

// indexProcs sorts the indexes of procs by pid for find.
func (a *Accumulator) indexProcs(procs []Proc) {
	a.byPID = a.byPID[:0]
	for i := range procs {
		a.byPID = append(a.byPID, i)
	}
	sorted := true
	for i := 1; i < len(procs); i++ {
		if procs[i].PID <= procs[i-1].PID {
			sorted = false
			break
		}
	}
	if !sorted {
		slices.SortStableFunc(a.byPID, func(x, y int) int { return cmp.Compare(procs[x].PID, procs[y].PID) })
	}
}

// find returns the index in procs of pid, or -1.
func (a *Accumulator) find(procs []Proc, pid int32) int {
	if pid <= 0 {
		return -1
	}
	lo, hi := 0, len(a.byPID)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if procs[a.byPID[m]].PID < pid {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(a.byPID) && procs[a.byPID[lo]].PID == pid {
		return a.byPID[lo]
	}
	return -1
}
