package history

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/socktop/socktop/wire"
)

// FromSnapshot builds the HistorySample of one moment: the metrics sample
// m (required; nil gives nil), the whole disks of d (partitions are left
// out: their I/O is part of their disk's; d may be nil) and the top
// processes of p (may be nil): the TopByCPU busiest by CPU and the
// TopByMemory largest by memory, each process once, busiest first. Names
// are valid UTF-8 of at most MaxNameLen bytes; lists are bounded as the
// Store bounds them. The sample shares nothing with its inputs.
func FromSnapshot(m *wire.Metrics, d *wire.Disks, p *wire.Processes) *wire.HistorySample {
	if m == nil {
		return nil
	}
	hs := &wire.HistorySample{
		SampledAtMs: m.GetSampledAtMs(),
		CpuTotal:    m.GetCpuTotal(),
		CpuPerCore:  append([]float32(nil), m.GetCpuPerCore()[:min(len(m.GetCpuPerCore()), MaxCores)]...),
		MemTotal:    m.GetMemTotal(),
		MemUsed:     m.GetMemUsed(),
		SwapTotal:   m.GetSwapTotal(),
		SwapUsed:    m.GetSwapUsed(),
		Load1:       m.GetLoad1(),
		Load5:       m.GetLoad5(),
		Load15:      m.GetLoad15(),
	}
	if t, ok := hottest(m); ok {
		hs.HottestTempC = &t
	}
	for _, n := range m.GetNetworks() {
		if n == nil || len(hs.Networks) == MaxNetworks {
			continue
		}
		hs.Networks = append(hs.Networks, &wire.Network{Name: CleanName(n.GetName()), RxBytes: n.GetRxBytes(), TxBytes: n.GetTxBytes()})
	}
	for _, k := range d.GetDisks() {
		if k == nil || k.GetIsPartition() || len(hs.Disks) == MaxDisks || hasDisk(hs.Disks, k.GetName()) {
			continue
		}
		hs.Disks = append(hs.Disks, &wire.Disk{Name: CleanName(k.GetName()), ReadBytes: k.GetReadBytes(), WriteBytes: k.GetWriteBytes()})
	}
	rows := p.GetProcesses()
	picks := pickTop(len(rows), TopByCPU, TopByMemory, func(i int) (float32, uint64, uint32, bool) {
		r := rows[i]
		return r.GetCpuPercent(), r.GetRssBytes(), r.GetPid(), r != nil
	})
	if len(picks) > 0 {
		backing := make([]wire.Process, len(picks))
		hs.TopProcesses = make([]*wire.Process, len(picks))
		for j, i := range picks {
			r := rows[i]
			backing[j] = wire.Process{Pid: r.GetPid(), Name: CleanName(r.GetName()), CpuUsage: r.GetCpuPercent(), MemBytes: r.GetRssBytes()}
			hs.TopProcesses[j] = &backing[j]
		}
	}
	return hs
}

func hasDisk(ds []*wire.Disk, name string) bool {
	for _, d := range ds {
		if d.Name == name {
			return true
		}
	}
	return false
}

// hottest is the highest finite temperature of m: the CPU's or any sensor's.
func hottest(m *wire.Metrics) (float32, bool) {
	best, ok := float32(0), false
	consider := func(t float32) {
		if !math.IsNaN(float64(t)) && !math.IsInf(float64(t), 0) && (!ok || t > best) {
			best, ok = t, true
		}
	}
	if m.CpuTempC != nil {
		consider(*m.CpuTempC)
	}
	for _, t := range m.GetTemperatures() {
		if t != nil {
			consider(t.GetValueC())
		}
	}
	return best, ok
}

// CleanName makes s fit the wire and the store: invalid UTF-8 becomes
// U+FFFD, and the result is cut to MaxNameLen bytes at a rune boundary.
func CleanName(s string) string {
	if len(s) <= MaxNameLen && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) > MaxNameLen {
		cut := MaxNameLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// rankFunc reports row i's CPU share, memory, pid, and whether it exists.
type rankFunc func(i int) (cpu float32, mem uint64, pid uint32, ok bool)

// pickTop returns the indices of the nCPU rows busiest by CPU (rows with
// no CPU are not busy), then of the nMem largest by memory that are not
// already picked; ties go to the other measure, then to the lower pid.
// It costs O(rows × (nCPU + nMem)) at worst and allocates only the result.
func pickTop(rows, nCPU, nMem int, rank rankFunc) []int {
	var byCPU, byMem [TopByCPU + TopByMemory]int
	nCPU, nMem = min(nCPU, TopByCPU), min(nMem, TopByMemory)
	// better ranks by one measure, then the other, then the lower pid.
	better := func(byMem bool) func(a, b int) bool {
		return func(a, b int) bool {
			ca, ma, pa, _ := rank(a)
			cb, mb, pb, _ := rank(b)
			if byMem && ma != mb {
				return ma > mb
			}
			if ca != cb {
				return ca > cb
			}
			if ma != mb {
				return ma > mb
			}
			return pa < pb
		}
	}
	c := topInto(byCPU[:0], nCPU, rows, better(false), func(i int) bool {
		cpu, _, _, ok := rank(i)
		return ok && cpu > 0 && !math.IsNaN(float64(cpu))
	})
	m := topInto(byMem[:0], nMem, rows, better(true), func(i int) bool {
		_, _, _, ok := rank(i)
		return ok
	})
	out := make([]int, 0, len(c)+len(m))
	out = append(out, c...)
	for _, i := range m {
		if !containsInt(c, i) {
			out = append(out, i)
		}
	}
	return out
}

// topInto keeps in dst (sorted best first) the n best rows passing keep.
func topInto(dst []int, n, rows int, better func(a, b int) bool, keep func(int) bool) []int {
	if n <= 0 {
		return dst
	}
	for i := range rows {
		if !keep(i) {
			continue
		}
		if len(dst) == n && !better(i, dst[n-1]) {
			continue
		}
		if len(dst) < n {
			dst = append(dst, i)
		} else {
			dst[n-1] = i
		}
		for j := len(dst) - 1; j > 0 && better(dst[j], dst[j-1]); j-- {
			dst[j], dst[j-1] = dst[j-1], dst[j]
		}
	}
	return dst
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
