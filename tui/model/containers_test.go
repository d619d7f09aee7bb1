package model

import (
	"math"
	"testing"
	"time"

	"github.com/socktop/socktop/wire"
)

// THROT% is the share of the machine's CPU time a group spent throttled:
// the kernel sums throttled time over CPUs, so 6 s of it in 2 s on a
// 4-core machine is 75 %, and more than a second per core per second
// (an agent's counter gone wrong) shows 100, never more.
func TestContainerThrottledShareOfMachine(t *testing.T) {
	h := NewHost("pi", "ws://pi:3000/ws")
	h.Hello = &wire.Hello{Cores: 4}
	sample := func(at uint64, throttledUs uint64) {
		h.AddContainers(&wire.Containers{SampledAtMs: at, Containers: []*wire.Container{
			{Id: "a", Name: "a", Cgroup: "/a", ThrottledUs: throttledUs}}}, nil, time.Now())
	}
	sample(1000, 0)
	if got := h.Containers.Rows[0].Throttled; !math.IsNaN(got) {
		t.Errorf("one sample: throttled %v, want unknown", got)
	}
	sample(3000, 6_000_000)
	if got := h.Containers.Rows[0].Throttled; math.Abs(got-75) > 1e-9 {
		t.Errorf("6 s throttled in 2 s on 4 cores: %v %%, want 75", got)
	}
	sample(4000, 6_000_000+10_000_000)
	if got := h.Containers.Rows[0].Throttled; got != 100 {
		t.Errorf("10 s throttled in 1 s on 4 cores: %v %%, want 100 at most", got)
	}
}
