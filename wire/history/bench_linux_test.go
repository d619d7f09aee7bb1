//go:build linux

package history

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/socktop/socktop/wire"
	"golang.org/x/sys/unix"
)

// Benchmarks of the history against baselines measured in the same run
// (ratios, in thread CPU time, which a shared machine disturbs less than
// wall time). Run with, e.g.:
//
//	go test ./wire/history -run '^$' -bench . -benchtime 20x

// floorScan is the floor of any process list, as procfs's BenchmarkFloor
// measures it: readdir of /proc, then open+read+close of every
// /proc/<pid>/stat, nothing else.
type floorScan struct {
	dents, buf, path []byte
}

func newFloorScan() *floorScan {
	return &floorScan{dents: make([]byte, 32<<10), buf: make([]byte, 1024), path: make([]byte, 0, 32)}
}

func (f *floorScan) run() int {
	dir, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	defer unix.Close(dir)
	procs := 0
	for {
		n, err := unix.Getdents(dir, f.dents)
		if n <= 0 || err != nil {
			return procs
		}
		for b := f.dents[:n]; len(b) > 19; {
			reclen := int(b[16]) | int(b[17])<<8
			name := b[19:reclen]
			name = name[:bytes.IndexByte(name, 0)]
			b = b[reclen:]
			if len(name) == 0 || name[0] < '1' || name[0] > '9' {
				continue
			}
			// openat(dir, "<pid>/stat") with a reused path buffer, as the
			// sampler opens it: no allocation per process.
			f.path = append(append(f.path[:0], name...), "/stat\x00"...)
			fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dir), uintptr(unsafe.Pointer(&f.path[0])), uintptr(unix.O_RDONLY|unix.O_CLOEXEC), 0, 0, 0)
			if e != 0 {
				continue
			}
			if n, _ := unix.Read(int(fd), f.buf); n > 0 {
				procs++
			}
			unix.Close(int(fd))
		}
	}
}

func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

type step struct {
	name string
	fn   func()
}

// ratios runs the steps one after the other in every iteration on one
// locked OS thread and reports each step's thread CPU time per op (name-µs)
// and its ratio to the first step, the baseline (x-name). Groups sums
// steps: a named total reported against the baseline too.
func ratios(b *testing.B, steps []step, groups map[string][]string) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := make([]time.Duration, len(steps))
	for b.Loop() {
		for i, s := range steps {
			c0 := threadCPU()
			s.fn()
			cpu[i] += threadCPU() - c0
		}
	}
	byName := map[string]time.Duration{}
	for i, s := range steps {
		byName[s.name] = cpu[i]
		b.ReportMetric(float64(cpu[i].Microseconds())/float64(b.N), s.name+"-µs")
		if i > 0 {
			b.ReportMetric(float64(cpu[i])/float64(cpu[0]), "x-"+s.name)
		}
	}
	for g, names := range groups {
		var sum time.Duration
		for _, n := range names {
			sum += byName[n]
		}
		b.ReportMetric(float64(sum)/float64(cpu[0]), "x-"+g)
	}
	b.ReportMetric(0, "ns/op")
}

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
	ratios(b, []step{
		{"plist-marshal", func() { _, err := pl.MarshalVT(); must(err) }},
		{"day-query", func() { s.Query(0, math.MaxUint64, 0) }},
		{"day-marshal", func() { _, err := full.MarshalVT(); must(err) }},
		{"day-unmarshal", func() { var h wire.History; must(h.UnmarshalVT(fullB)) }},
		{"1000pt-query", func() { s.Query(0, math.MaxUint64, 1000) }},
		{"1000pt-marshal", func() { _, err := down.MarshalVT(); must(err) }},
		{"1000pt-unmarshal", func() { var h wire.History; must(h.UnmarshalVT(downB)) }},
		{"1000pt-json", func() { EncodeJSON(down) }},
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
	floor := newFloorScan()
	var m *wire.Metrics
	var p *wire.Processes
	var dk *wire.Disks
	var hs *wire.HistorySample
	ratios(b, []step{
		{"floor", func() { floor.run() }},
		{"scan", func() { p = l.processes(b) }},
		{"metrics", func() { m = l.metrics(b) }},
		{"disks", func() { dk = l.disks(b) }},
		{"select", func() {
			at += 10_000
			m.SampledAtMs = at
			hs = FromSnapshot(m, dk, p)
		}},
		{"append", func() {
			if err := s.Append(hs); err != nil {
				b.Fatal(err)
			}
		}},
	}, map[string][]string{"record": {"select", "append"}, "tick": {"scan", "metrics", "disks", "select", "append"}})
	b.ReportMetric(float64(len(p.Processes)), "procs")
}
