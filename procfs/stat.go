package procfs

import (
	"time"
)

// CPUTimes are the cumulative jiffies of one cpu line of /proc/stat.
type CPUTimes struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal, Guest, GuestNice uint64
}

// Total is the sum of all states. Guest time is already included in User and
// GuestNice in Nice (as the kernel accounts it), so they are not added again.
func (c CPUTimes) Total() uint64 {
	return c.User + c.Nice + c.System + c.Idle + c.IOWait + c.IRQ + c.SoftIRQ + c.Steal
}

// Busy is Total minus Idle and IOWait.
func (c CPUTimes) Busy() uint64 { return c.Total() - c.Idle - c.IOWait }

// Core is the line of one online cpu; ID is N of "cpuN". Offline cores have
// no line in /proc/stat and so no Core.
type Core struct {
	ID int
	CPUTimes
}

// Stat is /proc/stat: the machine total, every online core, and a few counters.
type Stat struct {
	Total CPUTimes
	Cores []Core
	// BootTime is btime, the boot time in seconds since the epoch.
	BootTime      int64
	ContextSwitch uint64
	Forks         uint64
	ProcsRunning  uint64
	ProcsBlocked  uint64
	hasTotal      bool
}

// Boot returns BootTime as a time.Time.
func (s *Stat) Boot() time.Time { return time.Unix(s.BootTime, 0) }

// Stat reads /proc/stat.
func (fs *FS) Stat() (Stat, error) {
	var s Stat
	err := fs.ReadStat(&s)
	return s, err
}

// ReadStat reads /proc/stat into s, reusing the capacity of s.Cores.
func (fs *FS) ReadStat(s *Stat) error {
	path := fs.paths.stat
	return fs.readWith(path, func(b []byte) error { return ParseStat(b, s) })
}

// ParseStat parses the contents of /proc/stat into s (reusing s.Cores).
// The "cpu" line is required; unknown lines are ignored.
func ParseStat(b []byte, s *Stat) error {
	cores := s.Cores[:0]
	*s = Stat{}
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		key, rest := nextField(line)
		switch {
		case len(key) >= 3 && string(key[:3]) == "cpu":
			t, err := parseCPULine(rest)
			if err != nil {
				return err
			}
			if len(key) == 3 {
				s.Total, s.hasTotal = t, true
				continue
			}
			id, ok := parseUint(key[3:])
			if !ok || id > 1<<20 {
				return malformed("/proc/stat", "bad cpu line name")
			}
			cores = append(cores, Core{ID: int(id), CPUTimes: t})
		case string(key) == "btime":
			f, _ := nextField(rest)
			v, ok := parseInt(f)
			if !ok {
				return malformed("/proc/stat", "bad btime")
			}
			s.BootTime = v
		case string(key) == "ctxt":
			f, _ := nextField(rest)
			s.ContextSwitch, _ = parseUint(f)
		case string(key) == "processes":
			f, _ := nextField(rest)
			s.Forks, _ = parseUint(f)
		case string(key) == "procs_running":
			f, _ := nextField(rest)
			s.ProcsRunning, _ = parseUint(f)
		case string(key) == "procs_blocked":
			f, _ := nextField(rest)
			s.ProcsBlocked, _ = parseUint(f)
		}
	}
	s.Cores = cores
	if !s.hasTotal {
		return malformed("/proc/stat", "no cpu line")
	}
	return nil
}

// parseCPULine parses the numbers after "cpuN". Old kernels have fewer
// columns (4 at least); missing ones stay zero.
func parseCPULine(b []byte) (CPUTimes, error) {
	var v [10]uint64
	n := 0
	for n < len(v) {
		var f []byte
		f, b = nextField(b)
		if len(f) == 0 {
			break
		}
		x, ok := parseUint(f)
		if !ok {
			return CPUTimes{}, malformed("/proc/stat", "bad cpu counter")
		}
		v[n] = x
		n++
	}
	if n < 4 {
		return CPUTimes{}, malformed("/proc/stat", "short cpu line")
	}
	return CPUTimes{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]}, nil
}
