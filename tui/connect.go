package tui

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui/alert"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"golang.org/x/term"
)

// ConnectOptions is what `socktop connect` takes from outside the
// dashboard. Zero fields take the defaults: the process's terminal, Run,
// RunFleetOptions and a real probe dial.
type ConnectOptions struct {
	// Version is this client's version, sent in Hello.
	Version string
	// DemoAgent starts an agent in this process on a loopback port and
	// returns its WebSocket URL and a stop function. main sets it (tui may
	// not import the agent); the picker's "demo" entry uses it.
	DemoAgent func(ctx context.Context) (url string, stop func(), err error)

	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Interactive says prompts are allowed (with Stdin unset: stdin and
	// stderr are a terminal).
	Interactive bool
	// Screen is where the picker and the dashboard draw; nil is the
	// terminal.
	Screen tcell.Screen
	// Run runs one dashboard, RunFleet a fleet.
	Run      func(ctx context.Context, opts Options) error
	RunFleet func(ctx context.Context, each []Options, shared Options) error
	// Probe dials an agent for trust on first use.
	Probe func(ctx context.Context, t Target) error

	ready func() // tests: called once the picker is on screen
}

func (o *ConnectOptions) defaults() {
	if o.Stdin == nil {
		o.Stdin = os.Stdin
		o.Interactive = term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stderr.Fd()))
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Run == nil {
		o.Run = Run
	}
	if o.RunFleet == nil {
		o.RunFleet = RunFleetOptions
	}
	if o.Probe == nil {
		o.Probe = probe
	}
}

// RunConnect is `socktop connect`: it parses the flags, resolves profiles,
// hosts and URLs, asks to trust a new certificate, and runs the dashboard
// (or the fleet, for several agents). It returns the exit code: 0 ok, 1
// failure, 2 usage error.
func RunConnect(args []string, o ConnectOptions) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runConnect(ctx, args, o)
}

const connectUsage = `usage: socktop connect [flags] [NAME | HOST[:PORT] | URL | @GROUP]

Opens the dashboard for one agent. A bare word is a profile name when such a
profile exists, otherwise a host (pi-kitchen means ws://pi-kitchen:3000/ws).
With no argument, a picker lists your profiles, then the demo.

Examples:
  socktop connect pi-kitchen
  socktop connect 10.0.0.5:3000
  socktop connect wss://10.0.0.5:8443/ws --token s3cret
  socktop connect --profile pi --save wss://pi.lan:8443/ws?token=s3cret
  socktop connect -t agent-cert.pem wss://pi.lan:8443/ws
  socktop connect --metrics-interval-ms 1000 --ascii pi-kitchen

Profiles live in $XDG_CONFIG_HOME/socktop/profiles.toml (~/.config if unset).
Keys on the dashboard: ? shows them all.

Flags (one dash or two; -t/--tls-ca, -P/--profile):
`

// connectFlags are the parsed command line.
type connectFlags struct {
	profile, token, tlsCA, pin, group    string
	verifyHostname, save, ascii, noColor bool
	metricsMS, processesMS, disksMS      int
	set                                  map[string]bool
}

func parseConnectFlags(args []string, stderr io.Writer) (*connectFlags, []string, error) {
	f := &connectFlags{set: map[string]bool{}}
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, connectUsage)
		fs.PrintDefaults()
	}
	for _, n := range []string{"P", "profile"} {
		fs.StringVar(&f.profile, n, "", "profile `NAME` to use, or to create/overwrite when a URL is given")
	}
	for _, n := range []string{"t", "tls-ca"} {
		fs.StringVar(&f.tlsCA, n, "", "the agent's certificate `FILE` (PEM) for wss://")
	}
	fs.StringVar(&f.token, "token", "", "the agent's `TOKEN` (also SOCKTOP_TOKEN, or ?token= in the URL)")
	fs.StringVar(&f.pin, "pin", "", "the agent certificate's `sha256:…` fingerprint, as `socktop cert` prints it")
	fs.BoolVar(&f.verifyHostname, "verify-hostname", false, "also check that the certificate names the host")
	fs.BoolVar(&f.save, "save", false, "with --profile and a URL: save without asking")
	fs.StringVar(&f.group, "group", "", "with --profile: the profile's `GROUP` (socktop connect @GROUP)")
	fs.IntVar(&f.metricsMS, "metrics-interval-ms", 0, "metrics refresh `ms` (default 500, min 100)")
	fs.IntVar(&f.processesMS, "processes-interval-ms", 0, "process list refresh `ms` (default 2000, min 200)")
	fs.IntVar(&f.disksMS, "disks-interval-ms", 0, "disks refresh `ms` (default 5000, min 200)")
	fs.BoolVar(&f.ascii, "ascii", false, "draw without braille and box characters")
	fs.BoolVar(&f.noColor, "no-color", false, "draw without colour (also NO_COLOR)")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	rest := fs.Args()
	// flags after the positional argument, as people type them
	if len(rest) > 1 {
		var pos []string
		for len(rest) > 0 {
			pos = append(pos, rest[0])
			if err := fs.Parse(rest[1:]); err != nil {
				return nil, nil, err
			}
			rest = fs.Args()
		}
		fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
		rest = pos
	}
	for _, v := range []struct {
		name string
		ms   int
	}{{"metrics-interval-ms", f.metricsMS}, {"processes-interval-ms", f.processesMS}, {"disks-interval-ms", f.disksMS}} {
		if v.ms < 0 {
			return nil, nil, fmt.Errorf("--%s must not be negative", v.name)
		}
	}
	if f.pin != "" {
		p, err := wire.ParseFingerprint(f.pin)
		if err != nil {
			return nil, nil, err
		}
		f.pin = p
	}
	return f, rest, nil
}

func runConnect(ctx context.Context, args []string, env ConnectOptions) int {
	env.defaults()
	f, rest, err := parseConnectFlags(args, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "socktop connect: %v\n", err)
		return 2
	}
	path, err := profiles.DefaultPath()
	if err != nil {
		fmt.Fprintf(env.Stderr, "socktop connect: %v\n", err)
		return 1
	}
	store, err := profiles.Load(path)
	if err != nil {
		fmt.Fprintf(env.Stderr, "socktop connect: %v\n", err)
		return 1
	}
	if store.Imported != "" {
		fmt.Fprintf(env.Stderr, "socktop: imported %d profiles from %s into %s (the old file is untouched)\n", len(store.Names()), store.Imported, store.Path())
	}
	if err := alert.Check(store); err != nil { // one line per bad [[alerts]] rule
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(env.Stderr, "socktop connect: %s\n", line)
		}
		return 1
	}
	if wantsFleet(store, rest) {
		return connectFleet(ctx, f, store, rest, env) // fleetconnect.go
	}
	arg := ""
	if len(rest) == 1 {
		arg = rest[0]
	}
	if arg == "" && f.profile == "" {
		choice, err := pick(ctx, env, f, store)
		if err != nil {
			fmt.Fprintf(env.Stderr, "socktop connect: %v\n", err)
			return 2
		}
		if choice == "" {
			return 0
		}
		arg = choice
	}
	if arg == "demo" && !store.Has("demo") {
		return runDemoFromConnect(ctx, f, env)
	}
	opts, prof, err := resolveTarget(store, f, arg, env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "socktop connect: %v\n", err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	if err := trustOnFirstUse(ctx, &opts, prof, store, env); err != nil {
		fmt.Fprintf(env.Stderr, "socktop connect: %v\n", err)
		return 1
	}
	opts.Version, opts.ASCII, opts.NoColor, opts.Screen = env.Version, f.ascii, f.noColor, env.Screen
	opts.Alerts = alert.ForHost(store, prof, opts.Target.URL)
	if err := env.Run(ctx, opts); err != nil {
		fmt.Fprintf(env.Stderr, "socktop connect: %v\n", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

func runDemoFromConnect(ctx context.Context, f *connectFlags, env ConnectOptions) int {
	if env.DemoAgent == nil {
		fmt.Fprintln(env.Stderr, "socktop connect: the demo is not available in this build (run socktop demo)")
		return 1
	}
	u, stop, err := env.DemoAgent(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "socktop connect: start demo agent: %v\n", err)
		return 1
	}
	defer stop()
	opts := Options{Target: Target{Label: "demo", URL: u}, Demo: true, Version: env.Version, ASCII: f.ascii, NoColor: f.noColor, Screen: env.Screen}
	if err := env.Run(ctx, opts); err != nil {
		fmt.Fprintf(env.Stderr, "socktop connect: %v\n", err)
		return 1
	}
	return 0
}

// resolveTarget turns the argument and flags into dashboard options. It
// returns the profile the target came from or was saved to ("" if none).
func resolveTarget(store *profiles.Store, f *connectFlags, arg string, env ConnectOptions) (Options, string, error) {
	var p profiles.Profile
	profName := ""
	switch {
	case strings.HasPrefix(arg, "@"):
		members := store.Group(arg[1:])
		switch len(members) {
		case 0:
			return Options{}, "", fmt.Errorf("%w: no profile is in group %q (set group = %q in a profile)", errUsage, arg[1:], arg[1:])
		default: // one: a group of several is a fleet (wantsFleet)
			p, profName = members[0], members[0].Name
		}
	case f.profile != "" && arg == "":
		var err error
		if p, err = store.Get(f.profile); err != nil {
			return Options{}, "", err
		}
		profName = f.profile
	case f.profile != "":
		u, tok, err := agentURL(arg)
		if err != nil {
			return Options{}, "", fmt.Errorf("%w: %v", errUsage, err)
		}
		p = profiles.Profile{Name: f.profile, URL: u, Token: firstNonEmpty(f.token, tok), TLSCA: f.tlsCA, Pin: f.pin,
			VerifyHostname: f.verifyHostname, MetricsIntervalMS: f.metricsMS, ProcessesIntervalMS: f.processesMS,
			DisksIntervalMS: f.disksMS, Group: f.group}
		if err := saveProfile(store, p, f.save, env); err != nil {
			return Options{}, "", err
		}
		profName = f.profile
	case store.Has(arg):
		p, _ = store.Get(arg)
		profName = arg
	default:
		u, tok, err := agentURL(arg)
		if err != nil {
			return Options{}, "", fmt.Errorf("%w: %v", errUsage, err)
		}
		p = profiles.Profile{URL: u, Token: tok}
	}
	tok, err := p.ResolveToken()
	if err != nil {
		return Options{}, "", err
	}
	// the command line wins over the profile
	if f.token != "" {
		tok = f.token
	}
	if tok == "" {
		tok = os.Getenv("SOCKTOP_TOKEN")
	}
	t := Target{Label: firstNonEmpty(profName, arg), URL: p.URL, Token: tok, TLSCA: p.TLSCA, Pin: p.Pin, VerifyHostname: p.VerifyHostname}
	if f.set["tls-ca"] || f.set["t"] {
		t.TLSCA = f.tlsCA
	}
	if f.pin != "" {
		t.Pin = f.pin
	}
	if f.verifyHostname {
		t.VerifyHostname = true
	}
	ms := func(flagV, profV int) time.Duration {
		if flagV > 0 {
			return time.Duration(flagV) * time.Millisecond
		}
		return time.Duration(profV) * time.Millisecond
	}
	return Options{Target: t,
		MetricsInterval:   ms(f.metricsMS, p.MetricsIntervalMS),
		ProcessesInterval: ms(f.processesMS, p.ProcessesIntervalMS),
		DisksInterval:     ms(f.disksMS, p.DisksIntervalMS)}, profName, nil
}

// agentURL normalises what the user typed and takes a ?token= out of it.
func agentURL(arg string) (u, token string, err error) {
	u, err = profiles.AgentURL(arg)
	if err != nil {
		return "", "", err
	}
	pu, err := url.Parse(u)
	if err != nil {
		return "", "", fmt.Errorf("bad URL %q: %w", arg, err)
	}
	q := pu.Query()
	if tok := q.Get("token"); tok != "" {
		q.Del("token")
		pu.RawQuery = q.Encode()
		return pu.String(), tok, nil
	}
	return u, "", nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// saveProfile creates or overwrites p, asking first unless force.
func saveProfile(store *profiles.Store, p profiles.Profile, force bool, env ConnectOptions) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if old, err := store.Get(p.Name); err == nil && old == p {
		return nil // nothing changes
	}
	if !force {
		what := "Save"
		if store.Has(p.Name) {
			what = "Overwrite"
		}
		ok, err := ask(env, fmt.Sprintf("%s profile %q (%s) in %s? [y/N] ", what, p.Name, p.URL, store.Path()))
		if err != nil {
			return fmt.Errorf("%w (pass --save to save without asking)", err)
		}
		if !ok {
			fmt.Fprintln(env.Stderr, "profile not saved; connecting anyway")
			return nil
		}
	}
	if err := store.Put(p); err != nil {
		return err
	}
	if err := store.Save(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "saved profile %q in %s\n", p.Name, store.Path())
	return nil
}

// ask asks a yes/no question on the terminal.
func ask(env ConnectOptions, q string) (bool, error) {
	if !env.Interactive {
		return false, errors.New("cannot ask: not a terminal")
	}
	fmt.Fprint(env.Stderr, q)
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("read answer: %w", err)
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

// probe is how trust on first use reaches the agent.
func probe(ctx context.Context, t Target) error {
	c, err := wire.Dial(ctx, t.URL, model.WireOptions(t, "probe"))
	if err == nil {
		c.Close()
	}
	return err
}

// trustOnFirstUse: a wss:// agent with no pin and no CA file is probed; a
// certificate the system does not trust is shown with its fingerprint, and
// accepting it stores the pin in the profile (a new profile named after the
// host when there was none). Declining ends here.
func trustOnFirstUse(ctx context.Context, opts *Options, prof string, store *profiles.Store, env ConnectOptions) error {
	t := &opts.Target
	if !t.TLS() || t.Pin != "" || t.TLSCA != "" {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, model.RequestTimeout)
	defer cancel()
	err := env.Probe(pctx, *t)
	var ut *wire.UntrustedCertError
	if !errors.As(err, &ut) {
		return nil // trusted by the system, or another problem the dashboard shows
	}
	fmt.Fprintf(env.Stderr, "The agent at %s presents a certificate this machine does not trust:\n\n  %s\n\n"+
		"Compare it with what `socktop cert` prints on the agent.\n", model.RedactURL(t.URL), ut.Fingerprint)
	ok, aerr := ask(env, "Trust it and remember the pin? [y/N] ")
	if aerr != nil {
		return fmt.Errorf("%v; to trust it, pass --pin %s", aerr, ut.Fingerprint)
	}
	if !ok {
		return errors.New("certificate not trusted; nothing was saved")
	}
	t.Pin = ut.Fingerprint
	var p profiles.Profile
	if prof != "" && store.Has(prof) {
		p, _ = store.Get(prof)
	} else {
		name := hostProfileName(t.URL)
		if prof != "" {
			name = prof
		}
		if store.Has(name) || profiles.ValidName(name) != nil {
			fmt.Fprintf(env.Stderr, "pin not saved (no free profile name); pass --pin %s next time\n", ut.Fingerprint)
			return nil
		}
		p = profiles.Profile{Name: name, URL: t.URL, Token: t.Token, VerifyHostname: t.VerifyHostname}
	}
	p.Pin = ut.Fingerprint
	if err := store.Put(p); err != nil {
		return err
	}
	if err := store.Save(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "pin saved in profile %q (%s)\n", p.Name, store.Path())
	if t.Label == "" || t.Label == t.URL {
		t.Label = p.Name
	}
	return nil
}

// hostProfileName names a profile after the URL's host.
func hostProfileName(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.NewReplacer(":", "-", "[", "", "]", "").Replace(pu.Hostname())
}
