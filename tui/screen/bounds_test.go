package screen

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// An agent that lists 2,000 new interfaces in every sample cannot make the
// dashboard remember them all: it follows at most model.MaxIfaces (those
// of the latest sample first), and forgets those not listed for a minute.
func TestInterfaceHistoriesBounded(t *testing.T) {
	a, scr := benchApp(t, 200, 60, 10)
	base := a.h.Metrics.GetSampledAtMs() + 1000
	for k := range 5 {
		m := wiretest.SampleMetrics()
		m.SampledAtMs = base + uint64(k)*1000
		m.Networks = nil
		for i := range 2000 {
			m.Networks = append(m.Networks, &wire.Network{Name: fmt.Sprintf("veth%d-%d", k, i), RxBytes: uint64(i)})
		}
		a.h.AddMetrics(m, time.Now())
		redraw(a, scr, 200, 60)
		if n, o := len(a.h.Ifaces), len(a.h.IfaceOrder); n > model.MaxIfaces || o > model.MaxIfaces {
			t.Fatalf("sample %d: %d interfaces remembered, %d listed; at most %d", k, n, o, model.MaxIfaces)
		}
	}
	if s := screenText(scr); !strings.Contains(s, "veth4-0") {
		t.Errorf("the interfaces followed are not drawn:\n%s", s)
	}
	// a minute later only what the agent still lists is remembered
	m := wiretest.SampleMetrics()
	m.SampledAtMs = base + 5000 + uint64(model.IfaceForget/time.Millisecond) + 1000
	a.h.AddMetrics(m, time.Now())
	redraw(a, scr, 200, 60)
	if len(a.h.Ifaces) != len(m.Networks) {
		t.Errorf("%d interfaces remembered a minute on, want the %d still listed", len(a.h.Ifaces), len(m.Networks))
	}
	if s := screenText(scr); !strings.Contains(s, "eth0") || strings.Contains(s, "veth") {
		t.Errorf("after a minute the pane should list eth0 only:\n%s", s)
	}
}

// screenText is what a screen shows, one line per row.
func screenText(scr tcell.SimulationScreen) string {
	cells, w, h := scr.GetContents()
	var b strings.Builder
	for y := range h {
		for x := range w {
			if c := cells[y*w+x]; len(c.Runes) > 0 && c.Runes[0] != 0 {
				b.WriteRune(c.Runes[0])
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
