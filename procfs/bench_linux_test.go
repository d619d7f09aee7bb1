package procfs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

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

func floor(b *testing.B, dents, buf []byte, path *[]byte) int {
	dirfd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	procs := 0
	listPIDs(dirfd, dents, func(pid []byte) error {
		fd, err := openAt(dirfd, path, pid, "/stat")
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
	return procs
}

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
		procs = floor(b, dents, buf, &path)
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
	s.Window = 0 // measure the sampling, not the minimum-window policy
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

// metricsFiles are the files one metrics snapshot reads: cpu, memory,
// network, load, and the temperature sensors (discovered like Temperatures).
func metricsFiles(b *testing.B, fs *FS) []string {
	files := []string{fs.paths.stat, fs.paths.meminfo, fs.paths.netdev, fs.paths.loadavg}
	for _, s := range fs.DiscoverTemps() {
		files = append(files, s.Path)
	}
	return files
}

func rawRead(b *testing.B, files []string, buf []byte) {
	for _, f := range files {
		fd, err := unix.Open(f, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		for {
			n, err := unix.Read(fd, buf)
			if n <= 0 || err != nil {
				break
			}
		}
		unix.Close(fd)
	}
}

// BenchmarkMetricsRaw is the floor of a metrics snapshot: open+read+close of
// the same files with one reused buffer, no parsing.
func BenchmarkMetricsRaw(b *testing.B) {
	fs, err := DefaultFS()
	if err != nil {
		b.Fatal(err)
	}
	files := metricsFiles(b, fs)
	buf := make([]byte, 16<<10)
	clk := startCPUClock(b)
	for b.Loop() {
		rawRead(b, files, buf)
	}
	clk.report(b)
	b.ReportMetric(float64(len(files)), "files")
}

// metricsSnapshot returns one metrics collection as the agent does it.
func metricsSnapshot(b *testing.B, fs *FS) func() {
	tr := fs.NewCPUTracker()
	tr.Window = 0
	ctx := context.Background()
	if _, err := tr.Sample(ctx); err != nil {
		b.Fatal(err)
	}
	var nd []NetDev
	sensors := fs.DiscoverTemps() // the agent discovers once a minute
	return func() {
		var err error
		if _, err = tr.Sample(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err = fs.Meminfo(); err != nil {
			b.Fatal(err)
		}
		if nd, err = fs.ReadNetDev(nd); err != nil {
			b.Fatal(err)
		}
		CPUTemperature(fs.ReadTemps(sensors))
		if _, err = fs.LoadAvg(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMetrics is a parsed metrics snapshot: CPU usage (tracker),
// memory, network interfaces, temperatures (+ CPU temperature) and load.
func BenchmarkMetrics(b *testing.B) {
	fs, err := DefaultFS()
	if err != nil {
		b.Fatal(err)
	}
	snap := metricsSnapshot(b, fs)
	clk := startCPUClock(b)
	for b.Loop() {
		snap()
	}
	clk.report(b)
}

// threadCPU is the CPU time of the calling OS thread.
func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// ratioBench runs base and subject alternately on one locked OS thread and
// reports subject/base both in wall time and in thread CPU time. Alternating
// in one run cancels the drift of a shared machine's load, which makes
// separate benchmarks hard to compare.
func ratioBench(b *testing.B, base, subject func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var wallBase, wallSubj, cpuBase, cpuSubj time.Duration
	for b.Loop() {
		t0, c0 := time.Now(), threadCPU()
		base()
		t1, c1 := time.Now(), threadCPU()
		subject()
		t2, c2 := time.Now(), threadCPU()
		wallBase += t1.Sub(t0)
		wallSubj += t2.Sub(t1)
		cpuBase += c1 - c0
		cpuSubj += c2 - c1
	}
	b.ReportMetric(float64(wallSubj)/float64(wallBase), "x-wall")
	b.ReportMetric(float64(cpuSubj)/float64(cpuBase), "x-cpu")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkProcessesVsFloor reports Processes ÷ Floor measured alternately.
func BenchmarkProcessesVsFloor(b *testing.B) {
	spawnSleepers(b, benchProcs)
	fs, err := DefaultFS()
	if err != nil {
		b.Fatal(err)
	}
	s := fs.NewProcessSampler()
	s.Window = 0 // measure the sampling, not the minimum-window policy
	ctx := context.Background()
	ps, err := s.Sample(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	dents, buf, path := make([]byte, 32<<10), make([]byte, 1024), make([]byte, 0, 32)
	ratioBench(b, func() { floor(b, dents, buf, &path) }, func() {
		if ps, err = s.Sample(ctx, ps); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(len(ps)), "procs")
}

// BenchmarkMetricsVsRaw reports Metrics ÷ MetricsRaw measured alternately,
// on the live machine and on the x86 server fixture (which has hwmon
// sensors; its files are plain files, cheaper to read than /proc, so the
// parsing shows more).
func BenchmarkMetricsVsRaw(b *testing.B) {
	run := func(b *testing.B, fs *FS) {
		files := metricsFiles(b, fs)
		buf := make([]byte, 16<<10)
		snap := metricsSnapshot(b, fs)
		ratioBench(b, func() { rawRead(b, files, buf) }, snap)
		b.ReportMetric(float64(len(files)), "files")
	}
	b.Run("live", func(b *testing.B) {
		fs, err := DefaultFS()
		if err != nil {
			b.Fatal(err)
		}
		run(b, fs)
	})
	// live-held: the agent's way, the files held open between samples
	// (HeldFiles), against the same open+read+close floor.
	b.Run("live-held", func(b *testing.B) {
		fs, err := DefaultFS()
		if err != nil {
			b.Fatal(err)
		}
		h := NewHeldFiles()
		defer h.Close()
		files := metricsFiles(b, fs)
		buf := make([]byte, 16<<10)
		snap := metricsSnapshot(b, fs.Holding(h))
		ratioBench(b, func() { rawRead(b, files, buf) }, snap)
		b.ReportMetric(float64(len(files)), "files")
	})
	b.Run("x86-fixture", func(b *testing.B) {
		dir := filepath.Join("testdata", "fixtures", "x86-server")
		fs, err := NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys"))
		if err != nil {
			b.Fatal(err)
		}
		run(b, fs)
	})
}

// BenchmarkHeldReadVsFloor reports what re-reading every held <pid>/stat
// costs on its own — one pread per process, no listing, no parsing — ÷ the
// Floor, measured alternately: the kernel's part of a scan that holds its
// files, below which no sampler that reads every stat can go.
func BenchmarkHeldReadVsFloor(b *testing.B) {
	spawnSleepers(b, benchProcs)
	dir, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, e := range dir {
		if name := e.Name(); name[0] >= '1' && name[0] <= '9' {
			if fd, err := unix.Open("/proc/"+name+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
				fds = append(fds, fd)
			}
		}
	}
	dents, buf, path := make([]byte, 32<<10), make([]byte, 1024), make([]byte, 0, 32)
	ratioBench(b, func() { floor(b, dents, buf, &path) }, func() {
		for _, fd := range fds {
			procRead(fd, buf, 0)
		}
	})
	b.ReportMetric(float64(len(fds)), "procs")
}
