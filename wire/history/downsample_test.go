package history

import (
	"math"
	"math/big"
	"testing"

	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/proto"
)

func f32(v float32) *float32 { return &v }

// TestDownsampleAverages is a bucket worked out by hand.
func TestDownsampleAverages(t *testing.T) {
	const gib = 1 << 30
	in := []*wire.HistorySample{
		{SampledAtMs: 1000, CpuTotal: 10, CpuPerCore: []float32{10, 50}, MemTotal: 8 * gib, MemUsed: 1024, Load1: 1, HottestTempC: f32(40),
			Networks: []*wire.Network{{Name: "eth0", RxBytes: 100, TxBytes: 1}},
			TopProcesses: []*wire.Process{{Pid: 1, Name: "burst", CpuUsage: 80, MemBytes: 1 << 20}, {Pid: 2, Name: "steady", CpuUsage: 10, MemBytes: 2 << 20},
				{Pid: 4, Name: "big", MemBytes: 100 << 20}}},
		{SampledAtMs: 2000, CpuTotal: 20, CpuPerCore: []float32{20}, MemTotal: 8 * gib, MemUsed: 2048, Load1: 2,
			Networks: []*wire.Network{{Name: "eth0", RxBytes: 200, TxBytes: 2}, {Name: "wlan0", RxBytes: 77, TxBytes: 7}},
			TopProcesses: []*wire.Process{{Pid: 2, Name: "steady", CpuUsage: 10, MemBytes: 2 << 20}, {Pid: 3, Name: "balloon", MemBytes: gib},
				{Pid: 4, Name: "big", MemBytes: 100 << 20}}},
		{SampledAtMs: 3000, CpuTotal: 30, CpuPerCore: []float32{30, 70}, MemTotal: 8 * gib, MemUsed: 3072, Load1: 3, HottestTempC: f32(60),
			Networks:     []*wire.Network{{Name: "eth0", RxBytes: 300, TxBytes: 3}},
			TopProcesses: []*wire.Process{{Pid: 2, Name: "steady", CpuUsage: 10, MemBytes: 2 << 20}, {Pid: 4, Name: "big", MemBytes: 100 << 20}}},
		{SampledAtMs: 4000, CpuTotal: 40, CpuPerCore: []float32{40}, MemTotal: 8 * gib, MemUsed: 5120, Load1: 4,
			Networks:     []*wire.Network{{Name: "eth0", RxBytes: 400, TxBytes: 4}},
			TopProcesses: []*wire.Process{{Pid: 2, Name: "steady", CpuUsage: 10, MemBytes: 2 << 20}, {Pid: 4, Name: "big", MemBytes: 100 << 20}}},
	}
	s := New(Options{})
	for _, hs := range in {
		if err := s.Append(hs); err != nil {
			t.Fatal(err)
		}
	}
	h := s.Query(0, math.MaxUint64, 1)
	want := &wire.HistorySample{
		SampledAtMs: 4000, CpuTotal: 25, CpuPerCore: []float32{25, 60}, MemTotal: 8 * gib, MemUsed: 2816, Load1: 2.5, HottestTempC: f32(50),
		Networks: []*wire.Network{{Name: "eth0", RxBytes: 400, TxBytes: 4}, {Name: "wlan0", RxBytes: 77, TxBytes: 7}},
		TopProcesses: []*wire.Process{{Pid: 1, Name: "burst", CpuUsage: 20, MemBytes: 1 << 20}, {Pid: 2, Name: "steady", CpuUsage: 10, MemBytes: 2 << 20},
			{Pid: 3, Name: "balloon", MemBytes: gib}, {Pid: 4, Name: "big", MemBytes: 100 << 20}},
	}
	if len(h.Samples) != 1 || !proto.Equal(h.Samples[0], want) {
		t.Fatalf("bucket\n got  %v\n want %v", h.Samples, want)
	}
	if h.IntervalMs != 3000 {
		t.Fatalf("interval %d ms, want 3000", h.IntervalMs)
	}
}

// TestDownsampleKeepsBusiest: a process busy in one sample of ten outranks
// fifteen steady ones, and a memory peak of one sample is kept.
func TestDownsampleKeepsBusiest(t *testing.T) {
	s := New(Options{})
	for i := range 10 {
		hs := &wire.HistorySample{SampledAtMs: uint64(i+1) * 1000}
		for p := range 15 {
			hs.TopProcesses = append(hs.TopProcesses, &wire.Process{Pid: uint32(100 + p), Name: "steady", CpuUsage: 5, MemBytes: 1 << 20})
		}
		if i == 3 {
			hs.TopProcesses = append(hs.TopProcesses, &wire.Process{Pid: 7, Name: "burst", CpuUsage: 90})
		}
		if i == 6 {
			hs.TopProcesses = append(hs.TopProcesses, &wire.Process{Pid: 8, Name: "balloon", MemBytes: 8 << 30})
		}
		if err := s.Append(hs); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Query(0, math.MaxUint64, 1).Samples[0].TopProcesses
	if len(got) != TopByCPU+1 {
		t.Fatalf("%d processes, want %d (10 by CPU, the balloon by memory, the rest tie): %v", len(got), TopByCPU+1, got)
	}
	if got[0].Pid != 7 || math.Abs(float64(got[0].CpuUsage)-9) > 1e-4 {
		t.Fatalf("busiest %v, want pid 7 at 9%%", got[0])
	}
	if got[TopByCPU].Pid != 8 || got[TopByCPU].MemBytes != 8<<30 {
		t.Fatalf("largest %v, want pid 8 with its 8 GiB peak", got[TopByCPU])
	}
}

// TestDownsampleBuckets checks every bucket of varied data against the
// raw samples it stands for: the raw ones after the previous bucket's time
// up to its own.
func TestDownsampleBuckets(t *testing.T) {
	s := New(Options{})
	fill(t, s, newSynth(9), 3000)
	raw := all(s)
	for _, maxPoints := range []int{1, 2, 7, 100, 999, 2999} {
		got := s.Query(0, math.MaxUint64, maxPoints).Samples
		if len(got) > maxPoints || len(got) == 0 {
			t.Fatalf("max %d: %d buckets", maxPoints, len(got))
		}
		j := 0
		for k, b := range got {
			var in []*wire.HistorySample
			for j < len(raw) && raw[j].SampledAtMs <= b.SampledAtMs {
				in = append(in, raw[j])
				j++
			}
			if len(in) == 0 || in[len(in)-1].SampledAtMs != b.SampledAtMs {
				t.Fatalf("max %d bucket %d at %d is not a sample's time", maxPoints, k, b.SampledAtMs)
			}
			checkBucket(t, b, in)
		}
		if j != len(raw) {
			t.Fatalf("max %d: buckets cover %d of %d samples", maxPoints, j, len(raw))
		}
	}
}

func checkBucket(t *testing.T, b *wire.HistorySample, in []*wire.HistorySample) {
	t.Helper()
	var cpu float64
	mem := new(big.Int)
	for _, hs := range in {
		cpu += float64(hs.CpuTotal)
		mem.Add(mem, new(big.Int).SetUint64(hs.MemUsed))
	}
	n := float64(len(in))
	mem.Quo(mem, big.NewInt(int64(len(in))))
	if math.Abs(float64(b.CpuTotal)-cpu/n) > 1e-3 || b.MemUsed != mem.Uint64() {
		t.Fatalf("bucket at %d: cpu %v mem %d, want %v %v", b.SampledAtMs, b.CpuTotal, b.MemUsed, cpu/n, mem)
	}
	last := in[len(in)-1]
	for _, c := range last.Networks {
		found := false
		for _, bc := range b.Networks {
			found = found || proto.Equal(bc, c)
		}
		if !found {
			t.Fatalf("bucket at %d lacks the last counters %v", b.SampledAtMs, c)
		}
	}
	// Each listed process: mean CPU over the bucket, peak memory; and no
	// process left out was busier than the least busy one kept by CPU.
	type acc struct {
		cpu float64
		mem uint64
	}
	per := map[procKey]*acc{}
	for _, hs := range in {
		for _, p := range hs.TopProcesses {
			k := procKey{p.Pid, p.Name}
			if per[k] == nil {
				per[k] = &acc{}
			}
			per[k].cpu += float64(p.CpuUsage)
			per[k].mem = max(per[k].mem, p.MemBytes)
		}
	}
	listed := map[procKey]bool{}
	minCPU := math.Inf(1)
	for i, p := range b.TopProcesses {
		k := procKey{p.Pid, p.Name}
		a := per[k]
		if a == nil || listed[k] || math.Abs(float64(p.CpuUsage)-a.cpu/n) > 1e-3 || p.MemBytes != a.mem {
			t.Fatalf("bucket at %d: process %v (want %+v, listed twice %v)", b.SampledAtMs, p, a, listed[k])
		}
		listed[k] = true
		if i < TopByCPU && p.CpuUsage > 0 {
			minCPU = min(minCPU, float64(p.CpuUsage))
		}
	}
	if len(per) >= TopByCPU {
		for k, a := range per {
			if !listed[k] && a.cpu/n > minCPU+1e-3 {
				t.Fatalf("bucket at %d left out %v at %v%% (least kept %v%%)", b.SampledAtMs, k, a.cpu/n, minCPU)
			}
		}
	}
}
