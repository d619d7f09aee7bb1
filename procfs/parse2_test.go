package procfs

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseMountInfo(t *testing.T) {
	in := "36 35 98:0 /mnt1 /mnt/a\\040b rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n" +
		"37 35 0:45 / /srv rw - nfs4 host:/e\\134x rw\n"
	ms, err := ParseMountInfo([]byte(in))
	if err != nil || len(ms) != 2 {
		t.Fatal(err, ms)
	}
	want := Mount{ID: 36, Parent: 35, Major: 98, Minor: 0, Root: "/mnt1", MountPoint: "/mnt/a b", Options: "rw,noatime", FSType: "ext3", Source: "/dev/root", SuperOptions: "rw,errors=continue"}
	if ms[0] != want {
		t.Errorf("got %+v", ms[0])
	}
	if ms[1].Source != `host:/e\x` || !IsRealFS(&ms[1]) {
		t.Errorf("nfs: %+v", ms[1])
	}
	for _, bad := range []string{"1 2 3:4 / /\n", "1 2 x / / rw - ext4 /dev/sda rw\n", "1 2 3:4 / / rw ext4 /dev/sda rw\n"} {
		if _, err := ParseMountInfo([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseMountInfo(%q) err = %v", bad, err)
		}
	}
}

func TestIsRealFS(t *testing.T) {
	for _, tc := range []struct {
		fstype, source string
		want           bool
	}{
		{"ext4", "/dev/sda1", true}, {"xfs", "/dev/mapper/vg-root", true}, {"btrfs", "/dev/nvme0n1p3", true},
		{"zfs", "rpool/ROOT/ubuntu", true}, {"nfs4", "nas:/export", true}, {"fuseblk", "/dev/sdb1", true},
		{"tmpfs", "tmpfs", false}, {"overlay", "overlay", false}, {"squashfs", "/dev/loop0", false},
		{"cgroup2", "cgroup2", false}, {"proc", "proc", false}, {"devtmpfs", "udev", false},
		{"autofs", "systemd-1", false}, {"fuse.lxcfs", "lxcfs", false}, {"ext4", "none", false},
	} {
		m := Mount{FSType: tc.fstype, Source: tc.source}
		if got := IsRealFS(&m); got != tc.want {
			t.Errorf("IsRealFS(%s %s) = %v", tc.fstype, tc.source, got)
		}
	}
}

func TestPartitionByName(t *testing.T) {
	for _, tc := range []struct {
		name, parent string
		part         bool
	}{
		{"nvme0n1p1", "nvme0n1", true}, {"mmcblk0p2", "mmcblk0", true}, {"sda1", "sda", true},
		{"vdb12", "vdb", true}, {"xvda1", "xvda", true}, {"loop0p1", "loop0", true},
		{"nvme0n1", "", false}, {"mmcblk0", "", false}, {"sda", "", false}, {"dm-0", "", false},
		{"md127", "", false}, {"loop3", "", false}, {"sr0", "", false}, {"zram0", "", false},
	} {
		part, parent := partitionByName(tc.name)
		if part != tc.part || parent != tc.parent {
			t.Errorf("partitionByName(%s) = %v %q, want %v %q", tc.name, part, parent, tc.part, tc.parent)
		}
	}
}

func TestParseDiskstats(t *testing.T) {
	in := " 259       0 nvme0n1 912345 12345 45678912 123456 2345678 34567 98765432 345678 0 456789 469134 7 0 88 9 12345 1234\n" +
		"   8       0 sda 50000 100 4000000 5000 60000 200 8000000 9000 0 12000 14000\n"
	m, err := ParseDiskstats([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	n := m["nvme0n1"]
	if n.Major != 259 || n.Reads != 912345 || n.SectorsRead != 45678912 || n.Writes != 2345678 || n.SectorsWritten != 98765432 ||
		n.IOTimeMs != 456789 || n.Discards != 7 || n.SectorsDiscarded != 88 {
		t.Errorf("nvme0n1 %+v", n)
	}
	if s := m["sda"]; s.Reads != 50000 || s.IOTimeMs != 12000 || s.Discards != 0 {
		t.Errorf("old 14-field line: %+v", s)
	}
	if _, err := ParseDiskstats([]byte("8 0 sda 1 2 3\n")); !errors.Is(err, ErrMalformed) {
		t.Errorf("short line: %v", err)
	}
}

func TestParseStatusIO(t *testing.T) {
	s, err := ParseStatus([]byte("Name:\ta b\nUid:\t1000\t1001\t1002\t1003\nGid:\t20\t21\t22\t23\nVmRSS:\t 1024 kB\nvoluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t3\n"))
	if err != nil || s.Name != "a b" || s.UID != 1000 || s.EUID != 1001 || s.GID != 20 || s.EGID != 21 ||
		s.VmRSS != 1<<20 || !s.HasCtxt || s.VoluntaryCtxtSwitches != 7 || s.NonvoluntaryCtxtSwitches != 3 {
		t.Errorf("%v %+v", err, s)
	}
	if _, err := ParseStatus([]byte("Name:\tx\n")); !errors.Is(err, ErrMalformed) {
		t.Errorf("no Uid accepted")
	}
	if s, err := ParseStatus([]byte("Tgid:\t4242\nUid:\t0 0 0 0\nGid:\t0 0 0 0\n")); err != nil || s.Tgid != 4242 {
		t.Errorf("Tgid: %v %+v", err, s)
	}
	if _, err := ParseStatus([]byte("Tgid:\t4294967295\nUid:\t0 0 0 0\nGid:\t0 0 0 0\n")); !errors.Is(err, ErrMalformed) {
		t.Errorf("a Tgid beyond pid_t accepted")
	}
	io, err := ParseProcIO([]byte("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7\n"))
	if err != nil || io != (ProcIO{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("%v %+v", err, io)
	}
	if _, err := ParseProcIO([]byte("rchar: 1\n")); !errors.Is(err, ErrMalformed) {
		t.Errorf("io without read_bytes accepted")
	}
	if got := ParseCmdline([]byte("a\x00\x00b c\x00\x00")); len(got) != 3 || got[1] != "" || got[2] != "b c" {
		t.Errorf("cmdline %q", got)
	}
}

func TestCPUTemperatureRule(t *testing.T) {
	hw := func(chip, label string, c float64) Temp {
		return Temp{Chip: chip, Label: label, Celsius: c, Source: "hwmon"}
	}
	th := func(typ string, c float64) Temp { return Temp{Chip: typ, Label: "z", Celsius: c, Source: "thermal"} }
	for _, tc := range []struct {
		name  string
		temps []Temp
		want  float64
		ok    bool
	}{
		{"ryzen Tdie over Tctl", []Temp{hw("nvme", "Composite", 40), hw("k10temp", "Tctl", 70), hw("k10temp", "Tdie", 60)}, 60, true},
		{"epyc Tctl", []Temp{hw("k10temp", "Tctl", 52), hw("k10temp", "Tccd1", 49)}, 52, true},
		{"intel hottest package", []Temp{hw("coretemp", "Core 0", 80), hw("coretemp", "Package id 0", 55), hw("coretemp", "Package id 1", 58)}, 58, true},
		{"pi cpu_thermal", []Temp{hw("rp1_adc", "temp1", 30), hw("cpu_thermal", "temp1", 48.6)}, 48.6, true},
		{"thermal x86_pkg_temp before acpitz", []Temp{th("acpitz", 30), th("x86_pkg_temp", 45)}, 45, true},
		{"thermal soc", []Temp{th("acpitz", 30), th("soc-thermal", 41)}, 41, true},
		{"acpitz last", []Temp{th("acpitz", 30)}, 30, true},
		{"nvme only", []Temp{hw("nvme", "Composite", 40)}, 0, false},
		{"none", nil, 0, false},
	} {
		got, ok := CPUTemperature(tc.temps)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: got %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// TestParseUintBounds: every 64-bit value parses, nothing above it does.
func TestParseUintBounds(t *testing.T) {
	for in, want := range map[string]bool{
		"0": true, "18446744073709551615": true, "10000000000000000000": true, "01234567890123456789": true,
		"09999999999999999999": true, "18446744073709551616": false, "19999999999999999999": false,
		"20000000000000000000": false, "99999999999999999999": false, "184467440737095516150": false, "": false, "12a": false,
	} {
		v, ok := parseUint([]byte(in))
		if ok != want {
			t.Errorf("parseUint(%q) = %d, %v; want ok %v", in, v, ok, want)
		}
		if ok {
			if s := strconv.FormatUint(v, 10); strings.TrimLeft(in, "0") != strings.TrimLeft(s, "0") {
				t.Errorf("parseUint(%q) = %d", in, v)
			}
		}
	}
}
