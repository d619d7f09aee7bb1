package screen

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire/wiretest"
)

// helpPage is the help box on screen: its text lines (inside the border)
// and where they are in the whole help ("21-40 of 83").
func helpPage(s string) (lines []string, from, to, of int) {
	rows := strings.Split(s, "\n")
	top := rowIndex(s, "─ keys ")
	if top < 0 {
		return nil, 0, 0, 0
	}
	head := []rune(rows[top])
	left, right := -1, -1
	for i, r := range head {
		if r == '╭' && left < 0 {
			left = i
		}
		if r == '╮' {
			right = i
		}
	}
	if m := regexp.MustCompile(`(\d+)-(\d+) of (\d+)`).FindStringSubmatch(rows[top]); m != nil {
		from, _ = strconv.Atoi(m[1])
		to, _ = strconv.Atoi(m[2])
		of, _ = strconv.Atoi(m[3])
	}
	for _, row := range rows[top+1:] {
		r := []rune(row)
		if len(r) <= right || r[left] == '╰' {
			break
		}
		lines = append(lines, string(r[left+1:right]))
	}
	return lines, from, to, of
}

// squash collapses runs of white space, so wrapped text compares with the
// text it came from.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// helpLines opens the help and reads it page by page: every line of it.
func (hs *harness) helpLines() []string {
	hs.t.Helper()
	hs.rune('?')
	s := hs.waitFor("─ keys ")
	var all []string
	for {
		lines, from, to, of := helpPage(s)
		if of == 0 { // it fits on one page
			return lines
		}
		if from < 1 || to-from+1 != len(lines) {
			hs.t.Fatalf("cannot read the help page (%d-%d of %d, %d lines):\n%s", from, to, of, len(lines), s)
		}
		for len(all) < to {
			all = append(all, "")
		}
		copy(all[from-1:], lines)
		if to == of {
			return all
		}
		hs.key(tcell.KeyPgDn)
		s = hs.waitUntil("the next page", func(s string) bool { _, f, _, _ := helpPage(s); return f > from })
	}
}

// At 80×24 the help wraps every description instead of cutting it: page
// by page, each binding's whole text is on screen, after its key.
func TestHelpWrapsAt80x24(t *testing.T) {
	ag := v2Agent(t, 20)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 80, 24)
	hs.waitFor("nginx-16")
	all := hs.helpLines()
	text := squash(strings.Join(all, " "))
	for _, b := range hs.d.keyMap() {
		if !strings.Contains(text, squash(b.Label+" "+b.Desc)) {
			t.Errorf("the help at 80 columns does not show all of %q %q", b.Label, b.Desc)
		}
	}
	if !strings.Contains(text, "q quits, so a stray Esc never loses the graphs") {
		t.Errorf("the Esc line is cut:\n%s", strings.Join(all, "\n"))
	}
}

// endsCut reports whether line has text cut with "…" right before its
// closing border (or the screen's edge).
func endsCut(line string) bool {
	return strings.HasSuffix(strings.TrimRight(line, "│╮─ "), "…")
}

// Every text cut for width ends with "…": the header, a fleet tile's
// title and the fleet table's names, the connections grouped by process;
// the fleet names agents typed as URLs by host:port.
func TestCutsEndWithEllipsis(t *testing.T) {
	long := "build-server-in-the-basement-next-to-the-boiler-" + strings.Repeat("x", 60)
	t.Run("header", func(t *testing.T) {
		m := wiretest.SampleMetrics()
		m.Hostname = long
		ag := wiretest.NewV2(wiretest.Config{Metrics: m, Processes: wiretest.SampleProcesses(5)})
		t.Cleanup(ag.Close)
		hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 80, 24)
		s := hs.waitFor("socktop build-server")
		if l := strings.Split(s, "\n")[0]; !strings.HasSuffix(l, "…") {
			t.Errorf("the cut header does not end with …: %q", l)
		}
	})
	t.Run("fleet", func(t *testing.T) {
		ag := v2Agent(t, 10)
		hs, f := startFleet(t, []model.Target{{Label: long, URL: ag.URL}, {Label: ag.URL, URL: ag.URL}}, Options{}, 120, 30)
		short := strings.TrimSuffix(strings.TrimPrefix(ag.URL, "ws://"), "/ws")
		ts := waitTiles(hs, f, "two live tiles", func(ts map[string]string) bool {
			return strings.Contains(ts[long], "mem ") && strings.Contains(ts[short], "● live")
		})
		if first := strings.Split(ts[long], "\n")[0]; !endsCut(first) {
			t.Errorf("the long tile title does not end with …: %q", first)
		}
		if s := hs.text(); strings.Contains(s, "ws://") || !strings.Contains(s, short) {
			t.Errorf("the fleet shows the URL, not %s:\n%s", short, s)
		}
		hs.rune('t')
		s := hs.waitFor("NAME", "STATE")
		if l := lineWith(s, "build-server"); !strings.HasSuffix(strings.Fields(strings.Trim(l, "│"))[0], "…") {
			t.Errorf("the fleet table's cut name does not end with …: %q", l)
		}
	})
	t.Run("connections by process", func(t *testing.T) {
		cs := wiretest.SampleConnections()
		cs.Connections[0].ProcessName = "a-daemon-with-a-name-longer-than-its-column"
		ag := wiretest.NewV2(wiretest.Config{Connections: cs, Processes: wiretest.SampleProcesses(5)})
		t.Cleanup(ag.Close)
		hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
		hs.waitFor("c  conns")
		hs.rune('c')
		hs.waitFor("─ connections ", "a-daemon")
		hs.rune('g')
		s := hs.waitFor("per process", "a-daemon")
		l := lineWith(s, "a-daemon")
		i := strings.Index(l, "a-daemon")
		if cell := strings.Fields(l[i:])[0]; !strings.HasSuffix(cell, "…") || !strings.HasPrefix("a-daemon-with-a-name-longer-than-its-column", strings.TrimSuffix(cell, "…")) {
			t.Errorf("the grouped view's cut process name is %q: %q", cell, l)
		}
	})
}
