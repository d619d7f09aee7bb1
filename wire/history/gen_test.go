package history

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/proto"
)

// synth makes sequences of samples that exercise every path of the
// encoding: cores coming and going, counters that reset, processes that
// stay, churn and change name, absent temperatures, NaN, values past the
// protocol's ranges, invalid UTF-8 and over-long names.
type synth struct {
	r     *rand.Rand
	at    uint64
	rx    map[string]uint64
	procs []*wire.Process
	next  uint32
}

func newSynth(seed uint64) *synth {
	return &synth{r: rand.New(rand.NewPCG(seed, 17)), at: 1_700_000_000_000, rx: map[string]uint64{}, next: 100}
}

var synthNames = []string{"systemd", "sshd", "postgres", "nginx: worker", "kworker/u8:2-events", "go", "bad\xffname\xfe", "名前", "x", ""}

func (g *synth) name() string {
	switch g.r.IntN(20) {
	case 0:
		return fmt.Sprintf("job-%d", g.r.IntN(1000))
	case 1:
		return string(make([]byte, 70)) + "long\xff" // over MaxNameLen, invalid
	}
	return synthNames[g.r.IntN(len(synthNames))]
}

func (g *synth) pct() float32 {
	switch g.r.IntN(30) {
	case 0:
		return float32(math.NaN())
	case 1:
		return 150 // past 100 %
	case 2:
		return -3
	}
	return float32(g.r.Float64() * 100)
}

func (g *synth) counter(name string) uint64 {
	if g.r.IntN(50) == 0 {
		g.rx[name] = uint64(g.r.IntN(1000)) // the interface was re-created
	} else {
		g.rx[name] += uint64(g.r.IntN(1 << 20))
	}
	return g.rx[name]
}

func (g *synth) sample() *wire.HistorySample {
	g.at += 1 + uint64(g.r.IntN(20_000))
	hs := &wire.HistorySample{
		SampledAtMs: g.at, CpuTotal: g.pct(),
		MemTotal: 8 << 30, MemUsed: uint64(g.r.IntN(8<<20)) << 10, SwapTotal: 1 << 30, SwapUsed: uint64(g.r.IntN(1 << 30)),
		Load1: g.r.Float64() * 4, Load5: math.Inf(1), Load15: -1,
	}
	if g.r.IntN(100) == 0 {
		hs.MemUsed = math.MaxUint64 // clamped
	}
	for range 1 + g.r.IntN(8) {
		hs.CpuPerCore = append(hs.CpuPerCore, g.pct())
	}
	if g.r.IntN(3) > 0 {
		t := float32(20 + g.r.Float64()*70)
		hs.HottestTempC = &t
	}
	for _, n := range []string{"lo", "eth0", "wlan0", "docker0"}[:1+g.r.IntN(4)] {
		hs.Networks = append(hs.Networks, &wire.Network{Name: n, RxBytes: g.counter(n + "rx"), TxBytes: g.counter(n + "tx")})
	}
	for _, n := range []string{"sda", "nvme0n1", "mmcblk0"}[:g.r.IntN(4)] {
		hs.Disks = append(hs.Disks, &wire.Disk{Name: n, ReadBytes: g.counter(n + "r"), WriteBytes: g.counter(n + "w")})
	}
	// Most processes stay from one sample to the next; some leave, some
	// come, some change name (exec).
	var kept []*wire.Process
	for _, p := range g.procs {
		if g.r.IntN(8) == 0 {
			continue
		}
		q := &wire.Process{Pid: p.Pid, Name: p.Name, CpuUsage: g.pct(), MemBytes: p.MemBytes}
		switch g.r.IntN(4) {
		case 0:
			q.MemBytes += uint64(g.r.IntN(100)) << 12
		case 1:
			q.MemBytes -= min(q.MemBytes, uint64(g.r.IntN(100))<<12)
		case 2:
			q.MemBytes += uint64(g.r.IntN(4096)) // not whole KiB
		}
		if g.r.IntN(40) == 0 {
			q.Name = g.name()
		}
		kept = append(kept, q)
	}
	for len(kept) < 20 && g.r.IntN(4) > 0 {
		g.next += 1 + uint32(g.r.IntN(3000))
		kept = append(kept, &wire.Process{Pid: g.next, Name: g.name(), CpuUsage: g.pct(), MemBytes: g.r.Uint64N(1 << 34)})
	}
	g.r.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
	g.procs = kept
	hs.TopProcesses = kept
	return hs
}

// expected is what the store must give back for hs: values quantized and
// clamped as FORMAT.md says, computed here independently of the encoder.
func expected(hs *wire.HistorySample) *wire.HistorySample {
	pct := func(f float32) float32 {
		if math.IsNaN(float64(f)) || f < 0 {
			return 0
		}
		return float32(math.Round(float64(min(f, 100))*100) / 100)
	}
	load := func(f float64) float64 {
		if math.IsNaN(f) || f < 0 {
			return 0
		}
		return math.Round(min(f, 1e6)*100) / 100
	}
	const maxMem = 1<<62 - 1
	out := &wire.HistorySample{
		SampledAtMs: hs.SampledAtMs, CpuTotal: pct(hs.CpuTotal),
		MemTotal: min(hs.MemTotal, maxMem), MemUsed: min(hs.MemUsed, maxMem),
		SwapTotal: min(hs.SwapTotal, maxMem), SwapUsed: min(hs.SwapUsed, maxMem),
		Load1: load(hs.Load1), Load5: load(hs.Load5), Load15: load(hs.Load15),
	}
	for i, c := range hs.CpuPerCore {
		if i < MaxCores {
			out.CpuPerCore = append(out.CpuPerCore, pct(c))
		}
	}
	if t := hs.HottestTempC; t != nil && !math.IsNaN(float64(*t)) && !math.IsInf(float64(*t), 0) {
		v := float32(math.Round(math.Min(math.Max(float64(*t), -273), 10000)*10) / 10)
		out.HottestTempC = &v
	}
	for _, n := range hs.Networks {
		if len(out.Networks) < MaxNetworks {
			out.Networks = append(out.Networks, &wire.Network{Name: CleanName(n.Name), RxBytes: n.RxBytes, TxBytes: n.TxBytes})
		}
	}
	for _, d := range hs.Disks {
		if len(out.Disks) < MaxDisks {
			out.Disks = append(out.Disks, &wire.Disk{Name: CleanName(d.Name), ReadBytes: d.ReadBytes, WriteBytes: d.WriteBytes})
		}
	}
	for _, p := range hs.TopProcesses {
		if len(out.TopProcesses) < MaxTopProcesses {
			out.TopProcesses = append(out.TopProcesses, &wire.Process{Pid: p.Pid, Name: CleanName(p.Name), CpuUsage: pct(p.CpuUsage), MemBytes: min(p.MemBytes, maxMem)})
		}
	}
	return out
}

// sameSamples fails t unless got equals want sample for sample.
func sameSamples(t *testing.T, got, want []*wire.HistorySample) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("sample %d:\n got  %v\n want %v", i, got[i], want[i])
		}
	}
}

// fill appends n samples of g to s and returns what the store must give
// back for them.
func fill(t testing.TB, s *Store, g *synth, n int) []*wire.HistorySample {
	t.Helper()
	want := make([]*wire.HistorySample, 0, n)
	for range n {
		hs := g.sample()
		if err := s.Append(hs); err != nil {
			t.Fatal(err)
		}
		want = append(want, expected(hs))
	}
	return want
}

func all(s *Store) []*wire.HistorySample { return s.Query(0, math.MaxUint64, 0).Samples }
