package proctraffic

import (
	"slices"
	"testing"

	"github.com/socktop/socktop/procfs"
)

// Which processes an io sample reads: new, running, in disk wait or with
// CPU time moved at once; idle ones once every `every` samples, spread by
// pid; their last values in between.
func TestIOPlan(t *testing.T) {
	const every = 4
	var c ioCache
	idle := func(pid int32) procfs.Process {
		return procfs.Process{PID: pid, State: 'S', StartTime: 100, UTime: 5, STime: 5}
	}
	ps := make([]procfs.Process, 0, 40)
	for pid := int32(1); pid <= 40; pid++ {
		ps = append(ps, idle(pid))
	}
	sample := func() []bool {
		need := slices.Clone(c.plan(ps, every))
		for i := range ps {
			c.result(&ps[i], need[i], procfs.IOResult{IO: procfs.ProcIO{ReadBytes: uint64(ps[i].PID)}})
		}
		c.sweep()
		return need
	}
	for i, n := range sample() {
		if !n {
			t.Fatalf("new process %d not read", ps[i].PID)
		}
	}
	reads := make([]int, len(ps))
	perSample := []int{}
	for range 2 * every {
		k := 0
		for i, n := range sample() {
			if n {
				reads[i]++
				k++
			}
		}
		perSample = append(perSample, k)
	}
	for i, n := range reads {
		if n != 2 {
			t.Errorf("idle process %d read %d times in %d samples, want 2", ps[i].PID, n, 2*every)
		}
	}
	for _, k := range perSample {
		if k != len(ps)/every {
			t.Errorf("reads per sample %v: not spread evenly", perSample)
			break
		}
	}
	// Any sign of activity is read at once, whatever the turn.
	ps[0].UTime++              // ran
	ps[1].State = 'D'          // in disk wait
	ps[2].State = 'R'          // running
	ps[3].StartTime = 999      // pid reused
	ps = append(ps, idle(100)) // new
	need := c.plan(ps, every)
	for _, i := range []int{0, 1, 2, 3, len(ps) - 1} {
		if !need[i] {
			t.Errorf("active process %d (%+v) not read", ps[i].PID, ps[i])
		}
	}
	// A skipped process gets its last value, and the cache forgets exited ones.
	for i := range ps {
		r := c.result(&ps[i], need[i], procfs.IOResult{IO: procfs.ProcIO{ReadBytes: 7}})
		if !need[i] && r.IO.ReadBytes != uint64(ps[i].PID) {
			t.Errorf("skipped process %d: %+v, want its last read", ps[i].PID, r)
		}
	}
	c.sweep()
	ps = ps[:10]
	c.plan(ps, every)
	for i := range ps {
		c.result(&ps[i], false, procfs.IOResult{})
	}
	c.sweep()
	if len(c.entries) != 10 {
		t.Errorf("%d entries for 10 processes", len(c.entries))
	}
	// every = 1 reads everything.
	for _, n := range c.plan(ps, 1) {
		if !n {
			t.Fatal("IORefresh 1 skipped a process")
		}
	}
}
