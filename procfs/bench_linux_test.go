package procfs

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// spawnSleepers starts n `sleep` children for a benchmark and reaps them in
// b.Cleanup, so the process benchmarks see at least n live processes.
func spawnSleepers(b *testing.B, n int) {
	b.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		b.Skip("no sleep binary")
	}
	cmds := make([]*exec.Cmd, 0, n)
	b.Cleanup(func() {
		for _, c := range cmds {
			c.Process.Kill()
		}
		for _, c := range cmds {
			c.Wait()
		}
	})
	for i := 0; i < n; i++ {
		c := exec.Command(sleep, "3600")
		if err := c.Start(); err != nil {
			b.Skipf("cannot spawn %d processes (got %d): %v", n, i, err)
		}
		cmds = append(cmds, c)
	}
}

const benchProcs = 1000

// BenchmarkFloor is the cost floor of any process list: readdir of /proc,
// then open+read+close of every /proc/<pid>/stat, nothing else (same raw
// syscalls and reused buffers as the sampler).
func BenchmarkFloor(b *testing.B) {
	spawnSleepers(b, benchProcs)
	dents := make([]byte, 32<<10)
	buf := make([]byte, 1024)
	path := make([]byte, 0, 32)
	procs := 0
	clk := startCPUClock(b)
	for b.Loop() {
		dirfd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		procs = 0
		listPIDs(dirfd, dents, func(pid []byte) error {
			fd, err := openAt(dirfd, &path, pid, "/stat")
			if err != nil {
				return nil
			}
			if n, _ := unix.Read(fd, buf); n > 0 {
				procs++
			}
			unix.Close(fd)
			return nil
		})
		unix.Close(dirfd)
	}
	clk.report(b)
	b.ReportMetric(float64(procs), "procs")
}

// BenchmarkProcesses is a full process snapshot including CPU%.
func BenchmarkProcesses(b *testing.B) {
	spawnSleepers(b, benchProcs)
	fs, err := DefaultFS()
	if err != nil {
		b.Fatal(err)
	}
	s := fs.NewProcessSampler()
	ctx := context.Background()
	ps, err := s.Sample(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	clk := startCPUClock(b)
	for b.Loop() {
		if ps, err = s.Sample(ctx, ps); err != nil {
			b.Fatal(err)
		}
	}
	clk.report(b)
	b.ReportMetric(float64(len(ps)), "procs")
}

var _ = os.Getpid

// cpuClock measures the CPU time (user+system) this process spends, which is
// far less disturbed than wall time by other load on a shared machine.
type cpuClock struct{ start int64 }

func cpuNow() int64 {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func startCPUClock(b *testing.B) *cpuClock {
	b.Helper()
	return &cpuClock{start: cpuNow()}
}

// report adds cpu-ns/op; call after the b.Loop loop.
func (c *cpuClock) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuNow()-c.start)/float64(b.N), "cpu-ns/op")
	}
}
