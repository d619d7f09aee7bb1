package screen

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire/wiretest"
)

// byteTTY is a terminal of a fixed size that counts what is written to it.
type byteTTY struct {
	mu     sync.Mutex
	n      int64
	w, h   int
	closed chan struct{}
}

func newByteTTY(w, h int) *byteTTY { return &byteTTY{w: w, h: h, closed: make(chan struct{})} }

func (t *byteTTY) Start() error        { return nil }
func (t *byteTTY) Stop() error         { return nil }
func (t *byteTTY) Drain() error        { return nil }
func (t *byteTTY) NotifyResize(func()) {}
func (t *byteTTY) Close() error        { return nil }
func (t *byteTTY) WindowSize() (tcell.WindowSize, error) {
	return tcell.WindowSize{Width: t.w, Height: t.h}, nil
}
func (t *byteTTY) Read([]byte) (int, error) { <-t.closed; return 0, errors.New("closed") }
func (t *byteTTY) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.n += int64(len(p))
	t.mu.Unlock()
	return len(p), nil
}

func (t *byteTTY) written() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// ttyApp is benchApp's dashboard on a real tcell terminal screen (xterm's
// terminfo) writing to a byteTTY.
func ttyApp(tb testing.TB, w, h int, now func() time.Time) (*dash, *byteTTY) {
	tb.Helper()
	tb.Setenv("TERM", "xterm-256color")
	tty := newByteTTY(w, h)
	scr, err := tcell.NewTerminfoScreenFromTty(tty)
	if err != nil {
		tb.Fatal(err)
	}
	a := newSingle(context.Background(), Options{Target: model.Target{URL: "ws://bench/ws"}, Screen: scr, Dial: noDial, Now: now})
	fillBench(a, 100, now())
	tb.Cleanup(func() { close(tty.closed); scr.Fini() })
	return a, tty
}

// frame draws the dashboard as the event loop does and returns the bytes
// it wrote to the terminal.
func frame(a *dash, tty *byteTTY, w, h int) int64 {
	before := tty.written()
	redraw(a, nil, w, h)
	return tty.written() - before
}

// A frame that changes nothing writes next to nothing: tcell sends only
// the cells that changed, and tview's clear before each frame no longer
// makes every cell look changed.
func TestUnchangedFrameWritesLittle(t *testing.T) {
	a, tty := ttyApp(t, 120, 40, time.Now)
	first := frame(a, tty, 120, 40)
	again := frame(a, tty, 120, 40)
	if first < 4000 || again > 64 {
		t.Errorf("first frame wrote %d bytes, the same frame again %d: want the whole screen, then only cursor bookkeeping", first, again)
	}
}

// BenchmarkTerminalBytes is one second of the dashboard at 120×40 at the
// default cadence: two metrics samples, a process list every other second
// (CPU figures that move, rows that re-sort) and the redraws they cause,
// plus the once-a-second clock. It reports what that writes to an xterm.
func BenchmarkTerminalBytes(b *testing.B) {
	now := time.Now()
	a, tty := ttyApp(b, 120, 40, func() time.Time { return now })
	rng := rand.New(rand.NewPCG(1, 2))
	procs := wiretest.SampleProcesses(300)
	sec := 0
	cpu := 30.0
	sample := func() {
		m := wiretest.SampleMetrics()
		now = now.Add(500 * time.Millisecond)
		m.SampledAtMs = uint64(now.UnixMilli())
		cpu = min(max(cpu+rng.NormFloat64()*8, 0), 100)
		m.CpuTotal = float32(cpu)
		for j := range m.CpuPerCore {
			m.CpuPerCore[j] = float32(min(max(cpu+rng.NormFloat64()*10, 0), 100))
		}
		for _, nw := range m.Networks {
			nw.RxBytes += uint64(sec*1000) + uint64(rng.IntN(50000))
			nw.TxBytes += uint64(sec*500) + uint64(rng.IntN(20000))
		}
		a.h.AddMetrics(m, now)
	}
	frame(a, tty, 120, 40)
	var bytes int64
	for b.Loop() {
		sample()
		bytes += frame(a, tty, 120, 40)
		sample()
		if sec%2 == 0 {
			for _, p := range procs.Processes {
				p.CpuPercent = float32(max(rng.NormFloat64()*2, 0))
			}
			procs.SampledAtMs = uint64(now.UnixMilli())
			a.h.AddProcs(procs, now)
		}
		bytes += frame(a, tty, 120, 40)
		bytes += frame(a, tty, 120, 40) // the clock's redraw
		sec++
	}
	b.ReportMetric(float64(bytes)/float64(b.N), "term-B/s")
}
