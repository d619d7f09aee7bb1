package screen

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// benchApp builds the dashboard at w×h with n processes and a minute of
// history, without an event loop: each iteration is one full redraw.
func benchApp(b testing.TB, w, h, n int) (*dash, tcell.SimulationScreen) {
	b.Helper()
	scr := tcell.NewSimulationScreen("UTF-8")
	a := newSingle(context.Background(), Options{Target: model.Target{URL: "ws://bench/ws"}, Screen: scr, Dial: noDial})
	scr.SetSize(w, h)
	return fillBench(a, n, time.Now()), scr
}

// fillBench gives a dashboard two minutes of metrics, two disk samples and
// n processes, all taken at now.
func fillBench(a *dash, n int, now time.Time) *dash {
	a.h.SetHello(wiretest.SampleHello())
	a.h.Status = model.Status{Phase: model.PhaseConnected, Dialect: "v2", RTT: time.Millisecond}
	for i := range 240 { // two minutes of metrics at 500 ms
		m := wiretest.SampleMetrics()
		m.SampledAtMs += uint64(i * 500)
		m.CpuTotal = float32(i % 100)
		for j := range m.CpuPerCore {
			m.CpuPerCore[j] = float32((i + j*10) % 100)
		}
		for _, nw := range m.Networks {
			nw.RxBytes += uint64(i * i * 1000)
			nw.TxBytes += uint64(i * 500)
		}
		a.h.AddMetrics(m, now)
	}
	for i := range 2 {
		d := wiretest.SampleDisks()
		d.SampledAtMs += uint64(i * 5000)
		a.h.AddDisks(d, now)
	}
	a.h.AddProcs(wiretest.SampleProcesses(n), now)
	return a
}

// noDial is a dialer for models that are filled by hand.
func noDial(context.Context, model.Target) (model.Client, error) {
	return nil, errors.New("not dialled")
}

// redraw is one frame as the event loop draws it: on the shell's frame
// screen over scr.
func redraw(a *dash, _ tcell.SimulationScreen, w, h int) {
	fs := a.sh.Screen()
	fs.Clear()
	root := a.sh.Root()
	root.SetRect(0, 0, w, h)
	root.Draw(fs)
	fs.Show()
}

// BenchmarkRedraw is one full redraw of the dashboard; Baseline is clearing
// and showing the same screen with nothing drawn, for the ratio.
func BenchmarkRedraw(b *testing.B) {
	for _, sz := range []struct{ w, h, n int }{{200, 60, 1000}, {120, 40, 1000}, {80, 24, 300}} {
		b.Run(fmt.Sprintf("%dx%d_%dprocs", sz.w, sz.h, sz.n), func(b *testing.B) {
			a, scr := benchApp(b, sz.w, sz.h, sz.n)
			redraw(a, scr, sz.w, sz.h)
			b.ReportAllocs()
			c := startCPU()
			for b.Loop() {
				redraw(a, scr, sz.w, sz.h)
			}
			c.report(b)
		})
	}
	b.Run("200x60_1000procs_newdata", func(b *testing.B) {
		// a new process list every frame: filter, sort and draw
		a, scr := benchApp(b, 200, 60, 1000)
		p := wiretest.SampleProcesses(1000)
		b.ReportAllocs()
		c := startCPU()
		for b.Loop() {
			a.h.AddProcs(p, time.Now())
			redraw(a, scr, 200, 60)
		}
		c.report(b)
	})
	b.Run("200x60_1000procs_tree", func(b *testing.B) {
		a, scr := benchApp(b, 200, 60, 1000)
		a.procs.tree = treeParents
		p := wiretest.SampleProcesses(1000)
		b.ReportAllocs()
		c := startCPU()
		for b.Loop() {
			a.h.AddProcs(p, time.Now())
			redraw(a, scr, 200, 60)
		}
		c.report(b)
	})
	b.Run("baseline_200x60_empty", func(b *testing.B) {
		scr := tcell.NewSimulationScreen("UTF-8")
		scr.Init()
		scr.SetSize(200, 60)
		c := startCPU()
		for b.Loop() {
			scr.Clear()
			scr.Show()
		}
		c.report(b)
	})
}

// BenchmarkAddProcs is the cost of taking in one 1000-process list.
func BenchmarkAddProcs(b *testing.B) {
	a, _ := benchApp(b, 200, 60, 10)
	p := wiretest.SampleProcesses(1000)
	b.ReportAllocs()
	for b.Loop() {
		a.h.AddProcs(p, time.Now())
	}
	_ = wire.CapMetrics
}

// cpuClock measures the process's CPU time (user+system, all threads) so a
// benchmark can report CPU per operation next to wall time: on a shared,
// busy machine wall time includes waiting for a core.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{start: processCPU()} }

func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
}

// Every terminal size draws without panicking, down to nothing at all, in
// every screen state.
func TestAnySizeDraws(t *testing.T) {
	a, scr := benchApp(t, 10, 10, 50)
	for _, state := range []func(){
		func() {},
		func() {
			a.detail.open(3, "nginx")
			a.h.AddDetail(3, wiretest.SampleDetail(), nil, time.Now())
			a.h.AddJournal(3, wiretest.SampleJournal(), nil)
		},
		func() { a.sh.ToggleHelp() },
		func() {
			a.h.Status = model.Status{Phase: model.PhasePin, Err: &wire.PinMismatchError{Want: []string{"sha256:aa"}, Got: "sha256:bb"}}
		},
	} {
		state()
		for w := 0; w <= 130; w += 13 {
			for h := 0; h <= 50; h += 7 {
				scr.SetSize(w, h)
				redraw(a, scr, w, h)
			}
		}
	}
}
