package agent

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs/cgroup"
)

// The cost budgets of issue #18, each measured against its baseline in the
// same run, alternately on one locked thread, in thread CPU time (README,
// Performance):
//   - BenchmarkProcessesWithContainers: the agent's process collection
//     (scan, wire rows) where it names each process's container ÷ the same
//     collection of an agent without the containers kind: ≤ 1.1×;
//   - BenchmarkContainersVsProcesses: a containers sample of 50 groups ÷ a
//     process collection of 1000+ processes: ≤ 0.3×.

// benchGroups makes n Docker-looking groups under a sub-tree of its own
// (as root; on this CI machine in v2 and the v1 CPU and pids
// hierarchies) and returns their paths; nil where it cannot.
func benchGroups(b *testing.B, n int) []string {
	if os.Geteuid() != 0 {
		return nil
	}
	l, err := cgroup.NewFS("/proc", "/sys").Discover()
	if err != nil {
		return nil
	}
	root := fmt.Sprintf("/socktop-agent-bench-%d", os.Getpid())
	g := makeLiveGroups(b, l, root)
	g.mkdir(root + "/system.slice")
	var paths []string
	for i := range n {
		p := fmt.Sprintf("%s/system.slice/docker-%064x.scope", root, i+1)
		g.mkdir(p)
		paths = append(paths, p)
	}
	return paths
}

// sleepersIn starts n sleepers spread over groups (none: where they are).
func sleepersIn(b *testing.B, n int, groups []string) {
	var cmds []*exec.Cmd
	g := &liveGroups{t: b}
	if len(groups) > 0 {
		l, _ := cgroup.NewFS("/proc", "/sys").Discover()
		for _, h := range []*cgroup.Hierarchy{&l.V2, &l.CPUAcct, &l.CPU, &l.PIDs} {
			if dir, ok := h.GroupDir(groups[0]); ok {
				if _, err := os.Stat(dir); err == nil {
					g.hiers = append(g.hiers, h)
				}
			}
		}
	}
	b.Cleanup(func() {
		for _, c := range cmds {
			if len(groups) > 0 {
				g.home(c.Process.Pid)
			}
			c.Process.Kill()
			c.Wait()
		}
	})
	for i := range n {
		c := exec.Command("sleep", "3600")
		if err := c.Start(); err != nil {
			b.Skipf("cannot start %d sleepers: %v", n, err)
		}
		cmds = append(cmds, c)
		if len(groups) > 0 {
			if err := g.move(c.Process.Pid, groups[i%len(groups)]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkProcessesWithContainers: the process collection of an agent
// that names containers ÷ that of one without the containers kind, over
// 1000 sleepers spread over 20 Docker-looking groups (as root; else in the
// benchmark's own group). Both agents hold their /proc files alike.
func BenchmarkProcessesWithContainers(b *testing.B) {
	groups := benchGroups(b, 20)
	sleepersIn(b, 1000, groups)
	cfg := testConfig()
	cfg.ContainerSockets = []string{}
	with, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	without, err := newAgent(cfg, newRegistry(kindsBut(containersKind)...))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	named := 0
	for _, a := range []*Agent{with, without} {
		a.coll.procs.Window = 0
		s, err := a.coll.processes(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if a == with {
			for _, p := range s.msg.Processes {
				if p.Container != "" {
					named++
				}
			}
		}
	}
	if len(groups) > 0 && named < 1000 {
		b.Fatalf("%d processes name a container, want the 1000 sleepers", named)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var base, subj time.Duration
	n := 0
	for b.Loop() {
		t0 := threadCPUTime()
		if _, err := without.coll.processes(ctx); err != nil {
			b.Fatal(err)
		}
		t1 := threadCPUTime()
		s, err := with.coll.processes(ctx)
		if err != nil {
			b.Fatal(err)
		}
		t2 := threadCPUTime()
		n = len(s.msg.Processes)
		base += t1 - t0
		subj += t2 - t1
	}
	b.ReportMetric(float64(subj)/float64(base), "x-cpu")
	b.ReportMetric(float64(n), "procs")
	b.ReportMetric(float64(named), "in-containers")
	b.ReportMetric(0, "ns/op")
}

// writeGroupsTree writes a cgroup v2 tree of n groups under dir/sys (and
// the mountinfo under dir/proc that finds it): n-10 Docker containers and
// 10 services, each with every file of the Raspberry Pi fixture's Home
// Assistant container (regular files: where kernfs regenerates its files
// on each read, these are read as they are).
func writeGroupsTree(b *testing.B, dir string, n int) {
	tmpl := filepath.Join("..", "procfs", "cgroup", "testdata", "fixtures", "rpi-docker", "sys", "fs", "cgroup", "system.slice",
		"docker-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.scope")
	ents, err := os.ReadDir(tmpl)
	if err != nil {
		b.Fatal(err)
	}
	group := func(path string) {
		d := filepath.Join(dir, "sys", "fs", "cgroup", path)
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
		for _, e := range ents {
			data, err := os.ReadFile(filepath.Join(tmpl, e.Name()))
			if err == nil {
				err = os.WriteFile(filepath.Join(d, e.Name()), data, 0o644)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range n {
		if i < n-10 {
			group(fmt.Sprintf("system.slice/docker-%064x.scope", i+1))
		} else {
			group(fmt.Sprintf("system.slice/svc%d.service", i))
		}
	}
	mi := "30 21 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
	if err := os.MkdirAll(filepath.Join(dir, "proc", "self"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "proc", "self", "mountinfo"), []byte(mi), 0o644); err != nil {
		b.Fatal(err)
	}
	stat, err := os.ReadFile("/proc/stat")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "proc", "stat"), stat, 0o644)
	}
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkContainersVsProcesses: the agent's containers sample of 50
// groups (listing, reading each group's held files, CPU shares, names,
// wire rows) ÷ its process collection of 1000+ processes. "live" samples
// 50 groups made on this machine (as root); "fixture" a v2 tree of 50
// groups with every file a Raspberry Pi's Docker container has.
func BenchmarkContainersVsProcesses(b *testing.B) {
	sleepersIn(b, 1000, nil)
	run := func(b *testing.B, procRoot, sysRoot string, want int) {
		cfg := testConfig()
		cfg.ContainerSockets = []string{}
		procs, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		procs.coll.procs.Window = 0
		cfg.ProcRoot, cfg.SysRoot = procRoot, sysRoot
		conts, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		g := conts.coll.groups
		g.Window, g.StaleAfter = 0, time.Hour
		ctx := context.Background()
		s, err := g.collect(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if got := len(s.msg.Containers); got < want {
			b.Fatalf("%d groups sampled, want %d", got, want)
		}
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var base, subj time.Duration
		n, groups := 0, 0
		for b.Loop() {
			t0 := threadCPUTime()
			p, err := procs.coll.processes(ctx)
			if err != nil {
				b.Fatal(err)
			}
			t1 := threadCPUTime()
			s, err := g.collect(ctx)
			if err != nil {
				b.Fatal(err)
			}
			t2 := threadCPUTime()
			n, groups = len(p.msg.Processes), len(s.msg.Containers)
			base += t1 - t0
			subj += t2 - t1
		}
		b.ReportMetric(float64(subj)/float64(base), "x-cpu")
		b.ReportMetric(float64(n), "procs")
		b.ReportMetric(float64(groups), "groups")
		b.ReportMetric(float64(subj.Microseconds())/float64(b.N), "containers-cpu-µs/op")
		b.ReportMetric(0, "ns/op")
	}
	b.Run("fixture", func(b *testing.B) {
		dir := b.TempDir()
		writeGroupsTree(b, dir, 50)
		run(b, filepath.Join(dir, "proc"), filepath.Join(dir, "sys"), 50)
	})
	b.Run("live", func(b *testing.B) {
		if benchGroups(b, 50) == nil {
			b.Skip("needs root to make 50 groups")
		}
		run(b, "/proc", "/sys", 50)
	})
}
