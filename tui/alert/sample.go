package alert

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/socktop/socktop/wire"
)

// Value is one measurement that may be unknown: the zero Value is unknown.
type Value struct {
	V  float64
	OK bool
}

// Known is v as a known Value; NaN and ±Inf are unknown.
func Known(v float64) Value {
	return Value{V: v, OK: !math.IsNaN(v) && !math.IsInf(v, 0)}
}

// Filesystem is one mounted filesystem and how full it is.
type Filesystem struct {
	Mount       string
	UsedPercent float64
}

// Sample is what has just been heard of one host. Every field is optional:
// the engine keeps the latest of each field (see Engine.Observe), and a rule
// whose data is missing or too old is unknown and neither fires nor resolves
// (an agent that does not send temperatures never fires a temp rule). The
// zero Sample is a reachable host about which nothing new is known.
type Sample struct {
	// Unreachable: the connection is down or the host stopped answering
	// (its data is stale). Only `down` rules are evaluated then.
	Unreachable bool

	CPU   Value // busy %, 0..100
	Mem   Value // used %, 0..100
	Swap  Value // used %, 0..100; 0 for a host without swap
	Load1 Value
	Temp  Value // the hottest sensor, °C
	NetRx Value // bytes/s, all interfaces
	NetTx Value

	// Filesystems lists the mounted filesystems when FilesystemsKnown.
	Filesystems      []Filesystem
	FilesystemsKnown bool
	// Processes lists the name of every running process when ProcessesKnown.
	Processes      []string
	ProcessesKnown bool
}

// FromMetrics starts a sample from one metrics message: CPU, memory, swap,
// load1 and the hottest temperature. Values from the peer are bounded here:
// non-finite numbers are unknown, percentages are clamped to 0..100. Memory
// is unknown when the agent sends no total; temperature when it sends no
// sensor; load1 when all three load averages are 0 (upstream agents before
// load_avg send none, and a reading of exactly 0.00 ×3 is rare otherwise).
func FromMetrics(m *wire.Metrics) Sample {
	var s Sample
	if m == nil {
		return s
	}
	s.CPU = percent(float64(m.GetCpuTotal()))
	if t := m.GetMemTotal(); t > 0 {
		s.Mem = percent(float64(m.GetMemUsed()) / float64(t) * 100)
	}
	if t := m.GetSwapTotal(); t > 0 {
		s.Swap = percent(float64(m.GetSwapUsed()) / float64(t) * 100)
	} else {
		s.Swap = Known(0)
	}
	if m.GetLoad1() != 0 || m.GetLoad5() != 0 || m.GetLoad15() != 0 {
		s.Load1 = Known(m.GetLoad1())
	}
	hottest := Value{}
	consider := func(v float64) {
		if k := Known(v); k.OK && (!hottest.OK || v > hottest.V) {
			hottest = k
		}
	}
	if m.CpuTempC != nil {
		consider(float64(*m.CpuTempC))
	}
	for _, t := range m.GetTemperatures() {
		consider(float64(t.GetValueC()))
	}
	s.Temp = hottest
	return s
}

func percent(v float64) Value {
	k := Known(v)
	k.V = min(max(k.V, 0), 100)
	return k
}

// SetDisks fills Filesystems from a disks message: every entry with a mount
// point and a size, used % = 100 × (1 − available ÷ total), as the
// Prometheus rules compute it. Upstream agents send no mount points: their
// entries (filesystems, named by device; partitions only when they say which
// entries are partitions) count for `disk` under their device name, and
// `disk:PATH` stays unknown.
func (s *Sample) SetDisks(d *wire.Disks) {
	s.Filesystems, s.FilesystemsKnown = s.Filesystems[:0], d != nil
	mounted, partitions := false, false
	for _, x := range d.GetDisks() {
		mounted = mounted || x.GetMountPoint() != ""
		partitions = partitions || x.GetIsPartition()
	}
	for _, x := range d.GetDisks() {
		name := x.GetMountPoint()
		if !mounted && (x.GetIsPartition() || !partitions) {
			name = "device " + x.GetName()
		}
		if name == "" || x.GetTotal() == 0 {
			continue
		}
		avail := min(x.GetAvailable(), x.GetTotal())
		s.Filesystems = append(s.Filesystems, Filesystem{Mount: name,
			UsedPercent: 100 * (1 - float64(avail)/float64(x.GetTotal()))})
	}
}

// SetProcesses fills Processes from a process list (every process: the
// agents send the whole list).
func (s *Sample) SetProcesses(p *wire.Processes) {
	s.Processes, s.ProcessesKnown = s.Processes[:0], p != nil
	for _, x := range p.GetProcesses() {
		s.Processes = append(s.Processes, x.GetName())
	}
}

// reading is a condition evaluated against a sample.
type reading struct {
	known bool
	v     float64 // the metric's value (1/0 for process and down: holds or not)
	shown string  // v for people: "93.2%", "86.0°C", "nginx not running"
}

// commLen is the longest process name Linux keeps (TASK_COMM_LEN − 1).
const commLen = 15

func (c Condition) read(s *Sample) reading {
	if c.Metric == Down {
		if s.Unreachable {
			return reading{true, 1, "unreachable"}
		}
		return reading{true, 0, "reachable"}
	}
	if s.Unreachable {
		return reading{}
	}
	scalar := func(v Value, format string) reading {
		if !v.OK {
			return reading{}
		}
		return reading{true, v.V, fmt.Sprintf(format, v.V)}
	}
	switch c.Metric {
	case CPU:
		return scalar(s.CPU, "%.1f%%")
	case Mem:
		return scalar(s.Mem, "%.1f%%")
	case Swap:
		return scalar(s.Swap, "%.1f%%")
	case Load1:
		return scalar(s.Load1, "%.2f")
	case Temp:
		return scalar(s.Temp, "%.1f°C")
	case NetRx:
		return rate(s.NetRx)
	case NetTx:
		return rate(s.NetTx)
	case Disk:
		return c.readDisk(s)
	case Process:
		if !s.ProcessesKnown {
			return reading{}
		}
		for _, name := range s.Processes {
			// A process whose name was cut to 15 bytes by the kernel matches
			// a longer NAME it begins.
			if name == c.Arg || len(name) == commLen && strings.HasPrefix(c.Arg, name) {
				return reading{true, 0, c.Arg + " running"}
			}
		}
		return reading{true, 1, c.Arg + " not running"}
	}
	return reading{}
}

func (c Condition) readDisk(s *Sample) reading {
	if !s.FilesystemsKnown {
		return reading{}
	}
	var best *Filesystem
	for i := range s.Filesystems {
		d := &s.Filesystems[i]
		if math.IsNaN(d.UsedPercent) {
			continue
		}
		if c.Arg != "" {
			if cleanMount(d.Mount) == c.Arg {
				best = d
				break
			}
			continue
		}
		if best == nil || d.UsedPercent > best.UsedPercent {
			best = d
		}
	}
	if best == nil {
		return reading{} // no filesystem, or not that mount point: unknown
	}
	v := min(max(best.UsedPercent, 0), 100)
	return reading{true, v, fmt.Sprintf("%.1f%% on %s", v, clip(best.Mount, MaxArg))}
}

func rate(v Value) reading {
	if !v.OK {
		return reading{}
	}
	return reading{true, v.V, humanRate(v.V)}
}

// humanRate writes bytes/s with an SI prefix: "12.3 MB/s".
func humanRate(v float64) string {
	units := []string{"B/s", "kB/s", "MB/s", "GB/s", "TB/s", "PB/s"}
	i := 0
	for math.Abs(v) >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// met reports whether r meets c (with margin while firing); process and down
// hold when v is 1.
func (c Condition) met(r reading, margin float64) bool {
	if metricInfo[c.Metric].unit == unitNone {
		return r.v == 1
	}
	return c.holds(r.v, margin)
}

// clip cuts s (a peer's string) to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
