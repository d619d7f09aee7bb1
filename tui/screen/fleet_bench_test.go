package screen

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire/wiretest"
)

// benchFleet builds a fleet of n hosts with two minutes of metrics each,
// without an event loop: each iteration is one full redraw.
func benchFleet(b *testing.B, n, w, h int) (*fleet, tcell.SimulationScreen) {
	b.Helper()
	scr := tcell.NewSimulationScreen("UTF-8")
	each := make([]Options, n)
	for i := range each {
		each[i].Target = model.Target{Label: fmt.Sprintf("node-%02d", i+1), URL: "ws://bench/ws"}
	}
	now := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	f, err := newFleet(ctx, each, Options{Screen: scr, Dial: noDial, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	scr.SetSize(w, h)
	for k, mb := range f.members {
		hs := mb.d.h
		hs.SetHello(wiretest.SampleHello())
		hs.Status = model.Status{Phase: model.PhaseConnected, Dialect: "v2"}
		for i := range 240 {
			m := wiretest.SampleMetrics()
			m.SampledAtMs += uint64(i * 500)
			m.CpuTotal = float32((i + k*7) % 100)
			for _, nw := range m.Networks {
				nw.RxBytes += uint64(i * i * 1000)
			}
			hs.AddMetrics(m, now)
		}
	}
	return f, scr
}

// BenchmarkFleetRedraw is one full redraw of a 50-host fleet, as tiles and
// as the table; Dashboard is one host's full dashboard at the same size
// (1000 processes), measured in the same run for the ratio.
func BenchmarkFleetRedraw(b *testing.B) {
	const w, h = 200, 60
	for _, table := range []bool{false, true} {
		name := "tiles_50hosts_200x60"
		if table {
			name = "table_50hosts_200x60"
		}
		b.Run(name, func(b *testing.B) {
			f, scr := benchFleet(b, 50, w, h)
			f.view.table = table
			b.ReportAllocs()
			for b.Loop() {
				scr.Clear()
				root := f.sh.Root()
				root.SetRect(0, 0, w, h)
				root.Draw(scr)
				scr.Show()
			}
		})
	}
	b.Run("dashboard_1000procs_200x60", func(b *testing.B) {
		a, scr := benchApp(b, w, h, 1000)
		b.ReportAllocs()
		for b.Loop() {
			redraw(a, scr, w, h)
		}
	})
}
