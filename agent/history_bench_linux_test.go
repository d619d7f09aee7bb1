package agent

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs/proctest"
	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/proto"
)

// BenchmarkRecorderTickVsFloor is the flight recorder's real tick on a
// machine of 1,000 processes against one Floor scan (readdir of /proc and
// open+read+close of every /proc/<pid>/stat), in thread CPU time, measured
// alternately in one run:
//   - tick: a tick with nobody connected, which collects processes,
//     metrics and disks through the agent's caches, picks the top
//     processes and appends to a history file holding a full day (8,640
//     samples at 10 s, so every append also drops the oldest);
//   - client: a live client's collection of the same three kinds;
//   - shared-tick: the tick right after it, which takes the client's
//     samples from the caches and collects nothing.
//
// It also reports what that day of this agent's samples takes: the
// store's bytes (day-MiB) and the heap it holds (day-heap-MiB).
//
//	go test ./agent -run '^$' -bench RecorderTick -benchtime 20x
func BenchmarkRecorderTickVsFloor(b *testing.B) {
	proctest.TopUpProcesses(b, 1000)
	cfg := testConfig()
	cfg.History, cfg.HistoryInterval = 24*time.Hour, 10*time.Second
	cfg.HistoryFile = filepath.Join(b.TempDir(), "history.bin")
	a, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	r, ctx := a.rec, context.Background()
	heap0, _ := heapInUse()
	fillDay(b, a)
	heap1, _ := heapInUse()
	dayBytes, dayHeap := r.store.Bytes(), heap1-heap0
	a.coll.procs.Window, a.coll.cpu.Window = 0, 0 // no 150 ms pause between back-to-back scans
	fresh := func(k *kind) {
		if _, err := a.sharedCache(k).GetWithin(ctx, 0); err != nil {
			b.Fatal(err)
		}
	}
	before := r.store.Len()
	floor := proctest.NewFloor()
	proctest.Ratios(b, []proctest.Step{
		proctest.Named("floor", func() { floor.Scan() }),
		proctest.Named("tick", func() { r.record(ctx, 0) }),
		proctest.Named("client", func() { fresh(processesKind); fresh(metricsKind); fresh(disksKind) }),
		proctest.Named("shared-tick", func() { r.record(ctx, r.every/2) }),
	}, nil)
	if r.store.Len() < before {
		b.Fatalf("the store lost samples: %d, had %d", r.store.Len(), before)
	}
	b.ReportMetric(float64(dayBytes)/(1<<20), "day-MiB")
	b.ReportMetric(float64(dayHeap)/(1<<20), "day-heap-MiB")
	b.ReportMetric(float64(floor.Scan()), "procs")
}

// fillDay fills the agent's history with a day of samples (8,640 at
// 10 s, ending now) made from four real ticks of this machine, a second
// apart, their CPU shares and memory varied from one copy to the next.
func fillDay(b *testing.B, a *Agent) {
	b.Helper()
	ctx := context.Background()
	var real []*wire.HistorySample
	for range 4 {
		hs, err := a.historySample(ctx, 0)
		if err != nil {
			b.Fatal(err)
		}
		real = append(real, hs)
		time.Sleep(time.Second)
	}
	const day = 8640
	start := uint64(time.Now().Add(-24*time.Hour).UnixMilli()) + 20_000
	for i := range day {
		hs := proto.Clone(real[i%len(real)]).(*wire.HistorySample)
		hs.SampledAtMs = start + uint64(i)*10_000
		hs.CpuTotal = float32((i*37)%1000) / 10
		hs.MemUsed += uint64(i%97) << 12
		for j, p := range hs.TopProcesses {
			p.CpuUsage = float32((i*7+j*13)%500) / 10
			p.MemBytes += uint64(i%13) << 12
		}
		if err := a.rec.store.Append(hs); err != nil {
			b.Fatal(err)
		}
	}
	if n := a.rec.store.Len(); n != day {
		b.Fatalf("a day is %d samples, want %d", n, day)
	}
}
