package cgroup

import (
	"fmt"
	"os"
	"path/filepath"
)

// FS reads the cgroup hierarchies of one machine through a proc root and a
// sys root.
type FS struct {
	proc, sys string
}

// NewFS returns an FS reading procRoot (usually /proc) and sysRoot (usually
// /sys; /host/proc and /host/sys for an agent in a container).
func NewFS(procRoot, sysRoot string) FS {
	return FS{proc: filepath.Clean(procRoot), sys: filepath.Clean(sysRoot)}
}

// Discover reads <proc>/self/mountinfo and returns the hierarchies to read
// (see NewLayout for how mount points map under the sys root). It returns
// ErrNoCgroups when none is mounted.
func (fs FS) Discover() (Layout, error) {
	p := filepath.Join(fs.proc, "self", "mountinfo")
	b, err := os.ReadFile(p)
	if err != nil {
		return Layout{}, fmt.Errorf("read %s: %w", p, err)
	}
	mounts, err := ParseMountinfo(b)
	if err != nil {
		return Layout{}, fmt.Errorf("%s: %w", p, err)
	}
	l := NewLayout(mounts, fs.sys)
	if l.Mode() == "none" {
		return l, fmt.Errorf("%s: %w", p, ErrNoCgroups)
	}
	return l, nil
}
