package cgroup

import (
	"bytes"
	"path/filepath"
	"strings"
)

// Mount is one cgroup or cgroup2 line of /proc/<pid>/mountinfo.
type Mount struct {
	// Version is 2 for cgroup2 and 1 for a v1 hierarchy.
	Version int
	// Root is the group of the hierarchy mounted here (field 4), as the
	// reader's cgroup namespace shows it: "/" for the whole hierarchy.
	Root string
	// MountPoint is where it is mounted (field 5), in the reader's mount
	// namespace.
	MountPoint string
	// Controllers are a v1 hierarchy's controllers from the super options
	// ("cpu", "cpuacct", … and "name=systemd" for a named hierarchy).
	Controllers []string
}

// maxMountLines bounds the lines ParseMountinfo looks at: a container host
// with thousands of mounts is real, a million lines is an attack.
const maxMountLines = 1 << 16

// v1Controllers are the names a v1 hierarchy's super options may carry
// besides mount flags.
var v1Controllers = map[string]bool{
	"cpu": true, "cpuacct": true, "cpuset": true, "memory": true, "devices": true,
	"freezer": true, "net_cls": true, "net_prio": true, "blkio": true, "perf_event": true,
	"hugetlb": true, "pids": true, "rdma": true, "misc": true,
}

// ParseMountinfo returns the cgroup and cgroup2 mounts of a mountinfo file
// (proc(5)); other file systems are skipped. Octal escapes (\040) in paths
// are decoded.
func ParseMountinfo(b []byte) ([]Mount, error) {
	var out []Mount
	for n := 0; len(b) > 0; n++ {
		if n == maxMountLines {
			return out, malformed("mountinfo", "too many lines")
		}
		var line []byte
		line, b = cutLine(b)
		if len(trim(line)) == 0 {
			continue
		}
		// id parent maj:min root mountpoint options [optional…] - fstype source superoptions
		var f [6][]byte
		rest := line
		for i := range f {
			f[i], rest = cutField(rest)
		}
		if len(f[5]) == 0 {
			return nil, malformed("mountinfo", "too few fields")
		}
		var sep []byte
		for {
			sep, rest = cutField(rest)
			if len(sep) == 0 || eq(sep, "-") {
				break
			}
		}
		fstype, rest := cutField(rest)
		_, rest = cutField(rest) // source
		super, _ := cutField(rest)
		if len(sep) == 0 || len(fstype) == 0 {
			return nil, malformed("mountinfo", "no separator or file system type")
		}
		var m Mount
		switch {
		case eq(fstype, "cgroup2"):
			m.Version = 2
		case eq(fstype, "cgroup"):
			m.Version = 1
			for len(super) > 0 {
				var opt []byte
				if i := bytes.IndexByte(super, ','); i >= 0 {
					opt, super = super[:i], super[i+1:]
				} else {
					opt, super = super, nil
				}
				if v1Controllers[string(opt)] || bytes.HasPrefix(opt, []byte("name=")) {
					m.Controllers = append(m.Controllers, string(opt))
				}
			}
		default:
			continue
		}
		m.Root, m.MountPoint = unescape(f[3]), unescape(f[4])
		if !strings.HasPrefix(m.Root, "/") || !strings.HasPrefix(m.MountPoint, "/") {
			return nil, malformed("mountinfo", "relative path")
		}
		out = append(out, m)
	}
	return out, nil
}

// unescape decodes the \ooo escapes the kernel writes for blanks and
// backslashes in mount paths.
func unescape(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) && isOctal3(b[i+1:i+4]) {
			out = append(out, (b[i+1]-'0')<<6|(b[i+2]-'0')<<3|(b[i+3]-'0'))
			i += 3
			continue
		}
		out = append(out, b[i])
	}
	return string(out)
}

func isOctal3(b []byte) bool {
	return b[0] >= '0' && b[0] <= '3' && b[1] >= '0' && b[1] <= '7' && b[2] >= '0' && b[2] <= '7'
}

// Hierarchy is one mounted cgroup hierarchy.
type Hierarchy struct {
	Mount
	// Dir is the directory read for the hierarchy's root group: the mount
	// point, re-rooted under the sys root when the FS has one (see NewLayout).
	// "" when the hierarchy is not mounted.
	Dir string
}

// Mounted reports whether the hierarchy was found.
func (h Hierarchy) Mounted() bool { return h.Dir != "" }

// GroupDir returns the directory of the group at path (as in
// /proc/<pid>/cgroup) in this hierarchy, or false when the group lies
// outside what is mounted here (a v1 mount of a sub-tree, a path above the
// cgroup namespace) or the path is not clean.
func (h Hierarchy) GroupDir(path string) (string, bool) {
	if h.Dir == "" || !strings.HasPrefix(path, "/") {
		return "", false
	}
	rel := path
	if h.Root != "/" {
		rel = strings.TrimPrefix(path, h.Root)
		if len(rel) == len(path) || (rel != "" && rel[0] != '/') {
			return "", false
		}
	}
	// A path the kernel shows relative to our namespace may climb out of it
	// ("/../.."); it must not climb out of the mount.
	for seg := range strings.SplitSeq(rel, "/") {
		if seg == ".." || seg == "." {
			return "", false
		}
	}
	if rel == "" || rel == "/" {
		return h.Dir, true
	}
	return h.Dir + rel, true
}

// Layout is the set of cgroup hierarchies found on a machine: the unified
// (v2) hierarchy and, on hybrid and legacy machines, the v1 hierarchies of
// the controllers the readers use. A controller mounted in v1 is not
// available in v2 (the kernel binds each controller to one hierarchy), so
// the readers use v1 where it is mounted and v2 for the rest.
type Layout struct {
	V2 Hierarchy
	// v1 hierarchies; the same one twice when co-mounted ("cpu,cpuacct").
	CPU, CPUAcct, Memory, PIDs, BlkIO Hierarchy
	// Systemd is the v1 named hierarchy systemd keeps its tree in on legacy
	// machines (name=systemd).
	Systemd Hierarchy
}

// Mode names the machine's arrangement: "unified" (v2 only), "hybrid" (v2
// and v1 controllers), "legacy" (v1 only) or "none".
func (l Layout) Mode() string {
	v1 := l.CPU.Mounted() || l.CPUAcct.Mounted() || l.Memory.Mounted() || l.PIDs.Mounted() || l.BlkIO.Mounted() || l.Systemd.Mounted()
	switch {
	case l.V2.Mounted() && v1:
		return "hybrid"
	case l.V2.Mounted():
		return "unified"
	case v1:
		return "legacy"
	}
	return "none"
}

// NewLayout picks, for v2 and for each v1 controller, the mount to read.
//
// sysRoot is where the FS reads /sys. When it is not /sys (an agent in a
// container that sees the host's /sys at /host/sys), a mount point inside
// sysRoot is the host's hierarchy as this mount namespace sees it and is
// used as it is; a mount point under /sys is re-rooted under sysRoot
// (/sys/fs/cgroup → /host/sys/fs/cgroup, and the same for fixture trees);
// anything else is used as it is. Among several mounts of one hierarchy it
// prefers, in order: a mount inside sysRoot, one under /sys, the whole
// hierarchy (root "/"), the shortest mount point.
func NewLayout(mounts []Mount, sysRoot string) Layout {
	sysRoot = filepath.Clean(sysRoot)
	var l Layout
	rank := map[*Hierarchy]int{}
	offer := func(h *Hierarchy, m Mount) {
		dir, r := reroot(m.MountPoint, sysRoot)
		r *= 4
		if m.Root != "/" {
			r += 2
		}
		if old, ok := rank[h]; ok && (old < r || (old == r && len(h.Dir) <= len(dir))) {
			return
		}
		rank[h] = r
		*h = Hierarchy{Mount: m, Dir: dir}
	}
	for _, m := range mounts {
		if m.Version == 2 {
			offer(&l.V2, m)
			continue
		}
		for _, c := range m.Controllers {
			switch c {
			case "cpu":
				offer(&l.CPU, m)
			case "cpuacct":
				offer(&l.CPUAcct, m)
			case "memory":
				offer(&l.Memory, m)
			case "pids":
				offer(&l.PIDs, m)
			case "blkio":
				offer(&l.BlkIO, m)
			case "name=systemd":
				offer(&l.Systemd, m)
			}
		}
	}
	return l
}

// reroot maps a mount point to the directory to read and its rank (lower is
// better) as NewLayout describes.
func reroot(mountPoint, sysRoot string) (string, int) {
	mp := filepath.Clean(mountPoint)
	switch {
	case sysRoot != "/sys" && (mp == sysRoot || strings.HasPrefix(mp, sysRoot+"/")):
		return mp, 0
	case strings.HasPrefix(mp, "/sys/"):
		return sysRoot + mp[len("/sys"):], 1
	}
	return mp, 2
}
