package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui"
)

// connectRun runs `socktop connect ARGS` with the dashboard replaced by a
// stub that records its options.
type connectRun struct {
	code   int
	stderr string
	opts   *tui.Options
}

func runConnectTest(t *testing.T, args []string, stdin string, interactive bool) connectRun {
	t.Helper()
	var out, errb bytes.Buffer
	var got *tui.Options
	env := connectEnv{Version: "test", Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Interactive: interactive,
		Run: func(_ context.Context, o tui.Options) error { got = &o; return nil }}
	code := connect(context.Background(), args, env)
	return connectRun{code: code, stderr: errb.String(), opts: got}
}

func configDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", d)
	t.Setenv("SOCKTOP_TOKEN", "")
	return filepath.Join(d, "socktop", "profiles.toml")
}

func writeProfiles(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestConnectResolvesNamesHostsAndURLs(t *testing.T) {
	path := configDir(t)
	writeProfiles(t, path, `
[profiles.pi]
url = "ws://10.0.0.5:3000/ws"
token = "fromprofile"
metrics_interval_ms = 1000
group = "home"
`)
	for _, c := range []struct {
		args            []string
		url, tok, label string
		metrics         time.Duration
	}{
		{[]string{"pi"}, "ws://10.0.0.5:3000/ws", "fromprofile", "pi", time.Second},
		{[]string{"@home"}, "ws://10.0.0.5:3000/ws", "fromprofile", "pi", time.Second},
		{[]string{"-P", "pi"}, "ws://10.0.0.5:3000/ws", "fromprofile", "pi", time.Second},
		{[]string{"pi", "--token", "flag", "--metrics-interval-ms", "250"}, "ws://10.0.0.5:3000/ws", "flag", "pi", 250 * time.Millisecond},
		{[]string{"pi-kitchen"}, "ws://pi-kitchen:3000/ws", "", "pi-kitchen", 0},
		{[]string{"pi-kitchen:4000"}, "ws://pi-kitchen:4000/ws", "", "pi-kitchen:4000", 0},
		{[]string{"wss://h:8443/ws?token=abc", "--pin", "sha256:" + strings.Repeat("AB", 32)}, "wss://h:8443/ws", "abc", "wss://h:8443/ws?token=abc", 0},
	} {
		r := runConnectTest(t, c.args, "", false)
		if r.code != 0 || r.opts == nil {
			t.Errorf("%v: exit %d: %s", c.args, r.code, r.stderr)
			continue
		}
		o := r.opts
		if o.Target.URL != c.url || o.Target.Token != c.tok || o.Target.Label != c.label || o.MetricsInterval != c.metrics {
			t.Errorf("%v: got url %q token %q label %q metrics %v", c.args, o.Target.URL, o.Target.Token, o.Target.Label, o.MetricsInterval)
		}
	}
}

func TestConnectUsage(t *testing.T) {
	configDir(t)
	if r := runConnectTest(t, []string{"-h"}, "", false); r.code != 0 || !strings.Contains(r.stderr, "socktop connect pi-kitchen") || !strings.Contains(r.stderr, "-tls-ca") {
		t.Errorf("-h: exit %d\n%s", r.code, r.stderr)
	}
	for _, args := range [][]string{{"--bogus"}, {"--metrics-interval-ms", "-5", "x"}, {"--pin", "nothex", "x"}, {"bad host/x"}, {"@nogroup"}} {
		if r := runConnectTest(t, args, "", false); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.stderr)
		}
	}
	// no argument and no terminal: no picker
	if r := runConnectTest(t, nil, "", false); r.code != 2 || !strings.Contains(r.stderr, "no agent given") {
		t.Errorf("no args: exit %d %s", r.code, r.stderr)
	}
}

func TestConnectSavesProfile(t *testing.T) {
	path := configDir(t)
	r := runConnectTest(t, []string{"--profile", "pi", "--save", "-t", "/etc/agent.pem", "--processes-interval-ms", "3000", "wss://pi.lan:8443/ws?token=s3cret"}, "", false)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	st, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Get("pi")
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != "wss://pi.lan:8443/ws" || p.Token != "s3cret" || p.TLSCA != "/etc/agent.pem" || p.ProcessesIntervalMS != 3000 {
		t.Errorf("saved %+v", p)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("profiles file mode %v", fi.Mode().Perm())
	}
	// overwriting asks first: "n" keeps the old one
	r = runConnectTest(t, []string{"--profile", "pi", "ws://other:3000/ws"}, "n\n", true)
	if r.code != 0 || !strings.Contains(r.stderr, `Overwrite profile "pi"`) {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	st, _ = profiles.Load(path)
	if p, _ := st.Get("pi"); p.URL != "wss://pi.lan:8443/ws" {
		t.Errorf("declined overwrite changed the profile: %+v", p)
	}
	// "y" overwrites
	runConnectTest(t, []string{"--profile", "pi", "ws://other:3000/ws"}, "y\n", true)
	st, _ = profiles.Load(path)
	if p, _ := st.Get("pi"); p.URL != "ws://other:3000/ws" {
		t.Errorf("accepted overwrite did not save: %+v", p)
	}
}

func TestPicker(t *testing.T) {
	path := configDir(t)
	writeProfiles(t, path, "[profiles.alpha]\nurl = \"ws://a:3000/ws\"\n\n[profiles.beta]\nurl = \"ws://b:3000/ws\"\n")
	scr := tcell.NewSimulationScreen("UTF-8")
	var errb bytes.Buffer
	var got *tui.Options
	env := connectEnv{Version: "test", Stdin: strings.NewReader(""), Stdout: &errb, Stderr: &errb, Screen: scr,
		Run:         func(_ context.Context, o tui.Options) error { got = &o; return nil },
		PickerReady: func() { scr.InjectKey(tcell.KeyDown, 0, 0); scr.InjectKey(tcell.KeyEnter, 0, 0) }}
	if code := connect(context.Background(), nil, env); code != 0 || got == nil {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if got.Target.URL != "ws://b:3000/ws" || got.Target.Label != "beta" {
		t.Errorf("picked %+v", got.Target)
	}
	// q quits the picker without connecting
	got = nil
	scr2 := tcell.NewSimulationScreen("UTF-8")
	env.Screen, env.PickerReady = scr2, func() { scr2.InjectKey(tcell.KeyRune, 'q', 0) }
	if code := connect(context.Background(), nil, env); code != 0 || got != nil {
		t.Errorf("q: exit %d, connected %v", code, got != nil)
	}
}

// The picker shows profiles' URLs and groups as they are written: tview
// would read "[yellow]" in them as a colour and swallow it.
func TestPickerShowsURLsVerbatim(t *testing.T) {
	path := configDir(t)
	writeProfiles(t, path, "[profiles.six]\nurl = \"ws://[::1]:3000/ws\"\ngroup = \"[yellow]lab\"\n")
	scr := tcell.NewSimulationScreen("UTF-8")
	var shown string
	env := connectEnv{Version: "test", Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Screen: scr,
		Run: func(context.Context, tui.Options) error { return nil },
		PickerReady: func() {
			cells, w, _ := scr.GetContents()
			var b strings.Builder
			for i, c := range cells {
				if i%w == 0 {
					b.WriteByte('\n')
				}
				if len(c.Runes) > 0 {
					b.WriteRune(c.Runes[0])
				}
			}
			shown = b.String()
			scr.InjectKey(tcell.KeyRune, 'q', 0)
		}}
	if code := connect(context.Background(), nil, env); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(shown, "ws://[::1]:3000/ws  (group [yellow]lab)") {
		t.Errorf("the picker does not show the URL as written:\n%s", shown)
	}
}

// A rule that does not compile stops connect before anything is dialled,
// with one line per bad rule naming the file, the line and the rule.
func TestConnectRefusesBadAlertRules(t *testing.T) {
	path := configDir(t)
	writeProfiles(t, path, `[profiles.pi]
url = "ws://10.0.0.5:3000/ws"

[[alerts]]
name = "hot"
when = "temp >> 80"

[[profiles.pi.alerts]]
name = "disk"
when = "disk:/data > 190"
`)
	r := runConnectTest(t, []string{"pi"}, "", false)
	if r.code != 1 || r.opts != nil {
		t.Fatalf("exit %d, dashboard run: %v; want 1 and none", r.code, r.opts != nil)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per bad rule, got:\n%s", r.stderr)
	}
	for i, want := range []string{path + ` line 6: alert "hot" (alerts[0]): when "temp >> 80"`, path + ` line 10: alert "disk" (profiles.pi.alerts[0]): when "disk:/data > 190"`} {
		if !strings.HasPrefix(lines[i], "socktop connect: "+want) {
			t.Errorf("line %d: %q, want it to start with %q", i+1, lines[i], want)
		}
	}
}

// Each dashboard gets the rules that apply to it, named after its profile,
// else its host:port; a fleet's members each get theirs.
func TestConnectPassesAlertRules(t *testing.T) {
	path := configDir(t)
	writeProfiles(t, path, `[profiles.pi]
url = "ws://10.0.0.5:3000/ws"
group = "rack"

[profiles.pi2]
url = "ws://10.0.0.6:3000/ws"
group = "rack"

[[alerts]]
name = "busy"
when = "cpu > 90"
for = "1m"

[[alerts]]
name = "hot"
when = "temp > 80"
group = "rack"

[notify]
command = "true"
`)
	r := runConnectTest(t, []string{"pi"}, "", false)
	if r.code != 0 || r.opts == nil {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if a := r.opts.Alerts; a.Host != "pi" || len(a.Rules) != 2 || a.Rules[0].Text != "cpu > 90 for 1m" || a.Notify.Command != "true" {
		t.Errorf("pi's alerts: %+v", a)
	}
	r = runConnectTest(t, []string{"10.0.0.9:4000"}, "", false)
	if a := r.opts.Alerts; r.code != 0 || a.Host != "10.0.0.9:4000" || len(a.Rules) != 1 || a.Rules[0].Name != "busy" {
		t.Errorf("a host by address: exit %d, alerts %+v", r.code, a)
	}
	code, stderr, each, _ := runFleetConnect(t, "@rack")
	if code != 0 || len(each) != 2 {
		t.Fatalf("fleet: exit %d: %s", code, stderr)
	}
	for _, o := range each {
		if o.Alerts.Host != o.Target.Label || len(o.Alerts.Rules) != 2 {
			t.Errorf("fleet member %s: alerts %+v", o.Target.Label, o.Alerts)
		}
	}
}
