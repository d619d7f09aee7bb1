package cgroup

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestLiveLayout(t *testing.T) {
	fs := NewFS("/proc", "/sys")
	l, err := fs.Discover()
	if errors.Is(err, ErrNoCgroups) {
		t.Skip("no cgroup hierarchy mounted")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mode %s; v2 %q; v1 cpu %q cpuacct %q memory %q pids %q blkio %q name=systemd %q",
		l.Mode(), l.V2.Dir, l.CPU.Dir, l.CPUAcct.Dir, l.Memory.Dir, l.PIDs.Dir, l.BlkIO.Dir, l.Systemd.Dir)
	p, err := fs.ProcessCgroup(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Whatever group this test runs in must be readable.
	s, err := l.Stats(p)
	if err != nil || s.Has&HasCPU == 0 && s.Has&HasMemory == 0 {
		t.Errorf("own group %q: %+v, %v", p, s, err)
	}
	t.Logf("this process is in %q (%v): %+v", p, Classify(p).Kind, s)
	groups, err := l.Groups()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d groups listed", len(groups))
}

// testTree is a test-owned sub-tree made in each writable hierarchy.
type testTree struct {
	t     *testing.T
	root  string       // cgroup path of the sub-tree, "/socktop-test-<pid>"
	hiers []*Hierarchy // where it was made
	made  []string     // directories made, in creation order
}

func (tt *testTree) mkdir(path string) error {
	for _, h := range tt.hiers {
		dir, _ := h.GroupDir(path)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		tt.made = append(tt.made, dir)
	}
	return nil
}

// move puts pid into the group at path in every hierarchy of the tree.
func (tt *testTree) move(pid int, path string) error {
	for _, h := range tt.hiers {
		dir, _ := h.GroupDir(path)
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("move %d to %s: %w", pid, dir, err)
		}
	}
	return nil
}

func (tt *testTree) remove() {
	for _, d := range slices.Backward(tt.made) {
		if err := os.Remove(d); err != nil {
			tt.t.Errorf("cleanup: %v", err)
		}
	}
}

// removeStale removes test sub-trees a crashed run left behind (rmdir
// only: a group that still has processes stays).
func removeStale(h *Hierarchy) {
	old, _ := filepath.Glob(filepath.Join(h.Dir, "socktop-test-*"))
	for _, o := range old {
		var dirs []string
		filepath.WalkDir(o, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for _, d := range slices.Backward(dirs) {
			os.Remove(d)
		}
	}
}

func randomID(t *testing.T) string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// TestLiveContainerGroups makes groups that look like a Docker container, a
// Podman container and a systemd service, puts a CPU burner in the Docker
// one, and checks that the readers attribute the burner to it and see its
// CPU time grow (and, where the cpu controller lets the test set a quota,
// its throttling).
func TestLiveContainerGroups(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	fs := NewFS("/proc", "/sys")
	l, err := fs.Discover()
	if err != nil {
		t.Skipf("no cgroups: %v", err)
	}
	// Where the test may make groups: v2, and the v1 CPU hierarchies on a
	// hybrid or legacy machine. Not v1 memory: on machines like this CI's the
	// test harness keeps its own memory groups there, and moving a child out
	// of its memory group would slip it out of the harness's accounting.
	tt := &testTree{t: t, root: fmt.Sprintf("/socktop-test-%d", os.Getpid())}
	for _, h := range []*Hierarchy{&l.V2, &l.CPUAcct, &l.CPU, &l.PIDs} {
		if !h.Mounted() || h.Root != "/" || slices.ContainsFunc(tt.hiers, func(o *Hierarchy) bool { return o.Dir == h.Dir }) {
			continue
		}
		removeStale(h)
		dir, _ := h.GroupDir(tt.root)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Logf("%s is not writable: %v", h.Dir, err)
			continue
		}
		os.Remove(dir)
		tt.hiers = append(tt.hiers, h)
	}
	if len(tt.hiers) == 0 {
		t.Skipf("no writable cgroup hierarchy (mode %s)", l.Mode())
	}
	for _, h := range tt.hiers {
		t.Logf("making groups in %s (v%d %v)", h.Dir, h.Version, h.Controllers)
	}
	defer tt.remove()
	dockerID, podmanID := randomID(t), randomID(t)
	docker := tt.root + "/system.slice/docker-" + dockerID + ".scope"
	podman := tt.root + "/machine.slice/libpod-" + podmanID + ".scope"
	service := tt.root + "/system.slice/socktop-test.service"
	for _, p := range []string{tt.root, tt.root + "/system.slice", tt.root + "/machine.slice", docker, podman, service} {
		if err := tt.mkdir(p); err != nil {
			t.Fatal(err)
		}
	}
	// Where the kernel lets us, enable the cpu controller down to the
	// container (v2) or set a v1 quota, to see throttling.
	quota := false
	if l.CPU.Mounted() && slices.Contains(tt.hiers, &l.CPU) {
		dir, _ := l.CPU.GroupDir(docker)
		quota = os.WriteFile(filepath.Join(dir, "cpu.cfs_quota_us"), []byte("20000"), 0o644) == nil
	} else if !l.CPU.Mounted() {
		ok := true
		for _, p := range []string{"", tt.root, tt.root + "/system.slice"} {
			d, _ := l.V2.GroupDir(cmpOr(p, "/"))
			ok = ok && os.WriteFile(filepath.Join(d, "cgroup.subtree_control"), []byte("+cpu"), 0o644) == nil
		}
		d, _ := l.V2.GroupDir(docker)
		quota = ok && os.WriteFile(filepath.Join(d, "cpu.max"), []byte("20000 100000"), 0o644) == nil
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(exe, "-test.run=^$", "-test.count=1").Run(); err != nil {
		t.Skipf("cannot re-execute the test binary here (%v): foreign architecture under qemu-user?", err)
	}
	child := exec.Command(exe, "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"=spin")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	pid := child.Process.Pid
	before, err := fs.ProcessCgroup(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		// Out of the test's groups (back where it came from), then killed.
		for _, h := range tt.hiers {
			orig := "/"
			if ms, err := ParseProcCgroup(must(os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", os.Getpid())))); err == nil {
				for _, m := range ms {
					if (h.Version == 2) == m.V2() && (h.Version == 2 || slices.ContainsFunc(h.Controllers, func(c string) bool { return slices.Contains(m.Controllers, c) })) {
						orig = m.Path
					}
				}
			}
			dir, _ := h.GroupDir(orig)
			if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
				t.Errorf("move the child back to %s: %v", dir, err)
			}
		}
		child.Process.Kill()
		child.Wait()
	}()
	if err := tt.move(pid, docker); err != nil {
		t.Fatal(err)
	}

	// The reader puts the child in the Docker container.
	path, err := fs.ProcessCgroup(pid)
	if err != nil {
		t.Fatal(err)
	}
	g := Classify(path)
	if g.Kind != KindContainer || g.Runtime != RuntimeDocker || g.ID != dockerID || g.Path != docker {
		t.Fatalf("child (was in %q) is in %q: %+v", before, path, g)
	}
	// The listing finds all three as what they look like.
	groups, err := l.Groups()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Group{
		docker:  Classify(docker),
		podman:  {Kind: KindContainer, Runtime: RuntimePodman, ID: podmanID, ShortID: podmanID[:12], Name: podmanID[:12], Path: podman},
		service: {Kind: KindService, Runtime: RuntimeSystemd, ID: "socktop-test.service", Name: "socktop-test.service", Path: service},
	}
	for _, g := range groups {
		if w, ok := want[g.Path]; ok {
			if g != w {
				t.Errorf("listed %+v, want %+v", g, w)
			}
			delete(want, g.Path)
		}
	}
	if len(want) > 0 {
		t.Fatalf("not listed: %v (of %d groups)", want, len(groups))
	}

	// Its CPU time grows (read from held files, as an agent reads); the
	// empty groups' stays at zero.
	smp := l.NewSampler()
	defer smp.Close()
	s0, err := smp.Stats(docker)
	if err != nil || s0.Has&HasCPU == 0 {
		t.Fatalf("docker group: %+v, %v", s0, err)
	}
	var s Stats
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if s, err = smp.Stats(docker); err != nil {
			t.Fatal(err)
		}
		if s.CPUUsageNs >= s0.CPUUsageNs+100e6 && (!quota || s.NrThrottled > 0) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %+v (started at %+v)", s, s0)
		}
	}
	t.Logf("docker group: %.2f s of CPU, %d throttled periods, %+v", float64(s.CPUUsageNs)/1e9, s.NrThrottled, s)
	if l.CPUAcct.Mounted() && slices.Contains(tt.hiers, &l.V2) {
		// Hybrid: the v2 core counts the child too (what a group only
		// systemd mirrors in unified is read from).
		if v2, err := (Layout{V2: l.V2}).Stats(docker); err != nil || v2.CPUUsageNs < 100e6 {
			t.Errorf("v2 core of the docker group: %+v, %v", v2, err)
		}
	}
	if quota {
		if c, ok := s.CPULimit(); !ok || c != 0.2 {
			t.Errorf("CPU limit %v, %v; want 0.2", c, ok)
		}
	}
	if s.Has&HasPIDs != 0 {
		// pids counts tasks: the child's threads.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
			if s, _ = l.Stats(docker); s.PIDsCurrent == uint64(len(tasks)) && len(tasks) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pids.current %d, the child has %d threads", s.PIDsCurrent, len(tasks))
			}
		}
	}
	for _, p := range []string{podman, service} {
		if e, err := l.Stats(p); err != nil || e.Has&HasCPU == 0 || e.CPUUsageNs != 0 {
			t.Errorf("empty group %s: %+v, %v", p, e, err)
		}
	}
	if fresh, err := l.Stats(docker); err != nil || fresh.CPUUsageNs < s.CPUUsageNs {
		t.Errorf("read afresh: %+v, %v; held files gave %d ns", fresh, err, s.CPUUsageNs)
	}

	// A group removed while its files are held is gone for the Sampler.
	gone := tt.root + "/system.slice/gone.service"
	if err := tt.mkdir(gone); err != nil {
		t.Fatal(err)
	}
	if _, err := smp.Stats(gone); err != nil {
		t.Fatal(err)
	}
	for _, h := range tt.hiers {
		dir, _ := h.GroupDir(gone)
		if err := os.Remove(dir); err != nil {
			t.Fatal(err)
		}
		tt.made = slices.DeleteFunc(tt.made, func(d string) bool { return d == dir })
	}
	if st, err := smp.Stats(gone); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed group read from held files: %+v, %v", st, err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
