package history

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/socktop/socktop/wire"
)

func TestFromSnapshotPicksTopProcesses(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	p := &wire.Processes{}
	for i := range 1000 {
		row := &wire.ProcessInfo{Pid: uint32(1000 + i), Name: "p", RssBytes: uint64(r.IntN(1 << 30))}
		if r.IntN(10) == 0 { // most processes sleep
			row.CpuPercent = float32(r.IntN(400)) / 4 // ties happen
		}
		p.Processes = append(p.Processes, row)
	}
	p.Processes[500] = nil
	p.Processes[17].RssBytes = p.Processes[18].RssBytes // a tie on memory
	m := &wire.Metrics{SampledAtMs: 42, CpuTotal: 33}
	hs := FromSnapshot(m, nil, p)

	// The expected picks, by sorting the whole list.
	rows := slices.DeleteFunc(slices.Clone(p.Processes), func(r *wire.ProcessInfo) bool { return r == nil })
	sorted := func(memFirst bool) []*wire.ProcessInfo {
		out := slices.Clone(rows)
		slices.SortStableFunc(out, func(a, b *wire.ProcessInfo) int {
			switch {
			case memFirst && a.RssBytes != b.RssBytes:
				return cmpDesc(a.RssBytes, b.RssBytes)
			case a.CpuPercent != b.CpuPercent:
				return cmpDesc(a.CpuPercent, b.CpuPercent)
			case a.RssBytes != b.RssBytes:
				return cmpDesc(a.RssBytes, b.RssBytes)
			}
			return int(a.Pid) - int(b.Pid)
		})
		return out
	}
	byCPU, byMem := sorted(false), sorted(true)
	var want []uint32
	for _, r := range byCPU[:TopByCPU] {
		want = append(want, r.Pid)
	}
	for _, r := range byMem[:TopByMemory] {
		if !slices.Contains(want, r.Pid) {
			want = append(want, r.Pid)
		}
	}
	var got []uint32
	for _, q := range hs.TopProcesses {
		got = append(got, q.Pid)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("picked %v\nwant   %v", got, want)
	}
	if hs.SampledAtMs != 42 || hs.CpuTotal != 33 {
		t.Fatalf("sample %v", hs)
	}
	// A process busy by both measures is listed once.
	p.Processes[3].CpuPercent, p.Processes[3].RssBytes = 100, 1<<40
	hs = FromSnapshot(m, nil, p)
	n := 0
	for _, q := range hs.TopProcesses {
		if q.Pid == p.Processes[3].Pid {
			n++
		}
	}
	if n != 1 || hs.TopProcesses[0].Pid != p.Processes[3].Pid || len(hs.TopProcesses) > TopByCPU+TopByMemory-1 {
		t.Fatalf("listed %d times: %v", n, hs.TopProcesses)
	}
}

func cmpDesc[T float32 | uint64](a, b T) int {
	if a > b {
		return -1
	}
	return 1
}

// TestFromSnapshotIdle: sleeping processes are not "busy"; the largest by
// memory are still kept.
func TestFromSnapshotIdle(t *testing.T) {
	p := &wire.Processes{}
	for i := range 50 {
		p.Processes = append(p.Processes, &wire.ProcessInfo{Pid: uint32(i + 1), Name: "idle", RssBytes: uint64(i) << 20})
	}
	hs := FromSnapshot(&wire.Metrics{}, nil, p)
	if len(hs.TopProcesses) != TopByMemory || hs.TopProcesses[0].Pid != 50 {
		t.Fatalf("idle machine: %v", hs.TopProcesses)
	}
	if FromSnapshot(&wire.Metrics{}, nil, nil).TopProcesses != nil || FromSnapshot(nil, nil, p) != nil {
		t.Fatal("missing inputs")
	}
}

func TestFromSnapshotMetrics(t *testing.T) {
	cpuT := float32(51)
	m := &wire.Metrics{SampledAtMs: 9, CpuPerCore: make([]float32, MaxCores+5), MemTotal: 8, MemUsed: 4, SwapTotal: 2, SwapUsed: 1,
		Load1: 1, Load5: 5, Load15: 15, CpuTempC: &cpuT,
		Temperatures: []*wire.Temperature{{ValueC: 48}, nil, {ValueC: 73.5}, {ValueC: float32(math.NaN())}},
		Networks:     []*wire.Network{{Name: "eth\xff", RxBytes: 1, TxBytes: 2, RxPackets: 9}}}
	d := &wire.Disks{Disks: []*wire.Disk{{Name: "sda", ReadBytes: 10, WriteBytes: 20}, {Name: "sda1", IsPartition: true, ReadBytes: 5},
		{Name: "sda", ReadBytes: 10}, {Name: strings.Repeat("n", 100)}}}
	hs := FromSnapshot(m, d, nil)
	if len(hs.CpuPerCore) != MaxCores || hs.MemTotal != 8 || hs.SwapUsed != 1 || hs.Load15 != 15 || *hs.HottestTempC != 73.5 {
		t.Fatalf("metrics %v", hs)
	}
	if len(hs.Networks) != 1 || hs.Networks[0].Name != "eth\uFFFD" || hs.Networks[0].RxPackets != 0 || hs.Networks[0].TxBytes != 2 {
		t.Fatalf("networks %v", hs.Networks)
	}
	if len(hs.Disks) != 2 || hs.Disks[0].Name != "sda" || hs.Disks[0].WriteBytes != 20 || len(hs.Disks[1].Name) != MaxNameLen {
		t.Fatalf("disks %v", hs.Disks)
	}
	m.CpuTempC, m.Temperatures = nil, nil
	if FromSnapshot(m, d, nil).HottestTempC != nil {
		t.Fatal("a temperature without sensors")
	}
}
