package history

import (
	"math/bits"

	"github.com/socktop/socktop/wire"
)

// downsampler averages consecutive samples into time buckets of width ms,
// aligned to multiples of width, so that [first, last] spans at most
// maxPoints buckets. Per bucket (FORMAT.md, "Downsampling"):
//   - gauges (CPU total and per core, memory, swap, load, temperature) are
//     averaged over the bucket's samples (temperature over those that have
//     one, a core over the samples that list it);
//   - counters (networks, disks) and the time are the bucket's last;
//   - processes: each (pid, name) gets its CPU averaged over every sample of
//     the bucket (0 where it was not listed) and its peak memory; the
//     TopByCPU busiest and the TopByMemory largest are kept.
type downsampler struct {
	width uint64
	one   bool // maxPoints 1: everything in one bucket
	idx   uint64
	acc   accumulator
	out   []*wire.HistorySample
}

func newDownsampler(first, last uint64, maxPoints int) *downsampler {
	d := &downsampler{one: maxPoints <= 1}
	if d.one {
		d.width = last - first
	} else {
		d.width = max(1, (last-first+uint64(maxPoints)-2)/uint64(maxPoints-1))
	}
	return d
}

func (d *downsampler) add(hs *wire.HistorySample) {
	var idx uint64
	if !d.one {
		idx = hs.SampledAtMs / d.width
	}
	if d.acc.n > 0 && idx != d.idx {
		d.out = append(d.out, d.acc.result())
		d.acc.reset()
	}
	d.idx = idx
	d.acc.add(hs)
}

func (d *downsampler) finish() []*wire.HistorySample {
	if d.acc.n > 0 {
		d.out = append(d.out, d.acc.result())
		d.acc.reset()
	}
	return d.out
}

// sum128 is an exact sum of uint64 values.
type sum128 struct{ hi, lo uint64 }

func (s *sum128) add(v uint64) {
	var c uint64
	s.lo, c = bits.Add64(s.lo, v, 0)
	s.hi += c
}

// mean is the sum divided by n, rounded down (every value added is below
// 2^62 and n below 2^62, so hi < n and the division cannot overflow).
func (s sum128) mean(n uint64) uint64 {
	q, _ := bits.Div64(s.hi, s.lo, n)
	return q
}

type procKey struct {
	pid  uint32
	name string
}

type procAcc struct {
	key    procKey
	cpuSum float64
	memMax uint64
}

// accumulator sums one bucket. It keeps nothing of the samples added (they
// are a reused scratch), only values and names.
type accumulator struct {
	n     int
	at    uint64 // the last sample's time
	cpu   float64
	cores []float64
	coreN []int
	mem   [4]sum128
	load  [3]float64
	temp  float64
	tempN int
	nets  counterSet
	disks counterSet
	procs []procAcc
}

// counterSet keeps the last value of each name, in first-seen order.
type counterSet struct {
	list  []namedCounter
	index map[string]int
}

func (c *counterSet) set(name string, v [2]uint64) {
	if c.index == nil {
		c.index = make(map[string]int)
	}
	if i, ok := c.index[name]; ok {
		c.list[i].v = v
		return
	}
	c.index[name] = len(c.list)
	c.list = append(c.list, namedCounter{name, v})
}

func (c *counterSet) reset() {
	c.list = c.list[:0]
	clear(c.index)
}

func (a *accumulator) reset() {
	*a = accumulator{cores: a.cores[:0], coreN: a.coreN[:0], nets: a.nets, disks: a.disks, procs: a.procs[:0]}
	a.nets.reset()
	a.disks.reset()
}

func (a *accumulator) add(hs *wire.HistorySample) {
	a.n++
	a.at = hs.SampledAtMs
	a.cpu += float64(hs.CpuTotal)
	for i, v := range hs.CpuPerCore {
		if i == len(a.cores) {
			a.cores, a.coreN = append(a.cores, 0), append(a.coreN, 0)
		}
		a.cores[i] += float64(v)
		a.coreN[i]++
	}
	for i, v := range [4]uint64{hs.MemTotal, hs.MemUsed, hs.SwapTotal, hs.SwapUsed} {
		a.mem[i].add(v)
	}
	a.load[0] += hs.Load1
	a.load[1] += hs.Load5
	a.load[2] += hs.Load15
	if hs.HottestTempC != nil {
		a.temp += float64(*hs.HottestTempC)
		a.tempN++
	}
	for _, n := range hs.Networks {
		a.nets.set(n.Name, [2]uint64{n.RxBytes, n.TxBytes})
	}
	for _, d := range hs.Disks {
		a.disks.set(d.Name, [2]uint64{d.ReadBytes, d.WriteBytes})
	}
	for _, p := range hs.TopProcesses {
		// A bucket holds a few dozen processes: a linear search on the
		// pid beats hashing the name.
		i := 0
		for i < len(a.procs) && (a.procs[i].key.pid != p.Pid || a.procs[i].key.name != p.Name) {
			i++
		}
		if i == len(a.procs) {
			i = len(a.procs)
			a.procs = append(a.procs, procAcc{key: procKey{p.Pid, p.Name}})
		}
		a.procs[i].cpuSum += float64(p.CpuUsage)
		a.procs[i].memMax = max(a.procs[i].memMax, p.MemBytes)
	}
}

func (a *accumulator) result() *wire.HistorySample {
	n := float64(a.n)
	hs := &wire.HistorySample{
		SampledAtMs: a.at,
		CpuTotal:    float32(a.cpu / n),
		MemTotal:    a.mem[0].mean(uint64(a.n)),
		MemUsed:     a.mem[1].mean(uint64(a.n)),
		SwapTotal:   a.mem[2].mean(uint64(a.n)),
		SwapUsed:    a.mem[3].mean(uint64(a.n)),
		Load1:       a.load[0] / n,
		Load5:       a.load[1] / n,
		Load15:      a.load[2] / n,
	}
	if len(a.cores) > 0 {
		hs.CpuPerCore = make([]float32, len(a.cores))
		for i := range a.cores {
			hs.CpuPerCore[i] = float32(a.cores[i] / float64(a.coreN[i]))
		}
	}
	if a.tempN > 0 {
		t := float32(a.temp / float64(a.tempN))
		hs.HottestTempC = &t
	}
	if len(a.nets.list) > 0 {
		hs.Networks = make([]*wire.Network, len(a.nets.list))
		for i, c := range a.nets.list {
			hs.Networks[i] = &wire.Network{Name: c.name, RxBytes: c.v[0], TxBytes: c.v[1]}
		}
	}
	if len(a.disks.list) > 0 {
		hs.Disks = make([]*wire.Disk, len(a.disks.list))
		for i, c := range a.disks.list {
			hs.Disks[i] = &wire.Disk{Name: c.name, ReadBytes: c.v[0], WriteBytes: c.v[1]}
		}
	}
	picks := pickTop(len(a.procs), TopByCPU, TopByMemory, func(i int) (float32, uint64, uint32, bool) {
		p := &a.procs[i]
		return float32(p.cpuSum / n), p.memMax, p.key.pid, true
	})
	if len(picks) > 0 {
		backing := make([]wire.Process, len(picks))
		hs.TopProcesses = make([]*wire.Process, len(picks))
		for j, i := range picks {
			p := &a.procs[i]
			backing[j] = wire.Process{Pid: p.key.pid, Name: p.key.name, CpuUsage: float32(p.cpuSum / n), MemBytes: p.memMax}
			hs.TopProcesses[j] = &backing[j]
		}
	}
	return hs
}
