package agent

import (
	"context"
	"strconv"
	"testing"

	"github.com/socktop/socktop/procfs/proctest"
	"github.com/socktop/socktop/wire"
)

// BenchmarkProcessListVsFloor is one uncached process-list request's work
// on a machine of 1,000 and of 10,000 processes, against one Floor scan
// (readdir of /proc and open+read+close of every /proc/<pid>/stat), in
// thread CPU time, measured alternately in one run: the collection
// (sample: the scan and the wire list), then each dialect's encoding of
// it (v2: the protobuf body; text: upstream's ProcessList, gzip-compressed,
// which the JSON and command dialects send). x-v2 and x-text are a whole
// request of that dialect (collection and encoding) ÷ Floor.
//
//	go test ./agent -run '^$' -bench 'ProcessListVsFloor/1000$' -benchtime 100x
//	go test ./agent -run '^$' -bench 'ProcessListVsFloor/10000' -benchtime 20x
func BenchmarkProcessListVsFloor(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			proctest.TopUpProcesses(b, n)
			a, err := New(testConfig())
			if err != nil {
				b.Fatal(err)
			}
			c := a.coll
			c.procs.Window = 0 // back to back: no 150 ms pause
			ctx := context.Background()
			var s *sample[*wire.Processes]
			collect := func() {
				if s, err = c.processes(ctx); err != nil {
					b.Fatal(err)
				}
			}
			collect()
			floor := proctest.NewFloor()
			proctest.Ratios(b, []proctest.Step{
				proctest.Named("floor", func() { floor.Scan() }),
				proctest.Named("sample", collect),
				proctest.Named("v2-encode", func() { s.v2Body() }),
				proctest.Named("text-encode", func() { s.frame(wire.DialectCommand, processesKind.encode) }),
			}, map[string][]string{"v2": {"sample", "v2-encode"}, "text": {"sample", "text-encode"}})
			b.ReportMetric(float64(len(s.msg.Processes)), "procs")
		})
	}
}
