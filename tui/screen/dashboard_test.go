package screen

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/history"
	"github.com/socktop/socktop/wire/wiretest"
)

// v2Agent runs a wiretest v2 agent with n processes, and serves pid 17's
// detail and journal.
func v2Agent(t *testing.T, n int) *wiretest.Agent {
	t.Helper()
	d := wiretest.SampleDetail()
	d.Process.Pid, d.Process.Name = 17, "nginx-16"
	ag := wiretest.NewV2(wiretest.Config{
		Processes: wiretest.SampleProcesses(n),
		Details:   map[uint32]*wire.ProcessDetail{17: d},
		Journals:  map[uint32]*wire.Journal{17: wiretest.SampleJournal()},
	})
	t.Cleanup(ag.Close)
	return ag
}

// panes per size: what each layout promises.
func TestLayoutSizes(t *testing.T) {
	ag := v2Agent(t, 60)
	for _, c := range []struct {
		w, h  int
		panes []string
		not   []string
	}{
		{80, 24, []string{"socktop", "pi-kitchen", "connected", "─ cpu ", "─ memory ", "─ network ", "─ disks ", "─ processes ", "PID", "CPU%", "q  quit"}, []string{"sensors "}},
		{120, 40, []string{"socktop", "pi-kitchen", "up 1d 0h", "load 0.50", "rtt", "no TLS", "─ cpu ", " c3 ", "─ memory ", "swap", "─ gpu · sensors ", "gpu V3D", "cpu_thermal", "─ network ", "eth0", "─ disks ", "mmcblk0p2", "─ processes ", "THR", "?  help"}, nil},
		{200, 60, []string{"socktop", "pi-kitchen", "Debian GNU/Linux 12", "─ cpu ", " c0 ", "─ memory ", "─ gpu · sensors ", "─ network ", "peak", "─ disks ", "/boot/firmware", "─ processes ", "MEM%", "Enter  detail"}, nil},
	} {
		t.Run(fmt.Sprintf("%dx%d", c.w, c.h), func(t *testing.T) {
			hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, c.w, c.h)
			s := hs.waitFor(c.panes...)
			for _, n := range c.not {
				if strings.Contains(s, n) {
					t.Errorf("%dx%d shows %q, which the compact layout drops:\n%s", c.w, c.h, n, s)
				}
			}
			lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
			if len(lines) != c.h || len([]rune(lines[0])) != c.w {
				t.Errorf("screen is %d×%d", len([]rune(lines[0])), len(lines))
			}
		})
	}
}

// Resizing live switches layouts without a restart.
func TestResizeLive(t *testing.T) {
	ag := v2Agent(t, 30)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	hs.waitFor("sensors ", "systemd")
	hs.resize(80, 24)
	hs.waitUntil("compact layout", func(s string) bool {
		return !strings.Contains(s, "sensors ") && strings.Contains(s, "─ processes ")
	})
	hs.resize(100, 16)
	s := hs.waitUntil("tiny layout", func(s string) bool {
		return !strings.Contains(s, "─ network ") && strings.Contains(s, "─ processes ")
	})
	if !strings.Contains(s, "─ cpu ") || !strings.Contains(s, "─ memory ") {
		t.Errorf("tiny layout dropped cpu or memory:\n%s", s)
	}
}

// tableRows parses the process rows on screen into fields.
func tableRows(s string) (header []string, rows [][]string) {
	lines := strings.Split(s, "\n")
	hdr := -1
	for i, l := range lines {
		if strings.Contains(l, "PID") && strings.Contains(l, "NAME") {
			hdr = i
			break
		}
	}
	if hdr < 0 {
		return nil, nil
	}
	trim := func(l string) string { return strings.Trim(l, "│| ") }
	header = strings.Fields(trim(lines[hdr]))
	last := len(header) - 1
	for _, l := range lines[hdr+1:] {
		f := strings.Fields(trim(l))
		if len(f) > len(header) && strings.HasPrefix(header[last], "COMMAND") {
			// a command line's arguments are one field
			f = append(f[:last:last], strings.Join(f[last:], " "))
		}
		if extra := len(f) - len(header); extra > 0 && len(header) > 3 {
			// tree branches ("│ ├─name") split the name column
			name := strings.Join(f[2:3+extra], " ")
			f = append(append(f[:2:2], name), f[3+extra:]...)
		}
		if len(f) != len(header) {
			break
		}
		rows = append(rows, f)
	}
	return header, rows
}

func parseHuman(s string) float64 {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "K"):
		mult = 1 << 10
	case strings.HasSuffix(s, "M"):
		mult = 1 << 20
	case strings.HasSuffix(s, "G"):
		mult = 1 << 30
	}
	v, _ := strconv.ParseFloat(strings.TrimRight(s, "BKMGT"), 64)
	return v * mult
}

// sortedBy checks the rows are ordered by column idx: numbers (with human
// units) for numeric columns, case-folded text otherwise.
func sortedBy(rows [][]string, idx int, desc, numeric bool) bool {
	cmp := func(a, b string) int {
		if !numeric {
			return strings.Compare(strings.ToLower(a), strings.ToLower(b))
		}
		fa, ea := strconv.ParseFloat(a, 64)
		fb, eb := strconv.ParseFloat(b, 64)
		if ea != nil || eb != nil {
			fa, fb = parseHuman(a), parseHuman(b)
		}
		return int(sign(fa - fb))
	}
	for i := 1; i < len(rows); i++ {
		c := cmp(rows[i-1][idx], rows[i][idx])
		if (desc && c < 0) || (!desc && c > 0) {
			return false
		}
	}
	return true
}

func sign(v float64) float64 {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

func TestSortEveryColumn(t *testing.T) {
	ag := v2Agent(t, 60)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	hs.waitFor("systemd")
	for i := range model.NumProcCols {
		var hidden bool
		hs.onUI(func() { hidden = hs.d.procs.t.Cols[i].Hidden })
		if hidden { // no data for it from this agent (NI, COMMAND)
			continue
		}
		col := procCols[i].Name
		if hs.procColHidden(i) {
			continue // CONTAINER: the agent's processes name none
		}
		for _, how := range []string{"key", "click"} {
			switch how {
			case "key":
				// walk the sort column with l until it is this one
				hs.onUI(func() { hs.d.procs.t.SetSort(int((i+model.NumProcCols-1)%model.NumProcCols), false) })
				hs.rune('l')
			case "click":
				hs.onUI(func() { _, desc := hs.d.procs.t.Sort(); hs.d.procs.t.SetSort(int((i+1)%model.NumProcCols), desc) })
				s := hs.text()
				var y int
				hs.onUI(func() { y = hs.d.procs.t.HeaderY() })
				x := strings.Index(lineWithRunes(s, y)+" ", " "+col+" ") + 1
				if x <= 0 {
					t.Fatalf("no %s header on screen: %q", col, lineWithRunes(s, y))
				}
				hs.click(x, y)
			}
			mark := col + "▼"
			if !procCols[i].Desc {
				mark = col + "▲"
			}
			s := hs.waitFor(mark)
			hdr, rows := tableRows(s)
			idx := slices.Index(hdr, mark)
			if idx < 0 || len(rows) < 10 {
				t.Fatalf("%s by %s: header %q, %d rows", col, how, hdr, len(rows))
			}
			if !sortedBy(rows, idx, procCols[i].Desc, (procCols[i].Align == widget.AlignRight)) {
				t.Errorf("rows not sorted by %s (%s):\n%s", col, how, s)
			}
		}
		// reverse
		hs.rune('I')
		rev := col + "▲"
		if !procCols[i].Desc {
			rev = col + "▼"
		}
		s := hs.waitFor(rev)
		hdr, rows := tableRows(s)
		if idx := slices.Index(hdr, rev); idx < 0 || !sortedBy(rows, idx, !procCols[i].Desc, (procCols[i].Align == widget.AlignRight)) {
			t.Errorf("rows not reverse-sorted by %s:\n%s", col, s)
		}
	}
}

// lineWithRunes returns line y with each cell as one byte-indexable rune
// (box characters replaced) so strings.Index gives the x cell.
func lineWithRunes(s string, y int) string {
	l := []rune(strings.Split(s, "\n")[y])
	b := make([]byte, len(l))
	for i, r := range l {
		if r < 128 {
			b[i] = byte(r)
		} else {
			b[i] = ' '
		}
	}
	return string(b)
}

func TestFilter(t *testing.T) {
	ag := v2Agent(t, 60)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	hs.waitFor("systemd")
	hs.rune('/')
	hs.waitFor("filter:")
	hs.typeText("NGINX")
	hs.key(tcell.KeyEnter)
	s := hs.waitFor(`filter "NGINX"`, "q  quit")
	_, rows := tableRows(s)
	if len(rows) != 6 { // nginx-6, -16, -26, -36, -46, -56
		t.Errorf("NGINX filter shows %d rows, want 6:\n%s", len(rows), s)
	}
	for _, r := range rows {
		if !strings.Contains(r[2], "nginx") {
			t.Errorf("row %q does not match nginx", r)
		}
	}
	for _, c := range []struct {
		filter string
		check  func(r []string) bool
		want   int
	}{
		{"pid:17", func(r []string) bool { return r[0] == "17" }, 1},
		{"user:www-data", func(r []string) bool { return r[1] == "www-data" }, 15},
	} {
		hs.rune('/')
		hs.waitFor("filter:")
		hs.key(tcell.KeyCtrlU) // tview: delete the line
		hs.typeText(c.filter)
		hs.key(tcell.KeyEnter)
		s := hs.waitFor(`filter "` + c.filter + `"`)
		_, rows := tableRows(s)
		n := 0
		for _, r := range rows {
			if !c.check(r) {
				t.Errorf("filter %s shows %q", c.filter, r)
			}
			n++
		}
		if n != c.want && !(n > 0 && c.want > n) { // the table may be shorter than the matches
			t.Errorf("filter %s shows %d rows, want %d", c.filter, n, c.want)
		}
	}
	// Esc clears the filter first, without quitting.
	hs.key(tcell.KeyEscape)
	s = hs.waitUntil("filter cleared", func(s string) bool { return !strings.Contains(s, "filter \"") })
	if _, rows := tableRows(s); len(rows) < 15 { // the table's height at 120×40
		t.Errorf("after clearing the filter only %d rows", len(rows))
	}
}

func TestTree(t *testing.T) {
	ag := v2Agent(t, 60)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	hs.waitFor("systemd")
	hs.rune('t')
	hs.key(tcell.KeyHome)
	s := hs.waitFor("· tree", "├─")
	_, rows := tableRows(s)
	// SampleProcesses: ppid = i/3, so pids 1..3 (ppid 0) are the roots and
	// every other process hangs below one of them, right after its parent.
	if len(rows) < 3 || strings.Contains(rows[0][2], "─") || !strings.Contains(rows[1][2], "─") {
		t.Errorf("tree does not start with a root and its children:\n%s", s)
	}
	pid0, _ := strconv.Atoi(rows[0][0])
	pid1, _ := strconv.Atoi(rows[1][0])
	if pid0 > 3 || (pid1-1)/3 != pid0 {
		t.Errorf("row 2 (pid %d) is not a child of row 1 (pid %d)", pid1, pid0)
	}
	if !strings.Contains(s, "└─") {
		t.Errorf("tree has no last-child branches:\n%s", s)
	}
	hs.rune('t')
	hs.waitUntil("tree off", func(s string) bool { return !strings.Contains(s, "├─") })
}

func TestDetailOpensAndCloses(t *testing.T) {
	ag := v2Agent(t, 60)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	hs.waitFor("systemd")
	hs.filterFor("pid:17")
	hs.key(tcell.KeyEnter)
	s := hs.waitFor("process 17 nginx-16", "command", "/usr/sbin/nginx", "children (1)", "threads (1)",
		"journal (2 lines)", "Started nginx.service", "ERR", "Esc  back")
	if strings.Contains(s, "─ processes ") {
		t.Errorf("detail view does not cover the table:\n%s", s)
	}
	if n := hs.d.w.Needs(); !n.Journal || n.Processes {
		t.Error("detail view should want the journal and not the process list")
	}
	hs.key(tcell.KeyEscape)
	hs.waitUntil("detail closed", func(s string) bool {
		return strings.Contains(s, "─ processes ") && !strings.Contains(s, "process 17 nginx-16")
	})
	// Esc closed only the view: the app is still running
	select {
	case err := <-hs.done:
		t.Fatalf("Esc in the detail view quit the app (%v)", err)
	default:
	}
}

func TestDetailByDoubleClick(t *testing.T) {
	ag := v2Agent(t, 60)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	hs.waitFor("systemd")
	s := hs.filterFor("pid:17")
	y := rowIndex(s, "nginx-16")
	hs.scr.InjectMouse(20, y, tcell.Button1, tcell.ModNone)
	hs.scr.InjectMouse(20, y, tcell.ButtonNone, tcell.ModNone)
	hs.scr.InjectMouse(20, y, tcell.Button1, tcell.ModNone)
	hs.scr.InjectMouse(20, y, tcell.ButtonNone, tcell.ModNone)
	hs.waitFor("process 17 nginx-16")
}

func TestHelpListsEveryBinding(t *testing.T) {
	ag := v2Agent(t, 10)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 200, 90) // every key map at once
	hs.waitFor("systemd")
	text := squash(strings.Join(hs.helpLines(), " "))
	for _, b := range hs.d.keyMap() {
		if !strings.Contains(text, squash(b.Label+" "+b.Desc)) {
			t.Errorf("help lacks %q %q", b.Label, b.Desc)
		}
	}
	hs.key(tcell.KeyEscape)
	hs.waitUntil("help closed", func(s string) bool { return !strings.Contains(s, "─ keys ") })
}

// Every key the help names does what it says on the dashboard; this checks
// the key map has no two bindings on one key of one screen.
func TestKeyMapHasNoClashes(t *testing.T) {
	d := newSingle(context.Background(), Options{Target: model.Target{URL: "ws://x/ws"}, Dial: noDial,
		Screen: tcell.NewSimulationScreen("UTF-8")})
	f, err := newFleet(context.Background(), []Options{{Target: model.Target{URL: "ws://x/ws"}}},
		Options{Dial: noDial, Screen: tcell.NewSimulationScreen("UTF-8")})
	if err != nil {
		t.Fatal(err)
	}
	rs := history.New(history.Options{})
	rs.Append(&wire.HistorySample{SampledAtMs: 1})
	r, err := model.NewReplay("rec", rs, nil)
	if err != nil {
		t.Fatal(err)
	}
	rd := newSingle(context.Background(), Options{Replay: r, Screen: tcell.NewSimulationScreen("UTF-8")})
	screens := []*shell.Screen{d.main, d.detail.screen, d.filter.screen, d.confirm.screen, d.conns.screen, d.conns.filter.screen,
		f.screen, f.members[0].d.main, rd.main}
	for _, sc := range screens {
		seen := map[shell.Key]string{}
		for _, b := range sc.Keys {
			for _, k := range b.Keys {
				if prev, ok := seen[k]; ok {
					t.Errorf("%s: %q and %q share a key", sc.Name, prev, b.Desc)
				}
				seen[k] = b.Desc
			}
		}
	}
}

func TestSignalAsksFirst(t *testing.T) {
	ag := v2Agent(t, 60)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	hs.waitFor("systemd", "k  kill")
	hs.filterFor("pid:17")
	hs.rune('k')
	hs.waitFor("Send SIGTERM to process 17 (nginx-16)", "Cancel")
	hs.rune('n')
	hs.waitUntil("dialog closed", func(s string) bool { return !strings.Contains(s, "Send SIGTERM to") })
	if len(ag.Signals()) != 0 {
		t.Fatalf("cancel still sent %v", ag.Signals())
	}
	hs.rune('K')
	hs.waitFor("Send SIGKILL to process 17 (nginx-16)")
	hs.rune('y')
	hs.waitFor("sent SIGKILL to 17")
	if got := ag.Signals(); len(got) != 1 || got[0] != "17:SIGKILL" {
		t.Errorf("agent got signals %v", got)
	}
}

// An agent without the signals capability gets no kill key at all.
func TestNoSignalsWithoutCapability(t *testing.T) {
	h := wiretest.SampleHello()
	h.Capabilities = slices.DeleteFunc(h.Capabilities, func(c string) bool { return c == wire.CapSignals })
	ag := wiretest.NewV2(wiretest.Config{Hello: h, Processes: wiretest.SampleProcesses(20)})
	defer ag.Close()
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	s := hs.waitFor("systemd", "q  quit")
	if strings.Contains(s, "k  kill") {
		t.Error("footer offers kill without the signals capability")
	}
	hs.rune('k')
	hs.redraw()
	if s := hs.text(); strings.Contains(s, "Send SIGTERM") {
		t.Error("k opened the signal dialog without the capability")
	}
}

// An agent that lists "subscribe" but refuses the subscription is polled.
func TestRefusedSubscriptionFallsBackToPolling(t *testing.T) {
	h := wiretest.SampleHello()
	h.Capabilities = append(h.Capabilities, wire.CapSubscribe)
	ag := wiretest.NewV2(wiretest.Config{Hello: h, Processes: wiretest.SampleProcesses(20)})
	defer ag.Close()
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	hs.waitFor("● connected", "systemd")
	first := kinds(ag, "processes")
	hs.waitUntil("a second process list, asked for", func(string) bool { return kinds(ag, "processes") > first })
	if !slices.Contains(ag.Requests(), "subscribe") {
		t.Errorf("the dashboard never tried to subscribe: %v", ag.Requests())
	}
}

// Clicking a footer hint does what its key does.
func TestFooterClick(t *testing.T) {
	ag := v2Agent(t, 20)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	s := hs.waitFor("systemd", "?  help")
	y := rowIndex(s, "?  help")
	x := strings.Index(lineWithRunes(s, y), "?  help")
	hs.click(x+3, y)
	hs.waitFor("─ keys ")
}

func TestNoColorAndASCII(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	borders, styles := tview.Borders, tview.Styles // the app sets tview's globals
	t.Cleanup(func() { tview.Borders, tview.Styles = borders, styles })
	ag := v2Agent(t, 20)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}, ASCII: true}, 120, 40)
	s := hs.waitFor("+- cpu ", "+- processes ", "systemd", "mem ")
	for _, r := range s {
		if (r >= 0x2800 && r <= 0x28ff) || (r >= 0x2500 && r <= 0x259f) {
			t.Fatalf("--ascii screen has %q:\n%s", r, s)
		}
	}
	hs.onUI(func() {
		cells, _, _ := hs.scr.GetContents()
		for _, c := range cells {
			fg, bg, _ := c.Style.Decompose()
			if fg != tcell.ColorDefault || bg != tcell.ColorDefault {
				t.Errorf("NO_COLOR screen has a coloured cell %q (fg %v bg %v)", string(c.Runes), fg, bg)
				return
			}
		}
	})
}
