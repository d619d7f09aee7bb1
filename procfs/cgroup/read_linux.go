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

// value reads a one-number file ("max" giving Unlimited).
func (r *reader) value(dirfd int, name string) (uint64, bool) {
	b, ok := r.read(dirfd, name)
	if !ok {
		return 0, false
	}
	v, err := ParseValue(b)
	return v, err == nil
}

// groupDirs are a group's directories open in each hierarchy; a hierarchy
// mounted once for several controllers is opened once.
type groupDirs struct {
	r    *reader
	path string
	hs   [6]*Hierarchy
	fds  [6]int
	n    int
}

// open returns the group's directory fd in h, or -1 when h is not mounted
// or does not have the group.
func (g *groupDirs) open(h *Hierarchy) int {
	if !h.Mounted() {
		return -1
	}
	for i := 0; i < g.n; i++ {
		if g.hs[i].Dir == h.Dir && g.hs[i].Root == h.Root {
			return g.fds[i]
		}
	}
	fd := -1
	if dir, ok := h.GroupDir(g.path); ok {
		fd, _ = g.r.openDir(-1, dir)
	}
	g.hs[g.n], g.fds[g.n] = h, fd
	g.n++
	return fd
}

func (g *groupDirs) close() {
	for _, fd := range g.fds[:g.n] {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// Stats reads what the group at path uses: each controller from the v1
// hierarchy that holds it when the group is there, else from v2. It returns
// ErrNotFound when no hierarchy has the group (it was removed).
func (l Layout) Stats(path string) (Stats, error) {
	r := readers.Get().(*reader)
	defer readers.Put(r)
	return l.stats(r, path)
}

func (l Layout) stats(r *reader, path string) (Stats, error) {
	g := groupDirs{r: r, path: path}
	defer g.close()
	v2, cpuacct, cpu := g.open(&l.V2), g.open(&l.CPUAcct), g.open(&l.CPU)
	mem, pids, blkio := g.open(&l.Memory), g.open(&l.PIDs), g.open(&l.BlkIO)
	if v2 < 0 && cpuacct < 0 && cpu < 0 && mem < 0 && pids < 0 && blkio < 0 {
		return Stats{}, fmt.Errorf("cgroup %s: %w", path, ErrNotFound)
	}
	var s Stats
	r.cpu(&s, v2, cpuacct, cpu)
	if mem >= 0 {
		r.memory(&s, mem, "memory.usage_in_bytes", "memory.limit_in_bytes", "memory.max_usage_in_bytes")
		if s.Has&HasMemoryMax != 0 {
			s.MemoryMax = v1Limit(s.MemoryMax)
		}
	} else if v2 >= 0 {
		r.memory(&s, v2, "memory.current", "memory.max", "memory.peak")
	}
	if pids < 0 {
		pids = v2
	}
	if pids >= 0 {
		if v, ok := r.value(pids, "pids.current"); ok && v != Unlimited {
			s.PIDsCurrent, s.Has = v, s.Has|HasPIDs
		}
		if v, ok := r.value(pids, "pids.max"); ok {
			s.PIDsMax, s.Has = v, s.Has|HasPIDsMax
		}
	}
	r.io(&s, v2, blkio)
	if v2 >= 0 {
		for _, p := range [...]struct {
			name string
			dst  *float64
			has  Fields
		}{
			{"cpu.pressure", &s.CPUPressure, HasCPUPressure},
			{"memory.pressure", &s.MemoryPressure, HasMemoryPressure},
			{"io.pressure", &s.IOPressure, HasIOPressure},
		} {
			if b, ok := r.read(v2, p.name); ok {
				if psi, err := ParsePressure(b); err == nil {
					*p.dst, s.Has = psi.Some, s.Has|p.has
				}
			}
		}
	}
	return s, nil
}

// cpu fills usage, throttling and the quota: usage from v1 cpuacct when the
// group is there, else v2 cpu.stat (the v2 core keeps usage even where the
// cpu controller is bound to v1); throttling and quota from v1 cpu when
// mounted, else from v2.
func (r *reader) cpu(s *Stats, v2, cpuacct, cpu int) {
	if cpuacct >= 0 {
		if v, ok := r.value(cpuacct, "cpuacct.usage"); ok && v != Unlimited {
			s.CPUUsageNs, s.Has = v, s.Has|HasCPU
		}
	}
	throttle := func(st CPUStat) {
		if st.HasThrottling {
			s.NrPeriods, s.NrThrottled, s.ThrottledNs = st.NrPeriods, st.NrThrottled, st.ThrottledNs
			s.Has |= HasThrottling
		}
	}
	if cpu >= 0 {
		if b, ok := r.read(cpu, "cpu.stat"); ok {
			if st, err := ParseCPUStat(b); err == nil {
				throttle(st)
			}
		}
		q, ok1 := r.value(cpu, "cpu.cfs_quota_us")
		p, ok2 := r.value(cpu, "cpu.cfs_period_us")
		if ok1 && ok2 && p != Unlimited {
			s.CPUQuotaUsec, s.CPUPeriodUsec, s.Has = q, p, s.Has|HasCPUMax
		}
	}
	if v2 < 0 {
		return
	}
	if b, ok := r.read(v2, "cpu.stat"); ok {
		if st, err := ParseCPUStat(b); err == nil {
			if s.Has&HasCPU == 0 && st.HasUsage {
				s.CPUUsageNs, s.Has = st.UsageNs, s.Has|HasCPU
			}
			if cpu < 0 {
				throttle(st)
			}
		}
	}
	if cpu < 0 {
		if b, ok := r.read(v2, "cpu.max"); ok {
			if q, p, err := ParseCPUMax(b); err == nil {
				s.CPUQuotaUsec, s.CPUPeriodUsec, s.Has = q, p, s.Has|HasCPUMax
			}
		}
	}
}

func (r *reader) memory(s *Stats, fd int, current, limit, peak string) {
	if v, ok := r.value(fd, current); ok && v != Unlimited {
		s.MemoryCurrent, s.Has = v, s.Has|HasMemory
	}
	if v, ok := r.value(fd, limit); ok {
		s.MemoryMax, s.Has = v, s.Has|HasMemoryMax
	}
	if v, ok := r.value(fd, peak); ok && v != Unlimited {
		s.MemoryPeak, s.Has = v, s.Has|HasMemoryPeak
	}
}

// io fills the byte counts from v1 blkio (the recursive file where the
// kernel has it, so a container's sub-groups count) else v2 io.stat.
func (r *reader) io(s *Stats, v2, blkio int) {
	var b []byte
	ok, parse := false, ParseIOStat
	if blkio >= 0 {
		parse = ParseBlkioBytes
		if b, ok = r.read(blkio, "blkio.throttle.io_service_bytes_recursive"); !ok {
			b, ok = r.read(blkio, "blkio.throttle.io_service_bytes")
		}
	} else if v2 >= 0 {
		b, ok = r.read(v2, "io.stat")
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
