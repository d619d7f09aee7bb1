package cgroup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// Bounds of one listing: deeper trees and more directories than any
// machine's cgroups (Kubernetes nests 4 deep, rootless Podman 6) are
// someone's attempt to make the agent walk forever.
const (
	maxWalkDepth = 16
	maxWalkDirs  = 4096
	maxGroups    = 1024
)

// listed reports whether Groups returns groups of kind k: the units that do
// the work. Slices and pods are parents whose children are listed.
func listed(k Kind) bool { return k == KindContainer || k == KindService || k == KindUser }

// walkRoots are the hierarchies Groups walks: v2 (or, on a legacy machine,
// systemd's named v1 hierarchy), and on hybrid and legacy machines one v1
// controller's too, where the cgroupfs drivers of Docker and Kubernetes put
// containers (/docker/<id>) that v2 never sees.
func (l *Layout) walkRoots() []*Hierarchy {
	var roots []*Hierarchy
	switch {
	case l.V2.Mounted():
		roots = append(roots, &l.V2)
	case l.Systemd.Mounted():
		roots = append(roots, &l.Systemd)
	}
	for _, h := range []*Hierarchy{&l.Memory, &l.CPUAcct, &l.CPU, &l.PIDs, &l.BlkIO} {
		if h.Mounted() {
			return append(roots, h)
		}
	}
	return roots
}

// Groups lists the containers, services and user sessions of the machine,
// sorted by path. It walks the hierarchies (walkRoots) down to
// maxWalkDepth, visiting at most maxWalkDirs directories and returning at
// most maxGroups groups; past a bound it returns what it found with
// ErrTruncated. It does not descend into a container (its sub-groups are
// the container's), but does into services, where Podman's quadlets and
// rootless containers live.
func (l Layout) Groups() ([]Group, error) {
	r := readers.Get().(*reader)
	defer readers.Put(r)
	return l.groups(r)
}

func (l Layout) groups(r *reader) ([]Group, error) {
	w := walker{r: r, seen: map[string]bool{}}
	var errs []error
	for _, h := range l.walkRoots() {
		fd, err := r.openDir(-1, h.Dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("open %s: %w", h.Dir, err))
			continue
		}
		w.add(Classify(h.Root), h.Root) // a v1 mount of one container's sub-tree
		w.dir(fd, h.Root, 0)
		unix.Close(fd)
	}
	if w.truncated {
		errs = append(errs, fmt.Errorf("%d directories, %d groups: %w", w.dirs, len(w.out), ErrTruncated))
	}
	slices.SortFunc(w.out, func(a, b Group) int { return strings.Compare(a.Path, b.Path) })
	return w.out, errors.Join(errs...)
}

type walker struct {
	r         *reader
	out       []Group
	seen      map[string]bool
	dirs      int
	truncated bool
}

func (w *walker) add(g Group, path string) {
	if !listed(g.Kind) || g.Path != path || w.seen[path] {
		return
	}
	if len(w.out) == maxGroups {
		w.truncated = true
		return
	}
	w.seen[path] = true
	w.out = append(w.out, g)
}

// dir visits the sub-directories of the group at path, open as fd.
func (w *walker) dir(fd int, path string, depth int) {
	for _, name := range w.subdirs(fd) {
		if w.dirs == maxWalkDirs || depth == maxWalkDepth {
			w.truncated = true
			return
		}
		w.dirs++
		child := path + "/" + name
		if path == "/" {
			child = path + name
		}
		g := Classify(child)
		w.add(g, child)
		if g.Kind == KindContainer {
			continue
		}
		cfd, err := w.r.openDir(fd, name)
		if err != nil {
			continue // removed meanwhile
		}
		w.dir(cfd, child, depth+1)
		unix.Close(cfd)
	}
}

// subdirs lists the names of the directories in fd (never "." or "..", and
// only names that are valid UTF-8: nothing else can be a group we know).
func (w *walker) subdirs(fd int) []string {
	var names []string
	buf := w.r.dents
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return names
		}
		for b := buf[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return names
			}
			typ, name := b[18], b[19:reclen]
			if i := indexNUL(name); i >= 0 {
				name = name[:i]
			}
			b = b[reclen:]
			if string(name) == "." || string(name) == ".." || !utf8.Valid(name) {
				continue
			}
			if typ == unix.DT_UNKNOWN {
				var st unix.Stat_t
				if unix.Fstatat(fd, string(name), &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
					continue
				}
			} else if typ != unix.DT_DIR {
				continue
			}
			if len(names) == maxWalkDirs {
				w.truncated = true
				continue
			}
			names = append(names, string(name))
		}
	}
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// Sample lists the groups (see Groups) and reads each one's Stats,
// appending to dst. Groups removed between the two are left out. An
// ErrTruncated listing is sampled as far as it goes and the error returned.
func (l Layout) Sample(dst []Sample) ([]Sample, error) {
	r := readers.Get().(*reader)
	defer readers.Put(r)
	groups, err := l.groups(r)
	for _, g := range groups {
		st, serr := l.stats(r, g.Path)
		if serr != nil {
			continue
		}
		dst = append(dst, Sample{Group: g, Stats: st})
	}
	return dst, err
}
