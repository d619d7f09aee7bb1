package screen

import (
	"testing"

	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire/wiretest"
)

// Names from the agent reach the signal dialog as the agent sent them:
// tview would read "[red]" as a colour and eat it.
func TestKillDialogShowsNamesVerbatim(t *testing.T) {
	procs := wiretest.SampleProcesses(30)
	procs.Processes[16].Name = "[red]RED[-]" // pid 17
	m := wiretest.SampleMetrics()
	m.Hostname = "[blue]box[::b]"
	ag := wiretest.NewV2(wiretest.Config{Processes: procs, Metrics: m})
	t.Cleanup(ag.Close)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	hs.waitFor("k  kill", "[red]RED[-]")
	hs.filterFor("pid:17")
	hs.rune('k')
	hs.waitFor("Send SIGTERM to process 17", "([red]RED[-])", "[blue]box[::b]?")
}
