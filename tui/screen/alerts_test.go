package screen

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui/alert"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire/wiretest"
)

// testRules compiles "name=when" rules (for 0).
func testRules(t testing.TB, whens ...string) []alert.Rule {
	t.Helper()
	var out []alert.Rule
	for _, w := range whens {
		name, when, _ := strings.Cut(w, "=")
		hold := time.Duration(0)
		if i := strings.Index(when, " for "); i >= 0 {
			d, err := time.ParseDuration(when[i+5:])
			if err != nil {
				t.Fatal(err)
			}
			when, hold = when[:i], d
		}
		r, err := alert.NewRule(name, when, hold)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// notifyDir is a folder the notify command writes each event's
// SOCKTOP_ALERT_* environment into, one file per run; the command is what
// [notify] command would hold.
func notifyDir(t testing.TB) (dir, command string) {
	dir = t.TempDir()
	return dir, "env | grep '^SOCKTOP_ALERT_' | sort > '" + dir + "'/$(date +%s%N)-$$.env"
}

// notified lists the events the command saw, each as its variables.
func notified(t testing.TB, dir string) []map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.env"))
	slices.Sort(files)
	var out []map[string]string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			k, v, _ := strings.Cut(l, "=")
			m[strings.TrimPrefix(k, "SOCKTOP_ALERT_")] = v
		}
		if m["STATE"] != "" {
			out = append(out, m)
		}
	}
	return out
}

// waitNotified waits until the command ran for alert name in state, and
// returns what it saw.
func waitNotified(t testing.TB, dir, name, state string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		for _, m := range notified(t, dir) {
			if m["NAME"] == name && m["STATE"] == state {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the notify command never ran for %s %s; it saw %v", name, state, notified(t, dir))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A firing rule is in the dashboard's header with its value and age, the
// notify command runs with the event in its environment, `!` lists it with
// when it fired, and when the agent goes away a `down` rule fires too.
func TestAlertsOnDashboard(t *testing.T) {
	ag := wiretest.NewV2(wiretest.Config{Processes: wiretest.SampleProcesses(10)}) // cpu 12.5 %
	dir, cmd := notifyDir(t)
	setup := alert.Setup{Host: "pi", Rules: testRules(t, "busy=cpu > 10", "hot=temp > 90", "gone=down"),
		Notify: profiles.Notify{Command: cmd}}
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}, Alerts: setup}, 160, 40)
	s := hs.waitFor("▲ busy 12.5% for ")
	if l := lineWith(s, "▲ busy"); !strings.Contains(l, "● connected") || strings.Contains(l, "hot") {
		t.Errorf("header line %q: want the connection state, then busy alone", l)
	}
	if !strings.Contains(lineWith(s, " q  quit"), " !  alerts") {
		t.Errorf("the footer lacks the alerts key:\n%s", s)
	}
	ev := waitNotified(t, dir, "busy", "firing")
	if ev["HOST"] != "pi" || ev["VALUE"] != "12.5%" || ev["RULE"] != "cpu > 10" {
		t.Errorf("notify saw %v", ev)
	}

	hs.rune('!')
	s = hs.waitFor("─ alerts ", "1 firing · 0 pending · 0 resolved", "notify: sh -c command ran 1")
	row := lineWith(s, "● firing")
	for _, want := range []string{"busy", "pi", "12.5%", "cpu > 10", time.Now().Format("15:04")} {
		if !strings.Contains(row, want) {
			t.Errorf("alert row %q lacks %q", row, want)
		}
	}
	hs.key(tcell.KeyEscape)
	hs.waitUntil("the list closed", func(s string) bool {
		return !strings.Contains(s, "─ alerts ") && strings.Contains(s, "─ processes ")
	})

	ag.Close()
	s = hs.waitFor("gone unreachable")
	if l := lineWith(s, "gone unreachable"); !strings.Contains(l, "busy 12.5% (no data)") {
		t.Errorf("while down, busy should stay firing without data: %q", l)
	}
	if ev := waitNotified(t, dir, "gone", "firing"); ev["VALUE"] != "unreachable" || ev["RULE"] != "down" {
		t.Errorf("notify saw %v", ev)
	}
}

// On the fleet a host with a firing rule turns its tile to the alert
// colour and names the alert on it; `a` sorts alerting hosts first, in the
// tiles and in the table's ALERT column. The alerting host here is an
// upstream agent (command dialect): its temperature comes from cpu_temp_c,
// and the process list a process rule reads is fetched although the
// overview shows none.
func TestFleetAlertTiles(t *testing.T) {
	quiet := wiretest.NewV2(wiretest.Config{})
	defer quiet.Close()
	up := wiretest.NewUpstream(wiretest.Config{Processes: wiretest.SampleProcesses(10)})
	defer up.Close()
	each := []Options{
		{Target: model.Target{Label: "pi-1", URL: quiet.URL}, Alerts: alert.Setup{Host: "pi-1", Rules: testRules(t, "hot=temp > 90")}},
		{Target: model.Target{Label: "pi-2", URL: up.URL}, Alerts: alert.Setup{Host: "pi-2", Rules: testRules(t, "hot=temp > 40", "web=process:apache2", "db=process:postgres-5")}},
	}
	scr := tcell.NewSimulationScreen("UTF-8")
	hs, f := startFleetEach(t, each, Options{Screen: scr}, 160, 40)
	ts := waitTiles(hs, f, "pi-2 alerting", func(ts map[string]string) bool { return strings.Contains(ts["pi-2"], "▲ hot, web") })
	if strings.Contains(ts["pi-1"], "▲") {
		t.Errorf("the quiet host's tile shows an alert:\n%s", ts["pi-1"])
	}
	if !strings.Contains(lineWith(hs.text(), "socktop fleet"), "▲ 1 alerting") {
		t.Errorf("the fleet header does not count the alerting host:\n%s", hs.text())
	}
	// the tile's border is in the alert colour (pi-1 is selected)
	var rect tileRect
	hs.onUI(func() {
		for _, tr := range f.view.tiles {
			if tr.m.d.h.Label == "pi-2" {
				rect = tr
			}
		}
	})
	cells, w, _ := scr.GetContents()
	if c := cells[(rect.y+1)*w+rect.x]; c.Style != f.th.Bad {
		t.Errorf("pi-2's border is drawn in %v, want the alert colour %v", c.Style, f.th.Bad)
	}
	if n := kinds(up, "processes") + strings.Count(strings.Join(up.Frames(), "\n"), "get_processes"); n == 0 {
		t.Error("no process list was asked of the upstream agent for its process rule")
	}
	// a: alerting hosts first
	hs.rune('a')
	hs.waitFor("sort ALERT▼")
	hs.onUI(func() {
		if f.view.order[0].m.d.h.Label != "pi-2" {
			t.Errorf("after a the first tile is %s, want the alerting pi-2", f.view.order[0].m.d.h.Label)
		}
	})
	hs.rune('t')
	s := hs.waitFor("─ fleet ", "ALERT▼")
	if got := tableNames(s, "pi-1", "pi-2"); strings.Join(got, ",") != "pi-2,pi-1" {
		t.Errorf("table after a: %v\n%s", got, s)
	}
	if l := lineWith(s, "pi-2"); !strings.Contains(l, "hot, web") {
		t.Errorf("pi-2's row lacks its alerts: %q", l)
	}
}

// Without rules nothing of alerts shows: no key, no column.
func TestNoRulesNoAlerts(t *testing.T) {
	ag := v2Agent(t, 5)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 160, 40)
	s := hs.waitFor("● connected", "─ processes ")
	if strings.Contains(s, "!  alerts") || strings.Contains(lineWith(s, "● connected"), "▲") {
		t.Errorf("alerts offered without rules:\n%s", s)
	}
	hs.rune('!')
	hs.onUI(func() {})
	if strings.Contains(hs.text(), "─ alerts ") {
		t.Error("! opened the alert list without rules")
	}
}

// Against our agent, which pushes, a process rule on the fleet (which
// shows no process list) subscribes to process lists at the alerts'
// cadence, and the rule sees them.
func TestFleetProcessRulePushed(t *testing.T) {
	la := startLiveAgent(t, "", "")
	each := []Options{{Target: model.Target{Label: "box", URL: la.url},
		Alerts: alert.Setup{Host: "box", Rules: testRules(t, "web=process:no-such-daemon")}}}
	hs, f := startFleetEach(t, each, Options{Screen: tcell.NewSimulationScreen("UTF-8")}, 120, 30)
	waitTiles(hs, f, "box alerting", func(ts map[string]string) bool {
		return strings.Contains(ts["box"], "▲ web (no-such-daemon not running)")
	})
	// The subscription joins its clocks after its first pushes (the
	// containers one measures a window first), so it may trail the tile.
	n := la.a.Subscribers()
	for deadline := time.Now().Add(waitLimit); n != 1 && time.Now().Before(deadline); n = la.a.Subscribers() {
		time.Sleep(20 * time.Millisecond)
	}
	if n != 1 {
		t.Errorf("the agent has %d subscribers, want the fleet's one", n)
	}
	var procs bool
	hs.onUI(func() { procs = f.members[0].d.h.Procs != nil })
	if !procs {
		t.Error("the rule fired without a process list")
	}
}
