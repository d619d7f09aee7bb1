//go:build linux

package history

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
)

// The live machine as the agent sees it: procfs readings converted to wire
// messages the way agent/collect.go converts them (the fields the history
// uses, and the others a process list carries on the wire).

const dayProcs = 1000

// spawnSleepers tops the machine up to n processes with `sleep` children,
// reaped in Cleanup (as procfs's own benchmarks do). In -short mode the
// machine's own processes are used as they are.
func spawnSleepers(tb testing.TB, n int) {
	tb.Helper()
	if testing.Short() {
		return
	}
	have := countProcs()
	sleep, err := exec.LookPath("sleep")
	if err != nil || have >= n {
		return
	}
	var cmds []*exec.Cmd
	tb.Cleanup(func() {
		for _, c := range cmds {
			c.Process.Kill()
		}
		for _, c := range cmds {
			c.Wait()
		}
	})
	for range n - have {
		c := exec.Command(sleep, "3600")
		if err := c.Start(); err != nil {
			tb.Logf("spawned %d sleepers: %v", len(cmds), err)
			return
		}
		cmds = append(cmds, c)
	}
}

func countProcs() int {
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			n++
		}
	}
	return n
}

type live struct {
	fs        *procfs.FS
	cpu       *procfs.CPUTracker
	procs     *procfs.ProcessSampler
	buf       []procfs.Process
	nd        []procfs.NetDev
	users     map[uint32]string
	temps     []procfs.TempSensor
	diskState *procfs.DiskState
}

func newLive(tb testing.TB) *live {
	fs, err := procfs.NewFS("/proc", "/sys")
	if err != nil {
		tb.Skip(err)
	}
	l := &live{fs: fs, cpu: fs.NewCPUTracker(), procs: fs.NewProcessSampler(), temps: fs.DiscoverTemps(), diskState: procfs.NewDiskState()}
	l.users, _ = fs.Users()
	tb.Cleanup(func() { l.procs.Close() })
	return l
}

func (l *live) metrics(tb testing.TB) *wire.Metrics {
	u, err := l.cpu.Sample(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	m := &wire.Metrics{SampledAtMs: uint64(time.Now().UnixMilli()), CpuTotal: float32(u.Total), CpuPerCore: make([]float32, len(u.PerCore))}
	for i, v := range u.PerCore {
		m.CpuPerCore[i] = float32(v)
	}
	mi, err := l.fs.Meminfo()
	if err != nil {
		tb.Fatal(err)
	}
	m.MemTotal, m.MemUsed, m.MemAvailable, m.SwapTotal, m.SwapUsed = mi.Total, mi.Used(), mi.Available, mi.SwapTotal, mi.SwapUsed()
	if la, err := l.fs.LoadAvg(); err == nil {
		m.Load1, m.Load5, m.Load15 = la.One, la.Five, la.Fifteen
	}
	if l.nd, err = l.fs.ReadNetDev(l.nd); err == nil {
		for _, n := range l.nd {
			m.Networks = append(m.Networks, &wire.Network{Name: n.Name, RxBytes: n.RxBytes, TxBytes: n.TxBytes, RxPackets: n.RxPackets, TxPackets: n.TxPackets})
		}
	}
	for _, t := range l.fs.ReadTemps(l.temps) {
		m.Temperatures = append(m.Temperatures, &wire.Temperature{Label: t.Label, Sensor: t.Chip, ValueC: float32(t.Celsius)})
	}
	return m
}

func (l *live) processes(tb testing.TB) *wire.Processes {
	ps, err := l.procs.Sample(context.Background(), l.buf)
	if err != nil {
		tb.Fatal(err)
	}
	l.buf = ps
	rows := make([]wire.ProcessInfo, len(ps))
	out := &wire.Processes{SampledAtMs: uint64(time.Now().UnixMilli()), Processes: make([]*wire.ProcessInfo, len(ps)), TicksPerSecond: uint32(l.fs.ClockTicks())}
	for i := range ps {
		p, r := &ps[i], &rows[i]
		r.Pid, r.Ppid, r.Name, r.State = uint32(p.PID), uint32(p.PPID), p.Name, string(rune(p.State))
		r.Uid, r.User = p.UID, l.users[p.UID]
		r.CpuPercent, r.RssBytes, r.VirtualBytes = float32(p.CPU), p.RSS, p.VSize
		r.Threads, r.CpuTicks, r.StartTime = uint32(p.Threads), p.UTime+p.STime, p.StartTime
		out.Processes[i] = r
	}
	return out
}

func (l *live) disks(tb testing.TB) *wire.Disks {
	ds, err := l.fs.Disks(l.diskState)
	if err != nil {
		tb.Fatal(err)
	}
	out := &wire.Disks{SampledAtMs: uint64(time.Now().UnixMilli())}
	for _, d := range ds {
		out.Disks = append(out.Disks, &wire.Disk{Name: d.Name, MountPoint: d.MountPoint, FsType: d.FSType, Total: d.Total, Available: d.Available,
			IsPartition: d.IsPartition && d.Parent != "", Parent: d.Parent, ReadBytes: d.ReadBytes, WriteBytes: d.WrittenBytes})
		if d.IsPartition && d.Parent != "" {
			out.Disks = append(out.Disks, &wire.Disk{Name: d.Parent, ReadBytes: d.ReadBytes, WriteBytes: d.WrittenBytes})
		}
	}
	return out
}

// daySource replays the live machine over a simulated day: a few real
// scans (metrics, disks, every process), then one sample every 10 s made
// from them with what changes on a real host: every CPU share jitters
// (×0.5…1.5), a short burst now and then (0.5 % of the processes per
// sample get 1…60 %), resident memory drifts, a few processes a sample
// are replaced by new pids (cron jobs, shells), and counters grow.
// FromSnapshot then picks the top processes out of the whole list.
type daySource struct {
	r       *rand.Rand
	scans   []*wire.Processes
	metrics []*wire.Metrics
	disks   []*wire.Disks
	work    wire.Processes
	rows    []wire.ProcessInfo
	names   []string
	nextPID uint32
	at      uint64
	i       int
	rx      uint64
}

func newDaySource(tb testing.TB, scans int) *daySource {
	l := newLive(tb)
	d := &daySource{r: rand.New(rand.NewPCG(1, 2)), at: uint64(time.Now().UnixMilli()), nextPID: 1 << 20}
	for range scans {
		time.Sleep(150 * time.Millisecond) // a real CPU window
		d.metrics = append(d.metrics, l.metrics(tb))
		d.scans = append(d.scans, l.processes(tb))
		d.disks = append(d.disks, l.disks(tb))
	}
	for _, p := range d.scans[0].Processes {
		d.names = append(d.names, p.Name)
	}
	return d
}

func (d *daySource) procCount() int { return len(d.scans[0].Processes) }

func (d *daySource) next() *wire.HistorySample {
	base := d.scans[d.i%len(d.scans)]
	m := d.metrics[d.i%len(d.metrics)]
	dk := d.disks[d.i%len(d.disks)]
	d.i++
	d.at += 10_000
	if len(d.rows) != len(base.Processes) {
		d.rows = make([]wire.ProcessInfo, len(base.Processes))
	}
	for i, p := range base.Processes {
		r := &d.rows[i]
		r.Pid, r.Name, r.CpuPercent = p.Pid, p.Name, p.CpuPercent*float32(0.5+d.r.Float64())
		r.RssBytes = uint64(float64(p.RssBytes)*(1+0.05*math.Sin(float64(d.i)/500+float64(p.Pid)))) &^ 4095
		if d.r.IntN(200) == 0 {
			r.CpuPercent = float32(1 + d.r.Float64()*59)
		}
	}
	for range 5 { // short-lived processes come and go
		i := d.r.IntN(len(d.rows))
		d.nextPID++
		d.rows[i].Pid, d.rows[i].Name = d.nextPID, d.names[d.r.IntN(len(d.names))]
	}
	d.work.Processes = d.work.Processes[:0]
	for i := range d.rows {
		d.work.Processes = append(d.work.Processes, &d.rows[i])
	}
	d.rx += uint64(d.r.IntN(10 << 20))
	mm := &wire.Metrics{SampledAtMs: d.at, CpuTotal: m.CpuTotal * float32(0.5+d.r.Float64()), CpuPerCore: m.CpuPerCore,
		MemTotal: m.MemTotal, MemUsed: m.MemUsed + uint64(d.r.IntN(64<<20))&^4095, SwapTotal: m.SwapTotal, SwapUsed: m.SwapUsed,
		Load1: m.Load1, Load5: m.Load5, Load15: m.Load15, Temperatures: m.Temperatures}
	for _, n := range m.Networks {
		mm.Networks = append(mm.Networks, &wire.Network{Name: n.Name, RxBytes: n.RxBytes + d.rx, TxBytes: n.TxBytes + d.rx/3})
	}
	dd := &wire.Disks{}
	for _, k := range dk.Disks {
		dd.Disks = append(dd.Disks, &wire.Disk{Name: k.Name, IsPartition: k.IsPartition, ReadBytes: k.ReadBytes + d.rx/2, WriteBytes: k.WriteBytes + d.rx/5})
	}
	return FromSnapshot(mm, dd, &d.work)
}

// dayStore records samples of d into a store bounded to 24 h at 10 s and
// returns it with the heap it holds (measured after a GC, so it counts
// every byte the store keeps, slices' spare capacity included).
func dayStore(d *daySource, n int) (*Store, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := New(Options{Retention: 24 * time.Hour, Interval: 10 * time.Second})
	for range n {
		if err := s.Append(d.next()); err != nil {
			panic(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(d)
	return s, after.HeapAlloc - before.HeapAlloc
}

const daySamples = 24 * 60 * 6 // 24 h at 10 s

// TestDayFitsIn4MiB: a day of samples of this machine with 1,000 processes
// takes at most 4 MiB of heap in the store.
func TestDayFitsIn4MiB(t *testing.T) {
	spawnSleepers(t, dayProcs)
	d := newDaySource(t, 4)
	s, heap := dayStore(d, daySamples)
	if s.Len() != daySamples {
		t.Fatalf("kept %d samples of %d", s.Len(), daySamples)
	}
	t.Logf("%d processes, %d cores, %d interfaces: %d samples in %d encoded bytes (%.0f B/sample), heap %.2f MiB",
		d.procCount(), len(d.metrics[0].CpuPerCore), len(d.metrics[0].Networks), s.Len(), s.Bytes(), float64(s.Bytes())/float64(s.Len()), float64(heap)/(1<<20))
	if heap > 4<<20 {
		t.Fatalf("a day takes %.2f MiB of heap, budget 4 MiB", float64(heap)/(1<<20))
	}
	if h := s.Query(0, math.MaxUint64, 0); len(h.Samples) != daySamples || len(h.Samples[daySamples-1].TopProcesses) == 0 {
		t.Fatalf("query gave %d samples", len(h.Samples))
	}
}
