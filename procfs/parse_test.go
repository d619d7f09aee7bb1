package procfs

import (
	"errors"
	"testing"
)

func TestParseStat(t *testing.T) {
	in := "cpu  2196 0 1313 26717 83 0 20 28 0 0\n" +
		"cpu0 1057 0 610 13477 10 0 6 14 0 0\n" +
		"cpu2 1138 0 702 13239 72 0 13 13 0 0\n" +
		"intr 118826 0 0\nctxt 222477\nbtime 1795315027\nprocesses 3205\nprocs_running 3\nprocs_blocked 1\n"
	var s Stat
	if err := ParseStat([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	if s.Total.User != 2196 || s.Total.Idle != 26717 || s.Total.Steal != 28 {
		t.Errorf("total = %+v", s.Total)
	}
	if s.Total.Total() != 2196+1313+26717+83+20+28 || s.Total.Busy() != 2196+1313+20+28 {
		t.Errorf("Total()=%d Busy()=%d", s.Total.Total(), s.Total.Busy())
	}
	if len(s.Cores) != 2 || s.Cores[1].ID != 2 || s.Cores[1].System != 702 {
		t.Errorf("cores = %+v (offline cpu1 must be absent, cpu2 kept)", s.Cores)
	}
	if s.BootTime != 1795315027 || s.ContextSwitch != 222477 || s.Forks != 3205 || s.ProcsRunning != 3 || s.ProcsBlocked != 1 {
		t.Errorf("counters = %+v", s)
	}
	// Old kernel with four columns.
	if err := ParseStat([]byte("cpu 1 2 3 4\n"), &s); err != nil || s.Total.Idle != 4 || len(s.Cores) != 0 {
		t.Errorf("4-column: %v %+v", err, s)
	}
	for _, bad := range []string{"", "intr 1\n", "cpu 1 2\n", "cpu 1 x 3 4\n", "cpuX 1 2 3 4\ncpu 1 2 3 4\n"} {
		if err := ParseStat([]byte(bad), &s); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseStat(%q) err = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestUsage(t *testing.T) {
	prev := Stat{Total: CPUTimes{User: 100, Idle: 100}, Cores: []Core{{0, CPUTimes{User: 50, Idle: 50}}, {1, CPUTimes{User: 50, Idle: 50}}}}
	cur := Stat{Total: CPUTimes{User: 150, Idle: 150, IOWait: 100}, Cores: []Core{{1, CPUTimes{User: 100, Idle: 100}}, {3, CPUTimes{User: 10, Idle: 30}}}}
	u := Usage(&prev, &cur)
	if u.Total != 25 { // busy +50 of total +200 (iowait counts as idle)
		t.Errorf("Total = %v, want 25", u.Total)
	}
	if len(u.PerCore) != 2 || u.PerCore[0] != 50 || u.PerCore[1] != 25 || u.CoreIDs[1] != 3 {
		t.Errorf("PerCore = %v ids %v, want [50 25] ids [1 3]", u.PerCore, u.CoreIDs)
	}
	if sh := u.Shares; sh.User != 25 || sh.Idle != 25 || sh.IOWait != 50 || sh.System != 0 {
		t.Errorf("Shares = %+v, want user 25, idle 25, iowait 50", sh)
	}
	if u := Usage(&cur, &cur); u.Total != 0 || u.Shares != (CPUShares{}) {
		t.Errorf("no time passed: %v %+v", u.Total, u.Shares)
	}
	// A counter that went back (a core unplugged and back) is no share.
	back := Stat{Total: CPUTimes{User: 10, Idle: 400, IOWait: 100}}
	if sh := Usage(&cur, &back).Shares; sh.User != 0 || sh.Idle != 100 {
		t.Errorf("user went back: %+v", sh)
	}
}

func TestParseMeminfo(t *testing.T) {
	in := "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n" +
		"Buffers:          200000 kB\nCached:          3000000 kB\nSwapCached: 0 kB\nSwapTotal:       2000000 kB\nSwapFree:        1500000 kB\nHugePages_Total: 0\n"
	m, err := ParseMeminfo([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if m.Total != 16000000*1024 || m.Used() != 8000000*1024 || m.SwapUsed() != 500000*1024 || m.Buffers != 200000*1024 || m.AvailableEstimated {
		t.Errorf("got %+v", m)
	}
	// No MemAvailable (kernel < 3.14), no swap lines (container).
	m, err = ParseMeminfo([]byte("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 200 kB\nSReclaimable: 5 kB\n"))
	if err != nil || !m.AvailableEstimated || m.Available != 315*1024 || m.SwapTotal != 0 || m.SwapUsed() != 0 {
		t.Errorf("estimated: %v %+v", err, m)
	}
	for _, bad := range []string{"", "MemFree: 1 kB\n", "MemTotal: x kB\n", "MemTotal: 1 MB\n", "MemTotal: 99999999999999999999 kB\n"} {
		if _, err := ParseMeminfo([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseMeminfo(%q) err = %v", bad, err)
		}
	}
}

func TestParseLoadAvgUptime(t *testing.T) {
	l, err := ParseLoadAvg([]byte("0.52 1.58 10.09 2/456 12345\n"))
	if err != nil || l.One != 0.52 || l.Five != 1.58 || l.Fifteen != 10.09 || l.Running != 2 || l.Total != 456 || l.LastPID != 12345 {
		t.Errorf("%v %+v", err, l)
	}
	for _, bad := range []string{"", "x 1 2 1/2 3", "1 2 3 a/2 4"} {
		if _, err := ParseLoadAvg([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseLoadAvg(%q) err = %v", bad, err)
		}
	}
	u, err := ParseUptime([]byte("12345.67 23456.78\n"))
	if err != nil || u.Seconds < 12345.669 || u.Seconds > 12345.671 || u.IdleSeconds < 23456.77 {
		t.Errorf("%v %+v", err, u)
	}
	if _, err := ParseUptime([]byte("-1 2")); !errors.Is(err, ErrMalformed) {
		t.Errorf("negative uptime accepted")
	}
}

func TestParseNetDev(t *testing.T) {
	in := "Inter-|   Receive                                                |  Transmit\n" +
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
		"    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0\n" +
		"  eth0: 42083054    3078    1    2    0     0          0         0   315451    2734    3    4    0     0       0          0\n"
	d, err := ParseNetDev([]byte(in), nil)
	if err != nil || len(d) != 2 {
		t.Fatal(err, d)
	}
	want := NetDev{Name: "eth0", RxBytes: 42083054, RxPackets: 3078, RxErrors: 1, RxDrop: 2, TxBytes: 315451, TxPackets: 2734, TxErrors: 3, TxDrop: 4}
	if d[1] != want {
		t.Errorf("eth0 = %+v", d[1])
	}
	// Reuse keeps the names without allocating.
	allocs := testing.AllocsPerRun(10, func() { d, _ = ParseNetDev([]byte(in), d) })
	if allocs != 0 {
		t.Errorf("reparse allocates %v times", allocs)
	}
	if _, err := ParseNetDev([]byte("eth0: 1 2 3\n"), nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("short line accepted: %v", err)
	}
}

func TestParseProcStat(t *testing.T) {
	// Name with spaces, parentheses and a newline: only the last ')' ends it.
	in := "4242 (a b) (c)\nd) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 5 0 0 20 -5 3 0 9876 123456789 321 18446744073709551615 1 1 0 0 0\n"
	s, err := ParseProcStat([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if s.PID != 4242 || s.Name != "a b) (c)\nd" || s.State != 'S' || s.PPID != 1 || s.UTime != 17 || s.STime != 5 ||
		s.Nice != -5 || s.Threads != 3 || s.StartTime != 9876 || s.VSize != 123456789 || s.RSSPages != 321 {
		t.Errorf("got %+v", s)
	}
	k, err := ParseProcStat([]byte("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0 18446744073709551615\n"))
	if err != nil || k.Flags&pfKthread == 0 {
		t.Errorf("kthread: %v %+v", err, k)
	}
	for _, bad := range []string{"", "1 (x", "x (y) S 1", "1 (x) S 1 2", "1 (x) SS 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21",
		"1 (x) S a 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 2 0 0"} {
		if _, err := ParseProcStat([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseProcStat(%q) err = %v", bad, err)
		}
	}
}

func TestParseCPUInfo(t *testing.T) {
	for _, tc := range []struct{ in, arch, model string }{
		{"processor : 0\nmodel name : AMD EPYC\nflags : fpu lm sse\n\nprocessor : 1\nmodel name : AMD EPYC\n", "x86_64", "AMD EPYC"},
		{"processor : 0\nBogoMIPS : 108\nCPU architecture: 8\nCPU part : 0xd08\n", "aarch64", "Cortex-A72"},
		{"processor : 0\nmodel name : ARMv7 Processor rev 3 (v7l)\nCPU architecture: 7\n", "armv7l", "ARMv7 Processor rev 3 (v7l)"},
		{"processor : 0\nmodel name : ARMv6-compatible processor rev 7 (v6l)\nCPU architecture: 7\n", "armv6l", "ARMv6-compatible processor rev 7 (v6l)"},
		{"garbage", "", ""},
	} {
		ci := ParseCPUInfo([]byte(tc.in))
		if ci.Arch != tc.arch || ci.ModelName != tc.model {
			t.Errorf("ParseCPUInfo(%q) = %+v, want arch %q model %q", tc.in, ci, tc.arch, tc.model)
		}
	}
}

func TestParsePasswd(t *testing.T) {
	m := ParsePasswd([]byte("root:x:0:0:root:/root:/bin/bash\n# c\nbad line\nalice:x:1000:1000::/home/a:/bin/sh\ndup:x:0:0::/:/bin/sh\nneg:x:-1:0::/:\n"))
	if len(m) != 2 || m[0] != "root" || m[1000] != "alice" {
		t.Errorf("got %v", m)
	}
}
