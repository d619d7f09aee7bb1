package model

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/history"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time       { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration)  { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }
func (c *fakeClock) set(t time.Time)      { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var _ = (*fakeClock).set

// TestReplayPlayback: the position moves with the clock at the speed,
// stops when paused and at the end, seeks within the recording; each
// sample is handed out once, with its processes; the history stops at the
// position.
func TestReplayPlayback(t *testing.T) {
	const first = 1_700_000_000_000
	s := history.New(history.Options{})
	for i := range 20 { // 10 s at 500 ms
		if err := s.Append(&wire.HistorySample{SampledAtMs: first + uint64(i)*500, CpuTotal: float32(i), CpuPerCore: []float32{1, 2},
			MemTotal: 1 << 30, TopProcesses: []*wire.Process{{Pid: uint32(100 + i), Name: "job", CpuUsage: float32(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	clk := newFakeClock(time.Unix(1e9, 0))
	r, err := NewReplay("rec", s, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Dial(context.Background(), Target{})
	ctx := context.Background()
	if c.Hello().GetCores() != 2 || !has(c, wire.CapHistory) || has(c, wire.CapProcessDetail) {
		t.Errorf("hello %v", c.Hello())
	}
	m, err := c.Metrics(ctx)
	if err != nil || m.SampledAtMs != first || m.CpuTotal != 0 {
		t.Fatalf("first metrics %v %v", m, err)
	}
	if _, err := c.Metrics(ctx); !errors.Is(err, errNoNewSample) || !requestError(err) {
		t.Errorf("the same position again: %v, want errNoNewSample (a request error)", err)
	}
	clk.add(2 * time.Second) // at 1×: sample 4
	if m, _ := c.Metrics(ctx); m.GetCpuTotal() != 4 {
		t.Errorf("after 2 s: cpu %v, want 4", m.GetCpuTotal())
	}
	if p, _ := c.ProcessesWith(ctx, nil); len(p.GetProcesses()) != 1 || p.Processes[0].Pid != 104 {
		t.Errorf("processes %v", p)
	}
	if h, _ := c.(HistoryClient).History(ctx, &wire.HistoryRequest{}); len(h.Samples) != 5 {
		t.Errorf("history up to the position: %d samples, want 5", len(h.GetSamples()))
	}
	r.SetSpeed(4)
	clk.add(time.Second) // 4 s of recording: sample 12
	if m, _ := c.Metrics(ctx); m.GetCpuTotal() != 12 {
		t.Errorf("at 4× after 1 s: cpu %v, want 12", m.GetCpuTotal())
	}
	r.TogglePause()
	clk.add(time.Hour)
	if at, _, _, _, paused, _ := r.State(); !paused || at != first+6000 {
		t.Errorf("paused: at %d, paused %v", at-first, paused)
	}
	r.Seek(-time.Hour)
	if at, _, _, _, _, _ := r.State(); at != first {
		t.Errorf("seek before the start: %d", at-first)
	}
	r.Seek(time.Hour)
	if at, _, last, _, _, ended := r.State(); at != last || !ended {
		t.Errorf("seek past the end: %d, ended %v", at-first, ended)
	}
	r.TogglePause() // at the end: from the start
	if at, _, _, _, paused, _ := r.State(); paused || at != first {
		t.Errorf("play at the end: at %d, paused %v", at-first, paused)
	}
	r.SetSpeed(1000)
	if _, _, _, speed, _, _ := r.State(); speed != MaxReplaySpeed {
		t.Errorf("speed %v, want at most %v", speed, MaxReplaySpeed)
	}
	if _, err := NewReplay("empty", history.New(history.Options{}), nil); err == nil {
		t.Error("an empty recording replays")
	}
}

// TestRecordingSkipsWhatIsNotNewer: a recording appends one sample per
// newer metrics sample, with the newest processes received, and keeps
// going after a sample that is not newer; reopened, it appends after.
func TestRecordingSkipsWhatIsNotNewer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.rec")
	rec, err := OpenRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	var none *Recording
	none.metrics(&wire.Metrics{}, 1) // not recording: nothing happens
	rec.processes(&wire.Processes{Processes: []*wire.ProcessInfo{{Pid: 9, Name: "x", CpuPercent: 5}}})
	for _, at := range []uint64{1000, 2000, 2000, 1500, 3000} {
		rec.metrics(&wire.Metrics{SampledAtMs: at, CpuTotal: float32(at / 1000)}, at)
	}
	if _, n, err := rec.Status(); n != 3 || err != nil {
		t.Errorf("%d samples recorded (%v), want 3", n, err)
	}
	rec.Close()
	rec, err = OpenRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	rec.metrics(&wire.Metrics{SampledAtMs: 2500}, 2500) // older than what the file holds
	rec.metrics(&wire.Metrics{SampledAtMs: 4000}, 4000)
	rec.Close()
	s, _, err := history.Load(path, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Query(0, 1<<62, 0)
	if len(h.Samples) != 4 || h.Samples[3].SampledAtMs != 4000 || h.Samples[0].TopProcesses[0].Pid != 9 {
		t.Errorf("the file holds %d samples: %v", len(h.Samples), h.Samples)
	}
}
