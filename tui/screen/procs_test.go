package screen

import (
	"fmt"
	"strings"
	"testing"

	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// cmdAgent is a v2 agent that serves command lines (process extras): the
// python3 processes run the same script on different ports, the kworkers
// have none (kernel threads).
func cmdAgent(t *testing.T, n int) *wiretest.Agent {
	t.Helper()
	h := wiretest.SampleHello()
	h.Capabilities = append(h.Capabilities, wire.CapProcessExtras)
	p := wiretest.SampleProcesses(n)
	for _, pi := range p.Processes {
		switch {
		case strings.HasPrefix(pi.Name, "python3"):
			pi.Command = fmt.Sprintf("/usr/bin/python3 /srv/app.py --port=%d", 8000+pi.Pid)
		case !strings.HasPrefix(pi.Name, "kworker"):
			pi.Command = "/usr/sbin/" + pi.Name + " --serve"
		}
		pi.Nice = int32(pi.Pid%5) - 2
	}
	ag := wiretest.NewV2(wiretest.Config{Hello: h, Processes: p})
	t.Cleanup(ag.Close)
	return ag
}

// header is the process table's header line.
func header(s string) string { return lineWith(s, "PID") }

// The command line takes the spare width; p shows the name only, the
// command line only, then both again; the name stands where a process
// has no command line.
func TestCommandColumnAndToggle(t *testing.T) {
	ag := cmdAgent(t, 40)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 200, 50)
	s := hs.waitFor("/usr/bin/python3 /srv/app.py --port=8010", "/usr/sbin/nginx-16 --serve")
	if h := header(s); !strings.Contains(h, "NAME") || !strings.Contains(h, "COMMAND") || !strings.Contains(h, " NI ") {
		t.Fatalf("header %q lacks NAME, COMMAND or NI", h)
	}
	if l := lineWith(s, "--port=8010"); !strings.Contains(l, "python3-9 ") {
		t.Errorf("the row with the command line lacks its name: %q", l)
	}
	// COMMAND starts where NAME's width ends (after the traffic columns)
	// and runs to the border
	h := header(s)
	if at := strings.Index(h, "COMMAND"); at < 0 || at > 140 {
		t.Errorf("COMMAND does not take the spare width: %q", h)
	}
	at := len([]rune(h[:strings.Index(h, "COMMAND")]))
	if l := lineWith(s, "kworker/0:1-events-11"); !strings.HasPrefix(string([]rune(l)[at:]), "kworker/0:1-events-11") {
		t.Errorf("a process without a command line should show its name in COMMAND: %q", l)
	}
	hs.rune('p')
	s = hs.waitUntil("names only", func(s string) bool { return !strings.Contains(header(s), "COMMAND") })
	if strings.Contains(s, "--port=") || !strings.Contains(s, "python3-9 ") {
		t.Errorf("name mode still shows command lines:\n%s", s)
	}
	hs.rune('p')
	s = hs.waitUntil("command lines only", func(s string) bool {
		h := header(s)
		return strings.Contains(h, "COMMAND") && !strings.Contains(h, "NAME")
	})
	if !strings.Contains(s, "/srv/app.py --port=8010") || strings.Contains(s, "python3-9 ") {
		t.Errorf("command mode does not show the command in the name's place:\n%s", s)
	}
	hs.rune('p')
	hs.waitUntil("both again", func(s string) bool {
		h := header(s)
		return strings.Contains(h, "COMMAND") && strings.Contains(h, "NAME")
	})
	extras := ag.ProcessExtras()
	if len(extras) == 0 || !extras[len(extras)-1].GetCommand() {
		t.Errorf("the dashboard showing commands did not ask for them: %v", extras)
	}
}

// While no command column is drawn — the terminal too narrow for it, or
// the names only chosen — the agent is never asked for command lines.
func TestNoCommandLinesAskedWhileHidden(t *testing.T) {
	ag := cmdAgent(t, 40)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}, ProcessesInterval: 200e6}, 60, 24)
	s := hs.waitFor("nginx-16")
	if strings.Contains(header(s), "COMMAND") {
		t.Fatalf("COMMAND drawn at 60 columns: %q", header(s))
	}
	hs.waitUntil("five process lists", func(string) bool { return len(ag.ProcessExtras()) >= 5 })
	for i, ex := range ag.ProcessExtras() {
		if ex.GetCommand() {
			t.Fatalf("request %d asked for command lines while no column showed them", i)
		}
	}
	hs.resize(200, 50)
	hs.waitFor("--port=8010")
	hs.rune('p') // names only
	hs.waitUntil("names only", func(s string) bool { return !strings.Contains(header(s), "COMMAND") })
	var n int
	hs.onUI(func() { n = len(ag.ProcessExtras()) })
	hs.waitUntil("five more process lists", func(string) bool { return len(ag.ProcessExtras()) >= n+5 })
	for i, ex := range ag.ProcessExtras()[n+1:] { // one may have been in flight
		if ex.GetCommand() {
			t.Errorf("request %d after p still asked for command lines", n+1+i)
		}
	}
}

// The filter matches arguments, not only names.
func TestFilterMatchesArguments(t *testing.T) {
	ag := cmdAgent(t, 40)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 200, 50)
	hs.waitFor("--port=8010")
	s := hs.filterFor("port=8020")
	if !strings.Contains(s, "--port=8020") || strings.Contains(s, "--port=8010") || strings.Contains(s, "nginx-6") {
		t.Errorf("filter port=8020 does not show exactly that process:\n%s", s)
	}
	hs.key(0x1b) // Esc
	hs.rune('p') // names only: the filter still matches arguments
	hs.waitUntil("names only", func(s string) bool { return !strings.Contains(header(s), "COMMAND") })
	s = hs.filterFor("port=8030")
	if !strings.Contains(s, "python3-29") || strings.Contains(s, "python3-9 ") {
		t.Errorf("in name mode, filter port=8030 does not find python3-29 by its arguments:\n%s", s)
	}
}

// A filter that matches nothing says so.
func TestEmptyFilterSaysNoMatch(t *testing.T) {
	ag := v2Agent(t, 20)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	hs.waitFor("nginx-16")
	hs.filterFor("no-such-process")
	hs.waitFor(`no process matches "no-such-process"`)
}

// An upstream agent sends no command lines: the names stay, no COMMAND
// column, nothing asked.
func TestUpstreamAgentKeepsNames(t *testing.T) {
	ag := wiretest.NewUpstream(wiretest.Config{Processes: wiretest.SampleProcesses(20)})
	t.Cleanup(ag.Close)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 200, 50)
	s := hs.waitFor("nginx-16")
	if h := header(s); strings.Contains(h, "COMMAND") || !strings.Contains(h, "NAME") {
		t.Errorf("upstream agent's header %q", h)
	}
}

// CPU% is per core by default (a process using a whole core shows ~100
// on any machine, as in top): the agent's share of the machine times the
// cores. % switches to the share of the machine, and the header and the
// table say which is on.
func TestCPUModeToggleAndHeader(t *testing.T) {
	p := wiretest.SampleProcesses(5)
	for _, pi := range p.Processes {
		pi.CpuPercent = 0
	}
	p.Processes[3].CpuPercent = 24.9 // a whole core of the sample's four
	ag := wiretest.NewV2(wiretest.Config{Processes: p})
	t.Cleanup(ag.Close)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	s := hs.waitFor("bash-3", "CPU% per core")
	if l := lineWith(s, "bash-3"); !strings.Contains(l, " 99.6 ") {
		t.Errorf("per core, a whole core should read 99.6: %q", l)
	}
	if !strings.Contains(lineWith(s, "connected"), "CPU% per core") || !strings.Contains(lineWith(s, "─ processes "), "CPU% per core") {
		t.Errorf("the header and the table do not both say per core:\n%s", s)
	}
	hs.rune('%')
	s = hs.waitFor("CPU% of machine")
	if l := lineWith(s, "bash-3"); !strings.Contains(l, " 24.9 ") {
		t.Errorf("of the machine, the agent's 24.9 should show: %q", l)
	}
	if !strings.Contains(lineWith(s, "connected"), "CPU% of machine") || strings.Contains(s, "per core") {
		t.Errorf("the header does not follow the mode:\n%s", s)
	}
}
