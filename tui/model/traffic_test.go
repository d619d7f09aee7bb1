package model

import (
	"math"
	"testing"
	"time"

	"github.com/socktop/socktop/wire"
)

// procList is a one-process list (pid 10) sampled at ms; net totals read
// at netMS (0: an agent that does not say), each counter nil when negative.
func procList(ms, netMS uint64, rx, tx, read, write int64) *wire.Processes {
	opt := func(v int64) *uint64 {
		if v < 0 {
			return nil
		}
		u := uint64(v)
		return &u
	}
	return &wire.Processes{SampledAtMs: ms, NetSampledAtMs: netMS, Processes: []*wire.ProcessInfo{{
		Pid: 10, Name: "p", StartTime: 5,
		NetRxBytes: opt(rx), NetTxBytes: opt(tx), IoReadBytes: opt(read), IoWriteBytes: opt(write),
	}}}
}

// same reports whether two rates are equal, NaN (no rate) included.
func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// TestProcTrafficRates: the TCP rates go by net_sampled_at_ms when the
// agent sends it (it reuses a socket dump for a while): a list whose net
// totals were read at the same time as the last gives no new rate and
// keeps the last one, and the next reading's rate covers the whole time
// since the reading before; storage rates still go by sampled_at_ms. An
// agent that does not send it has both go by sampled_at_ms.
func TestProcTrafficRates(t *testing.T) {
	nan := math.NaN()
	type want struct{ in, out, read, write float64 }
	for _, c := range []struct {
		name  string
		lists []*wire.Processes
		want  []want
	}{{
		name: "net read with the list (older agent)",
		lists: []*wire.Processes{
			procList(1000, 0, 0, 0, 0, 0),
			procList(3000, 0, 2000, 4000, 6000, 8000),
		},
		want: []want{{nan, nan, nan, nan}, {1000, 2000, 3000, 4000}},
	}, {
		name: "net refreshed every other list",
		lists: []*wire.Processes{
			procList(1000, 1000, 0, 0, 0, 0),
			procList(3000, 1000, 0, 0, 2000, 0),            // the same dump: no TCP rate yet
			procList(5000, 5000, 8000, 400, 4000, 0),       // over the 4 s between the readings
			procList(7000, 5000, 8000, 400, 4000, 0),       // the same dump again: the last rate kept
			procList(9000, 9000, 12000, 400, 4000, 2000),   // over 4 s again
			procList(11000, 13000, 10000, 400, 4000, 2000), // a total went down: started over
		},
		want: []want{
			{nan, nan, nan, nan},
			{nan, nan, 1000, 0},
			{2000, 100, 1000, 0},
			{2000, 100, 0, 0},
			{1000, 0, 0, 1000},
			{nan, 0, 0, 0},
		},
	}, {
		name: "started after the dump: net unknown until the next",
		lists: []*wire.Processes{
			procList(1000, 1000, -1, -1, 0, 0),
			procList(3000, 1000, -1, -1, 1000, 0),
			procList(5000, 5000, 100, 100, 1000, 0),
			procList(7000, 9000, 500, 900, 1000, 0),
		},
		want: []want{{nan, nan, nan, nan}, {nan, nan, 500, 0}, {nan, nan, 0, 0}, {100, 200, 0, 0}},
	}} {
		h := NewHost("h", "ws://h")
		now := time.Unix(100, 0)
		for i, l := range c.lists {
			h.AddProcs(l, now.Add(time.Duration(i)*2*time.Second))
			r, w := h.Rows[0], c.want[i]
			if !same(r.NetIn, w.in) || !same(r.NetOut, w.out) || !same(r.DiskRead, w.read) || !same(r.DiskWrite, w.write) {
				t.Errorf("%s: list %d: rates in %v out %v read %v write %v, want %+v", c.name, i, r.NetIn, r.NetOut, r.DiskRead, r.DiskWrite, w)
			}
		}
	}
}
