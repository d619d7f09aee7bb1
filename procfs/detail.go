package procfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
)

// ProcessDetail is everything socktop shows about one process. Pointer fields
// are nil when unknown (typically: another user's process the agent may not
// inspect).
type ProcessDetail struct {
	PID       int32
	PPID      int32
	Name      string
	Cmdline   []string // argv; empty for kernel threads and zombies
	Exe       *string
	Cwd       *string
	State     byte
	StateName string // "sleeping", "running", …
	Kernel    bool
	// Real and effective ids from status.
	UID        uint32
	EUID       uint32
	GID        uint32
	EGID       uint32
	Nice       int32
	NumThreads int32
	StartTime  uint64 // jiffies after boot
	// StartUnix is the start time in epoch seconds (boot time + StartTime).
	StartUnix int64
	RSS       uint64
	VSize     uint64
	// Shared is resident shared memory (statm), bytes.
	Shared *uint64
	// UTimeMicros and STimeMicros are CPU times in microseconds.
	UTimeMicros uint64
	STimeMicros uint64

	VoluntaryCtxtSwitches    *uint64
	NonvoluntaryCtxtSwitches *uint64
	FDCount                  *int
	ReadBytes                *uint64 // storage reads (/proc/<pid>/io read_bytes)
	WriteBytes               *uint64 // storage writes
	Threads                  []Thread
	Children                 []int32 // pids whose parent is this process

	// What the DetailLimits left out: the end of the command line (Cmdline
	// holds its first CmdlineBytes, the last argument cut), and threads
	// beyond the first Threads (NumThreads says how many there are).
	CmdlineTruncated bool
	ThreadsTruncated bool
}

// DetailLimits bound what one ProcessDetail reads, so that a process with
// megabytes of arguments or thousands of threads costs a bounded read.
// Zero fields take the DefaultDetailLimits values.
type DetailLimits struct {
	// CmdlineBytes is how much of /proc/<pid>/cmdline is read.
	CmdlineBytes int
	// Threads is how many threads' stat files are read; negative reads none.
	Threads int
	// NoChildren skips finding the children (Children stays empty).
	NoChildren bool
}

// DefaultDetailLimits are ProcessDetail's limits.
var DefaultDetailLimits = DetailLimits{CmdlineBytes: 64 << 10, Threads: 1024}

// maxChildTasks bounds how many task/*/children files are read to find a
// process's children; a process with more threads is found by scanning
// every process's parent instead.
const maxChildTasks = 4096

// Thread is one task of a process.
type Thread struct {
	TID         int32
	Name        string
	State       byte
	UTimeMicros uint64
	STimeMicros uint64
}

// ProcessDetail reads one process in detail within DefaultDetailLimits. It
// returns an error wrapping ErrNotFound when the process does not exist.
// Files the caller may not read (another user's io, fd, exe, cwd) leave
// their fields nil.
func (fs *FS) ProcessDetail(pid int) (ProcessDetail, error) {
	return fs.ProcessDetailLimited(pid, DefaultDetailLimits)
}

// ProcessDetailLimited is ProcessDetail within lim.
func (fs *FS) ProcessDetailLimited(pid int, lim DetailLimits) (ProcessDetail, error) {
	if lim.CmdlineBytes <= 0 {
		lim.CmdlineBytes = DefaultDetailLimits.CmdlineBytes
	}
	if lim.Threads == 0 {
		lim.Threads = DefaultDetailLimits.Threads
	}
	var d ProcessDetail
	if pid <= 0 {
		return d, fmt.Errorf("process %d: %w", pid, ErrNotFound)
	}
	dir := fs.procPath(strconv.Itoa(pid))
	statB, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return d, fmt.Errorf("process %d: %w", pid, ErrNotFound)
		}
		return d, fmt.Errorf("read %s/stat: %w", dir, err)
	}
	ps, err := ParseProcStat(statB)
	if err != nil {
		return d, fmt.Errorf("read %s/stat: %w", dir, err)
	}
	us := func(j uint64) uint64 { return j * 1_000_000 / fs.clockTicks }
	d = ProcessDetail{
		PID: ps.PID, PPID: ps.PPID, Name: ps.Name, State: ps.State, StateName: StateName(ps.State),
		Kernel: ps.Flags&pfKthread != 0, Nice: ps.Nice, NumThreads: ps.Threads,
		StartTime: ps.StartTime, RSS: ps.RSSPages * fs.pageSize, VSize: ps.VSize,
		UTimeMicros: us(ps.UTime), STimeMicros: us(ps.STime),
		Cmdline: []string{}, Threads: []Thread{}, Children: []int32{},
	}
	var st Stat
	if err := fs.ReadStat(&st); err == nil {
		d.StartUnix = st.BootTime + int64(ps.StartTime/fs.clockTicks)
	}
	if b, more, err := readPrefix(filepath.Join(dir, "cmdline"), lim.CmdlineBytes); err == nil {
		d.Cmdline, d.CmdlineTruncated = ParseCmdline(b), more
	}
	if s, err := os.Readlink(filepath.Join(dir, "exe")); err == nil {
		d.Exe = &s
	}
	if s, err := os.Readlink(filepath.Join(dir, "cwd")); err == nil {
		d.Cwd = &s
	}
	if b, err := os.ReadFile(filepath.Join(dir, "status")); err == nil {
		if s, err := ParseStatus(b); err == nil {
			d.UID, d.EUID, d.GID, d.EGID = s.UID, s.EUID, s.GID, s.EGID
			if s.HasCtxt {
				v, n := s.VoluntaryCtxtSwitches, s.NonvoluntaryCtxtSwitches
				d.VoluntaryCtxtSwitches, d.NonvoluntaryCtxtSwitches = &v, &n
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "statm")); err == nil {
		// statm: size resident shared …; the third field is shared pages.
		_, rest := nextField(b)
		_, rest = nextField(rest)
		f, _ := nextField(rest)
		if v, ok := parseUint(f); ok {
			v *= fs.pageSize
			d.Shared = &v
		}
	}
	if ents, err := os.ReadDir(filepath.Join(dir, "fd")); err == nil {
		n := len(ents)
		d.FDCount = &n
	}
	if b, err := os.ReadFile(filepath.Join(dir, "io")); err == nil {
		if io, err := ParseProcIO(b); err == nil {
			d.ReadBytes, d.WriteBytes = &io.ReadBytes, &io.WriteBytes
		}
	}
	if ents, more, err := readDirPrefix(filepath.Join(dir, "task"), lim.Threads); err == nil {
		d.ThreadsTruncated = more
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, "task", e.Name(), "stat"))
			if err != nil {
				continue // thread exited
			}
			ts, err := ParseProcStat(b)
			if err != nil {
				continue
			}
			d.Threads = append(d.Threads, Thread{TID: ts.PID, Name: ts.Name, State: ts.State, UTimeMicros: us(ts.UTime), STimeMicros: us(ts.STime)})
		}
	}
	if !lim.NoChildren {
		d.Children = fs.children(dir, ps.PID)
	}
	return d, nil
}

// readPrefix reads at most n bytes of a file and reports whether it holds
// more.
func readPrefix(path string, n int) ([]byte, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	b := make([]byte, n+1)
	k, err := io.ReadFull(f, b)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, false, err
	}
	return b[:min(k, n)], k > n, nil
}

// readDirPrefix lists at most n entries of a directory (none when n < 0)
// and reports whether it holds more.
func readDirPrefix(path string, n int) ([]iofs.DirEntry, bool, error) {
	if n < 0 {
		return nil, false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	ents, err := f.ReadDir(n + 1)
	if err != nil && err != io.EOF {
		return nil, false, err
	}
	more := len(ents) > n
	ents = ents[:min(len(ents), n)]
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() }) // as os.ReadDir
	return ents, more, nil
}

// Identity tells one process from another that later gets the same pid.
type Identity struct {
	PID int32
	// TGID is the process the task belongs to: PID for a process (a
	// thread-group leader), another pid for one of its threads.
	TGID int32
	// StartTime is in jiffies after boot; StartUnix in epoch seconds
	// (boot time + StartTime), as ProcessDetail and the process list give it.
	StartTime uint64
	StartUnix int64
}

// Identity reads the thread group and start time of task pid (a process or
// a thread). It returns an error wrapping ErrNotFound when it does not exist.
func (fs *FS) Identity(pid int) (Identity, error) {
	if pid <= 0 {
		return Identity{}, fmt.Errorf("process %d: %w", pid, ErrNotFound)
	}
	dir := fs.procPath(strconv.Itoa(pid))
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			return nil, fmt.Errorf("process %d: %w", pid, ErrNotFound)
		}
		return b, err
	}
	b, err := read("status")
	if err != nil {
		return Identity{}, err
	}
	st, err := ParseStatus(b)
	if err != nil {
		return Identity{}, fmt.Errorf("read %s/status: %w", dir, err)
	}
	if b, err = read("stat"); err != nil {
		return Identity{}, err
	}
	ps, err := ParseProcStat(b)
	if err != nil {
		return Identity{}, fmt.Errorf("read %s/stat: %w", dir, err)
	}
	var sys Stat
	if err := fs.ReadStat(&sys); err != nil {
		return Identity{}, err
	}
	return Identity{PID: ps.PID, TGID: st.Tgid, StartTime: ps.StartTime,
		StartUnix: sys.BootTime + int64(ps.StartTime/fs.clockTicks)}, nil
}

// children lists the child pids, from task/*/children (CONFIG_PROC_CHILDREN)
// or, without it, by scanning every process's parent.
func (fs *FS) children(dir string, pid int32) []int32 {
	out := []int32{}
	tasks, more, err := readDirPrefix(filepath.Join(dir, "task"), maxChildTasks)
	ok := err == nil && len(tasks) > 0 && !more
	for _, t := range tasks {
		if !ok {
			break
		}
		b, err := os.ReadFile(filepath.Join(dir, "task", t.Name(), "children"))
		if err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				ok = false
				break
			}
			continue
		}
		for len(b) > 0 {
			var f []byte
			f, b = nextField(trimSpace(b))
			if v, good := parseUint(f); good && v < 1<<31 {
				out = append(out, int32(v))
			}
			if len(f) == 0 {
				break
			}
		}
	}
	if !ok {
		out = out[:0]
		ents, _ := os.ReadDir(fs.proc)
		for _, e := range ents {
			if !isPID([]byte(e.Name())) {
				continue
			}
			b, err := os.ReadFile(filepath.Join(fs.proc, e.Name(), "stat"))
			if err != nil {
				continue
			}
			var ps ProcStat
			if _, err := parseProcStat(b, &ps); err == nil && ps.PPID == pid {
				out = append(out, ps.PID)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// StateName spells out a one-letter process state ("sleeping" for S), as
// procps does.
func StateName(s byte) string {
	switch s {
	case 'R':
		return "running"
	case 'S':
		return "sleeping"
	case 'D':
		return "disk sleep"
	case 'Z':
		return "zombie"
	case 'T':
		return "stopped"
	case 't':
		return "tracing stop"
	case 'X', 'x':
		return "dead"
	case 'I':
		return "idle"
	case 'P':
		return "parked"
	case 'W':
		return "waking"
	case 'K':
		return "wakekill"
	}
	return "unknown"
}

// ParseCmdline splits /proc/<pid>/cmdline at NULs. A process that rewrote
// its argv into one space-separated string comes back as one element.
func ParseCmdline(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return []string{}
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

// Status holds the /proc/<pid>/status fields socktop uses.
type Status struct {
	Name                     string
	Tgid                     int32 // the thread group (process) of this task; 0 when absent
	UID, EUID, GID, EGID     uint32
	VoluntaryCtxtSwitches    uint64
	NonvoluntaryCtxtSwitches uint64
	HasCtxt                  bool
	VmRSS, VmSwap            uint64 // bytes
}

// ParseStatus parses /proc/<pid>/status. Uid and Gid lines are required.
func ParseStatus(b []byte) (Status, error) {
	var s Status
	var hasUID, hasGID bool
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		key, val := string(line[:i]), line[i+1:]
		switch key {
		case "Name":
			s.Name = string(trimSpace(val))
		case "Tgid":
			f, _ := nextField(val)
			v, ok := parseUint(f)
			if !ok || v >= 1<<31 {
				return Status{}, malformed("status", "bad Tgid")
			}
			s.Tgid = int32(v)
		case "Uid", "Gid":
			f1, rest := nextField(val)
			f2, _ := nextField(rest)
			a, ok1 := parseUint(f1)
			e, ok2 := parseUint(f2)
			if !ok1 || !ok2 || a > 1<<32-1 || e > 1<<32-1 {
				return Status{}, malformed("status", "bad "+key)
			}
			if key == "Uid" {
				s.UID, s.EUID, hasUID = uint32(a), uint32(e), true
			} else {
				s.GID, s.EGID, hasGID = uint32(a), uint32(e), true
			}
		case "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches":
			f, _ := nextField(val)
			v, ok := parseUint(f)
			if !ok {
				return Status{}, malformed("status", "bad "+key)
			}
			if key[0] == 'v' {
				s.VoluntaryCtxtSwitches = v
			} else {
				s.NonvoluntaryCtxtSwitches = v
			}
			s.HasCtxt = true
		case "VmRSS", "VmSwap":
			f, _ := nextField(val)
			v, ok := parseUint(f)
			if !ok || v > 1<<53 {
				return Status{}, malformed("status", "bad "+key)
			}
			if key == "VmRSS" {
				s.VmRSS = v * 1024
			} else {
				s.VmSwap = v * 1024
			}
		}
	}
	if !hasUID || !hasGID {
		return Status{}, malformed("status", "no Uid/Gid")
	}
	return s, nil
}

// ProcIO is /proc/<pid>/io.
type ProcIO struct {
	RChar, WChar, SyscR, SyscW, ReadBytes, WriteBytes, CancelledWriteBytes uint64
}

// ParseProcIO parses /proc/<pid>/io; read_bytes and write_bytes are required.
func ParseProcIO(b []byte) (ProcIO, error) {
	var p ProcIO
	var have int
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		var dst *uint64
		switch string(line[:i]) {
		case "rchar":
			dst = &p.RChar
		case "wchar":
			dst = &p.WChar
		case "syscr":
			dst = &p.SyscR
		case "syscw":
			dst = &p.SyscW
		case "read_bytes":
			dst, have = &p.ReadBytes, have|1
		case "write_bytes":
			dst, have = &p.WriteBytes, have|2
		case "cancelled_write_bytes":
			dst = &p.CancelledWriteBytes
		default:
			continue
		}
		f, _ := nextField(line[i+1:])
		v, ok := parseUint(f)
		if !ok {
			return ProcIO{}, malformed("io", "bad "+string(line[:i]))
		}
		*dst = v
	}
	if have != 3 {
		return ProcIO{}, malformed("io", "no read_bytes/write_bytes")
	}
	return p, nil
}
