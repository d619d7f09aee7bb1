package agent

import (
	"context"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs/proctest"
)

// benchCadence is the processes interval the traffic benchmark simulates:
// the dashboard's default (tui/model.DefaultProcessesInterval).
const benchCadence = 2 * time.Second

// BenchmarkProcessesWithTraffic: the agent's process collection while a
// client wants the net and io extras (the socket dump, the owners, the io
// files, the totals) ÷ the same collection while nobody does, over 1,000
// processes and 2,000 TCP sockets, measured alternately on one locked
// thread in thread CPU time (two agents, so that each keeps its own
// state). The agent with extras samples on a clock that moves by
// benchCadence per collection, so its net totals are refreshed as they
// would be at that cadence (a dump every netRefresh, reused in between):
// the ratio is the average cost of one process sample of a dashboard's
// series (dumps/op: the share of samples that dumped; cpu-µs/dump and
// cpu-µs/reuse: the CPU of a sample with extras that dumped and of one
// that reused the dump). Sub-benchmarks: both extras, each alone, and
// both with a dump on every sample (netRefresh 0, as before it existed).
func BenchmarkProcessesWithTraffic(b *testing.B) {
	proctest.TopUpProcesses(b, 1000)
	proctest.OpenTCPPairs(b, 1000, 2048)
	for _, bc := range []struct {
		name    string
		x       extras
		refresh time.Duration
	}{
		{"net+io", extraTraffic, netRefresh},
		{"net", extraNet, netRefresh},
		{"io", extraIO, netRefresh},
		{"net+io/dump-every-sample", extraTraffic, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			base, with := benchAgent(b), benchAgent(b)
			clock := time.Now()
			with.coll.traffic.netEvery = bc.refresh
			with.coll.traffic.now = func() time.Time { return clock }
			ctx := context.Background()
			collect := func(a *Agent) int {
				s, err := a.coll.processes(ctx)
				if err != nil {
					b.Fatal(err)
				}
				return len(s.msg.Processes)
			}
			with.coll.traffic.ask(bc.x)
			collect(base)
			collect(with) // the first owner map is a full /proc/*/fd walk
			n, samples, dumps := 0, 0, 0
			var td, tr time.Duration
			alternately(b, func() { collect(base) }, func() {
				clock = clock.Add(benchCadence)
				with.coll.traffic.ask(bc.x)
				t0 := threadCPUTime()
				n = collect(with)
				d := threadCPUTime() - t0
				samples++
				if st := with.coll.traffic.stats(); st.NetAt.Equal(clock) {
					dumps++
					td += d
				} else {
					tr += d
				}
			})
			st := with.coll.traffic.stats()
			if st == nil || st.NetErr != nil {
				b.Fatalf("traffic stats %+v", st)
			}
			b.ReportMetric(float64(n), "procs")
			b.ReportMetric(float64(st.Sockets), "sockets")
			b.ReportMetric(float64(dumps)/float64(max(samples, 1)), "dumps/op")
			b.ReportMetric(float64(td.Microseconds())/float64(max(dumps, 1)), "cpu-µs/dump")
			b.ReportMetric(float64(tr.Microseconds())/float64(max(samples-dumps, 1)), "cpu-µs/reuse")
		})
	}
}

func benchAgent(b *testing.B) *Agent {
	a, err := New(testConfig())
	if err != nil {
		b.Fatal(err)
	}
	a.coll.procs.Window = 0
	b.Cleanup(func() { a.coll.procs.Close(); a.coll.traffic.release() })
	return a
}
