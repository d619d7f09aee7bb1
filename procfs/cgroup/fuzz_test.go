package cgroup

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// Seeds live in testdata/fuzz/<FuzzName>/ (files of this machine and of the
// fixture trees); the targets check invariants beyond "no panic".

func FuzzParseMountinfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ParseMountinfo(b)
		if err != nil {
			return
		}
		for _, m := range ms {
			if (m.Version != 1 && m.Version != 2) || !strings.HasPrefix(m.Root, "/") || !strings.HasPrefix(m.MountPoint, "/") {
				t.Fatalf("bad mount %+v", m)
			}
			if m.Version == 2 && len(m.Controllers) > 0 {
				t.Fatalf("v2 mount with controllers %+v", m)
			}
		}
		l := NewLayout(ms, "/host/sys")
		for _, h := range []Hierarchy{l.V2, l.CPU, l.CPUAcct, l.Memory, l.PIDs, l.BlkIO, l.Systemd} {
			if h.Mounted() && !strings.HasPrefix(h.Dir, "/") {
				t.Fatalf("relative dir %+v", h)
			}
		}
	})
}

func FuzzParseProcCgroup(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ParseProcCgroup(b)
		p, perr := ProcessPath(b)
		if (err == nil && len(ms) > 0) != (perr == nil) {
			t.Fatalf("ParseProcCgroup: %d lines, %v; ProcessPath: %v", len(ms), err, perr)
		}
		if perr != nil {
			return
		}
		if !slices.ContainsFunc(ms, func(m Membership) bool { return m.Path == string(p) }) {
			t.Fatalf("ProcessPath %q is none of the lines' paths", p)
		}
		// The chosen path is at least as specific as every line's.
		k := Classify(string(p)).Kind
		for _, m := range ms {
			if Classify(m.Path).Kind > k {
				t.Fatalf("chose %q (%v) over %q", p, k, m.Path)
			}
		}
	})
}

func FuzzClassify(f *testing.F) {
	f.Fuzz(func(t *testing.T, path string) {
		g := Classify(path)
		if !utf8.ValidString(g.Path) || !utf8.ValidString(g.Name) || !utf8.ValidString(g.ID) {
			t.Fatalf("invalid UTF-8 in %+v", g)
		}
		if g.Kind == KindNone {
			if g.ID != "" || g.Runtime != "" {
				t.Fatalf("none with an identity: %+v", g)
			}
			return
		}
		if !strings.HasPrefix(path, g.Path) || (len(g.Path) < len(path) && path[len(g.Path)] != '/') {
			t.Fatalf("group path %q is not a prefix of %q", g.Path, path)
		}
		if g.ID == "" || g.Name == "" || !printable(g.Name) || len(g.Name) > 255 {
			t.Fatalf("bad identity %+v", g)
		}
		if g.Kind == KindContainer && g.Runtime != RuntimeLXC && (!isID(g.ID) || g.ShortID != g.ID[:12] || g.Name != g.ShortID) {
			t.Fatalf("bad container %+v", g)
		}
		// Classifying the group's own path gives the same group.
		if again := Classify(g.Path); again != g {
			t.Fatalf("Classify(%q) = %+v, but its group %+v", g.Path, again, g)
		}
	})
}

func FuzzParseCPUStat(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseCPUStat(b)
		if err != nil {
			return
		}
		if !s.HasUsage && s.UsageNs != 0 || !s.HasThrottling && s.NrThrottled != 0 {
			t.Fatalf("value without its flag: %+v", s)
		}
		if s.HasUsage && !bytes.Contains(b, []byte("usage_usec")) {
			t.Fatalf("usage from nowhere: %+v", s)
		}
	})
}

// FuzzParseValue covers the one-number files: memory.current, memory.max,
// memory.peak, the v1 memory files, pids.current, pids.max, cpuacct.usage,
// cpu.cfs_quota_us.
func FuzzParseValue(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseValue(b)
		if err != nil {
			return
		}
		tb := trim(b)
		if v == Unlimited && !eq(tb, "max") && !eq(tb, "-1") && !eq(tb, "18446744073709551615") {
			t.Fatalf("%q parsed as unlimited", b)
		}
		if v1Limit(v) < v1Unlimited && v1Limit(v) != v {
			t.Fatalf("v1Limit changed %d", v)
		}
	})
}

func FuzzParseCPUMax(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		q, p, err := ParseCPUMax(b)
		if err != nil {
			return
		}
		s := Stats{Has: HasCPUMax, CPUQuotaUsec: q, CPUPeriodUsec: p}
		if c, ok := s.CPULimit(); ok && (c < 0 || q == Unlimited || p == 0) {
			t.Fatalf("limit %v from %q", c, b)
		}
	})
}

func FuzzParseIOStat(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		io, err := ParseIOStat(b)
		if err == nil && (io.Read != 0 && !bytes.Contains(b, []byte("rbytes=")) || io.Write != 0 && !bytes.Contains(b, []byte("wbytes="))) {
			t.Fatalf("bytes from nowhere: %+v", io)
		}
	})
}

func FuzzParseBlkioBytes(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		io, err := ParseBlkioBytes(b)
		if err == nil && (io.Read != 0 && !bytes.Contains(b, []byte("Read")) || io.Write != 0 && !bytes.Contains(b, []byte("Write"))) {
			t.Fatalf("bytes from nowhere: %+v", io)
		}
	})
}

func FuzzParsePressure(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePressure(b)
		if err != nil {
			return
		}
		if p.Some < 0 || p.Some > 100 || p.Full < 0 || p.Full > 100 || (!p.HasFull && p.Full != 0) {
			t.Fatalf("out of range %+v", p)
		}
	})
}
