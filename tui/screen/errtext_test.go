package screen

import (
	"fmt"
	"strings"
	"testing"

	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// The dashboard says "agent sent an implausible sample" first, whatever
// path the error took.
func TestErrTextImplausible(t *testing.T) {
	err := fmt.Errorf("closed: metrics: decode response 2: %w: 1000000 cores (a machine has at most 8192)", wire.ErrImplausible)
	if got := errText(err); !strings.HasPrefix(got, "agent sent an implausible sample: 1000000 cores") {
		t.Errorf("errText = %q", got)
	}
}

// An agent whose metrics no machine could have: the dashboard says so.
func TestImplausibleAgentIsShown(t *testing.T) {
	m := wiretest.SampleMetrics()
	m.CpuPerCore = make([]float32, wire.MaxCores+1)
	ag := wiretest.NewV2(wiretest.Config{Metrics: m})
	t.Cleanup(ag.Close)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 160, 40)
	hs.waitFor("agent sent an implausible sample: 8193 cores")
}
