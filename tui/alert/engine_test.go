package alert

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socktop/socktop/profiles"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func mustRule(t *testing.T, name, when string, hold time.Duration) Rule {
	t.Helper()
	r, err := NewRule(name, when, hold)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func cpu(v float64) Sample { return Sample{CPU: Known(v)} }

// evs renders events as "name:state:value" for comparisons.
func evs(list []Event) string {
	var parts []string
	for _, e := range list {
		parts = append(parts, fmt.Sprintf("%s@%s:%s:%s", e.Name, e.Host, e.State, e.Value))
	}
	return strings.Join(parts, " ")
}

// step feeds one sample and checks the events it produced.
func step(t *testing.T, e *Engine, host string, s Sample, sec float64, want string) {
	t.Helper()
	if got := evs(e.Observe(host, s, at(sec))); got != want {
		t.Errorf("t=%vs: events %q, want %q", sec, got, want)
	}
}

func TestForDelaysFiring(t *testing.T) {
	e := NewEngine()
	e.SetRules("vps", []Rule{mustRule(t, "busy", "cpu > 90", 5*time.Second)})
	step(t, e, "vps", cpu(95), 0, "")
	if a := e.Active(); len(a) != 1 || a[0].State != Pending || a[0].Value != "95.0%" {
		t.Errorf("after one sample Active = %+v, want one pending", a)
	}
	step(t, e, "vps", cpu(96), 2, "")
	step(t, e, "vps", cpu(97), 4.9, "")
	step(t, e, "vps", cpu(97), 5, "busy@vps:firing:97.0%")
	step(t, e, "vps", cpu(99), 6, "") // still firing: no second event
	if f := e.Firing("vps"); len(f) != 1 || !f[0].FiredAt.Equal(at(5)) || !f[0].Since.Equal(at(0)) {
		t.Errorf("Firing = %+v", f)
	}
	step(t, e, "vps", cpu(10), 7, "busy@vps:resolved:10.0%")
	if a := e.Active(); len(a) != 0 {
		t.Errorf("after resolving Active = %+v", a)
	}
	h := e.History()
	if len(h) != 2 || h[1].State != Resolved || !h[1].ResolvedAt.Equal(at(7)) || !h[1].FiredAt.Equal(at(5)) || h[1].Rule != "cpu > 90 for 5s" {
		t.Errorf("History = %+v", h)
	}
}

// A dip below the threshold while pending starts the wait over.
func TestPendingResetsWhenConditionBreaks(t *testing.T) {
	e := NewEngine()
	e.SetRules("h", []Rule{mustRule(t, "busy", "cpu > 90", 5*time.Second)})
	step(t, e, "h", cpu(95), 0, "")
	step(t, e, "h", cpu(89), 3, "")
	step(t, e, "h", cpu(95), 4, "")
	step(t, e, "h", cpu(95), 8, "") // 4 s since the condition held again
	step(t, e, "h", cpu(95), 9, "busy@h:firing:95.0%")
}

func TestForZeroFiresAtOnce(t *testing.T) {
	e := NewEngine()
	e.SetRules("h", []Rule{mustRule(t, "full", "disk > 95", 0)})
	s := Sample{FilesystemsKnown: true, Filesystems: []Filesystem{{"/", 40}, {"/data", 97}}}
	step(t, e, "h", s, 0, "full@h:firing:97.0% on /data")
}

// A value hovering on the threshold fires once, and resolves only once it is
// the margin back (cpu: 5 points).
func TestHysteresis(t *testing.T) {
	e := NewEngine()
	e.SetRules("h", []Rule{mustRule(t, "busy", "cpu > 90", 0)})
	step(t, e, "h", cpu(90.5), 0, "busy@h:firing:90.5%")
	for i, v := range []float64{89.9, 90.1, 88, 90.2, 85.1, 91} {
		step(t, e, "h", cpu(v), float64(i+1), "")
	}
	step(t, e, "h", cpu(85), 10, "busy@h:resolved:85.0%")
	step(t, e, "h", cpu(89), 11, "")
	step(t, e, "h", cpu(90.1), 12, "busy@h:firing:90.1%")

	// Below-rules move the other way: temp < 5 (margin 0.5) resolves above 5.5.
	e.SetRules("fridge", []Rule{mustRule(t, "cold", "temp < 5", 0)})
	step(t, e, "fridge", Sample{Temp: Known(4)}, 0, "cold@fridge:firing:4.0°C")
	step(t, e, "fridge", Sample{Temp: Known(5.4)}, 1, "")
	step(t, e, "fridge", Sample{Temp: Known(5.6)}, 2, "cold@fridge:resolved:5.6°C")

	// A threshold of 0 has no margin, so swap > 0 resolves at 0.
	e.SetRules("z", []Rule{mustRule(t, "swapping", "swap > 0", 0)})
	step(t, e, "z", Sample{Swap: Known(0.1)}, 0, "swapping@z:firing:0.1%")
	step(t, e, "z", Sample{Swap: Known(0)}, 1, "swapping@z:resolved:0.0%")
}

// down fires after `for` of unreachability with no new samples (Tick), and
// resolves when the host answers again.
func TestDownFiresOnTick(t *testing.T) {
	e := NewEngine()
	e.SetRules("pi-3", []Rule{mustRule(t, "gone", "down", time.Minute), mustRule(t, "busy", "cpu > 90", 0)})
	step(t, e, "pi-3", cpu(95), 0, "busy@pi-3:firing:95.0%")
	step(t, e, "pi-3", Sample{Unreachable: true}, 10, "")
	if got := evs(e.Tick(at(69))); got != "" {
		t.Errorf("Tick before a minute: %q", got)
	}
	if got := evs(e.Tick(at(70))); got != "gone@pi-3:firing:unreachable" {
		t.Errorf("Tick after a minute: %q", got)
	}
	if got := evs(e.Tick(at(71))); got != "" {
		t.Errorf("second Tick: %q", got)
	}
	// While down, busy has no data: it neither resolved nor forgot its value.
	var busy Status
	for _, s := range e.Active() {
		if s.Name == "busy" {
			busy = s
		}
	}
	if busy.State != Firing || !busy.NoData || busy.Value != "95.0%" {
		t.Errorf("busy while down = %+v", busy)
	}
	if a := e.Active(); len(a) != 2 || a[0].Name != "busy" && a[0].State != Firing {
		t.Errorf("Active = %+v", a)
	}
	step(t, e, "pi-3", cpu(20), 80, "gone@pi-3:resolved:reachable busy@pi-3:resolved:20.0%")
}

// Missing or aged data is unknown: a firing alert stays firing, a pending one
// starts over, an inactive one stays inactive.
func TestUnknownDataNeitherFiresNorResolves(t *testing.T) {
	e := NewEngine()
	e.SetMaxAge(3 * time.Second)
	e.SetRules("h", []Rule{
		mustRule(t, "hot", "temp > 80", 0),
		mustRule(t, "busy", "cpu > 90", 10*time.Second),
		mustRule(t, "nginx", "process:nginx", 0),
		mustRule(t, "data", "disk:/data > 90", 0),
	})
	step(t, e, "h", Sample{Temp: Known(85), CPU: Known(95)}, 0, "hot@h:firing:85.0°C")
	step(t, e, "h", Sample{}, 5, "") // nothing new, and the old data is 5 s old
	if a := e.Active(); len(a) != 1 || a[0].Name != "hot" || !a[0].NoData || a[0].Value != "85.0°C" {
		t.Errorf("with aged data Active = %+v, want hot firing without data", a)
	}
	step(t, e, "h", Sample{CPU: Known(95)}, 9, "") // busy pending again since 9
	step(t, e, "h", Sample{CPU: Known(95)}, 15, "")
	step(t, e, "h", Sample{CPU: Known(95), Temp: Known(20)}, 19, "hot@h:resolved:20.0°C busy@h:firing:95.0%")
	// Processes unknown: nginx does not fire. Known and absent: it fires.
	step(t, e, "h", Sample{Processes: []string{"sshd"}}, 20, "")
	step(t, e, "h", Sample{Processes: []string{"sshd"}, ProcessesKnown: true}, 21, "nginx@h:firing:nginx not running")
	step(t, e, "h", Sample{Processes: []string{"sshd", "nginx"}, ProcessesKnown: true}, 22, "nginx@h:resolved:nginx running")
	// A mount point the host does not list is unknown, not 0 %.
	step(t, e, "h", Sample{FilesystemsKnown: true, Filesystems: []Filesystem{{"/", 99}}}, 23, "")
	step(t, e, "h", Sample{FilesystemsKnown: true, Filesystems: []Filesystem{{"/", 99}, {"/data/", 91}}}, 24, "data@h:firing:91.0% on /data/")
}

// Data arrives in pieces (metrics often, disks and processes seldom): a
// metrics sample does not make the disk rule unknown, so its `for` runs on;
// and the engine keeps its own copy of the slices it is given.
func TestPartialSamplesMerge(t *testing.T) {
	e := NewEngine()
	e.SetRules("h", []Rule{mustRule(t, "full", "disk > 95", 10*time.Second), mustRule(t, "busy", "cpu > 90", 0)})
	fs := []Filesystem{{"/", 97}}
	step(t, e, "h", Sample{FilesystemsKnown: true, Filesystems: fs}, 0, "")
	fs[0].UsedPercent = 10 // the caller reuses its buffer
	for sec := 1.0; sec < 10; sec++ {
		step(t, e, "h", cpu(20), sec, "")
	}
	if got := evs(e.Tick(at(10))); got != "full@h:firing:97.0% on /" {
		t.Errorf("Tick at 10 s: %q", got)
	}
	// Past the max age without news, the disk data is unknown: still firing, without data.
	e.Tick(at(10 + DefaultMaxAge.Seconds() + 1))
	if a := e.Active(); len(a) != 1 || !a[0].NoData {
		t.Errorf("after the max age Active = %+v", a)
	}
	// Unreachable forgets everything: back, with only metrics, the disk is unknown.
	step(t, e, "h", Sample{Unreachable: true}, 100, "")
	step(t, e, "h", cpu(95), 101, "busy@h:firing:95.0%")
	if a := e.Firing("h"); len(a) != 2 || !a[0].NoData || a[0].Name != "full" {
		t.Errorf("after a reconnect Firing = %+v", a)
	}
}

func TestProcessNameCutByKernel(t *testing.T) {
	e := NewEngine()
	e.SetRules("h", []Rule{mustRule(t, "journal", "process:systemd-journald", 0), mustRule(t, "web", "process:Web Content", 0)})
	procs := Sample{ProcessesKnown: true, Processes: []string{"systemd-journal", "Web Content"}}
	step(t, e, "h", procs, 0, "")
	procs.Processes = []string{"systemd-journ", "Web"}
	step(t, e, "h", procs, 1, "journal@h:firing:systemd-journald not running web@h:firing:Web Content not running")
}

func TestSetRulesKeepsStateOfUnchangedRules(t *testing.T) {
	e := NewEngine()
	busy := mustRule(t, "busy", "cpu > 90", 0)
	e.SetRules("h", []Rule{busy})
	step(t, e, "h", cpu(95), 0, "busy@h:firing:95.0%")
	e.SetRules("h", []Rule{mustRule(t, "hot", "temp > 80", 0), busy})
	step(t, e, "h", cpu(95), 1, "") // busy is still firing: no second event
	e.SetRules("h", []Rule{mustRule(t, "busy", "cpu > 50", 0)})
	step(t, e, "h", cpu(95), 2, "busy@h:firing:95.0%") // a changed rule starts over
	e.Forget("h")
	step(t, e, "h", cpu(95), 3, "")
	if len(e.Active()) != 0 {
		t.Error("a forgotten host still has alerts")
	}
}

func TestHistoryIsBounded(t *testing.T) {
	e := NewEngine()
	e.SetRules("h", []Rule{mustRule(t, "busy", "cpu > 90", 0)})
	for i := range HistoryLen {
		e.Observe("h", cpu(95), at(float64(2*i)))
		e.Observe("h", cpu(0), at(float64(2*i+1)))
	}
	h := e.History()
	if len(h) != HistoryLen || h[len(h)-1].State != Resolved || !h[len(h)-1].ResolvedAt.Equal(at(2*HistoryLen-1)) {
		t.Errorf("history of %d events, last %+v", len(h), h[len(h)-1])
	}
}

func TestActiveOrder(t *testing.T) {
	e := NewEngine()
	rules := []Rule{mustRule(t, "b-busy", "cpu > 90", 0), mustRule(t, "a-slow", "cpu > 50", time.Hour)}
	e.SetRules("vps", rules)
	e.SetRules("pi", rules)
	e.Observe("vps", cpu(95), t0)
	e.Observe("pi", cpu(95), t0)
	var got []string
	for _, s := range e.Active() {
		got = append(got, s.State.String()+":"+s.Host+":"+s.Name)
	}
	want := "firing:pi:b-busy firing:vps:b-busy pending:pi:a-slow pending:vps:a-slow"
	if strings.Join(got, " ") != want {
		t.Errorf("Active order %v, want %s", got, want)
	}
}

// A rule that does not parse is reported with the file, line, name and index.
func TestCompileNamesFileLineAndRule(t *testing.T) {
	path := filepath.Join(t.TempDir(), profiles.FileName)
	body := "[[alerts]]\nname = \"ok\"\nwhen = \"cpu > 90\"\nfor = \"1m\"\n\n[[alerts]]\nname = \"hot\"\nwhen = \"temp >> 80\"\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := CompileAll(store.AlertsFor(""))
	want := path + ` line 8: alert "hot" (alerts[1]): when "temp >> 80": bad alert condition: temp: expected a number`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("CompileAll error\n %v\nwant it to start with\n %s", err, want)
	}
	if len(rules) != 1 || rules[0].Name != "ok" || rules[0].For != time.Minute || rules[0].Text != "cpu > 90 for 1m" {
		t.Errorf("good rules = %+v", rules)
	}
	if after, _ := os.ReadFile(path); string(after) != body {
		t.Error("the file changed")
	}
}
