package screen

import (
	"strings"
	"testing"

	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// The CPU pane says where the time went when the agent sends the
// breakdown, in top's short names where the long ones do not fit; without
// one (upstream agents, older ones) the line is not there.
func TestCPUBreakdown(t *testing.T) {
	m := wiretest.SampleMetrics()
	m.CpuBreakdown = &wire.CpuBreakdown{User: 6, Nice: 2.1, System: 3.2, Idle: 75, Iowait: 12, Irq: 0.1, Softirq: 0.2, Steal: 1.4}
	ag := wiretest.NewV2(wiretest.Config{Metrics: m, Processes: wiretest.SampleProcesses(5)})
	t.Cleanup(ag.Close)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 200, 50)
	hs.waitFor("user 8.1  sys 3.2  iowait 12.0  irq 0.3  steal 1.4")
	hs.resize(100, 40)
	hs.waitFor("us 8.1  sy 3.2  wa 12.0  hi 0.3  st 1.4")

	plain := v2Agent(t, 5)
	hs = startApp(t, Options{Target: model.Target{URL: plain.URL}}, 200, 50)
	s := hs.waitFor("─ cpu ", "socktop-4")
	if strings.Contains(s, "iowait") || strings.Contains(s, " wa ") {
		t.Errorf("a breakdown line without a breakdown:\n%s", s)
	}
}
