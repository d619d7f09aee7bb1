package cgroup

import (
	"errors"
	"reflect"
	"testing"
)

// hybridMountinfo is this CI machine's /proc/self/mountinfo (cgroup lines
// and a few others): v1 cpu and cpuacct mounted apart, v2 at unified.
const hybridMountinfo = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

func TestParseMountinfo(t *testing.T) {
	ms, err := ParseMountinfo([]byte(hybridMountinfo))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 9 {
		t.Fatalf("got %d cgroup mounts, want 9: %+v", len(ms), ms)
	}
	if want := (Mount{Version: 1, Root: "/", MountPoint: "/sys/fs/cgroup/cpu", Controllers: []string{"cpu"}}); !reflect.DeepEqual(ms[0], want) {
		t.Errorf("first = %+v, want %+v", ms[0], want)
	}
	if want := (Mount{Version: 1, Root: "/", MountPoint: "/sys/fs/cgroup/systemd", Controllers: []string{"name=systemd"}}); !reflect.DeepEqual(ms[7], want) {
		t.Errorf("systemd = %+v, want %+v", ms[7], want)
	}
	if want := (Mount{Version: 2, Root: "/", MountPoint: "/sys/fs/cgroup/unified"}); !reflect.DeepEqual(ms[8], want) {
		t.Errorf("unified = %+v, want %+v", ms[8], want)
	}

	// Optional fields, co-mounted controllers with flags, escapes, a sub-tree root.
	ms, err = ParseMountinfo([]byte("30 25 0:26 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid shared:9 master:2 - cgroup cgroup rw,xattr,cpu,cpuacct\n" +
		"31 25 0:27 / /mnt/my\\040cgroup rw - cgroup2 none rw,nsdelegate,memory_recursiveprot\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{Version: 1, Root: "/docker/abc", MountPoint: "/sys/fs/cgroup/cpu,cpuacct", Controllers: []string{"cpu", "cpuacct"}},
		{Version: 2, Root: "/", MountPoint: "/mnt/my cgroup"},
	}
	if !reflect.DeepEqual(ms, want) {
		t.Errorf("got %+v\nwant %+v", ms, want)
	}

	for _, bad := range []string{
		"30 25 0:26 / /sys/fs/cgroup\n",                                // too few fields
		"30 25 0:26 / /sys/fs/cgroup rw shared:1\n",                    // no separator
		"30 25 0:26 relative /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", // root not absolute
		"30 25 0:26 / sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",         // mount point not absolute
		"30 25 0:26 / /sys/fs/cgroup rw -\n",                           // no type
	} {
		if _, err := ParseMountinfo([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseMountinfo(%q) err = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestNewLayout(t *testing.T) {
	ms, _ := ParseMountinfo([]byte(hybridMountinfo))
	l := NewLayout(ms, "/sys")
	if l.Mode() != "hybrid" || l.V2.Dir != "/sys/fs/cgroup/unified" || l.CPU.Dir != "/sys/fs/cgroup/cpu" ||
		l.CPUAcct.Dir != "/sys/fs/cgroup/cpuacct" || l.Memory.Dir != "/sys/fs/cgroup/memory" || l.Systemd.Dir != "/sys/fs/cgroup/systemd" {
		t.Errorf("hybrid layout: %+v", l)
	}
	// A fixture tree: /sys re-rooted under a relative sys root.
	l = NewLayout(ms, "testdata/x/sys/")
	if l.V2.Dir != "testdata/x/sys/fs/cgroup/unified" || l.BlkIO.Dir != "testdata/x/sys/fs/cgroup/blkio" {
		t.Errorf("re-rooted layout: V2 %q BlkIO %q", l.V2.Dir, l.BlkIO.Dir)
	}

	// An agent in a container started with -v /sys:/host/sys --sys-root
	// /host/sys: its own namespaced /sys/fs/cgroup and the host's, seen at
	// /host/sys/fs/cgroup from inside its cgroup namespace ("/../..").
	inContainer := []Mount{
		{Version: 2, Root: "/", MountPoint: "/sys/fs/cgroup"},
		{Version: 2, Root: "/../..", MountPoint: "/host/sys/fs/cgroup"},
	}
	l = NewLayout(inContainer, "/host/sys")
	if l.V2.Dir != "/host/sys/fs/cgroup" || l.V2.Root != "/../.." || l.Mode() != "unified" {
		t.Errorf("in container: %+v", l.V2)
	}
	// The same mounts read as a fixture whose mountinfo lists only /sys.
	l = NewLayout(inContainer[:1], "/host/sys")
	if l.V2.Dir != "/host/sys/fs/cgroup" || l.V2.Root != "/" {
		t.Errorf("re-rooted: %+v", l.V2)
	}
	// Elsewhere than /sys: used as it is; a whole hierarchy beats a sub-tree.
	l = NewLayout([]Mount{
		{Version: 1, Root: "/docker/x", MountPoint: "/a/memory", Controllers: []string{"memory"}},
		{Version: 1, Root: "/", MountPoint: "/cgroup/memory", Controllers: []string{"memory"}},
		{Version: 1, Root: "/", MountPoint: "/cgroup/cpu,cpuacct", Controllers: []string{"cpu", "cpuacct"}},
	}, "/sys")
	if l.Memory.Dir != "/cgroup/memory" || l.CPU.Dir != "/cgroup/cpu,cpuacct" || l.CPUAcct.Dir != l.CPU.Dir || l.Mode() != "legacy" {
		t.Errorf("legacy: %+v", l)
	}
	if (Layout{}).Mode() != "none" {
		t.Error("empty layout is not none")
	}
}

func TestGroupDir(t *testing.T) {
	whole := Hierarchy{Mount: Mount{Root: "/"}, Dir: "/sys/fs/cgroup"}
	sub := Hierarchy{Mount: Mount{Root: "/docker/abc"}, Dir: "/sys/fs/cgroup/memory"}
	up := Hierarchy{Mount: Mount{Root: "/../.."}, Dir: "/host/sys/fs/cgroup"}
	for _, tc := range []struct {
		h    Hierarchy
		path string
		want string // "" = not reachable
	}{
		{whole, "/", "/sys/fs/cgroup"},
		{whole, "/system.slice/a.service", "/sys/fs/cgroup/system.slice/a.service"},
		{whole, "/../../etc", ""},
		{whole, "/a/./b", ""},
		{whole, "relative", ""},
		{sub, "/docker/abc", "/sys/fs/cgroup/memory"},
		{sub, "/docker/abc/init.scope", "/sys/fs/cgroup/memory/init.scope"},
		{sub, "/docker/abcd", ""},
		{sub, "/system.slice", ""},
		{up, "/../../system.slice/x.service", "/host/sys/fs/cgroup/system.slice/x.service"},
		{up, "/", ""},
		{Hierarchy{}, "/", ""},
	} {
		got, ok := tc.h.GroupDir(tc.path)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%+v GroupDir(%q) = %q, %v; want %q", tc.h, tc.path, got, ok, tc.want)
		}
	}
}

// hybridProcCgroup is what this machine shows for a process run by the
// test harness (its memory group belongs to the harness).
const hybridProcCgroup = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/072ab90c51ed53cdb9fa6a141e38fd19
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`

func TestParseProcCgroup(t *testing.T) {
	ms, err := ParseProcCgroup([]byte(hybridProcCgroup))
	if err != nil || len(ms) != 10 {
		t.Fatalf("got %d lines, %v", len(ms), err)
	}
	if want := (Membership{HierarchyID: 4, Controllers: []string{"memory"}, Path: "/process_api/072ab90c51ed53cdb9fa6a141e38fd19"}); !reflect.DeepEqual(ms[5], want) {
		t.Errorf("memory line = %+v", ms[5])
	}
	if !ms[9].V2() || ms[9].Path != "/" || ms[0].V2() {
		t.Errorf("v2 line = %+v, systemd line %+v", ms[9], ms[0])
	}
	ms, err = ParseProcCgroup([]byte("3:cpu,cpuacct:/a:b/c (deleted)\n"))
	if err != nil || !reflect.DeepEqual(ms, []Membership{{HierarchyID: 3, Controllers: []string{"cpu", "cpuacct"}, Path: "/a:b/c"}}) {
		t.Errorf("colon in path: %+v, %v", ms, err)
	}
	for _, bad := range []string{"0:/x\n", "x::/\n", "0::relative\n", "0::\n", "-1::/\n", "99999999999::/\n"} {
		if _, err := ParseProcCgroup([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseProcCgroup(%q) err = %v", bad, err)
		}
		if _, err := ProcessPath([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ProcessPath(%q) err = %v", bad, err)
		}
	}
	if _, err := ProcessPath(nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("ProcessPath(empty) err = %v", err)
	}
}

func TestProcessPath(t *testing.T) {
	docker := "/system.slice/docker-" + id1 + ".scope"
	for _, tc := range []struct{ in, want string }{
		{"0::" + docker + "/init.scope\n", docker + "/init.scope"},
		// Hybrid with Docker's cgroupfs driver: v1 says container, v2 the shim's service.
		{"4:memory:/docker/" + id1 + "\n2:cpu,cpuacct:/docker/" + id1 + "\n1:name=systemd:/system.slice/containerd.service\n0::/system.slice/containerd.service\n", "/docker/" + id1},
		// Hybrid systemd service: the same everywhere, v2 wins the tie.
		{"4:memory:/system.slice/a.service\n1:name=systemd:/system.slice/a.service\n0::/system.slice/a.service\n", "/system.slice/a.service"},
		// Legacy: name=systemd beats a controller that only knows the slice.
		{"3:memory:/system.slice\n1:name=systemd:/system.slice/b.service\n", "/system.slice/b.service"},
		// This machine: an unknown group beats the root.
		{hybridProcCgroup, "/process_api/072ab90c51ed53cdb9fa6a141e38fd19"},
		{"0::/\n", "/"},
		{"0::/ (deleted)\n", "/"},
	} {
		got, err := ProcessPath([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("ProcessPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	// It allocates nothing: a process scan calls it for every pid.
	b := []byte(hybridProcCgroup)
	if n := testing.AllocsPerRun(100, func() { ProcessPath(b) }); n != 0 {
		t.Errorf("ProcessPath allocates %v times", n)
	}
}

func TestParseCPUStat(t *testing.T) {
	v2 := "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 40\nnr_throttled 7\nthrottled_usec 2500\nnr_bursts 0\nburst_usec 0\n"
	if s, err := ParseCPUStat([]byte(v2)); err != nil || s != (CPUStat{UsageNs: 1500000, NrPeriods: 40, NrThrottled: 7, ThrottledNs: 2500000, HasUsage: true, HasThrottling: true}) {
		t.Errorf("v2: %+v, %v", s, err)
	}
	// The v2 core without the cpu controller: usage only.
	if s, err := ParseCPUStat([]byte("usage_usec 7\nuser_usec 5\nsystem_usec 2\n")); err != nil || s != (CPUStat{UsageNs: 7000, HasUsage: true}) {
		t.Errorf("v2 core: %+v, %v", s, err)
	}
	v1 := "nr_periods 10\nnr_throttled 3\nthrottled_time 123456789\nnr_bursts 0\nburst_time 0\n"
	if s, err := ParseCPUStat([]byte(v1)); err != nil || s != (CPUStat{NrPeriods: 10, NrThrottled: 3, ThrottledNs: 123456789, HasThrottling: true}) {
		t.Errorf("v1: %+v, %v", s, err)
	}
	if s, _ := ParseCPUStat([]byte("usage_usec 18446744073709551615\n")); s.UsageNs != Unlimited {
		t.Errorf("overflow not saturated: %d", s.UsageNs)
	}
	for _, bad := range []string{"usage_usec\n", "usage_usec x\n", "usage_usec -1\n", "usage_usec 1 2\n"} {
		if _, err := ParseCPUStat([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCPUStat(%q) err = %v", bad, err)
		}
	}
}

func TestParseValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"123\n", 123, true}, {"max\n", Unlimited, true}, {"-1\n", Unlimited, true},
		{"0", 0, true}, {"", 0, false}, {"12k", 0, false}, {"-2", 0, false}, {"99999999999999999999999", 0, false},
	} {
		v, err := ParseValue([]byte(tc.in))
		if (err == nil) != tc.ok || v != tc.want {
			t.Errorf("ParseValue(%q) = %d, %v", tc.in, v, err)
		}
	}
	if v1Limit(9223372036854771712) != Unlimited || v1Limit(8796093018112) != Unlimited || v1Limit(536870912) != 536870912 {
		t.Error("v1 unlimited sentinels")
	}
	q, p, err := ParseCPUMax([]byte("max 100000\n"))
	if err != nil || q != Unlimited || p != 100000 {
		t.Errorf("cpu.max max: %d %d %v", q, p, err)
	}
	q, p, err = ParseCPUMax([]byte("150000 100000\n"))
	if s := (Stats{Has: HasCPUMax, CPUQuotaUsec: q, CPUPeriodUsec: p}); err != nil {
		t.Error(err)
	} else if c, ok := s.CPULimit(); !ok || c != 1.5 {
		t.Errorf("CPULimit = %v, %v", c, ok)
	}
	if _, ok := (Stats{Has: HasCPUMax, CPUQuotaUsec: Unlimited, CPUPeriodUsec: 100000}).CPULimit(); ok {
		t.Error("unlimited quota has a limit")
	}
	for _, bad := range []string{"max", "-1 100000", "1 2 3", "x 100", "100 max"} {
		if _, _, err := ParseCPUMax([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCPUMax(%q) err = %v", bad, err)
		}
	}
}

func TestParseIO(t *testing.T) {
	v2 := "259:0 rbytes=1000 wbytes=200 rios=10 wios=2 dbytes=0 dios=0\n8:0 rbytes=5 wbytes=7 rios=1 wios=1 dbytes=0 dios=0 cost.vrate=100.00 cost.usage=3\n"
	if io, err := ParseIOStat([]byte(v2)); err != nil || io != (IOBytes{Read: 1005, Write: 207}) {
		t.Errorf("io.stat: %+v, %v", io, err)
	}
	if io, err := ParseIOStat(nil); err != nil || io != (IOBytes{}) {
		t.Errorf("empty io.stat: %+v, %v", io, err)
	}
	v1 := "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 8192\n8:0 Async 4096\n8:0 Discard 0\n8:0 Total 12288\n8:16 Read 1\n8:16 Write 2\nTotal 12291\n"
	if io, err := ParseBlkioBytes([]byte(v1)); err != nil || io != (IOBytes{Read: 4097, Write: 8194}) {
		t.Errorf("blkio: %+v, %v", io, err)
	}
	if io, err := ParseBlkioBytes([]byte("Total 0\n")); err != nil || io != (IOBytes{}) {
		t.Errorf("blkio empty: %+v, %v", io, err)
	}
	for _, bad := range []string{"sda rbytes=1\n", "8:0 rbytes\n", "8:0 rbytes=x\n", "8 rbytes=1\n"} {
		if _, err := ParseIOStat([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseIOStat(%q) err = %v", bad, err)
		}
	}
	for _, bad := range []string{"8:0 Read\n", "8:0 Read x\n", "Total x\n", "sda Read 1\n", "8:0 Read 1 2\n"} {
		if _, err := ParseBlkioBytes([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseBlkioBytes(%q) err = %v", bad, err)
		}
	}
}

func TestParsePressure(t *testing.T) {
	p, err := ParsePressure([]byte("some avg10=2.38 avg60=4.37 avg300=9.03 total=52865090\nfull avg10=0.05 avg60=0.00 avg300=0.00 total=0\n"))
	if err != nil || p != (Pressure{Some: 2.38, Full: 0.05, HasFull: true}) {
		t.Errorf("got %+v, %v", p, err)
	}
	if p, err := ParsePressure([]byte("some avg10=100.00 avg60=0 avg300=0 total=0\n")); err != nil || p.Some != 100 || p.HasFull {
		t.Errorf("cpu on older kernels: %+v, %v", p, err)
	}
	for _, bad := range []string{"", "full avg10=1.00\n", "some avg60=1.00\n", "some avg10=101.00\n", "some avg10=x\n", "other avg10=1.0\n", "some avg10=1.0000000001\n"} {
		if _, err := ParsePressure([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParsePressure(%q) err = %v", bad, err)
		}
	}
}
