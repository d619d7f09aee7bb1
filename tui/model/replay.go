package model

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/history"
)

// Replay plays a recording (socktop connect --record, or an agent's
// history file) back as an agent would serve it, with no network: its
// Dial gives the watcher a Client whose metrics, disks and processes are
// the recording's at the playback position, and whose history is the
// recording up to that position, so the same screens show it. The
// position moves at the playback speed unless paused; Seek jumps.
type Replay struct {
	name        string
	store       *history.Store
	first, last uint64
	hello       *wire.Hello
	now         func() time.Time

	mu     sync.Mutex
	pos    uint64    // the position at anchor (Unix ms of the recording)
	anchor time.Time // when pos was set
	speed  float64
	paused bool
}

// Playback speeds: each Faster or Slower doubles or halves, within these.
const (
	MinReplaySpeed = 0.25
	MaxReplaySpeed = 64.0
)

// replayLookBack is how far back from the position a sample is looked for
// before the whole recording is searched (a gap).
const replayLookBack = time.Minute

// errNoNewSample: the position has not reached another sample (paused, at
// the end, or between two samples); the watcher waits, as for a request
// the agent refused.
var errNoNewSample = errors.New("replay: no new sample at this position")

// NewReplay plays the samples of s, named name in the header, from the
// first; now is the clock (nil: time.Now).
func NewReplay(name string, s *history.Store, now func() time.Time) (*Replay, error) {
	first, last, ok := s.Span()
	if !ok {
		return nil, fmt.Errorf("replay %s: the recording holds no samples", name)
	}
	if now == nil {
		now = time.Now
	}
	r := &Replay{name: name, store: s, first: first, last: last, now: now, pos: first, anchor: now(), speed: 1}
	hs := r.sampleAt(first)
	r.hello = &wire.Hello{Cores: uint32(len(hs.GetCpuPerCore())), MemTotal: hs.GetMemTotal(),
		Capabilities: []string{wire.CapMetrics, wire.CapDisks, wire.CapProcesses, wire.CapHistory}}
	return r, nil
}

// Name is what the header calls the recording.
func (r *Replay) Name() string { return r.name }

// position is the playback position now (r.mu held).
func (r *Replay) position() uint64 {
	if r.paused {
		return r.pos
	}
	gone := float64(r.now().Sub(r.anchor).Milliseconds()) * r.speed
	return min(r.pos+uint64(max(gone, 0)), r.last)
}

// rebase makes the position now the new anchor (r.mu held).
func (r *Replay) rebase() { r.pos, r.anchor = r.position(), r.now() }

// State is the playback: the position and the recording's span (Unix
// ms), the speed, and whether it is paused or has reached the end.
func (r *Replay) State() (at, first, last uint64, speed float64, paused, ended bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at = r.position()
	return at, r.first, r.last, r.speed, r.paused, at >= r.last
}

// TogglePause pauses or resumes; resuming at the end starts over.
func (r *Replay) TogglePause() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rebase()
	r.paused = !r.paused
	if !r.paused && r.pos >= r.last {
		r.pos = r.first
	}
}

// Seek moves the position by d (back when negative), within the recording.
func (r *Replay) Seek(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rebase()
	ms := d.Milliseconds()
	switch {
	case ms < 0 && uint64(-ms) > r.pos-r.first:
		r.pos = r.first
	case ms < 0:
		r.pos -= uint64(-ms)
	default:
		r.pos = min(r.pos+uint64(ms), r.last)
	}
}

// SetSpeed sets the speed, within the bounds.
func (r *Replay) SetSpeed(x float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rebase()
	r.speed = min(max(x, MinReplaySpeed), MaxReplaySpeed)
}

// Faster doubles the speed, Slower halves it, within the bounds.
func (r *Replay) Faster() { r.setSpeed(2) }
func (r *Replay) Slower() { r.setSpeed(0.5) }

func (r *Replay) setSpeed(f float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rebase()
	r.speed = min(max(r.speed*f, MinReplaySpeed), MaxReplaySpeed)
}

// sampleAt is the newest sample at or before t (the first one, before it).
func (r *Replay) sampleAt(t uint64) *wire.HistorySample {
	t = max(t, r.first)
	lookBack := uint64(replayLookBack.Milliseconds())
	h := r.store.Query(t-min(t-r.first, lookBack), t, 0)
	if len(h.Samples) == 0 {
		h = r.store.Query(r.first, t, 0)
	}
	return h.Samples[len(h.Samples)-1]
}

// Dial is the DialFunc of the replay: a connection to the recording.
func (r *Replay) Dial(context.Context, Target) (Client, error) { return &replayClient{r: r}, nil }

// replayClient is one watcher's connection to the replay.
type replayClient struct {
	r  *Replay
	mu sync.Mutex
	at uint64 // the time of the last metrics sample handed out
}

func (c *replayClient) now() *wire.HistorySample {
	c.r.mu.Lock()
	at := c.r.position()
	c.r.mu.Unlock()
	return c.r.sampleAt(at)
}

func (c *replayClient) Hello() *wire.Hello { return c.r.hello }
func (c *replayClient) Dialect() string    { return "replay" }
func (c *replayClient) Close() error       { return nil }

// Metrics is the sample at the position, once: until the position reaches
// another, errNoNewSample.
func (c *replayClient) Metrics(context.Context) (*wire.Metrics, error) {
	s := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.SampledAtMs == c.at {
		return nil, errNoNewSample
	}
	c.at = s.SampledAtMs
	m := &wire.Metrics{SampledAtMs: s.SampledAtMs, CpuTotal: s.CpuTotal, CpuPerCore: s.CpuPerCore,
		MemTotal: s.MemTotal, MemUsed: s.MemUsed, SwapTotal: s.SwapTotal, SwapUsed: s.SwapUsed,
		Load1: s.Load1, Load5: s.Load5, Load15: s.Load15, Networks: s.Networks, CpuTempC: s.HottestTempC}
	var top *wire.Process
	for _, p := range s.TopProcesses {
		if top == nil || p.CpuUsage > top.CpuUsage {
			top = p
		}
	}
	if top != nil && top.CpuUsage > 0 {
		m.TopProcess = &wire.ProcessInfo{Pid: top.Pid, Name: top.Name, CpuPercent: top.CpuUsage, RssBytes: top.MemBytes}
	}
	return m, nil
}

// ProcessesWith is the top processes the sample at the position kept (a
// recording keeps no command lines, traffic or I/O: extras are ignored).
func (c *replayClient) ProcessesWith(context.Context, *wire.ProcessExtras) (*wire.Processes, error) {
	s := c.now()
	p := &wire.Processes{SampledAtMs: s.SampledAtMs, Processes: make([]*wire.ProcessInfo, len(s.TopProcesses))}
	for i, t := range s.TopProcesses {
		p.Processes[i] = &wire.ProcessInfo{Pid: t.Pid, Name: t.Name, CpuPercent: t.CpuUsage, RssBytes: t.MemBytes}
	}
	return p, nil
}

// Disks are the sample's disk counters (a recording keeps no sizes).
func (c *replayClient) Disks(context.Context) (*wire.Disks, error) {
	s := c.now()
	return &wire.Disks{SampledAtMs: s.SampledAtMs, Disks: s.Disks}, nil
}

// History is the recording up to the position: a replay shows no future.
func (c *replayClient) History(_ context.Context, req *wire.HistoryRequest) (*wire.History, error) {
	c.r.mu.Lock()
	at := c.r.position()
	c.r.mu.Unlock()
	until := req.GetUntilMs()
	if until == 0 || until > at {
		until = at
	}
	return c.r.store.Answer(&wire.HistoryRequest{SinceMs: req.GetSinceMs(), UntilMs: until, MaxPoints: req.GetMaxPoints()}), nil
}

var errNotRecorded = fmt.Errorf("%w: a recording keeps no process details, journals or signals", wire.ErrNotSupported)

func (c *replayClient) ProcessDetail(context.Context, uint32) (*wire.ProcessDetail, error) {
	return nil, errNotRecorded
}

func (c *replayClient) Journal(context.Context, uint32, uint32) (*wire.Journal, error) {
	return nil, errNotRecorded
}

func (c *replayClient) Signal(context.Context, uint32, uint64, string) (*wire.SignalResult, error) {
	return nil, errNotRecorded
}

var (
	_ Client        = (*replayClient)(nil)
	_ HistoryClient = (*replayClient)(nil)
)
