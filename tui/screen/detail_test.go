package screen

import (
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// longCommand is a command line far wider than the detail view.
const longCommand = "/usr/lib/jvm/java-17-openjdk/bin/java -Xms512m -Xmx2g -Dlog4j.configurationFile=/etc/app/log4j2.xml " +
	"-Dspring.profiles.active=production,metrics -jar /opt/app/service-backend-1.42.7-all.jar --server.port=8443 " +
	"--management.endpoints.web.exposure.include=health,info,prometheus --spring.config.location=/etc/app/application.yaml"

// The detail view wraps the whole command line at spaces, says what the
// agent left out (children and threads beyond its limits), and draws the
// CPU graph on a fixed scale: 2.6% of a core draws low, not full height.
func TestDetailWrapsCommandAndScalesCPU(t *testing.T) {
	d := wiretest.SampleDetail()
	dp := d.Process
	dp.Pid, dp.Name, dp.Command = 17, "java", longCommand
	dp.CpuUsage = 0.65 // of the machine: 2.6% of one of the four cores
	dp.ChildrenTotal, dp.ThreadCount, dp.Truncated = 120, 300, true
	dp.ChildProcesses = append(dp.ChildProcesses, &wire.DetailedProcess{Pid: 4244, Name: "nginx", Command: "nginx: worker process"})
	ag := wiretest.NewV2(wiretest.Config{Processes: wiretest.SampleProcesses(30), Details: map[uint32]*wire.ProcessDetail{17: d}})
	t.Cleanup(ag.Close)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	hs.waitFor("nginx-16")
	hs.filterFor("pid:17")
	hs.key(tcell.KeyEnter)
	s := hs.waitFor("process 17", "children (2 of 120)", "threads (1 of 300)", "children 120 (2 listed)", "note", "(graph 0-100%)")

	// the command: from the "command" row down, the value column holds it
	// all, broken at spaces (a word wider than the column is broken where
	// the column ends)
	rows := strings.Split(s, "\n")
	y := rowIndex(s, "│ command")
	var lines []string
	for ; y < len(rows); y++ {
		r := []rune(rows[y])
		if label := strings.TrimSpace(string(r[2:11])); label != "" && label != "command" {
			break
		}
		lines = append(lines, strings.TrimRight(string(r[12:64]), " "))
	}
	if got := strings.Join(lines, ""); strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(longCommand, " ", "") {
		t.Errorf("the command shown is\n%q\nwant\n%q", strings.Join(lines, "|"), longCommand)
	}
	for i, l := range lines[:len(lines)-1] {
		next := lines[i+1]
		if len(l) < 50 && !strings.Contains(longCommand, l+" "+strings.Fields(next)[0]) {
			t.Errorf("line %q is cut mid-word before %q", l, next)
		}
	}

	// the CPU graph: under its label, only the bottom row has dots
	hs.waitUntil("a few CPU samples", func(string) bool {
		n := 0
		hs.onUI(func() { n = hs.d.h.DetailCPU.Len() })
		return n >= 2
	})
	s = hs.text()
	rows = strings.Split(s, "\n")
	gy := rowIndex(s, "(graph 0-100%)")
	gx := strings.Index(string([]rune(rows[gy])), "cpu ")
	gx = len([]rune(rows[gy][:gx]))
	var graph []string
	for y := gy + 1; y < len(rows); y++ {
		r := []rune(rows[y])
		cell := r[gx+2 : len(r)-1]
		if cell[0] < 0x2800 || cell[0] > 0x28ff {
			break
		}
		graph = append(graph, string(cell))
	}
	if len(graph) < 3 {
		t.Fatalf("no CPU graph under its label:\n%s", s)
	}
	for i, row := range graph {
		blank := strings.Trim(row, "\u2800") == ""
		if last := i == len(graph)-1; blank == last {
			t.Errorf("graph row %d of %d is %q: 2.6%% of a core should draw on the bottom row only", i+1, len(graph), row)
		}
	}
}
