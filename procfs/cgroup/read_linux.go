package cgroup

import (
	"fmt"
	"path/filepath"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// reader holds the buffers one call reads with; pooled so that a sample
// allocates nothing for its reads.
type reader struct {
	buf   []byte // file content
	path  []byte // a NUL-terminated path being built
	dents []byte // getdents64 records
}

var readers = sync.Pool{New: func() any {
	return &reader{buf: make([]byte, 4096), path: make([]byte, 0, 256), dents: make([]byte, 16<<10)}
}}

// maxFileBytes bounds one cgroup file read (io.stat grows with devices).
const maxFileBytes = 1 << 20

// openDir opens dir, or dirfd-relative name when dirfd ≥ 0, as a directory.
func (r *reader) openDir(dirfd int, name string) (int, error) {
	if dirfd < 0 {
		dirfd = unix.AT_FDCWD
	}
	return r.openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
}

// openat opens name relative to dirfd, building the NUL-terminated path in
// r.path so that the call does not allocate.
func (r *reader) openat(dirfd int, name string, flags int) (int, error) {
	p := append(append(r.path[:0], name...), 0)
	r.path = p
	for {
		fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&p[0])), uintptr(flags), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(fd), nil
	}
}

// read reads the file name in the directory dirfd; false when it is missing
// or unreadable (a controller not enabled, PSI switched off, a kernel
// without the file), which the readers treat as "absent".
func (r *reader) read(dirfd int, name string) ([]byte, bool) {
	fd, err := r.openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	n := 0
	for {
		if n == len(r.buf) {
			if len(r.buf) >= maxFileBytes {
				return nil, false
			}
			r.buf = append(r.buf, make([]byte, len(r.buf))...)
		}
		m, err := unix.Read(fd, r.buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		n += m
		// kernfs and regular files return short only at the end: a read
		// that did not fill the buffer needs no second one to see EOF.
		if m == 0 || n < len(r.buf) {
			return r.buf[:n], true
		}
	}
}

// hier names the hierarchies of a Layout a group's files are read from.
type hier uint8

const (
	hV2 hier = iota
	hCPUAcct
	hCPU
	hMemory
	hPIDs
	hBlkIO
	nHiers
)

func (l *Layout) hier(h hier) *Hierarchy {
	return [nHiers]*Hierarchy{&l.V2, &l.CPUAcct, &l.CPU, &l.Memory, &l.PIDs, &l.BlkIO}[h]
}

// file is one file the readers use, in one hierarchy.
type file uint8

const (
	fCPUAcctUsage file = iota
	fV1CPUStat
	fV1Quota
	fV1Period
	fV1MemUsage
	fV1MemLimit
	fV1MemMax
	fV1PIDsCurrent
	fV1PIDsMax
	fBlkioRecursive
	fBlkio
	fCPUStat
	fCPUMax
	fMemCurrent
	fMemMax
	fMemPeak
	fPIDsCurrent
	fPIDsMax
	fIOStat
	fCPUPressure
	fMemPressure
	fIOPressure
	nFiles
)

var files = [nFiles]struct {
	h    hier
	name string
}{
	{hCPUAcct, "cpuacct.usage"},
	{hCPU, "cpu.stat"},
	{hCPU, "cpu.cfs_quota_us"},
	{hCPU, "cpu.cfs_period_us"},
	{hMemory, "memory.usage_in_bytes"},
	{hMemory, "memory.limit_in_bytes"},
	{hMemory, "memory.max_usage_in_bytes"},
	{hPIDs, "pids.current"},
	{hPIDs, "pids.max"},
	{hBlkIO, "blkio.throttle.io_service_bytes_recursive"},
	{hBlkIO, "blkio.throttle.io_service_bytes"},
	{hV2, "cpu.stat"},
	{hV2, "cpu.max"},
	{hV2, "memory.current"},
	{hV2, "memory.max"},
	{hV2, "memory.peak"},
	{hV2, "pids.current"},
	{hV2, "pids.max"},
	{hV2, "io.stat"},
	{hV2, "cpu.pressure"},
	{hV2, "memory.pressure"},
	{hV2, "io.pressure"},
}

// source reaches the files of one group: opened for one read (Layout.Stats)
// or held open between samples (Sampler).
type source interface {
	// in reports whether the group exists in hierarchy h.
	in(h hier) bool
	// read returns the content of f; false when it is absent or unreadable.
	read(f file) ([]byte, bool)
}

// openGroupDirs opens the group's directory in every hierarchy of l (once
// for a hierarchy mounted for several controllers) into dirs, -1 where it
// is not; owned[i] tells which fds to close. It reports whether any opened.
func openGroupDirs(r *reader, l *Layout, path string, dirs *[nHiers]int, owned *[nHiers]bool) bool {
	found := false
	for h := range nHiers {
		dirs[h], owned[h] = -1, false
		hi := l.hier(h)
		if !hi.Mounted() {
			continue
		}
		for o := range h {
			if ho := l.hier(o); ho.Dir == hi.Dir && ho.Root == hi.Root {
				dirs[h] = dirs[o]
				break
			}
		}
		if dirs[h] < 0 {
			if dir, ok := hi.GroupDir(path); ok {
				if fd, err := r.openDir(-1, dir); err == nil {
					dirs[h], owned[h] = fd, true
				}
			}
		}
		found = found || dirs[h] >= 0
	}
	return found
}

// openSource opens each file when read and closes it after.
type openSource struct {
	r     *reader
	dirs  [nHiers]int
	owned [nHiers]bool
}

func (s *openSource) in(h hier) bool { return s.dirs[h] >= 0 }

func (s *openSource) read(f file) ([]byte, bool) {
	d := s.dirs[files[f].h]
	if d < 0 {
		return nil, false
	}
	return s.r.read(d, files[f].name)
}

func (s *openSource) close() {
	for h, fd := range s.dirs {
		if s.owned[h] {
			unix.Close(fd)
		}
	}
}

// Stats reads what the group at path uses: each controller from the v1
// hierarchy that holds it when the group is there, else from v2. It returns
// ErrNotFound when no hierarchy has the group (it was removed). Every file is
// opened, read and closed; a Sampler keeps them open between samples.
func (l Layout) Stats(path string) (Stats, error) {
	r := readers.Get().(*reader)
	defer readers.Put(r)
	return l.stats(r, path)
}

func (l *Layout) stats(r *reader, path string) (Stats, error) {
	src := openSource{r: r}
	defer src.close()
	if !openGroupDirs(r, l, path, &src.dirs, &src.owned) {
		return Stats{}, fmt.Errorf("cgroup %s: %w", path, ErrNotFound)
	}
	return readStats(&src), nil
}

// readStats reads a group's files from src.
func readStats(src source) Stats {
	var s Stats
	readCPU(&s, src)
	if src.in(hMemory) {
		readMemory(&s, src, fV1MemUsage, fV1MemLimit, fV1MemMax)
		if s.Has&HasMemoryMax != 0 {
			s.MemoryMax = v1Limit(s.MemoryMax)
		}
	} else if src.in(hV2) {
		readMemory(&s, src, fMemCurrent, fMemMax, fMemPeak)
	}
	cur, max := fPIDsCurrent, fPIDsMax
	if src.in(hPIDs) {
		cur, max = fV1PIDsCurrent, fV1PIDsMax
	}
	if v, ok := value(src, cur); ok && v != Unlimited {
		s.PIDsCurrent, s.Has = v, s.Has|HasPIDs
	}
	if v, ok := value(src, max); ok {
		s.PIDsMax, s.Has = v, s.Has|HasPIDsMax
	}
	readIO(&s, src)
	for _, p := range [...]struct {
		f   file
		dst *float64
		has Fields
	}{
		{fCPUPressure, &s.CPUPressure, HasCPUPressure},
		{fMemPressure, &s.MemoryPressure, HasMemoryPressure},
		{fIOPressure, &s.IOPressure, HasIOPressure},
	} {
		if b, ok := src.read(p.f); ok {
			if psi, err := ParsePressure(b); err == nil {
				*p.dst, s.Has = psi.Some, s.Has|p.has
			}
		}
	}
	return s
}

// value reads a one-number file ("max" giving Unlimited).
func value(src source, f file) (uint64, bool) {
	b, ok := src.read(f)
	if !ok {
		return 0, false
	}
	v, err := ParseValue(b)
	return v, err == nil
}

// readCPU fills usage, throttling and the quota: usage from v1 cpuacct when
// the group is there, else v2 cpu.stat (the v2 core keeps usage even where
// the cpu controller is bound to v1); throttling and quota from v1 cpu when
// the group is there, else from v2.
func readCPU(s *Stats, src source) {
	if v, ok := value(src, fCPUAcctUsage); ok && v != Unlimited {
		s.CPUUsageNs, s.Has = v, s.Has|HasCPU
	}
	throttle := func(f file) {
		if b, ok := src.read(f); ok {
			if st, err := ParseCPUStat(b); err == nil {
				if s.Has&HasCPU == 0 && st.HasUsage {
					s.CPUUsageNs, s.Has = st.UsageNs, s.Has|HasCPU
				}
				if st.HasThrottling {
					s.NrPeriods, s.NrThrottled, s.ThrottledNs = st.NrPeriods, st.NrThrottled, st.ThrottledNs
					s.Has |= HasThrottling
				}
			}
		}
	}
	if src.in(hCPU) {
		throttle(fV1CPUStat)
		q, ok1 := value(src, fV1Quota)
		p, ok2 := value(src, fV1Period)
		if ok1 && ok2 && p != Unlimited {
			s.CPUQuotaUsec, s.CPUPeriodUsec, s.Has = q, p, s.Has|HasCPUMax
		}
		if s.Has&HasCPU != 0 {
			return
		}
		// Usage from the v2 core only; its throttling is not this group's
		// limit's (the cpu controller is v1's).
		if b, ok := src.read(fCPUStat); ok {
			if st, err := ParseCPUStat(b); err == nil && st.HasUsage {
				s.CPUUsageNs, s.Has = st.UsageNs, s.Has|HasCPU
			}
		}
		return
	}
	throttle(fCPUStat)
	if b, ok := src.read(fCPUMax); ok {
		if q, p, err := ParseCPUMax(b); err == nil {
			s.CPUQuotaUsec, s.CPUPeriodUsec, s.Has = q, p, s.Has|HasCPUMax
		}
	}
}

func readMemory(s *Stats, src source, current, limit, peak file) {
	if v, ok := value(src, current); ok && v != Unlimited {
		s.MemoryCurrent, s.Has = v, s.Has|HasMemory
	}
	if v, ok := value(src, limit); ok {
		s.MemoryMax, s.Has = v, s.Has|HasMemoryMax
	}
	if v, ok := value(src, peak); ok && v != Unlimited {
		s.MemoryPeak, s.Has = v, s.Has|HasMemoryPeak
	}
}

// readIO fills the byte counts from v1 blkio (the recursive file where the
// kernel has it, so a container's sub-groups count) else v2 io.stat.
func readIO(s *Stats, src source) {
	var b []byte
	ok, parse := false, ParseIOStat
	if src.in(hBlkIO) {
		parse = ParseBlkioBytes
		if b, ok = src.read(fBlkioRecursive); !ok {
			b, ok = src.read(fBlkio)
		}
	} else {
		b, ok = src.read(fIOStat)
	}
	if !ok {
		return
	}
	if io, err := parse(b); err == nil {
		s.IOReadBytes, s.IOWriteBytes, s.Has = io.Read, io.Write, s.Has|HasIO
	}
}

// ProcessCgroup returns the path of the group process pid belongs to (see
// ProcessPath), from <proc>/<pid>/cgroup. It returns ErrNotFound when the
// process is gone.
func (fs FS) ProcessCgroup(pid int) (string, error) {
	r := readers.Get().(*reader)
	defer readers.Put(r)
	p := filepath.Join(fs.proc, fmt.Sprint(pid), "cgroup")
	b, ok := r.read(unix.AT_FDCWD, p)
	if !ok {
		return "", fmt.Errorf("read %s: %w", p, ErrNotFound)
	}
	path, err := ProcessPath(b)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return string(path), nil
}
