package cgroup

import (
	"bytes"
	"unsafe"
)

// Membership is one line of /proc/<pid>/cgroup: the group a process is in,
// in one hierarchy.
type Membership struct {
	// HierarchyID is 0 for the unified (v2) hierarchy.
	HierarchyID uint32 `json:"hierarchy_id"`
	// Controllers of a v1 hierarchy ("cpu", "cpuacct", "name=systemd"); none for v2.
	Controllers []string `json:"controllers,omitempty"`
	Path        string   `json:"path"`
}

// V2 reports whether the line is the unified hierarchy's ("0::/path").
func (m Membership) V2() bool { return m.HierarchyID == 0 && len(m.Controllers) == 0 }

// maxCgroupLines bounds the lines of /proc/<pid>/cgroup looked at; a kernel
// has at most 16 v1 hierarchies and one v2.
const maxCgroupLines = 64

// ParseProcCgroup parses /proc/<pid>/cgroup: "ID:controller,…:/path" lines
// (cgroups(7)). The path is what follows the second colon (it may itself
// hold colons); the " (deleted)" the kernel appends for a removed group is
// dropped.
func ParseProcCgroup(b []byte) ([]Membership, error) {
	var out []Membership
	err := eachCgroupLine(b, func(id uint32, ctrls, path []byte) {
		m := Membership{HierarchyID: id, Path: string(path)}
		for len(ctrls) > 0 {
			var c []byte
			if i := bytes.IndexByte(ctrls, ','); i >= 0 {
				c, ctrls = ctrls[:i], ctrls[i+1:]
			} else {
				c, ctrls = ctrls, nil
			}
			if len(c) > 0 {
				m.Controllers = append(m.Controllers, string(c))
			}
		}
		out = append(out, m)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachCgroupLine calls fn for every line of a /proc/<pid>/cgroup file.
func eachCgroupLine(b []byte, fn func(id uint32, ctrls, path []byte)) error {
	for n := 0; len(b) > 0; n++ {
		var line []byte
		line, b = cutLine(b)
		if len(trim(line)) == 0 {
			continue
		}
		if n == maxCgroupLines {
			return malformed("cgroup", "too many lines")
		}
		id, ctrls, path, ok := splitCgroupLine(line)
		if !ok {
			return malformed("cgroup", "want ID:controllers:/path")
		}
		fn(id, ctrls, path)
	}
	return nil
}

func splitCgroupLine(line []byte) (id uint32, ctrls, path []byte, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return 0, nil, nil, false
	}
	j := bytes.IndexByte(line[i+1:], ':')
	if j < 0 {
		return 0, nil, nil, false
	}
	j += i + 1
	n, ok := atou(line[:i])
	path = bytes.TrimSuffix(line[j+1:], []byte(" (deleted)"))
	if !ok || n > 1<<31 || len(path) == 0 || path[0] != '/' {
		return 0, nil, nil, false
	}
	return uint32(n), line[i+1 : j], path, true
}

// ProcessPath picks, from the content of /proc/<pid>/cgroup, the path that
// best says what the process belongs to, and returns it as a sub-slice of b
// (nothing is allocated, so a process scan can call it for every pid and
// intern the result).
//
// On a unified machine that is the one "0::" line. On hybrid and legacy
// machines lines disagree: a Docker container run by the cgroupfs driver is
// /docker/<id> in the v1 controllers while its v2 line still names the
// containerd service. So every line is classified and the most specific
// kind wins (container, pod, user or service, slice, unknown, root); on a
// tie the v2 line wins, then name=systemd, then the first v1 line.
func ProcessPath(b []byte) ([]byte, error) {
	var best []byte
	bestRank := -1
	err := eachCgroupLine(b, func(id uint32, ctrls, path []byte) {
		// The string is only looked at, never kept: classify returns offsets.
		k := classify(unsafe.String(unsafe.SliceData(path), len(path))).kind
		rank := int(k) + 1
		if k == KindNone && len(path) == 1 {
			rank = 0 // the root says nothing
		}
		rank *= 4
		switch {
		case id == 0 && len(ctrls) == 0:
			rank += 3
		case bytes.Equal(ctrls, []byte("name=systemd")):
			rank += 2
		}
		if rank > bestRank {
			best, bestRank = path, rank
		}
	})
	if err != nil {
		return nil, err
	}
	if bestRank < 0 {
		return nil, malformed("cgroup", "no lines")
	}
	return best, nil
}
