package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui"
	"github.com/socktop/socktop/wire/wiretest"
)

// testAgent is socktop's agent on a loopback port, behind its self-signed
// certificate (made in a temp folder) as `socktop agent --tls` serves it.
type testAgent struct {
	url, pin, certDir string
}

func startTLSAgent(t *testing.T, configure ...func(*agent.Config)) testAgent {
	t.Helper()
	cfg := agent.DefaultConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, f := range configure {
		f(&cfg)
	}
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pair, info, err := agent.LoadOrCreateCert(dir, nil, cfg.Logger)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ta := testAgent{url: "wss://" + ln.Addr().String() + "/ws", pin: info.Pin, certDir: dir}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- a.Serve(ctx, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}))
	}()
	t.Cleanup(func() { cancel(); <-served })
	return ta
}

// connectCase is one `socktop connect` run: a scripted stdin, the real
// probe, and a dashboard that dials the agent as the real one would and
// records what it was given.
type connectCase struct {
	code        int
	stderr      string
	stderrAtRun string // what the user had seen when the dashboard started
	opts        *tui.Options
	dialErr     error // the dashboard's own dial with those options
}

func runConnectWith(t *testing.T, args []string, stdin string, interactive bool, edit func(*connectEnv)) connectCase {
	t.Helper()
	var errb bytes.Buffer
	var c connectCase
	env := connectEnv{Version: "test", Stdin: strings.NewReader(stdin), Stdout: io.Discard, Stderr: &errb, Interactive: interactive,
		Run: func(ctx context.Context, o tui.Options) error {
			c.opts, c.stderrAtRun = &o, errb.String()
			if o.Target.TLS() {
				c.dialErr = tui.Probe(ctx, o.Target, "test")
			}
			return nil
		}}
	if edit != nil {
		edit(&env)
	}
	c.code = connect(context.Background(), args, env)
	c.stderr = errb.String()
	return c
}

func loadProfiles(t *testing.T, path string) *profiles.Store {
	t.Helper()
	st, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Trust on first use: the pin is saved in a profile named HOST-PORT (said
// before asking), and found by URL next time, so nothing is asked again.
// The bare host keeps meaning ws://HOST:3000; a second agent on the host
// gets a profile of its own.
func TestTrustOnFirstUseSticks(t *testing.T) {
	path := configDir(t)
	ag := startTLSAgent(t)
	hostPort := strings.TrimSuffix(strings.TrimPrefix(ag.url, "wss://"), "/ws")
	name := strings.ReplaceAll(hostPort, ":", "-") // 127.0.0.1-PORT

	r := runConnectWith(t, []string{ag.url}, "n\n", true, nil)
	if r.code != 1 || !strings.Contains(r.stderr, ag.pin) || r.opts != nil {
		t.Fatalf("declined: exit %d, ran %v: %s", r.code, r.opts != nil, r.stderr)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("declining saved something")
	}
	where := `Yes saves the pin in profile "` + name + `" in ` + path
	if i, j := strings.Index(r.stderr, where), strings.Index(r.stderr, "Trust it? [y/N]"); i < 0 || j < i {
		t.Errorf("where the pin goes is not said before the question:\n%s", r.stderr)
	}

	r = runConnectWith(t, []string{ag.url}, "y\n", true, nil)
	if r.code != 0 || r.opts == nil || r.opts.Target.Pin != ag.pin || r.dialErr != nil {
		t.Fatalf("accepted: exit %d, dial %v: %s", r.code, r.dialErr, r.stderr)
	}
	if !strings.Contains(r.stderrAtRun, `pin saved to profile "`+name+`" in `+path) {
		t.Errorf("'pin saved' was not printed before the dashboard started:\n%s", r.stderrAtRun)
	}
	st := loadProfiles(t, path)
	if p, err := st.Get(name); err != nil || p.Pin != ag.pin || p.URL != ag.url {
		t.Fatalf("profile %s: %+v %v", name, p, err)
	}
	if st.Has("127.0.0.1") {
		t.Error("a profile named after the bare host was created")
	}

	// The same URL again, no terminal: no question, the saved pin.
	r = runConnectWith(t, []string{ag.url}, "", false, nil)
	if r.code != 0 || r.opts.Target.Pin != ag.pin || r.dialErr != nil || strings.Contains(r.stderr, "Trust it") {
		t.Errorf("the same URL again: exit %d, pin %q, dial %v:\n%s", r.code, r.opts.Target.Pin, r.dialErr, r.stderr)
	}
	// The profile's name works too.
	if r := runConnectWith(t, []string{name}, "", false, nil); r.code != 0 || r.dialErr != nil {
		t.Errorf("connect %s: exit %d, dial %v: %s", name, r.code, r.dialErr, r.stderr)
	}
	// The bare host is still a host.
	if r := runConnectWith(t, []string{"127.0.0.1"}, "", false, nil); r.code != 0 || r.opts.Target.URL != "ws://127.0.0.1:3000/ws" || r.opts.Target.Pin != "" {
		t.Errorf("connect 127.0.0.1 resolved to %+v", r.opts.Target)
	}

	// A second agent on the same host: its own profile.
	ag2 := startTLSAgent(t)
	name2 := strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(ag2.url, "wss://"), "/ws"), ":", "-")
	r = runConnectWith(t, []string{ag2.url}, "y\n", true, nil)
	if r.code != 0 || r.opts.Target.Pin != ag2.pin || r.dialErr != nil || !strings.Contains(r.stderr, `pin saved to profile "`+name2+`"`) {
		t.Fatalf("second agent: exit %d, dial %v: %s", r.code, r.dialErr, r.stderr)
	}
	if p, _ := loadProfiles(t, path).Get(name); p.Pin != ag.pin {
		t.Errorf("the first agent's pin changed: %+v", p)
	}

	// Without a terminal nothing is asked and the pin is named.
	configDir(t)
	r = runConnectWith(t, []string{ag.url}, "", false, nil)
	if r.code != 1 || !strings.Contains(r.stderr, "--pin "+ag.pin) {
		t.Errorf("non-interactive: exit %d: %s", r.code, r.stderr)
	}
}

// A regenerated certificate: the dashboard's banner shows the command that
// trusts the new one (tui/screen's TestPinMismatchBannerShowsTheCommand);
// that command, run as shown, updates the pin and keeps the rest of the
// profile, and the dashboard then connects.
func TestPinUpdateCommandKeepsTheProfile(t *testing.T) {
	path := configDir(t)
	ag := startTLSAgent(t)
	old := "sha256:" + strings.Repeat("ab", 32)
	profile := "[profiles.pi]\nurl = \"" + ag.url + "\"\npin = \"" + old + "\"\ntoken = \"kept\"\ngroup = \"home\"\nmetrics_interval_ms = 750\n"
	writeProfiles(t, path, profile)
	if r := runConnectWith(t, []string{"pi"}, "", false, nil); r.code != 0 || r.dialErr == nil || !strings.Contains(r.dialErr.Error(), "does not match the pin") {
		t.Fatalf("the old pin: exit %d, dial %v", r.code, r.dialErr)
	}
	for _, cmd := range [][]string{
		{"--save", "--profile", "pi", "--pin", ag.pin},         // as the banner shows it
		{"--pin", ag.pin, "--save", "--profile", "pi", ag.url}, // with the URL
	} {
		writeProfiles(t, path, profile)
		r := runConnectWith(t, cmd, "", false, nil)
		if r.code != 0 || r.dialErr != nil || r.opts.Target.Profile != "pi" {
			t.Fatalf("socktop connect %s: exit %d, dial %v: %s", strings.Join(cmd, " "), r.code, r.dialErr, r.stderr)
		}
		p, _ := loadProfiles(t, path).Get("pi")
		if p.Pin != ag.pin || p.Token != "kept" || p.Group != "home" || p.MetricsIntervalMS != 750 || p.URL != ag.url {
			t.Errorf("after socktop connect %s the profile is %+v", strings.Join(cmd, " "), p)
		}
		if r := runConnectWith(t, []string{"pi"}, "", false, nil); r.code != 0 || r.dialErr != nil {
			t.Errorf("pi afterwards: exit %d, dial %v", r.code, r.dialErr)
		}
	}
	// --profile with another URL replaces the profile: its token does not
	// go to another agent.
	writeProfiles(t, path, profile)
	if r := runConnectWith(t, []string{"--save", "--profile", "pi", "wss://127.0.0.1:1/ws"}, "", false, func(e *connectEnv) {
		e.Probe = func(context.Context, tui.Target) error { return nil }
	}); r.code != 0 || r.opts.Target.Token != "" {
		t.Errorf("another URL: exit %d, token %q: %s", r.code, r.opts.Target.Token, r.stderr)
	}
	if p, _ := loadProfiles(t, path).Get("pi"); p.Token != "" || p.Group != "" {
		t.Errorf("another URL kept the old profile's settings: %+v", p)
	}
}

// A mistyped profile name that is no host either gets "did you mean";
// one that resolves is a host as before; --profile and @group typos too.
func TestConnectSuggestsTheProfileMeant(t *testing.T) {
	path := configDir(t)
	writeProfiles(t, path, "[profiles.pi-kitchen]\nurl = \"ws://10.0.0.5:3000/ws\"\ngroup = \"pis\"\n\n[profiles.nas]\nurl = \"ws://10.0.0.9:3000/ws\"\n")
	dns := wiretest.NewDNS() // no packet leaves the machine
	defer dns.Close()
	withDNS := func(e *connectEnv) { e.Resolver = dns.Resolver() }

	r := runConnectWith(t, []string{"pi-kitchn"}, "", false, withDNS)
	if r.code != 2 || !strings.Contains(r.stderr, "did you mean pi-kitchen?") || r.opts != nil || dns.Queries() == 0 {
		t.Errorf("pi-kitchn, no such host: exit %d, ran %v, %d DNS queries: %s", r.code, r.opts != nil, dns.Queries(), r.stderr)
	}
	dns.Answer(netip.MustParseAddr("10.0.0.7")) // a host of that name exists
	if r := runConnectWith(t, []string{"pi-kitchn"}, "", false, withDNS); r.code != 0 || r.opts.Target.URL != "ws://pi-kitchn:3000/ws" {
		t.Errorf("pi-kitchn, a real host: exit %d: %s", r.code, r.stderr)
	}
	before := dns.Queries()
	if r := runConnectWith(t, []string{"otherhost"}, "", false, withDNS); r.code != 0 || dns.Queries() != before {
		t.Errorf("a word near no profile was looked up (%d queries) or refused: exit %d %s", dns.Queries()-before, r.code, r.stderr)
	}
	if r := runConnectWith(t, []string{"--profile", "pi-kichten"}, "", false, withDNS); r.code != 1 || !strings.Contains(r.stderr, "did you mean pi-kitchen?") {
		t.Errorf("--profile pi-kichten: exit %d: %s", r.code, r.stderr)
	}
	if r := runConnectWith(t, []string{"@pi"}, "", false, withDNS); r.code != 2 || !strings.Contains(r.stderr, "did you mean @pis?") {
		t.Errorf("@pi: exit %d: %s", r.code, r.stderr)
	}
}

// A profiles file that does not parse is named with its line and does not
// stop a URL; it stops a profile name, and nothing is written over it.
func TestCorruptProfilesDoNotBlockAURL(t *testing.T) {
	path := configDir(t)
	body := "[profiles.pi]\nurl = \"ws://10.0.0.5:3000/ws\"\nthis is not toml\n"
	writeProfiles(t, path, body)
	for _, args := range [][]string{{"ws://127.0.0.1:4000/ws"}, {"127.0.0.1:4000"}, {"10.0.0.5"}, {"ws://a:1/ws", "ws://b:2/ws"}} {
		r := runConnectWith(t, args, "", false, func(e *connectEnv) {
			e.RunFleet = func(context.Context, []tui.Options, tui.Options) error { return nil }
		})
		warn := "socktop connect: ignoring the profiles: " + path + " line 3"
		if r.code != 0 || !strings.Contains(r.stderr, warn) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, want 0 and one line %q:\n%s", args, r.code, warn, r.stderr)
		}
	}
	if r := runConnectWith(t, []string{"pi"}, "", false, nil); r.code != 1 || !strings.Contains(r.stderr, path+" line 3") {
		t.Errorf("a profile name with a broken file: exit %d: %s", r.code, r.stderr)
	}
	// A new certificate is trusted for the run only; the file stays.
	ag := startTLSAgent(t)
	r := runConnectWith(t, []string{ag.url}, "y\n", true, nil)
	if r.code != 0 || r.dialErr != nil || !strings.Contains(r.stderr, "could not be read): yes trusts it for this run only") {
		t.Errorf("TOFU with a broken file: exit %d, dial %v: %s", r.code, r.dialErr, r.stderr)
	}
	if after, _ := os.ReadFile(path); string(after) != body {
		t.Errorf("the broken file was written:\n%s", after)
	}
}
