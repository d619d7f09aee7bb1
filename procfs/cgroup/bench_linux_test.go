package cgroup

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/socktop/socktop/procfs"
)

// The budgets of issue #18, measured against procfs's process scan in the
// same run (alternating, on one locked thread, like procfs's
// BenchmarkProcessesVsFloor):
//   - BenchmarkProcCgroupVsStat: reading and choosing one process's cgroup
//     path costs about what reading its stat does; held like the owner uid
//     (re-read every 30th scan), it adds a thirtieth of that to a scan;
//   - BenchmarkScanWithCgroupsVsScan: a process scan that keeps every
//     process's group that way ≤ 1.1× the scan alone;
//   - BenchmarkContainersVsProcesses: a sample of 50 groups ≤ 0.3× a scan
//     of benchProcs processes (a Sampler, which holds the groups' files
//     open as procfs holds <pid>/stat; reading every file afresh is ~0.37×).

const benchProcs = 1000

// spawnSleepers starts n `sleep` children and reaps them in b.Cleanup.
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

func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// ratioBench runs base and subject alternately on one locked OS thread and
// reports subject ÷ base in wall and thread CPU time.
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
	b.ReportMetric(float64(cpuSubj)/float64(b.N), "subject-cpu-ns/op")
	b.ReportMetric(0, "ns/op")
}

// pidReader reads /proc/<pid>/<file> relative to an open /proc, the way
// procfs's scanner does (openat with the path built in place, one read).
type pidReader struct {
	r     reader
	procf int
}

func newPIDReader(b *testing.B) *pidReader {
	fd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(fd) })
	return &pidReader{r: reader{buf: make([]byte, 1024), path: make([]byte, 0, 64)}, procf: fd}
}

func (p *pidReader) read(pid int32, file string) []byte {
	name := strconv.AppendInt(p.r.path[:0], int64(pid), 10)
	name = append(name, file...)
	b, _ := p.r.read(p.procf, string(name))
	return b
}

// scanPIDs returns the pids of a process scan.
func scanPIDs(b *testing.B) []int32 {
	fs, err := procfs.DefaultFS()
	if err != nil {
		b.Fatal(err)
	}
	ps, err := fs.NewProcessSampler().Sample(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	pids := make([]int32, len(ps))
	for i, p := range ps {
		pids[i] = p.PID
	}
	return pids
}

// BenchmarkProcCgroupVsStat: for the same pids, read /proc/<pid>/cgroup and
// pick its path (subject) against reading /proc/<pid>/stat (base).
func BenchmarkProcCgroupVsStat(b *testing.B) {
	spawnSleepers(b, benchProcs)
	pids := scanPIDs(b)
	pr := newPIDReader(b)
	found := 0
	ratioBench(b, func() {
		for _, pid := range pids {
			pr.read(pid, "/stat")
		}
	}, func() {
		found = 0
		for _, pid := range pids {
			if _, err := ProcessPath(pr.read(pid, "/cgroup")); err == nil {
				found++
			}
		}
	})
	b.ReportMetric(float64(found), "procs")
}

// groupCache is what the scan will keep: the group of each distinct path,
// looked up without allocating.
type groupCache map[string]*Group

func (c groupCache) of(path []byte) *Group {
	if g, ok := c[string(path)]; ok {
		return g
	}
	p := string(path)
	g := Classify(p)
	c[p] = &g
	return &g
}

// BenchmarkScanWithCgroupsVsScan: a full process scan (procfs) against the
// same scan plus each process's group read the way the owner uid is (when a
// pid's stat file is opened afresh, i.e. every 30th scan of a process, the
// refreshReads of procfs's scanner) and looked up in a cache of groups.
func BenchmarkScanWithCgroupsVsScan(b *testing.B) {
	spawnSleepers(b, benchProcs)
	fs, err := procfs.DefaultFS()
	if err != nil {
		b.Fatal(err)
	}
	// One sampler for both sides: the same held stat files.
	sampler := fs.NewProcessSampler()
	sampler.Window = 0
	base, subj := sampler, sampler
	ctx := context.Background()
	var psBase, psSubj []procfs.Process
	pr := newPIDReader(b)
	cache := groupCache{}
	groups := map[int32]*Group{}
	scan := 0
	ratioBench(b, func() {
		if psBase, err = base.Sample(ctx, psBase); err != nil {
			b.Fatal(err)
		}
	}, func() {
		if psSubj, err = subj.Sample(ctx, psSubj); err != nil {
			b.Fatal(err)
		}
		scan++
		for _, p := range psSubj {
			if _, ok := groups[p.PID]; ok && (int(p.PID)+scan)%30 != 0 {
				continue
			}
			if path, err := ProcessPath(pr.read(p.PID, "/cgroup")); err == nil {
				groups[p.PID] = cache.of(path)
			}
		}
	})
	b.ReportMetric(float64(len(psSubj)), "procs")
	b.ReportMetric(float64(len(cache)), "paths")
}

// makeGroupsTree writes a cgroup v2 tree of n groups under dir (dir/proc,
// dir/sys): n-10 Docker containers in system.slice and 10 services, each
// with the files of the Raspberry Pi fixture's Home Assistant container.
func makeGroupsTree(b *testing.B, dir string, n int) {
	b.Helper()
	tmpl := filepath.Join("testdata", "fixtures", "rpi-docker", "sys", "fs", "cgroup", "system.slice",
		"docker-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.scope")
	ents, err := os.ReadDir(tmpl)
	if err != nil {
		b.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range ents {
		if files[e.Name()], err = os.ReadFile(filepath.Join(tmpl, e.Name())); err != nil {
			b.Fatal(err)
		}
	}
	writeGroup := func(path string) {
		d := filepath.Join(dir, "sys", "fs", "cgroup", path)
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(d, name), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	writeGroup("")
	writeGroup("system.slice")
	writeGroup("init.scope") // the 10th service
	for i := 0; i < n-1; i++ {
		if i < n-10 {
			writeGroup(fmt.Sprintf("system.slice/docker-%064x.scope", i+1))
		} else {
			writeGroup(fmt.Sprintf("system.slice/svc%d.service", i))
		}
	}
	mi := "30 21 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
	if err := os.MkdirAll(filepath.Join(dir, "proc", "self"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "proc", "self", "mountinfo"), []byte(mi), 0o644); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkContainersVsProcesses: a containers sample of 50 groups (a
// fixture tree on disk) against a process scan of benchProcs processes.
// "sampler" lists the groups and reads them from held files (what the agent
// does); "sample" lists and reads every file afresh (Layout.Sample);
// "stats" reads afresh the groups of a listing kept from before.
func BenchmarkContainersVsProcesses(b *testing.B) {
	spawnSleepers(b, benchProcs)
	dir := b.TempDir()
	makeGroupsTree(b, dir, 50)
	l, err := NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys")).Discover()
	if err != nil {
		b.Fatal(err)
	}
	fs, err := procfs.DefaultFS()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	scanner := func(b *testing.B) func() {
		s := fs.NewProcessSampler()
		s.Window = 0
		ps, err := s.Sample(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { b.ReportMetric(float64(len(ps)), "procs") })
		return func() {
			if ps, err = s.Sample(ctx, ps); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("sampler", func(b *testing.B) {
		smp := l.NewSampler()
		defer smp.Close()
		var got []Sample
		ratioBench(b, scanner(b), func() {
			if got, err = smp.Sample(got[:0]); err != nil {
				b.Fatal(err)
			}
		})
		if len(got) != 50 {
			b.Fatalf("sampled %d groups, want 50", len(got))
		}
		b.ReportMetric(float64(smp.heldCount()), "fds")
	})
	b.Run("sample", func(b *testing.B) {
		var got []Sample
		ratioBench(b, scanner(b), func() {
			if got, err = l.Sample(got[:0]); err != nil {
				b.Fatal(err)
			}
		})
		if len(got) != 50 {
			b.Fatalf("sampled %d groups, want 50", len(got))
		}
		b.ReportMetric(float64(len(got)), "groups")
	})
	b.Run("stats", func(b *testing.B) {
		groups, err := l.Groups()
		if err != nil || len(groups) != 50 {
			b.Fatalf("%d groups, %v", len(groups), err)
		}
		ratioBench(b, scanner(b), func() {
			for _, g := range groups {
				if _, err := l.Stats(g.Path); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
