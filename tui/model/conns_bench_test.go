package model

import (
	"fmt"
	"testing"
	"time"

	"github.com/socktop/socktop/wire"
)

// connsSample5000 is a busy host: 5,000 sockets over 250 processes.
func connsSample5000(at uint64, grow uint64) *wire.Connections {
	cs := &wire.Connections{SampledAtMs: at}
	for i := range 5000 {
		c := tcpConn(fmt.Sprintf("10.0.%d.%d:%d", i/250, i%250, 1024+i), fmt.Sprintf("192.168.1.%d:443", i%200), TCPEstablished,
			uint32(100+i%250), uint64(i)*1000+grow, uint64(i)*500+grow)
		cs.Connections = append(cs.Connections, c)
	}
	return cs
}

// BenchmarkConnsRefresh5000 measures what the dashboard does with each
// 5,000-socket sample once it has arrived, in the steady state: fold it
// against the previous one (rates, CLOSED), then filter and sort the
// view. The baseline is
// decoding the same sample off the wire, which every client pays anyway;
// the ratio is reported as x-decode.
func BenchmarkConnsRefresh5000(b *testing.B) {
	s1, s2 := connsSample5000(1000, 0), connsSample5000(3000, 4096)
	raw, err := s2.MarshalVT()
	if err != nil {
		b.Fatal(err)
	}
	// the baseline, measured in the same run (testing.Benchmark cannot
	// nest in a benchmark)
	const baseRuns = 50
	start := time.Now()
	for range baseRuns {
		var cs wire.Connections
		if err := cs.UnmarshalVT(raw); err != nil {
			b.Fatal(err)
		}
	}
	baseNs := float64(time.Since(start).Nanoseconds()) / baseRuns
	// steady state: the same 5,000 sockets sample after sample
	now := time.Unix(100, 0)
	var m ConnModel
	m.Add(s1, now, time.Minute)
	var view []*ConnRow
	b.ReportAllocs()
	for b.Loop() {
		s2.SampledAtMs += 2000
		now = now.Add(2 * time.Second)
		m.Add(s2, now, time.Minute)
		view = view[:0]
		for i := range m.Rows {
			if !m.Rows[i].Listening() {
				view = append(view, &m.Rows[i])
			}
		}
		SortConns(view, CCRateIn, true)
	}
	per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(per/baseNs, "x-decode")
	b.ReportMetric(baseNs/1e6, "decode-ms")
}
