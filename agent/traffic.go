package agent

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/socktop/socktop/agent/internal/proctraffic"
	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/procfs/sockdiag"
)

// Per-process traffic and storage I/O (ProcessExtras.net and .io,
// PROTOCOL.md §5.3) cost a socket dump and an io file per process, so a
// process sample computes them only while some client asks: for the union
// of what was asked within trafficRecently, over the whole process list
// (before it is cut to what a client accepts). The proctraffic.Sampler is
// made on the first sample that needs it, let go of its held io files when
// nobody wants the extras, and dropped with its totals when nobody is
// connected.

// trafficRecently is how long after the last request for net or io the
// process samples keep computing it, so that the samples taken between an
// asking client's requests (for another client, the busiest process of a
// metrics sample) carry them too and no request has to collect again.
const trafficRecently = 5 * time.Second

// netRefresh is how long a socket dump's net totals are reused: the dump
// is most of the extras' cost (the kernel walks its whole TCP hash), so
// at the dashboard's 2 s cadence one process sample in five dumps (10 s
// apart: the limit falls between two samples, so jitter cannot make it
// alternate) and the others carry its totals, with
// Processes.net_sampled_at_ms saying when they were read (PROTOCOL.md
// §5.3). BenchmarkProcessesWithTraffic (average per sample ÷ a sample
// without extras, 2,000 sockets): a dump every sample 2.14–2.22×, one in
// five 1.45–1.51× (one in four, 7 s: 1.42–1.48×, within the noise).
const netRefresh = 9 * time.Second

// trafficSample is what the extras of one process sample are.
type trafficSample struct {
	want  proctraffic.Want
	ex    []proctraffic.Extras // one per process of the sample
	netAt time.Time            // when ex's net totals were read (zero: none)
}

type traffic struct {
	fs *procfs.FS
	sd *sockdiag.Collector // shared with the connections kind: one inode → pid map

	net, io atomic.Int64 // when each was last asked (Unix ns)

	mu sync.Mutex
	// netEvery is the sampler's NetRefresh; now its clock (tests and
	// benchmarks set them before the first sample).
	netEvery time.Duration
	now      func() time.Time
	s        *proctraffic.Sampler // nil until wanted, and after release
	closed   bool                 // s's io files are let go of
}

func newTraffic(fs *procfs.FS, sd *sockdiag.Collector) *traffic {
	return &traffic{fs: fs, sd: sd, netEvery: netRefresh, now: time.Now}
}

// ask records that a client wants the extras in x now.
func (t *traffic) ask(x extras) {
	now := time.Now().UnixNano()
	if x&extraNet != 0 {
		t.net.Store(now)
	}
	if x&extraIO != 0 {
		t.io.Store(now)
	}
}

// wanted is what was asked within trafficRecently.
func (t *traffic) wanted() proctraffic.Want {
	var w proctraffic.Want
	if time.Since(time.Unix(0, t.net.Load())) < trafficRecently {
		w |= proctraffic.Net
	}
	if time.Since(time.Unix(0, t.io.Load())) < trafficRecently {
		w |= proctraffic.IO
	}
	return w
}

// sample returns the extras wanted now for every process of ps (a
// collector's sample, in its order); nothing when nobody wants them,
// letting go of the held files then.
func (t *traffic) sample(ps []procfs.Process) trafficSample {
	want := t.wanted()
	t.mu.Lock()
	defer t.mu.Unlock()
	if want == 0 {
		if t.s != nil && !t.closed {
			t.s.Close()
			t.closed = true
		}
		return trafficSample{}
	}
	if t.s == nil {
		t.s = proctraffic.NewSampler(t.fs, t.sd, proctraffic.Limits{})
		t.s.NetRefresh = t.netEvery
	}
	t.closed = false
	// A slice per sample: the sample keeps it until its replies are made.
	ex := t.s.SampleAt(ps, want, nil, t.now())
	return trafficSample{want: want, ex: ex, netAt: t.s.Stats().NetAt}
}

// stats is what the last sample did (nil: no sampler).
func (t *traffic) stats() *proctraffic.Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.s == nil {
		return nil
	}
	st := t.s.Stats()
	return &st
}

// release drops the sampler and its totals: nobody is connected.
func (t *traffic) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.s != nil {
		t.s.Close()
		t.s = nil
	}
}
