package agent

import (
	"bufio"
	"context"
	"io"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs/proctest"
)

// BenchmarkScrapeVsFloor is a /metrics scrape with no WebSocket client on
// a machine of ~380 processes, kind by kind, against one Floor scan (readdir
// of /proc and open+read+close of every /proc/<pid>/stat), in thread CPU
// time, measured alternately in one run. Each step collects afresh, as a
// scrape seconds after the previous one does (every cache has expired); the
// held files are let go after each scrape, as serveMetrics does with no
// client. x-scrape is the whole scrape (every kind and the agent's own
// series) ÷ Floor.
//
//	go test ./agent -run '^$' -bench ScrapeVsFloor -benchtime 200x
func BenchmarkScrapeVsFloor(b *testing.B) {
	proctest.TopUpProcesses(b, 380)
	cfg := testConfig()
	cfg.MetricsTTL, cfg.DisksTTL, cfg.ConnectionsTTL, cfg.ContainersTTL = 0, 0, 0, 0
	a, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	p := &promWriter{w: bufio.NewWriter(io.Discard)}
	a.coll.cpu.Window = 0 // back to back: no 150 ms pause
	write := func(k *kind) func() {
		i := a.reg.index[k]
		return func() {
			r, err := a.get(ctx, i, query{scrape: true})
			if err != nil {
				b.Fatal(err)
			}
			k.prom(p, r)
		}
	}
	steps := []proctest.Step{proctest.Named("floor", func() { proctest.NewFloor().Scan() })}
	var names []string
	for _, k := range a.reg.kinds {
		if k.prom != nil && (k.served == nil || a.has(k.capability)) {
			steps = append(steps, proctest.Named(k.name, write(k)))
			names = append(names, k.name)
		}
	}
	steps = append(steps, proctest.Named("agent", func() { a.writeAgentMetrics(p); a.releaseIdle() }))
	// The previous scrape was a scrape interval ago: CPU shares over it.
	a.coll.cpu.SampleWithin(ctx, time.Hour)
	proctest.Ratios(b, steps, map[string][]string{"scrape": append(names, "agent")})
}
