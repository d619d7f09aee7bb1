package cgroup

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// Sampler reads the Stats of a machine's groups sample after sample,
// keeping each group's directories and files open in between: a held
// cgroup file is read again with one pread at offset 0 (the kernel
// regenerates it), where reading it afresh costs openat, read and close —
// about five times as much on kernfs. Files a group lacks are remembered
// as absent until the group's next refresh.
//
// Bounds: at most maxHeldFDs descriptors (fewer with a low RLIMIT_NOFILE;
// past the budget groups are read as Layout.Stats reads them); each group's
// files are closed and reopened every refreshSamples reads (a controller
// enabled since, a group removed and made again); groups a Sample does not
// list any more are closed; a group whose held file reports it removed
// (ENODEV) is read afresh once.
//
// The methods are safe for concurrent use (serialized). Close releases the
// files; an agent holds a Sampler while clients are connected.
type Sampler struct {
	layout Layout

	mu     sync.Mutex
	r      reader
	held   *heldFiles
	gen    uint32 // Sample count, to find groups no longer listed
	budget int    // -1 until first use
}

// heldFiles are the open descriptors of a Sampler, apart so that a cleanup
// can close them when the Sampler is collected unclosed.
type heldFiles struct {
	groups map[string]*heldGroup
	n      int // descriptors open
}

type heldGroup struct {
	dirs  [nHiers]int32 // -1: the group is not in that hierarchy
	owned [nHiers]bool  // dirs[h] is this slot's own descriptor
	fds   [nFiles]int32 // -1: not open (yet), -2: absent
	reads uint16
	seen  uint32
}

// Bounds of a Sampler.
const (
	maxHeldFDs     = 4096
	refreshSamples = 30
	fdAbsent       = -2
)

// NewSampler returns a Sampler for the layout's groups.
func (l Layout) NewSampler() *Sampler {
	s := &Sampler{layout: l, r: reader{buf: make([]byte, 4096), path: make([]byte, 0, 256), dents: make([]byte, 16<<10)},
		held: &heldFiles{groups: map[string]*heldGroup{}}, budget: -1}
	runtime.AddCleanup(s, (*heldFiles).closeAll, s.held)
	return s
}

// Layout returns the hierarchies the Sampler reads.
func (s *Sampler) Layout() Layout { return s.layout }

// Close closes the files held open; the Sampler may be used again (and
// opens them again).
func (s *Sampler) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held.closeAll()
}

func (h *heldFiles) closeAll() {
	for path, g := range h.groups {
		h.drop(path, g)
	}
}

func (h *heldFiles) drop(path string, g *heldGroup) {
	for i, fd := range g.fds {
		if fd >= 0 {
			unix.Close(int(fd))
			h.n--
		}
		g.fds[i] = -1
	}
	for i, fd := range g.dirs {
		if g.owned[i] {
			unix.Close(int(fd))
			h.n--
		}
	}
	delete(h.groups, path)
}

// setBudget decides, once, how many descriptors the Sampler may hold: a
// quarter of what RLIMIT_NOFILE leaves after a reserve (procfs's sampler
// takes half for /proc/<pid>/stat; the rest is the agent's sockets).
func (s *Sampler) setBudget() {
	s.budget = 0
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil {
		s.budget = int(min(max(int64(lim.Cur)-256, 0)/4, maxHeldFDs))
	}
}

// Stats reads the group at path like Layout.Stats, from held files.
func (s *Sampler) Stats(path string) (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats(path)
}

func (s *Sampler) stats(path string) (Stats, error) {
	if s.budget < 0 {
		s.setBudget()
	}
	h := s.held
	g := h.groups[path]
	if g != nil && g.reads >= refreshSamples {
		h.drop(path, g)
		g = nil
	}
	if g == nil {
		if h.n+int(nHiers) > s.budget {
			return s.layout.stats(&s.r, path) // past the budget: read afresh
		}
		g = &heldGroup{}
		var dirs [nHiers]int
		if !openGroupDirs(&s.r, &s.layout, path, &dirs, &g.owned) {
			return Stats{}, fmt.Errorf("cgroup %s: %w", path, ErrNotFound)
		}
		for i, fd := range dirs {
			g.dirs[i] = int32(fd)
			if g.owned[i] {
				h.n++
			}
		}
		for i := range g.fds {
			g.fds[i] = -1
		}
		h.groups[path] = g
	}
	g.reads++
	g.seen = s.gen
	src := heldSource{s: s, g: g}
	st := readStats(&src)
	if src.removed {
		// A held file of a removed group: read afresh (ErrNotFound, or the
		// group made again under the same path).
		h.drop(path, g)
		return s.layout.stats(&s.r, path)
	}
	return st, nil
}

// heldSource reads a heldGroup's files, opening and holding them on first use.
type heldSource struct {
	s       *Sampler
	g       *heldGroup
	removed bool
}

func (hs *heldSource) in(h hier) bool { return hs.g.dirs[h] >= 0 }

func (hs *heldSource) read(f file) ([]byte, bool) {
	g, r := hs.g, &hs.s.r
	switch fd := g.fds[f]; {
	case fd == fdAbsent:
		return nil, false
	case fd >= 0:
		b, err := preadAll(r, int(fd))
		if err != nil {
			hs.failed(f, err)
		}
		return b, err == nil
	}
	d := g.dirs[files[f].h]
	if d < 0 {
		return nil, false
	}
	fd, err := r.openat(int(d), files[f].name, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			g.fds[f] = fdAbsent
		}
		return nil, false
	}
	b, err := preadAll(r, fd)
	if err != nil || hs.s.held.n >= hs.s.budget {
		unix.Close(fd)
	} else {
		g.fds[f] = int32(fd)
		hs.s.held.n++
	}
	if err != nil {
		hs.failed(f, err)
	}
	return b, err == nil
}

// failed handles a read error of f: ENODEV means the group was removed;
// anything else (EOPNOTSUPP for PSI switched off, …) makes f absent until
// the group's refresh.
func (hs *heldSource) failed(f file, err error) {
	if errors.Is(err, unix.ENODEV) {
		hs.removed = true
		return
	}
	if fd := hs.g.fds[f]; fd >= 0 {
		unix.Close(int(fd))
		hs.s.held.n--
	}
	hs.g.fds[f] = fdAbsent
}

// preadAll reads the whole file from offset 0 into r.buf.
func preadAll(r *reader, fd int) ([]byte, error) {
	for {
		n, err := unix.Pread(fd, r.buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n < len(r.buf) {
			return r.buf[:n], nil
		}
		if len(r.buf) >= maxFileBytes {
			return nil, unix.EFBIG
		}
		r.buf = make([]byte, 2*len(r.buf))
	}
}

// Sample lists the groups (Layout.Groups) and reads each one's Stats from
// held files, appending to dst; the files of groups no longer listed are
// closed. Errors are as Layout.Sample's.
func (s *Sampler) Sample(dst []Sample) ([]Sample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	groups, err := s.layout.groups(&s.r)
	for _, g := range groups {
		st, serr := s.stats(g.Path)
		if serr != nil {
			continue
		}
		dst = append(dst, Sample{Group: g, Stats: st})
	}
	for path, g := range s.held.groups {
		if g.seen != s.gen {
			s.held.drop(path, g)
		}
	}
	return dst, err
}

// heldCount is the number of descriptors held (for tests).
func (s *Sampler) heldCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held.n
}
