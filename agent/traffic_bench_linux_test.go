package agent

import (
	"context"
	"testing"

	"github.com/socktop/socktop/procfs/proctest"
)

// BenchmarkProcessesWithTraffic: the agent's process collection while a
// client wants the net and io extras (the socket dump, the owners, the io
// files, the totals) ÷ the same collection while nobody does, over 1,000
// processes and 2,000 TCP sockets, measured alternately on one locked
// thread in thread CPU time (two agents, so that each keeps its own
// state). Sub-benchmarks: both extras, each alone.
func BenchmarkProcessesWithTraffic(b *testing.B) {
	proctest.TopUpProcesses(b, 1000)
	proctest.OpenTCPPairs(b, 1000, 2048)
	for _, bc := range []struct {
		name string
		x    extras
	}{{"net+io", extraTraffic}, {"net", extraNet}, {"io", extraIO}} {
		b.Run(bc.name, func(b *testing.B) {
			base, with := benchAgent(b), benchAgent(b)
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
			n := 0
			alternately(b, func() { collect(base) }, func() {
				with.coll.traffic.ask(bc.x)
				n = collect(with)
			})
			st := with.coll.traffic.stats()
			if st == nil || st.NetErr != nil {
				b.Fatalf("traffic stats %+v", st)
			}
			b.ReportMetric(float64(n), "procs")
			b.ReportMetric(float64(st.Sockets), "sockets")
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
