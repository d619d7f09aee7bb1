package screen

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// Fifty agents (real ones, and upstream command-dialect emulations) on one
// screen: a tile each with live figures; five killed go stale and
// reconnecting while the others keep updating; restarted on the same ports
// they recover by themselves.
func TestFleetFiftyAgents(t *testing.T) {
	real, upstream, killed := 45, 5, 5
	if testing.Short() {
		real, upstream, killed = 6, 2, 2
	}
	var targets []model.Target
	agents := make([]*fleetAgent, real)
	for i := range agents {
		agents[i] = newFleetAgent(t)
		targets = append(targets, model.Target{Label: fmt.Sprintf("node-%02d", i+1), URL: agents[i].url()})
	}
	for i := range upstream {
		ag := wiretest.NewUpstream(wiretest.Config{})
		t.Cleanup(ag.Close)
		targets = append(targets, model.Target{Label: fmt.Sprintf("rust-%02d", i+1), URL: ag.URL})
	}
	// 240×72: six columns of tiles, ten rows, every host on one screen
	hs, f := startFleet(t, targets, Options{MetricsInterval: 200 * time.Millisecond}, 240, 72)
	// live figures: ours send load and uptime, upstream's do not
	live := func(tile string) bool {
		if strings.Contains(tile, "rust-") {
			return hasAll(tile, "● live", "cpu ", "%", "mem ", "/8.0G")
		}
		return hasAll(tile, "● live", "cpu ", "%", "mem ", "load ", "up ")
	}
	ts := waitTiles(hs, f, "every host live", func(ts map[string]string) bool {
		if len(ts) != len(targets) {
			return false
		}
		for _, tile := range ts {
			if !live(tile) {
				return false
			}
		}
		return true
	})
	for _, tg := range targets {
		if _, ok := ts[tg.Label]; !ok {
			t.Fatalf("no tile for %s", tg.Label)
		}
	}
	if s := hs.text(); !strings.Contains(s, strconv.Itoa(len(targets))+" hosts: "+strconv.Itoa(len(targets))+" live") {
		t.Errorf("header does not count every host live:\n%s", lineWith(s, "socktop fleet"))
	}
	// the upstream agents' figures are the sample's: 12.5% CPU, 3.0G of 8.0G
	if tile := ts["rust-01"]; !hasAll(tile, "12.5%", "3.0G/8.0G", "49°C") {
		t.Errorf("command-dialect tile:\n%s", tile)
	}

	for _, fa := range agents[:killed] {
		fa.kill()
	}
	isKilled := func(name string) bool {
		n, err := strconv.Atoi(strings.TrimPrefix(name, "node-"))
		return err == nil && n <= killed
	}
	// the killed ones go stale and reconnecting, keeping their last data;
	// the others stay live
	waitTiles(hs, f, "the killed hosts stale and reconnecting, the others live", func(ts map[string]string) bool {
		for name, tile := range ts {
			if isKilled(name) {
				if !hasAll(tile, "stale", "cpu ", "mem ") || !(strings.Contains(tile, "retry in") || strings.Contains(tile, "connecting")) {
					return false
				}
			} else if !live(tile) {
				return false
			}
		}
		return len(ts) == len(targets)
	})
	hs.waitUntil("the header counting them", func(s string) bool {
		return strings.Contains(lineWith(s, "socktop fleet"), strconv.Itoa(len(targets)-killed)+" live")
	})
	// the others keep updating meanwhile: each takes two new samples
	for round := 0; round < 2; round++ {
		t0 := sampleTimes(hs, f)
		hs.waitUntil("the live hosts updating", func(string) bool {
			now := sampleTimes(hs, f)
			for i := killed; i < len(now); i++ {
				if !now[i].After(t0[i]) {
					return false
				}
			}
			return true
		})
	}

	// back on the same ports: they reconnect by themselves (backoff)
	for _, fa := range agents[:killed] {
		fa.start()
	}
	waitTiles(hs, f, "every host live again", func(ts map[string]string) bool {
		for _, tile := range ts {
			if !live(tile) {
				return false
			}
		}
		return len(ts) == len(targets)
	})
}

// One agent that never answers does not hold the others back.
func TestFleetSlowAgentDelaysNobody(t *testing.T) {
	slow := wiretest.NewV2(wiretest.Config{Latency: func(kind string) time.Duration {
		if kind == "metrics" {
			return time.Minute
		}
		return 0
	}})
	defer slow.Close()
	fast1 := wiretest.NewV2(wiretest.Config{})
	defer fast1.Close()
	fast2 := wiretest.NewUpstream(wiretest.Config{})
	defer fast2.Close()
	targets := []model.Target{{Label: "slow", URL: slow.URL}, {Label: "fast-v2", URL: fast1.URL}, {Label: "fast-rust", URL: fast2.URL}}
	hs, f := startFleet(t, targets, Options{MetricsInterval: 100 * time.Millisecond}, 120, 30)
	hs.waitFor("fast-v2", "fast-rust")
	var t0 []time.Time
	for round := 0; round < 5; round++ {
		t0 = sampleTimes(hs, f)
		hs.waitUntil("both fast hosts updating", func(string) bool {
			now := sampleTimes(hs, f)
			return now[1].After(t0[1]) && now[2].After(t0[2])
		})
	}
	ts := tiles(hs, f)
	if !strings.Contains(ts["slow"], "waiting for the first sample") {
		t.Errorf("slow tile:\n%s", ts["slow"])
	}
	if !strings.Contains(ts["fast-v2"], "● live") || !strings.Contains(ts["fast-rust"], "● live") {
		t.Errorf("fast tiles:\n%s\n%s", ts["fast-v2"], ts["fast-rust"])
	}
}

// Refusals are shown per tile and not retried on a timer: a wrong token,
// a pin mismatch; an unreachable agent counts down.
func TestFleetRefusalsShown(t *testing.T) {
	tok := wiretest.NewV2(wiretest.Config{Token: "s3cret"})
	defer tok.Close()
	tlsAg := wiretest.NewV2(wiretest.Config{TLS: true})
	defer tlsAg.Close()
	ok := wiretest.NewV2(wiretest.Config{})
	defer ok.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	targets := []model.Target{
		{Label: "locked", URL: tok.URL},
		{Label: "pinned", URL: tlsAg.URL, Pin: "sha256:" + strings.Repeat("ab", 32)},
		{Label: "fine", URL: ok.URL},
		{URL: "ws://" + gone + "/ws"},
	}
	hs, f := startFleet(t, targets, Options{}, 160, 30)
	ts := waitTiles(hs, f, "each state", func(ts map[string]string) bool {
		return strings.Contains(ts["locked"], "auth failed") && strings.Contains(ts["pinned"], "pin mismatch") &&
			strings.Contains(ts["fine"], "● live") && strings.Contains(ts[gone], "reconnecting in")
	})
	if !strings.Contains(ts["locked"], "needs a token") {
		t.Errorf("the auth tile does not say why:\n%s", ts["locked"])
	}
	if !hasAll(ts["pinned"], "pinned", "sha256:abab", "agent presents") {
		t.Errorf("the pin tile does not show the fingerprints:\n%s", ts["pinned"])
	}
	if s := hs.text(); !hasAll(s, "1 live", "1 reconnecting", "1 auth failed", "1 pin mismatch") {
		t.Errorf("header counts: %s", lineWith(s, "socktop fleet"))
	}
}

// metricsWith is the sample metrics with other CPU and memory figures.
func metricsWith(cpu float32, memGiB uint64) *wire.Metrics {
	m := wiretest.SampleMetrics()
	m.CpuTotal, m.MemUsed = cpu, memGiB<<30
	return m
}

// tableNames is the NAME column of the table, top to bottom.
func tableNames(s string, names ...string) []string {
	type at struct {
		row  int
		name string
	}
	var found []at
	for _, n := range names {
		if i := rowIndex(s, "│"+n+" "); i >= 0 {
			found = append(found, at{i, n})
		}
	}
	for i := range found {
		for j := i + 1; j < len(found); j++ {
			if found[j].row < found[i].row {
				found[i], found[j] = found[j], found[i]
			}
		}
	}
	out := make([]string, len(found))
	for i, f := range found {
		out[i] = f.name
	}
	return out
}

// The table lists the same hosts as rows, sortable by any column; names
// sort naturally (pi-2 before pi-10).
func TestFleetTableSorts(t *testing.T) {
	mk := func(cpu float32, mem uint64) string {
		ag := wiretest.NewV2(wiretest.Config{Metrics: metricsWith(cpu, mem)})
		t.Cleanup(ag.Close)
		return ag.URL
	}
	targets := []model.Target{{Label: "pi-10", URL: mk(90, 1)}, {Label: "pi-2", URL: mk(10, 7)}, {Label: "pi-1", URL: mk(50, 4)}}
	names := []string{"pi-1", "pi-2", "pi-10"}
	hs, f := startFleet(t, targets, Options{MetricsInterval: 100 * time.Millisecond}, 160, 20)
	waitTiles(hs, f, "three live tiles", func(ts map[string]string) bool {
		return len(ts) == 3 && strings.Contains(ts["pi-10"], "● live") && strings.Contains(ts["pi-2"], "● live") && strings.Contains(ts["pi-1"], "● live")
	})
	hs.rune('t')
	s := hs.waitFor("NAME▲", "STATE", "CPU%", "MEM%", "LOAD", "RX/s", "TX/s", "TEMP", "TOP", "UP")
	if got := tableNames(s, names...); strings.Join(got, ",") != "pi-1,pi-2,pi-10" {
		t.Errorf("natural name order: %v\n%s", got, s)
	}
	for _, c := range []struct {
		key   rune
		mark  string
		order string
	}{
		{'P', "CPU%▼", "pi-10,pi-1,pi-2"},
		{'I', "CPU%▲", "pi-2,pi-1,pi-10"},
		{'M', "MEM%▼", "pi-2,pi-1,pi-10"},
		{'N', "NAME▲", "pi-1,pi-2,pi-10"},
	} {
		hs.rune(c.key)
		s := hs.waitFor(c.mark)
		if got := tableNames(s, names...); strings.Join(got, ",") != c.order {
			t.Errorf("after %c: %v, want %s\n%s", c.key, got, c.order, s)
		}
	}
	// every column can be the sort column (l steps through them), and a
	// click on a header sorts by it
	for _, c := range f.view.t.Cols {
		if !c.NoSort && !c.Hidden {
			hs.rune('l')
			hs.onUI(func() {})
		}
	}
	hs.waitFor("NAME▲")
	var cpuX, hdrY int
	hs.onUI(func() { cpuX, hdrY = f.view.t.ColumnX(int(fcCPU))+1, f.view.t.HeaderY() })
	hs.click(cpuX, hdrY)
	s = hs.waitFor("CPU%▼")
	if got := tableNames(s, names...); strings.Join(got, ",") != "pi-10,pi-1,pi-2" {
		t.Errorf("after a header click: %v\n%s", got, s)
	}
	// back to tiles: they follow the same order
	hs.rune('t')
	hs.waitUntil("tiles in CPU order", func(string) bool {
		var order []string
		hs.onUI(func() {
			for _, tr := range f.view.tiles {
				order = append(order, tr.m.d.target.Label)
			}
		})
		return strings.Join(order, ",") == "pi-10,pi-1,pi-2"
	})
}

// count is how many frames the agent received that equal f.
func count(ag *wiretest.Agent, f string) int {
	n := 0
	for _, s := range ag.Frames() {
		if s == f {
			n++
		}
	}
	return n
}

// Enter opens the host's dashboard over the same connection (only then are
// processes asked for); Esc comes back to the fleet, which kept updating.
func TestFleetOpenHostAndBack(t *testing.T) {
	a1 := wiretest.NewUpstream(wiretest.Config{Processes: wiretest.SampleProcesses(30)})
	defer a1.Close()
	a2 := wiretest.NewUpstream(wiretest.Config{Processes: wiretest.SampleProcesses(30)})
	defer a2.Close()
	targets := []model.Target{{Label: "alpha", URL: a1.URL}, {Label: "beta", URL: a2.URL}}
	hs, f := startFleet(t, targets, Options{MetricsInterval: 100 * time.Millisecond, ProcessesInterval: 200 * time.Millisecond}, 120, 40)
	waitTiles(hs, f, "two live tiles", func(ts map[string]string) bool {
		return strings.Contains(ts["alpha"], "● live") && strings.Contains(ts["beta"], "● live")
	})
	hs.waitUntil("ten metrics requests", func(string) bool { return count(a1, "get_metrics") >= 10 })
	if n := count(a1, "get_processes") + count(a2, "get_processes") + count(a1, "get_disks"); n != 0 {
		t.Fatalf("the overview asked for processes or disks (%d requests)", n)
	}
	// the selection moves to beta; Enter opens its dashboard
	hs.key(tcell.KeyRight)
	hs.key(tcell.KeyEnter)
	hs.waitFor("─ processes ", "nginx-16", "─ cpu ", "(command)")
	if count(a1, "get_processes") != 0 {
		t.Errorf("alpha was asked for processes while beta is open")
	}
	if count(a2, "get_processes") == 0 {
		t.Errorf("beta's dashboard shows processes it never asked for")
	}
	// alpha keeps updating meanwhile
	t0 := sampleTimes(hs, f)
	hs.waitUntil("alpha updating under the dashboard", func(string) bool { return sampleTimes(hs, f)[0].After(t0[0]) })
	// the dashboard's own keys work, and Esc closes its layers first
	hs.rune('?')
	hs.waitFor("Esc closes")
	hs.key(tcell.KeyEscape)
	hs.waitUntil("help closed", func(s string) bool { return !strings.Contains(s, "Esc closes") })
	hs.key(tcell.KeyEscape)
	s := hs.waitFor("socktop fleet", "alpha", "beta")
	if strings.Contains(s, "─ processes ") {
		t.Errorf("the dashboard is still on screen:\n%s", s)
	}
	// the host's busiest process is known now, and no more process lists
	// are asked for
	ts := tiles(hs, f)
	if !strings.Contains(ts["beta"], "top ") || strings.Contains(ts["beta"], "top -") {
		t.Errorf("beta's top process after its dashboard was open:\n%s", ts["beta"])
	}
	n := count(a2, "get_processes")
	m := count(a2, "get_metrics")
	hs.waitUntil("ten more metrics requests", func(string) bool { return count(a2, "get_metrics") >= m+10 })
	if got := count(a2, "get_processes"); got > n+1 { // one may have been in flight
		t.Errorf("processes still asked for after Esc: %d → %d", n, got)
	}
	// a click on the dashboard footer's "Esc fleet" comes back too, it
	// does not quit
	hs.key(tcell.KeyEnter)
	s = hs.waitFor("─ processes ", "Esc  fleet")
	lines := strings.Split(s, "\n")
	y := rowIndex(s, "Esc  fleet")
	hs.click(len([]rune(lines[y][:strings.Index(lines[y], "Esc  fleet")]))+1, y)
	hs.waitFor("socktop fleet", "alpha", "beta")
	// q quits from the fleet
	hs.rune('q')
	hs.waitQuit("q on the fleet")
}

// Tiles reflow with the terminal: more columns when it widens, a help
// overlay generated from the key map.
func TestFleetReflowAndHelp(t *testing.T) {
	var targets []model.Target
	for i := range 6 {
		ag := wiretest.NewV2(wiretest.Config{})
		t.Cleanup(ag.Close)
		targets = append(targets, model.Target{Label: fmt.Sprintf("h%d", i+1), URL: ag.URL})
	}
	hs, f := startFleet(t, targets, Options{}, 80, 24)
	cols := func() int {
		var n int
		hs.onUI(func() { n = f.view.cols })
		return n
	}
	hs.waitFor("h1", "h2")
	if c := cols(); c != 2 {
		t.Errorf("80 columns: %d tile columns, want 2", c)
	}
	hs.resize(230, 40)
	hs.waitUntil("six tile columns", func(string) bool { return cols() == 6 })
	s := hs.waitFor("h1", "h6")
	if rowIndex(s, " h1 ") != rowIndex(s, " h6 ") {
		t.Errorf("six tiles are not on one row at 230 columns:\n%s", s)
	}
	hs.rune('?')
	s = hs.waitFor("Esc closes")
	for _, b := range f.screen.Keys {
		if !strings.Contains(s, b.Desc) {
			t.Errorf("help lacks %q", b.Desc)
		}
	}
	hs.key(tcell.KeyEscape)
	hs.waitUntil("help closed", func(s string) bool { return !strings.Contains(s, "Esc closes") })
}

func TestNaturalCompare(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"pi-2", "pi-10", -1}, {"pi-10", "pi-2", 1}, {"pi-02", "pi-2", 0}, {"Alpha", "alpha", 0},
		{"a", "ab", -1}, {"node9", "node10", -1}, {"x1y2", "x1y10", -1}, {"", "a", -1},
	} {
		if got := naturalCompare(c.a, c.b); got != c.want {
			t.Errorf("naturalCompare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestHostName(t *testing.T) {
	for _, c := range []struct {
		t    model.Target
		want string
	}{
		{model.Target{Label: "pi-kitchen", URL: "ws://10.0.0.5:3000/ws"}, "pi-kitchen"},
		{model.Target{URL: "ws://10.0.0.5:3000/ws"}, "10.0.0.5"},
		{model.Target{URL: "wss://nas:8443/ws"}, "nas:8443"},
		{model.Target{URL: "::bad"}, "::bad"},
		// what the user typed, when it is a URL, is shortened too
		{model.Target{Label: "ws://10.0.0.5:3001/ws", URL: "ws://10.0.0.5:3001/ws"}, "10.0.0.5:3001"},
		{model.Target{Label: "wss://nas.example:8443/ws?token=x", URL: "wss://nas.example:8443/ws?token=x"}, "nas.example:8443"},
	} {
		if got := hostName(c.t); got != c.want {
			t.Errorf("hostName(%+v) = %q, want %q", c.t, got, c.want)
		}
	}
}

func TestRunFleetNeedsTargets(t *testing.T) {
	if err := RunFleet(context.Background(), nil, Options{}); err != ErrNoTargets {
		t.Errorf("RunFleet with no targets: %v", err)
	}
}

// naturalCompare orders tiles whose names come from profiles and the
// command line: it must be a consistent order for any bytes.
func FuzzNaturalCompare(f *testing.F) {
	for _, s := range [][2]string{{"pi-2", "pi-10"}, {"node007", "node7"}, {"", "a"}, {"A1b", "a1B"}, {"x\xff9", "x\xff10"}, {"10.0.0.5:3000", "10.0.0.12"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := naturalCompare(a, b), naturalCompare(b, a)
		if ab != -ba {
			t.Fatalf("naturalCompare(%q, %q) = %d but reversed = %d", a, b, ab, ba)
		}
		if naturalCompare(a, a) != 0 {
			t.Fatalf("naturalCompare(%q, itself) != 0", a)
		}
	})
}

// Our agents name the busiest process in every metrics sample, so a tile
// shows it while the overview still asks for metrics only.
func TestFleetTopProcessFromMetrics(t *testing.T) {
	la := startLiveAgent(t, "", "")
	hs, f := startFleet(t, []model.Target{{Label: "real", URL: la.url}}, Options{MetricsInterval: 100 * time.Millisecond}, 120, 40)
	waitTiles(hs, f, "a top process on the real agent's tile", func(ts map[string]string) bool {
		return strings.Contains(ts["real"], "● live") && strings.Contains(ts["real"], "top ") && !strings.Contains(ts["real"], "top -")
	})
}
