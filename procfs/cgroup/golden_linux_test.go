package cgroup

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the fixture trees")

// golden is everything the package reads from one fixture tree.
type golden struct {
	Mode      string
	Layout    Layout
	Root      map[string]any // Stats of "/"
	Groups    []goldenSample
	Processes []goldenProcess
}

type goldenSample struct {
	Group
	Stats map[string]any
}

type goldenProcess struct {
	PID   string
	Path  string
	Group Group
}

// statsJSON shows only the values a Stats has, so a golden file tells
// "absent" from zero.
func statsJSON(s Stats) map[string]any {
	m := map[string]any{}
	put := func(f Fields, kv ...any) {
		if s.Has&f == 0 {
			return
		}
		for i := 0; i < len(kv); i += 2 {
			v := kv[i+1]
			if u, ok := v.(uint64); ok && u == Unlimited {
				v = "unlimited"
			}
			m[kv[i].(string)] = v
		}
	}
	put(HasCPU, "cpu_usage_ns", s.CPUUsageNs)
	put(HasThrottling, "nr_periods", s.NrPeriods, "nr_throttled", s.NrThrottled, "throttled_ns", s.ThrottledNs)
	put(HasCPUMax, "cpu_quota_usec", s.CPUQuotaUsec, "cpu_period_usec", s.CPUPeriodUsec)
	put(HasMemory, "memory_current", s.MemoryCurrent)
	put(HasMemoryMax, "memory_max", s.MemoryMax)
	put(HasMemoryPeak, "memory_peak", s.MemoryPeak)
	put(HasPIDs, "pids_current", s.PIDsCurrent)
	put(HasPIDsMax, "pids_max", s.PIDsMax)
	put(HasIO, "io_read_bytes", s.IOReadBytes, "io_write_bytes", s.IOWriteBytes)
	put(HasCPUPressure, "cpu_pressure", s.CPUPressure)
	put(HasMemoryPressure, "memory_pressure", s.MemoryPressure)
	put(HasIOPressure, "io_pressure", s.IOPressure)
	return m
}

func fixture(t testing.TB, name string) (FS, Layout) {
	t.Helper()
	dir := filepath.Join("testdata", "fixtures", name)
	fs := NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys"))
	l, err := fs.Discover()
	if err != nil {
		t.Fatal(err)
	}
	return fs, l
}

func readFixture(t *testing.T, name string) golden {
	fs, l := fixture(t, name)
	g := golden{Mode: l.Mode(), Layout: l}
	root, err := l.Stats("/")
	if err != nil {
		t.Fatalf("stats of /: %v", err)
	}
	g.Root = statsJSON(root)
	samples, err := l.Sample(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		g.Groups = append(g.Groups, goldenSample{Group: s.Group, Stats: statsJSON(s.Stats)})
	}
	ents, err := os.ReadDir(filepath.Join(fs.proc))
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, n)
		}
	}
	slices.Sort(pids)
	for _, pid := range pids {
		p, err := fs.ProcessCgroup(pid)
		if err != nil {
			t.Fatalf("pid %d: %v", pid, err)
		}
		g.Processes = append(g.Processes, goldenProcess{PID: strconv.Itoa(pid), Path: p, Group: Classify(p)})
	}
	return g
}

// TestGolden reads each fixture tree and compares everything read with
// testdata/golden/<name>.json (go test -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	for _, name := range []string{"rpi-docker", "k8s-node", "hybrid", "container"} {
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(readFixture(t, name), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from what the fixture reads now; diff it with -update and git diff", path)
			}
		})
	}
}

// find returns the sample whose group has the id or name.
func find(t *testing.T, samples []Sample, id string) Sample {
	t.Helper()
	for _, s := range samples {
		if s.ID == id || s.Name == id {
			return s
		}
	}
	t.Fatalf("no group %q in %d samples", id, len(samples))
	return Sample{}
}

// The golden files pin everything; these state what matters in each tree.
func TestFixtureRaspberryPiDocker(t *testing.T) {
	fs, l := fixture(t, "rpi-docker")
	samples, err := l.Sample(nil)
	if err != nil || l.Mode() != "unified" {
		t.Fatalf("%v, mode %s", err, l.Mode())
	}
	var names []string
	for _, s := range samples {
		names = append(names, s.Runtime+":"+s.Name)
	}
	wantNames := []string{
		"systemd:init.scope", "systemd:containerd.service", "systemd:cron.service",
		"docker:7d2c9e4f1a6b", "docker:e3b0c44298fc", "systemd:docker.service", "systemd:ssh.service",
		"systemd:getty@tty1.service", "user:session-3.scope", "user:user@1000.service",
	}
	slices.Sort(names)
	slices.Sort(wantNames)
	if !slices.Equal(names, wantNames) {
		t.Errorf("groups %v\nwant %v", names, wantNames)
	}
	hass := find(t, samples, "e3b0c44298fc")
	if c, ok := hass.Stats.CPULimit(); !ok || c != 1.5 || hass.Stats.MemoryMax != 1<<30 || hass.Stats.PIDsMax != 512 ||
		hass.Stats.NrThrottled != 5311 || hass.Stats.CPUPressure != 18.40 || hass.Stats.CPUUsageNs != 845000000000 {
		t.Errorf("home assistant: %+v", hass.Stats)
	}
	pihole := find(t, samples, "7d2c9e4f1a6b")
	if pihole.Stats.MemoryMax != Unlimited || pihole.Stats.IOWriteBytes != 157286400 || pihole.Stats.PIDsCurrent != 3 {
		t.Errorf("pi-hole: %+v", pihole.Stats)
	}
	if p, _ := fs.ProcessCgroup(1402); Classify(p).ID != hass.ID {
		t.Errorf("pid 1402 in %q, want home assistant", p)
	}
}

func TestFixtureKubernetesNode(t *testing.T) {
	fs, l := fixture(t, "k8s-node")
	samples, err := l.Sample(nil)
	if err != nil {
		t.Fatal(err)
	}
	pods := map[string]int{}
	for _, s := range samples {
		if s.Kind == KindContainer {
			if s.Runtime != RuntimeKubernetes || s.Pod == "" {
				t.Errorf("container %+v is not a pod's", s.Group)
			}
			pods[s.Pod]++
		}
	}
	if len(pods) != 3 || pods["5a2f7c1e-9b3d-4e8a-a6f0-1c2d3e4f5a6b"] != 2 {
		t.Errorf("containers per pod: %v", pods)
	}
	db := find(t, samples, "d4735e3a265e")
	if c, ok := db.Stats.CPULimit(); !ok || c != 0.5 || db.Stats.MemoryMax != 512<<20 || db.Stats.ThrottledNs != 1903400000000 || db.Stats.MemoryPressure != 12.50 {
		t.Errorf("db: %+v", db.Stats)
	}
	job := find(t, samples, "5e6f708192a3")
	if job.Stats.IOReadBytes != 5242880+1048576 || job.Stats.IOWriteBytes != 2097152 {
		t.Errorf("io summed over devices: %+v", job.Stats)
	}
	if p, _ := fs.ProcessCgroup(3001); Classify(p).Name != "containerd.service" {
		t.Errorf("a shim belongs to containerd.service, got %q", p)
	}
}

func TestFixtureHybrid(t *testing.T) {
	fs, l := fixture(t, "hybrid")
	if l.Mode() != "hybrid" || l.CPU.Dir == l.CPUAcct.Dir {
		t.Fatalf("mode %s, cpu %q cpuacct %q", l.Mode(), l.CPU.Dir, l.CPUAcct.Dir)
	}
	samples, err := l.Sample(nil)
	if err != nil || len(samples) != 2 {
		t.Fatalf("%d groups, %v: %+v", len(samples), err, samples)
	}
	// The cgroupfs container lives only in v1: every value from there.
	nginx := find(t, samples, "2c624232cdd2")
	want := Stats{
		Has:        HasCPU | HasThrottling | HasCPUMax | HasMemory | HasMemoryMax | HasMemoryPeak | HasPIDs | HasPIDsMax | HasIO,
		CPUUsageNs: 73004511988, NrPeriods: 5120, NrThrottled: 311, ThrottledNs: 8123456789,
		CPUQuotaUsec: 50000, CPUPeriodUsec: 100000, MemoryCurrent: 41943040, MemoryMax: 268435456, MemoryPeak: 52428800,
		PIDsCurrent: 3, PIDsMax: Unlimited, IOReadBytes: 9437184, IOWriteBytes: 1048576,
	}
	if nginx.Stats != want {
		t.Errorf("nginx\n got %+v\nwant %+v", nginx.Stats, want)
	}
	// The service is only in unified and name=systemd: CPU from the v2 core.
	cron := find(t, samples, "cron.service")
	if cron.Stats.Has != HasCPU|HasCPUPressure|HasMemoryPressure|HasIOPressure || cron.Stats.CPUUsageNs != 2204311000 {
		t.Errorf("cron: %+v", cron.Stats)
	}
	root, _ := l.Stats("/")
	if root.MemoryMax != Unlimited || root.CPUUsageNs != 193550486702 || root.CPUQuotaUsec != Unlimited || root.CPUPressure != 2.38 {
		t.Errorf("root: %+v", root)
	}
	if p, _ := fs.ProcessCgroup(2101); p != "/docker/"+nginx.ID {
		t.Errorf("pid 2101 in %q: v1's container must win over v2's containerd.service", p)
	}
	if p, _ := fs.ProcessCgroup(640); p != "/system.slice/cron.service" {
		t.Errorf("pid 640 in %q", p)
	}
}

func TestFixtureContainerView(t *testing.T) {
	fs, l := fixture(t, "container")
	samples, err := l.Sample(nil)
	if err != nil || len(samples) != 0 {
		t.Fatalf("a container sees no groups of its own, got %+v, %v", samples, err)
	}
	p, err := fs.ProcessCgroup(1)
	if err != nil || p != "/" || Classify(p).Kind != KindNone {
		t.Errorf("pid 1 in %q, %v", p, err)
	}
	// Its own limits are at the namespace root.
	root, err := l.Stats("/")
	if c, ok := root.CPULimit(); err != nil || !ok || c != 2 || root.MemoryMax != 1<<30 || root.PIDsMax != 256 || root.MemoryCurrent != 57671680 {
		t.Errorf("root: %+v, %v", root, err)
	}
	if _, err := l.Stats("/gone"); !errors.Is(err, ErrNotFound) {
		t.Error("stats of a missing group succeeded")
	}
}
