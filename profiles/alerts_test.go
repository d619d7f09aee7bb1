package profiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const alertsFile = `# rules for the rack
[profiles.pi-kitchen]
url = "ws://pi-kitchen:3000/ws"
group = "pis"

[[profiles.pi-kitchen.alerts]]
name = "hot"
# the cupboard runs warm
when = "temp > 85"
for = "2m"

[profiles.vps]
url = "ws://vps:3000/ws"

[[alerts]]
name = "hot"
when = "temp > 80"
for = "1m"

[[alerts]]
name = "busy"
when = "cpu > 90"
for = "5m"

[[alerts]]
name = "nginx"
when = "process:nginx"
group = "pis"

[notify]
command = "notify-send socktop \"$SOCKTOP_ALERT_HOST: $SOCKTOP_ALERT_NAME\""
terminal = true
timeout = "5s"
`

func loadBody(t *testing.T, body string) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

// rules renders rules as "name:when:for@source" for comparisons.
func rules(list []Alert) string {
	var parts []string
	for _, a := range list {
		parts = append(parts, a.Name+":"+a.When+":"+a.For+"@"+a.Source)
	}
	return strings.Join(parts, " ")
}

func TestAlertsForProfileGroupAndGlobal(t *testing.T) {
	s, _ := loadBody(t, alertsFile)
	for name, want := range map[string]string{
		// The profile's own "hot" replaces the global one; the group rule joins.
		"pi-kitchen": "hot:temp > 85:2m@profiles.pi-kitchen.alerts[0] busy:cpu > 90:5m@alerts[1] nginx:process:nginx:@alerts[2]",
		"vps":        "hot:temp > 80:1m@alerts[0] busy:cpu > 90:5m@alerts[1]",
		"":           "hot:temp > 80:1m@alerts[0] busy:cpu > 90:5m@alerts[1]",
	} {
		if got := rules(s.AlertsFor(name)); got != want {
			t.Errorf("AlertsFor(%q):\n got %s\nwant %s", name, got, want)
		}
	}
	n := s.Notify()
	if !n.Terminal || !strings.Contains(n.Command, "$SOCKTOP_ALERT_HOST") {
		t.Errorf("Notify = %+v", n)
	}
	if d, err := n.TimeoutDuration(); err != nil || d != 5*time.Second {
		t.Errorf("timeout = %v, %v; want 5s", d, err)
	}
	if d, _ := (Notify{}).TimeoutDuration(); d != DefaultTimeout {
		t.Errorf("default timeout = %v", d)
	}
}

func TestAlertLines(t *testing.T) {
	s, path := loadBody(t, alertsFile)
	own := s.ProfileAlerts("pi-kitchen")[0]
	if own.Line("when") != 9 || own.Line("for") != 10 || own.Line("group") != 6 {
		t.Errorf("profile rule lines: when %d for %d header %d; want 9, 10, 6", own.Line("when"), own.Line("for"), own.Line("group"))
	}
	nginx := s.Alerts()[2]
	if nginx.Line("when") != 27 {
		t.Errorf("alerts[2] when on line %d, want 27", nginx.Line("when"))
	}
	if w := nginx.Where("when"); w != path+` line 27: alert "nginx" (alerts[2])` {
		t.Errorf("Where = %q", w)
	}
}

// A header inside a multi-line string is not a rule; rules written as inline
// tables get no line rather than a wrong one.
func TestAlertLinesTrickyFiles(t *testing.T) {
	s, _ := loadBody(t, `[notify]
command = """
[[alerts]]
echo"""

[[alerts]]   # the only one
  name = 'a'
  "when" = "cpu > 1"
`)
	if a := s.Alerts(); len(a) != 1 || a[0].Line("when") != 8 || a[0].Line("x") != 6 {
		t.Errorf("rules %+v", a)
	}
	s, _ = loadBody(t, `alerts = [{name = "a", when = "cpu > 1"}, {name = "b", when = "down"}]`+"\n")
	if a := s.Alerts(); len(a) != 2 || a[1].Line("when") != 0 || a[1].Source != "alerts[1]" {
		t.Errorf("inline rules %+v", a)
	}
	s, _ = loadBody(t, "[profiles.\"p.q\"]\nurl = \"ws://a:1/ws\"\n[[profiles.'p.q'.alerts]]\nname = \"x\"\nwhen = \"down\"\n")
	if a := s.ProfileAlerts("p.q"); len(a) != 1 || a[0].Line("when") != 5 || a[0].Source != `profiles."p.q".alerts[0]` {
		t.Errorf("rules of a quoted profile name %+v", a)
	}
}

func TestAlertErrorsNameRuleAndLine(t *testing.T) {
	cases := map[string]struct{ body, want string }{
		"no name":     {"[[alerts]]\nwhen = \"cpu > 1\"\n", `line 1: alert "" (alerts[0]): name is empty`},
		"no when":     {"[[alerts]]\nname = \"a\"\n", `line 1: alert "a" (alerts[0]): when is empty`},
		"bad for":     {"[[alerts]]\nname = \"a\"\nwhen = \"cpu > 1\"\n\n[[alerts]]\nname = \"b\"\nwhen = \"cpu > 1\"\nfor = \"5 minutes\"\n", `line 8: alert "b" (alerts[1]): for = "5 minutes" is not a duration`},
		"unitless":    {"[[alerts]]\nname = \"a\"\nwhen = \"down\"\nfor = \"60\"\n", `write 60s or 60m`},
		"negative":    {"[[alerts]]\nname = \"a\"\nwhen = \"down\"\nfor = \"-1s\"\n", `outside 0s..168h`},
		"for integer": {"[[alerts]]\nname = \"a\"\nwhen = \"down\"\nfor = 60\n", "line 4"},
		"group in profile": {"[profiles.p]\nurl = \"ws://p:3000/ws\"\n[[profiles.p.alerts]]\nname = \"a\"\nwhen = \"down\"\ngroup = \"g\"\n",
			`line 6: alert "a" (profiles.p.alerts[0]): group has no meaning inside a profile`},
		"twice":        {"[[alerts]]\nname = \"a\"\nwhen = \"down\"\n[[alerts]]\nname = \"a\"\nwhen = \"cpu > 1\"\n", `line 5: alert "a" (alerts[1]): the name is used twice (also alerts[0])`},
		"unknown key":  {"[[alerts]]\nname = \"a\"\nwhen = \"down\"\nseverity = 3\n", `unknown key "alerts.severity" (known: name, when, for, group)`},
		"notify key":   {"[notify]\ncmd = \"x\"\n", `unknown key "notify.cmd" (known: command, terminal, timeout)`},
		"top key":      {"colour = 1\n", `known: [profiles.NAME], [[alerts]], [notify]`},
		"timeout":      {"[notify]\ncommand = \"x\"\ntimeout = \"forever\"\n", `notify.timeout = "forever"`},
		"control":      {"[[alerts]]\nname = \"a\\u0007\"\nwhen = \"down\"\n", "control characters"},
		"single table": {"[alerts]\nname = \"a\"\n", "line 1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { loadFails(t, tc.body, tc.want) })
	}
}

// loadFails checks that Load refuses body with an error containing want,
// and leaves the file as it was.
func loadFails(t *testing.T, body, want string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Load error %v, want it to contain %q", err, want)
	}
	if after, _ := os.ReadFile(path); string(after) != body {
		t.Error("file changed after a failed load")
	}
}

// Saving a profile (connect --save, a pin accepted on first use) rewrites the
// file; the rules and [notify] must come through unchanged.
func TestSaveKeepsAlertsAndNotify(t *testing.T) {
	s, path := loadBody(t, alertsFile)
	before := map[string]string{}
	for _, n := range []string{"pi-kitchen", "vps", ""} {
		before[n] = rules(s.AlertsFor(n))
	}
	p, _ := s.Get("pi-kitchen")
	p.Pin = "sha256:abcd" // as trust on first use does
	if err := s.Put(p); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(Profile{Name: "new", URL: "ws://new:3000/ws", Group: "pis"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	s2, err := Load(path)
	if err != nil {
		b, _ := os.ReadFile(path)
		t.Fatalf("reload: %v\n%s", err, b)
	}
	for n, want := range before {
		if got := rules(s2.AlertsFor(n)); got != want {
			t.Errorf("after save, AlertsFor(%q):\n got %s\nwant %s", n, got, want)
		}
	}
	if got := rules(s2.AlertsFor("new")); !strings.Contains(got, "nginx:process:nginx") {
		t.Errorf("a new profile of group pis gets %s", got)
	}
	if s2.Notify() != s.Notify() {
		t.Errorf("notify after save %+v, want %+v", s2.Notify(), s.Notify())
	}
	if p2, _ := s2.Get("pi-kitchen"); p2.Pin != "sha256:abcd" {
		t.Errorf("pin lost: %+v", p2)
	}
	// Deleting a profile takes its own rules with it.
	s2.Delete("pi-kitchen")
	if err := s2.Save(); err != nil {
		t.Fatal(err)
	}
	s3, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(s3.ProfileAlerts("pi-kitchen")) != 0 || len(s3.Alerts()) != 3 {
		t.Errorf("after delete: profile rules %v, global %v", s3.ProfileAlerts("pi-kitchen"), rules(s3.Alerts()))
	}
}

// A file without alerts saves without empty [[alerts]] or [notify] tables.
func TestSaveWritesNoEmptyAlertTables(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s, _ := Load(path)
	s.Put(Profile{Name: "a", URL: "ws://a:3000/ws"})
	body, err := s.encode()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "alerts") || strings.Contains(string(body), "notify") {
		t.Errorf("encoded file names alerts or notify:\n%s", body)
	}
}

// FuzzAlerts: whatever parses holds only valid rules, and encoding it (as
// Save does) and parsing again gives the same rules, profiles and [notify].
func FuzzAlerts(f *testing.F) {
	f.Add(alertsFile)
	f.Add("[[alerts]]\nname = \"a\"\nwhen = \"cpu > 1\"\nfor = \"1m\"\n")
	f.Add("alerts = [{name = \"a\", when = \"down\"}]\n[notify]\nterminal = true\n")
	f.Add("[notify]\ncommand = '''\n[[alerts]]\n'''\n[[alerts]]\nname = \"b\"\nwhen = \"disk:/data > 90\"\n")
	f.Add("[profiles.p]\nurl = \"ws://p:3000/ws\"\n[[profiles.p.alerts]]\nname = \"a\"\nwhen = \"down\"\n")
	f.Fuzz(func(t *testing.T, body string) {
		s := newStore("fuzz.toml")
		if err := s.parse([]byte(body)); err != nil {
			return
		}
		check := func(list []Alert, inProfile bool) {
			for _, a := range list {
				if err := a.validate(inProfile); err != nil {
					t.Fatalf("accepted an invalid rule %+v: %v", a, err)
				}
				if l := a.Line("when"); l < 0 || l > strings.Count(body, "\n")+1 {
					t.Fatalf("rule %q on line %d of a %d-line file", a.Name, l, strings.Count(body, "\n")+1)
				}
			}
		}
		check(s.alerts, false)
		for _, list := range s.profileAlerts {
			check(list, true)
		}
		enc, err := s.encode()
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		s2 := newStore("fuzz.toml")
		if err := s2.parse(enc); err != nil {
			t.Fatalf("the encoded file does not parse: %v\n%s", err, enc)
		}
		if rules(s2.alerts) != rules(s.alerts) || s2.notify != s.notify || strings.Join(s2.Names(), ",") != strings.Join(s.Names(), ",") {
			t.Fatalf("round trip changed the file:\n%s\n----\n%s", body, enc)
		}
		for n, list := range s.profileAlerts {
			if rules(s2.profileAlerts[n]) != rules(list) {
				t.Fatalf("round trip changed profile %q's rules", n)
			}
		}
	})
}
