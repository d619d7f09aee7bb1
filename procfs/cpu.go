package procfs

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Defaults for the fresh measuring window of CPUTracker and ProcessSampler.
const (
	// DefaultWindow is how long the first sample (or one after a long idle)
	// measures, so it reflects current load rather than zeros or an average
	// since boot.
	DefaultWindow = 150 * time.Millisecond
	// DefaultStaleAfter is the age after which a previous sample is too old
	// to difference against.
	DefaultStaleAfter = 5 * time.Second
)

// CPUUsage is the busy share between two /proc/stat samples, 0..100.
type CPUUsage struct {
	Total float64
	// Shares splits the whole machine's time between the samples by kind,
	// as top's "%Cpu(s)" line does (each 0..100; they sum to 100).
	Shares CPUShares
	// PerCore is indexed like Stat.Cores of the newer sample (online cores in
	// /proc/stat order); CoreIDs holds their cpu numbers.
	PerCore []float64
	CoreIDs []int
	// Stat is the newer raw sample.
	Stat Stat
	// Window is the time between the two samples.
	Window time.Duration
}

// CPUTracker turns successive /proc/stat samples into usage percentages.
// Busy = all − idle − iowait. The first call, and a call whose previous sample
// is older than StaleAfter, measures a fresh Window instead; a call sooner
// than Window after the previous one waits until Window has passed.
//
// Safe for use by one goroutine at a time; concurrent calls are serialized.
type CPUTracker struct {
	fs         *FS
	Window     time.Duration
	StaleAfter time.Duration

	mu        sync.Mutex
	prev, cur Stat // cur is reused between calls; prev and cur swap
	at        time.Time
	have      bool
}

// NewCPUTracker returns a tracker reading fs with the default window.
func (fs *FS) NewCPUTracker() *CPUTracker {
	return &CPUTracker{fs: fs, Window: DefaultWindow, StaleAfter: DefaultStaleAfter}
}

// Sample returns usage since the previous call (or over a fresh window).
// ctx bounds the wait of a fresh window.
func (t *CPUTracker) Sample(ctx context.Context) (CPUUsage, error) {
	return t.SampleWithin(ctx, t.StaleAfter)
}

// SampleWithin is Sample measuring since the previous call when it is at
// most staleAfter old, instead of StaleAfter: a caller that samples seldom
// (a Prometheus scrape every 15–60 s) gets the share since its previous
// sample without waiting a fresh window each time.
func (t *CPUTracker) SampleWithin(ctx context.Context, staleAfter time.Duration) (CPUUsage, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	if since := now.Sub(t.at); !t.have || since > staleAfter {
		if err := t.fs.ReadStat(&t.prev); err != nil {
			return CPUUsage{}, err
		}
		t.at, t.have = now, true
		if err := sleepCtx(ctx, t.Window); err != nil {
			return CPUUsage{}, err
		}
	} else if since < t.Window {
		if err := sleepCtx(ctx, t.Window-since); err != nil { // too soon: no meaningful delta yet
			return CPUUsage{}, err
		}
	}
	if err := t.fs.ReadStat(&t.cur); err != nil {
		return CPUUsage{}, err
	}
	now = time.Now()
	u := Usage(&t.prev, &t.cur)
	u.Window = now.Sub(t.at)
	u.Stat.Cores = slices.Clone(t.cur.Cores) // the caller owns u; t.cur is reused
	t.prev, t.cur = t.cur, t.prev
	t.at = now
	return u, nil
}

// CPUShares are the shares of CPU time by kind, 0..100 each. Guest time
// is in User and Nice, as the kernel accounts it.
type CPUShares struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal float64
}

// shares splits the time between two readings of one cpu line by kind.
// A counter that went back (hotplug) counts as no time; the shares are of
// the time that moved, so they sum to 100 (all zero when none moved).
func shares(prev, cur CPUTimes) CPUShares {
	c := [...]uint64{cur.User, cur.Nice, cur.System, cur.Idle, cur.IOWait, cur.IRQ, cur.SoftIRQ, cur.Steal}
	p := [...]uint64{prev.User, prev.Nice, prev.System, prev.Idle, prev.IOWait, prev.IRQ, prev.SoftIRQ, prev.Steal}
	var d [len(c)]float64
	var sum float64
	for i := range c {
		if c[i] > p[i] {
			d[i] = float64(c[i] - p[i])
			sum += d[i]
		}
	}
	if sum == 0 {
		return CPUShares{}
	}
	for i := range d {
		d[i] = d[i] / sum * 100
	}
	return CPUShares{User: d[0], Nice: d[1], System: d[2], Idle: d[3], IOWait: d[4], IRQ: d[5], SoftIRQ: d[6], Steal: d[7]}
}

// Usage computes the busy share between two samples, in total and per core
// (matched by cpu number, so cores going offline or online are handled; a core
// without an earlier sample reports its share since boot).
func Usage(prev, cur *Stat) CPUUsage {
	u := CPUUsage{Stat: *cur}
	u.Total = pct(prev.Total, cur.Total)
	u.Shares = shares(prev.Total, cur.Total)
	n := len(cur.Cores)
	u.PerCore = make([]float64, n)
	u.CoreIDs = make([]int, n)
	for i, c := range cur.Cores {
		u.CoreIDs[i] = c.ID
		var p CPUTimes
		if i < len(prev.Cores) && prev.Cores[i].ID == c.ID {
			p = prev.Cores[i].CPUTimes
		} else {
			for _, pc := range prev.Cores {
				if pc.ID == c.ID {
					p = pc.CPUTimes
					break
				}
			}
		}
		u.PerCore[i] = pct(p, c.CPUTimes)
	}
	return u
}

func pct(prev, cur CPUTimes) float64 {
	tot, ptot := cur.Total(), prev.Total()
	busy, pbusy := cur.Busy(), prev.Busy()
	if tot <= ptot || busy < pbusy { // no time passed, or counters went back (hotplug)
		return 0
	}
	v := float64(busy-pbusy) / float64(tot-ptot) * 100
	if v > 100 {
		v = 100
	}
	return v
}

func sleepCtx(ctx context.Context, d time.Duration) error {
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
