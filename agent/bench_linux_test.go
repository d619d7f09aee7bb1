package agent

import (
	"context"
	"io"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/socktop/socktop/wire"
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
	n := 0
	alternately(b, func() { buf, _ = c.procs.Sample(ctx, buf) }, func() {
		s, err := c.processes(ctx)
		if err != nil {
			b.Fatal(err)
		}
		n = len(s.msg.Processes)
	})
	b.ReportMetric(float64(n), "procs")
}

// alternately runs base and subject in turn on one locked thread and
// reports subject ÷ base in thread CPU time (x-cpu), and the subject's
// CPU time per run.
func alternately(b *testing.B, base, subject func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var tb, ts time.Duration
	for b.Loop() {
		t0 := threadCPUTime()
		base()
		t1 := threadCPUTime()
		subject()
		t2 := threadCPUTime()
		tb += t1 - t0
		ts += t2 - t1
	}
	b.ReportMetric(float64(ts)/float64(tb), "x-cpu")
	b.ReportMetric(float64(ts.Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkDetailOfBigTree is one uncached detail of a process with 64
// children of 100 threads each (a detail of it took 220–340 ms of CPU),
// reported as a ratio to the detail of a lone process, measured
// alternately, and in CPU milliseconds per detail.
func BenchmarkDetailOfBigTree(b *testing.B) {
	parent := exec.Command("sh", "-c", "read x")
	stdin, _ := parent.StdinPipe()
	if err := parent.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); parent.Process.Kill(); parent.Wait() })
	// The children are this process's; the lone process is the sh above.
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for range 64 {
		c := exec.Command(self)
		c.Env = append(os.Environ(), "SOCKTOP_TEST_HELPER=threads", "SOCKTOP_TEST_THREADS=100")
		out, _ := c.StdoutPipe()
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Process.Kill(); c.Wait() })
		buf := make([]byte, 6)
		io.ReadFull(out, buf) // "ready\n": its threads run
	}
	cfg := testConfig()
	cfg.ProcessesTTL = 0
	a, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ask := func(pid int) {
		req := &wire.Request{Id: 1, Body: &wire.Request_ProcessDetail{ProcessDetail: &wire.ProcessDetailRequest{Pid: uint32(pid)}}}
		if _, err := a.serveV2(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var base, subj time.Duration
	for b.Loop() {
		t0 := threadCPUTime()
		ask(parent.Process.Pid)
		t1 := threadCPUTime()
		ask(os.Getpid())
		t2 := threadCPUTime()
		base += t1 - t0
		subj += t2 - t1
	}
	b.ReportMetric(float64(subj)/float64(base), "x-cpu")
	b.ReportMetric(float64(subj.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCommandsVsSample reports what the command lines cost a client
// that asks for them: making the sample with them (ProcessExtras.command:
// the shared sample's rows copied with each command appended, the command
// lines read once and kept) ÷ collecting the sample they are made from,
// measured alternately on one locked thread. A client that asks for none
// pays nothing of it (BenchmarkProcessesVsSampler).
func BenchmarkCommandsVsSample(b *testing.B) {
	startSleepers(b, 1000)
	a, err := New(testConfig())
	if err != nil {
		b.Fatal(err)
	}
	c := a.coll
	c.procs.Window = 0
	c.commands.asked.Store(time.Now().UnixNano())
	ctx := context.Background()
	s, err := c.processes(ctx)
	if err != nil {
		b.Fatal(err)
	}
	c.commands.add(s) // the first reads every command line
	alternately(b, func() {
		if s, err = c.processes(ctx); err != nil {
			b.Fatal(err)
		}
		s.v2Body()
	}, func() {
		if _, err := c.commands.add(s); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(len(s.msg.Processes)), "procs")
}
