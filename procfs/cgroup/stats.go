package cgroup

import (
	"bytes"
	"math"
)

// Fields says which values of a Stats were read.
type Fields uint16

// The values a Stats may hold.
const (
	HasCPU            Fields = 1 << iota // CPUUsageNs
	HasThrottling                        // NrPeriods, NrThrottled, ThrottledNs
	HasCPUMax                            // CPUQuotaUsec, CPUPeriodUsec
	HasMemory                            // MemoryCurrent
	HasMemoryMax                         // MemoryMax
	HasMemoryPeak                        // MemoryPeak
	HasPIDs                              // PIDsCurrent
	HasPIDsMax                           // PIDsMax
	HasIO                                // IOReadBytes, IOWriteBytes
	HasCPUPressure                       // CPUPressure
	HasMemoryPressure                    // MemoryPressure
	HasIOPressure                        // IOPressure
)

// Stats is what one group uses, from whichever hierarchy holds each
// controller. Values not in Has are zero and unknown (a controller not
// enabled for the group, a file the kernel does not have).
type Stats struct {
	Has Fields
	// CPUUsageNs is the CPU time used by the group's processes, in
	// nanoseconds (cpu.stat usage_usec, or v1 cpuacct.usage).
	CPUUsageNs uint64
	// NrPeriods and NrThrottled count enforcement periods and those in
	// which the group was throttled; ThrottledNs is the time it spent
	// throttled (cpu.stat; v1 throttled_time).
	NrPeriods, NrThrottled, ThrottledNs uint64
	// CPUQuotaUsec per CPUPeriodUsec is the CPU limit (cpu.max; v1
	// cpu.cfs_quota_us and cpu.cfs_period_us); the quota is Unlimited when
	// none is set.
	CPUQuotaUsec, CPUPeriodUsec uint64
	// MemoryCurrent, MemoryMax and MemoryPeak are in bytes (memory.current,
	// memory.max, memory.peak; v1 memory.usage_in_bytes,
	// memory.limit_in_bytes, memory.max_usage_in_bytes). MemoryMax is
	// Unlimited when no limit is set.
	MemoryCurrent, MemoryMax, MemoryPeak uint64
	// PIDsCurrent and PIDsMax count tasks (pids.current, pids.max);
	// PIDsMax is Unlimited when no limit is set.
	PIDsCurrent, PIDsMax uint64
	// IOReadBytes and IOWriteBytes are summed over devices (io.stat; v1
	// blkio.throttle.io_service_bytes).
	IOReadBytes, IOWriteBytes uint64
	// CPUPressure, MemoryPressure and IOPressure are the "some" avg10 of
	// the PSI files: the percentage of the last 10 s in which some task of
	// the group was stalled waiting for the resource.
	CPUPressure, MemoryPressure, IOPressure float64
}

// Sample is one group with what it uses.
type Sample struct {
	Group
	Stats Stats
}

// CPULimit returns the CPU limit in cores (quota ÷ period), and false when
// there is none or it is unknown.
func (s Stats) CPULimit() (float64, bool) {
	if s.Has&HasCPUMax == 0 || s.CPUQuotaUsec == Unlimited || s.CPUPeriodUsec == 0 {
		return 0, false
	}
	return float64(s.CPUQuotaUsec) / float64(s.CPUPeriodUsec), true
}

// CPUStat is the content of a cpu.stat file (v2, or v1's cpu controller).
type CPUStat struct {
	UsageNs                             uint64
	NrPeriods, NrThrottled, ThrottledNs uint64
	HasUsage, HasThrottling             bool
}

// ParseCPUStat parses cpu.stat: "key value" lines; v2 gives usage_usec and,
// with the cpu controller enabled, nr_periods, nr_throttled and
// throttled_usec; v1 gives nr_periods, nr_throttled and throttled_time
// (nanoseconds). Unknown keys are skipped.
func ParseCPUStat(b []byte) (CPUStat, error) {
	var s CPUStat
	err := eachKeyValue(b, "cpu.stat", func(k []byte, v uint64) {
		switch string(k) {
		case "usage_usec":
			s.UsageNs, s.HasUsage = mulSat(v, 1000), true
		case "nr_periods":
			s.NrPeriods = v
		case "nr_throttled":
			s.NrThrottled, s.HasThrottling = v, true
		case "throttled_usec":
			s.ThrottledNs = mulSat(v, 1000)
		case "throttled_time":
			s.ThrottledNs = v
		}
	})
	return s, err
}

// eachKeyValue calls fn for every "key value" line of b (a flat keyed file).
func eachKeyValue(b []byte, what string, fn func(k []byte, v uint64)) error {
	return eachLine(b, maxFlatLines, what, func(k, rest []byte) error {
		f, rest := cutField(rest)
		v, ok := atou(f)
		if extra, _ := cutField(rest); !ok || len(extra) > 0 {
			return malformed(what, "want key and number")
		}
		fn(k, v)
		return nil
	})
}

// maxFlatLines bounds the lines of a flat keyed file (cpu.stat has ten).
const maxFlatLines = 256

// ParseValue parses a file holding one number, or "max" (v2) or "-1" (a v1
// CPU quota) for no limit, which give Unlimited.
func ParseValue(b []byte) (uint64, error) {
	b = trim(b)
	if eq(b, "max") || eq(b, "-1") {
		return Unlimited, nil
	}
	v, ok := atou(b)
	if !ok {
		return 0, malformed("value", "want a number or max")
	}
	return v, nil
}

// v1Unlimited is the smallest limit cgroup v1 shows for "no limit": it
// prints its page-counter maximum times the page size, LONG_MAX rounded down
// to a page on 64-bit kernels (9223372036854771712 with 4 KiB pages) and
// (2³¹−1) pages on 32-bit ones (8 TiB − 4 KiB, as on a Raspberry Pi with a
// 32-bit kernel). No real limit is that large.
const v1Unlimited = (1<<31 - 1) * 4096

// v1Limit maps v1's "no limit" sentinels to Unlimited.
func v1Limit(v uint64) uint64 {
	if v >= v1Unlimited {
		return Unlimited
	}
	return v
}

// ParseCPUMax parses v2 cpu.max: "$MAX $PERIOD", MAX a number or "max".
func ParseCPUMax(b []byte) (quotaUsec, periodUsec uint64, err error) {
	q, rest := cutField(b)
	p, rest := cutField(rest)
	if extra, _ := cutField(rest); len(extra) > 0 {
		return 0, 0, malformed("cpu.max", "want quota and period")
	}
	quota, err := ParseValue(q)
	period, ok := atou(p)
	if err != nil || !ok || quota == Unlimited && !eq(q, "max") {
		return 0, 0, malformed("cpu.max", "want quota and period")
	}
	return quota, period, nil
}

// IOBytes is the bytes a group read and wrote, summed over devices.
type IOBytes struct {
	Read, Write uint64
}

// maxIOLines bounds the device lines summed (one per block device).
const maxIOLines = 4096

// ParseIOStat parses v2 io.stat: one line per device, "MAJ:MIN key=value…";
// rbytes and wbytes are summed, other keys skipped.
func ParseIOStat(b []byte) (IOBytes, error) {
	var io IOBytes
	err := eachLine(b, maxIOLines, "io.stat", func(dev, rest []byte) error {
		if !isDevice(dev) {
			return malformed("io.stat", "want MAJ:MIN")
		}
		for {
			var kv []byte
			kv, rest = cutField(rest)
			if len(kv) == 0 {
				return nil
			}
			i := bytes.IndexByte(kv, '=')
			if i <= 0 {
				return malformed("io.stat", "want key=value")
			}
			k := kv[:i]
			if !eq(k, "rbytes") && !eq(k, "wbytes") {
				continue // rios, dbytes, cost.*, … may not even be integers
			}
			v, ok := atou(kv[i+1:])
			if !ok {
				return malformed("io.stat", "bad byte count")
			}
			if eq(k, "rbytes") {
				io.Read = addSat(io.Read, v)
			} else {
				io.Write = addSat(io.Write, v)
			}
		}
	})
	if err != nil {
		return IOBytes{}, err
	}
	return io, nil
}

// ParseBlkioBytes parses v1 blkio.throttle.io_service_bytes(_recursive):
// "MAJ:MIN Op bytes" lines and a closing "Total bytes"; the Read and Write
// lines are summed.
func ParseBlkioBytes(b []byte) (IOBytes, error) {
	var io IOBytes
	err := eachLine(b, maxIOLines*8, "blkio", func(first, rest []byte) error {
		if eq(first, "Total") {
			if _, ok := atou(trim(rest)); !ok {
				return malformed("blkio", "bad total")
			}
			return nil
		}
		if !isDevice(first) {
			return malformed("blkio", "want MAJ:MIN")
		}
		op, rest := cutField(rest)
		num, rest := cutField(rest)
		v, ok := atou(num)
		if extra, _ := cutField(rest); !ok || len(extra) > 0 {
			return malformed("blkio", "want MAJ:MIN Op bytes")
		}
		switch string(op) {
		case "Read":
			io.Read = addSat(io.Read, v)
		case "Write":
			io.Write = addSat(io.Write, v)
		}
		return nil
	})
	if err != nil {
		return IOBytes{}, err
	}
	return io, nil
}

func isDevice(b []byte) bool {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return false
	}
	_, ok1 := atou(b[:i])
	_, ok2 := atou(b[i+1:])
	return ok1 && ok2
}

// Pressure is the avg10 of a PSI file's lines, in percent.
type Pressure struct {
	Some, Full float64
	HasFull    bool
}

// ParsePressure parses a PSI file (cpu.pressure, memory.pressure,
// io.pressure): "some avg10=… avg60=… avg300=… total=…" and, except for the
// CPU on older kernels, a "full" line.
func ParsePressure(b []byte) (Pressure, error) {
	var p Pressure
	some := false
	err := eachLine(b, 8, "pressure", func(kind, rest []byte) error {
		avg, _ := cutField(rest)
		v, ok := bytes.CutPrefix(avg, []byte("avg10="))
		if !ok {
			return malformed("pressure", "want avg10= first")
		}
		f, ok := atof(v)
		if !ok || f > 100 {
			return malformed("pressure", "bad avg10")
		}
		switch string(kind) {
		case "some":
			p.Some, some = f, true
		case "full":
			p.Full, p.HasFull = f, true
		default:
			return malformed("pressure", "want some or full")
		}
		return nil
	})
	if err != nil {
		return Pressure{}, err
	}
	if !some {
		return Pressure{}, malformed("pressure", "no some line")
	}
	return p, nil
}

func addSat(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func mulSat(a, b uint64) uint64 {
	if b != 0 && a > math.MaxUint64/b {
		return math.MaxUint64
	}
	return a * b
}
