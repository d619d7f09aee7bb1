//go:build linux

package history

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs/proctest"
	"github.com/socktop/socktop/wire"
)

// Benchmarks of the history against baselines measured in the same run
// (ratios, in thread CPU time, which a shared machine disturbs less than
// wall time). Run with, e.g.:
//
//	go test ./wire/history -run '^$' -bench . -benchtime 20x

// BenchmarkDayMemory records a day (8,640 samples at 10 s) of this machine
// with 1,000 processes and reports the bytes per sample and the heap held.
func BenchmarkDayMemory(b *testing.B) {
	spawnSleepers(b, dayProcs)
	d := newDaySource(b, 4)
	var s *Store
	var heap uint64
	for b.Loop() {
		s, heap = dayStore(d, daySamples)
	}
	b.ReportMetric(float64(s.Bytes())/float64(s.Len()), "B/sample")
	b.ReportMetric(float64(heap)/float64(s.Len()), "heap-B/sample")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(d.procCount()), "procs")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkDayMemoryChurn is the adversarial day: every top process of
// every sample is a new pid with a new 15-byte name (nothing to intern, no
// row to refer back to). It shows what the encoding costs when it cannot
// compress; MaxBytes bounds it.
func BenchmarkDayMemoryChurn(b *testing.B) {
	var s *Store
	for b.Loop() {
		s = New(Options{Retention: 24 * time.Hour, Interval: 10 * time.Second})
		pid := uint32(1000)
		for i := range daySamples {
			hs := &wire.HistorySample{SampledAtMs: uint64(1e12) + uint64(i)*10_000, CpuTotal: 37.5, CpuPerCore: []float32{30, 45},
				MemTotal: 8 << 30, MemUsed: uint64(i%1000) << 20, Networks: []*wire.Network{{Name: "eth0", RxBytes: uint64(i) << 16}}}
			for j := range TopByCPU + TopByMemory {
				pid += 7
				hs.TopProcesses = append(hs.TopProcesses, &wire.Process{Pid: pid, Name: fmt.Sprintf("job-%011d", pid), CpuUsage: float32(j), MemBytes: uint64(pid) << 12})
			}
			if err := s.Append(hs); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(s.Bytes())/float64(s.Len()), "B/sample")
	b.ReportMetric(float64(s.Bytes())/(1<<20), "MiB")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkWireDay: a day's history for the wire, against marshalling one
// process list of the live machine's 1,000 processes (vtprotobuf), the
// baseline: the query (decoding the store into a History), its marshal and
// its unmarshal, for all 8,640 samples and for max_points 1,000; and the
// JSON dialect's reply at 1,000 points.
func BenchmarkWireDay(b *testing.B) {
	spawnSleepers(b, dayProcs)
	d := newDaySource(b, 4)
	s, _ := dayStore(d, daySamples)
	pl := wire.ToProcessList(d.scans[0])
	full, down := s.Query(0, math.MaxUint64, 0), s.Query(0, math.MaxUint64, 1000)
	plB, _ := pl.MarshalVT()
	fullB, _ := full.MarshalVT()
	downB, _ := down.MarshalVT()
	if len(full.Samples) != daySamples || len(down.Samples) > 1000 {
		b.Fatalf("%d and %d samples", len(full.Samples), len(down.Samples))
	}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	proctest.Ratios(b, []proctest.Step{
		proctest.Named("plist-marshal", func() { _, err := pl.MarshalVT(); must(err) }),
		proctest.Named("day-query", func() { s.Query(0, math.MaxUint64, 0) }),
		proctest.Named("day-marshal", func() { _, err := full.MarshalVT(); must(err) }),
		proctest.Named("day-unmarshal", func() { var h wire.History; must(h.UnmarshalVT(fullB)) }),
		proctest.Named("1000pt-query", func() { s.Query(0, math.MaxUint64, 1000) }),
		proctest.Named("1000pt-marshal", func() { _, err := down.MarshalVT(); must(err) }),
		proctest.Named("1000pt-unmarshal", func() { var h wire.History; must(h.UnmarshalVT(downB)) }),
		proctest.Named("1000pt-json", func() { EncodeJSON(down) }),
	}, nil)
	b.ReportMetric(float64(len(plB)), "plist-bytes")
	b.ReportMetric(float64(len(fullB)), "day-bytes")
	b.ReportMetric(float64(len(downB)), "1000pt-bytes")
	b.ReportMetric(float64(d.procCount()), "procs")
}

// BenchmarkRecorderTickVsFloor is the recorder's tick with 1,000 processes
// against one Floor scan: the collection the tick needs when no client has
// filled the agent's caches (process scan, metrics, disks, each converted
// to wire as the agent does), and the recorder's own work (FromSnapshot
// picking the top processes, and Append with the file), which is all a
// tick adds when a live client shares the caches.
func BenchmarkRecorderTickVsFloor(b *testing.B) {
	spawnSleepers(b, dayProcs)
	l := newLive(b)
	l.procs.Window, l.cpu.Window = 0, 0
	d := newDaySource(b, 2)
	s, _, err := Open(filepath.Join(b.TempDir(), "history.bin"), Options{Retention: 24 * time.Hour, Interval: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for range daySamples { // a full day, so every append also drops the oldest
		if err := s.Append(d.next()); err != nil {
			b.Fatal(err)
		}
	}
	at := d.at
	floor := proctest.NewFloor()
	var m *wire.Metrics
	var p *wire.Processes
	var dk *wire.Disks
	var hs *wire.HistorySample
	proctest.Ratios(b, []proctest.Step{
		proctest.Named("floor", func() { floor.Scan() }),
		proctest.Named("scan", func() { p = l.processes(b) }),
		proctest.Named("metrics", func() { m = l.metrics(b) }),
		proctest.Named("disks", func() { dk = l.disks(b) }),
		proctest.Named("select", func() {
			at += 10_000
			m.SampledAtMs = at
			hs = FromSnapshot(m, dk, p)
		}),
		proctest.Named("append", func() {
			if err := s.Append(hs); err != nil {
				b.Fatal(err)
			}
		}),
	}, map[string][]string{"record": {"select", "append"}, "tick": {"scan", "metrics", "disks", "select", "append"}})
	b.ReportMetric(float64(len(p.Processes)), "procs")
}
