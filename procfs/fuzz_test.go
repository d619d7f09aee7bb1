package procfs

import (
	"bytes"
	"strings"
	"testing"
)

// Seeds live in testdata/fuzz/<FuzzName>/ (real files from live machines
// and the fixture trees); the targets check invariants beyond "no panic".

func FuzzParseStat(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Stat
		if err := ParseStat(b, &s); err != nil {
			return
		}
		if s.Total.Busy() > s.Total.Total() {
			t.Fatalf("busy > total: %+v", s.Total)
		}
		var again Stat
		again.Cores = make([]Core, 0, 64)
		if err := ParseStat(b, &again); err != nil || again.Total != s.Total || len(again.Cores) != len(s.Cores) {
			t.Fatalf("reparse into reused Stat differs")
		}
	})
}

func FuzzParseMeminfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMeminfo(b)
		if err != nil {
			return
		}
		if m.Used() > m.Total || m.SwapUsed() > m.SwapTotal {
			t.Fatalf("used exceeds total: %+v", m)
		}
	})
}

func FuzzParseLoadAvg(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLoadAvg(b)
		if err == nil && (l.One < 0 || l.Five < 0 || l.Fifteen < 0) {
			t.Fatalf("negative load %+v", l)
		}
	})
}

func FuzzParseUptime(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := ParseUptime(b)
		if err == nil && u.Seconds < 0 {
			t.Fatalf("negative uptime %+v", u)
		}
	})
}

func FuzzParseNetDev(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseNetDev(b, nil)
		if err != nil {
			return
		}
		for _, x := range d {
			if x.Name == "" || strings.ContainsAny(x.Name, "|\n") {
				t.Fatalf("bad name %q", x.Name)
			}
		}
		again, err := ParseNetDev(b, d)
		if err != nil || len(again) != len(d) {
			t.Fatalf("reparse with reuse differs")
		}
	})
}

func FuzzParseProcStat(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseProcStat(b)
		if err != nil {
			return
		}
		// The name is exactly the bytes between the first '(' and the last ')'.
		i, j := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if string(b[i+1:j]) != s.Name {
			t.Fatalf("name %q, want %q", s.Name, b[i+1:j])
		}
		if s.PID < 0 {
			t.Fatalf("negative pid")
		}
	})
}

func FuzzParseCPUInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ci := ParseCPUInfo(b)
		if ci.Processors < 0 || ci.Processors > bytes.Count(b, []byte("processor")) {
			t.Fatalf("processors %d", ci.Processors)
		}
	})
}

func FuzzParsePasswd(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		for uid, name := range ParsePasswd(b) {
			if name == "" || strings.ContainsAny(name, ":\n") {
				t.Fatalf("uid %d name %q", uid, name)
			}
		}
	})
}

func FuzzParseMountInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ParseMountInfo(b)
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.FSType == "" || m.Source == "" {
				t.Fatalf("empty fields: %+v", m)
			}
			IsRealFS(&m)
		}
	})
}

func FuzzParseDiskstats(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseDiskstats(b)
		if err != nil {
			return
		}
		for name, d := range m {
			if name != d.Name || name == "" {
				t.Fatalf("name %q vs %q", name, d.Name)
			}
		}
	})
}

func FuzzParseNvidiaSMI(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		gs, err := ParseNvidiaSMI(b)
		if err != nil {
			return
		}
		for _, g := range gs {
			if g.Name == "" || (g.Usage != nil && (*g.Usage < 0 || *g.Usage > 100)) {
				t.Fatalf("bad gpu %+v", g)
			}
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseStatus(b)
	})
}

func FuzzParseProcIO(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseProcIO(b)
	})
}

func FuzzParseCmdline(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		args := ParseCmdline(b)
		if got := strings.Join(args, "\x00"); got != string(bytes.TrimRight(b, "\x00")) {
			t.Fatalf("join %q != input %q", got, b)
		}
	})
}

func FuzzPartitionByName(f *testing.F) {
	for _, s := range []string{"sda1", "nvme0n1p1", "mmcblk0p2", "nvme0n1", "dm-0", "p1", "1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		part, parent := partitionByName(name)
		if part && (parent == "" || !strings.HasPrefix(name, parent) || parent == name) {
			t.Fatalf("%q → %v %q", name, part, parent)
		}
	})
}

func FuzzParseV3DStats(f *testing.F) {
	f.Add([]byte("queue\ttimestamp\tjobs\truntime\nbin\t1000\t1\t20\nrender\t1000\t2\t500\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseV3DStats(b)
		if err == nil && len(s.Runtime) == 0 {
			t.Fatal("success without queues")
		}
	})
}
