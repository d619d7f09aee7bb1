package agent

import (
	"context"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startSleepers starts n `sleep` children and reaps them at cleanup, so a
// benchmark sees at least n live processes.
func startSleepers(b *testing.B, n int) {
	b.Helper()
	var cmds []*exec.Cmd
	b.Cleanup(func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	})
	for range n {
		c := exec.Command("sleep", "3600")
		if err := c.Start(); err != nil {
			b.Skipf("cannot start %d sleepers: %v", n, err)
		}
		cmds = append(cmds, c)
	}
}

func threadCPUTime() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// BenchmarkProcessesVsSampler reports the agent's process collection (the
// procfs sample plus its conversion to the wire list) ÷ the procfs sample
// alone, both measured alternately on one locked thread, in thread CPU
// time: what the agent adds to reading /proc.
func BenchmarkProcessesVsSampler(b *testing.B) {
	startSleepers(b, 1000)
	a, err := New(testConfig())
	if err != nil {
		b.Fatal(err)
	}
	c := a.coll
	c.procs.Window = 0
	ctx := context.Background()
	buf, err := c.procs.Sample(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var base, subj time.Duration
	n := 0
	for b.Loop() {
		t0 := threadCPUTime()
		buf, _ = c.procs.Sample(ctx, buf)
		t1 := threadCPUTime()
		s, err := c.processes(ctx)
		t2 := threadCPUTime()
		if err != nil {
			b.Fatal(err)
		}
		n = len(s.msg.Processes)
		base += t1 - t0
		subj += t2 - t1
	}
	b.ReportMetric(float64(subj)/float64(base), "x-cpu")
	b.ReportMetric(float64(n), "procs")
	b.ReportMetric(0, "ns/op")
}
