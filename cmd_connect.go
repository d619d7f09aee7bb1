package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui"
	"github.com/socktop/socktop/tui/alert"
	"github.com/socktop/socktop/wire"
	"golang.org/x/term"
)

// connectEnv is what `socktop connect` takes from outside: the terminal,
// the dashboard and the network, each a field so that tests can put real
// parts of their own in. Zero fields take the defaults (defaults).
type connectEnv struct {
	// Version is this client's version, sent in Hello.
	Version string
	// DemoAgent starts an agent in this process on a loopback port and
	// returns its WebSocket URL and a stop function (the picker's "demo").
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
	Run      func(ctx context.Context, opts tui.Options) error
	RunFleet func(ctx context.Context, each []tui.Options, shared tui.Options) error
	// Probe dials an agent for trust on first use.
	Probe func(ctx context.Context, t tui.Target) error
	// PickerReady is called once the picker is on screen.
	PickerReady func()
	// Resolver looks up a word that is no profile but close to one (nil:
	// the system's).
	Resolver *net.Resolver
}

func (e *connectEnv) defaults() {
	if e.Stdin == nil {
		e.Stdin = os.Stdin
		e.Interactive = term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stderr.Fd()))
	}
	if e.Stdout == nil {
		e.Stdout = os.Stdout
	}
	if e.Stderr == nil {
		e.Stderr = os.Stderr
	}
	if e.Run == nil {
		e.Run = tui.Run
	}
	if e.RunFleet == nil {
		e.RunFleet = tui.RunFleetOptions
	}
	if e.Probe == nil {
		e.Probe = func(ctx context.Context, t tui.Target) error { return tui.Probe(ctx, t, e.Version) }
	}
	if e.Resolver == nil {
		e.Resolver = net.DefaultResolver
	}
}

// connectCommand is `socktop connect` as the binary runs it: this
// process's terminal, and for the picker's "demo" the same loopback agent
// as socktop demo.
func connectCommand(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return connect(ctx, args, connectEnv{Version: version, DemoAgent: func(ctx context.Context) (string, func(), error) {
		return startLoopbackAgent(ctx, false)
	}})
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
  socktop connect --save --profile pi --pin sha256:…   # a regenerated certificate
  socktop connect --metrics-interval-ms 1000 --ascii pi-kitchen
  socktop connect --record pi.rec pi-kitchen     # then: socktop replay pi.rec

Profiles live in $XDG_CONFIG_HOME/socktop/profiles.toml (~/.config if unset).
Keys on the dashboard: ? shows them all. With an agent that keeps a history
(socktop agent --history 24h), [ and ] travel back and forth through it and
z zooms the graphs to the last 5 min, 1 h or 24 h.

Flags (one dash or two; -t/--tls-ca, -P/--profile):
`

// connectFlags are the parsed command line.
type connectFlags struct {
	profile, token, tlsCA, pin, group    string
	record                               string
	verifyHostname, save, ascii, noColor bool
	metricsMS, processesMS, disksMS      int
	set                                  map[string]bool
}

// parseConnectFlags parses the command line, flags before or after the
// positional arguments. With done set, connect returns code at once.
func parseConnectFlags(args []string, stderr io.Writer) (f *connectFlags, rest []string, code int, done bool) {
	f = &connectFlags{set: map[string]bool{}}
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
	fs.BoolVar(&f.save, "save", false, "with --profile: save without asking (with no URL: update the profile with the flags given)")
	fs.StringVar(&f.group, "group", "", "with --profile: the profile's `GROUP` (socktop connect @GROUP)")
	fs.IntVar(&f.metricsMS, "metrics-interval-ms", 0, "metrics refresh `ms` (default 500, min 100)")
	fs.IntVar(&f.processesMS, "processes-interval-ms", 0, "process list refresh `ms` (default 2000, min 200)")
	fs.IntVar(&f.disksMS, "disks-interval-ms", 0, "disks refresh `ms` (default 5000, min 200)")
	fs.BoolVar(&f.ascii, "ascii", false, "draw without braille and box characters")
	fs.BoolVar(&f.noColor, "no-color", false, "draw without colour (also NO_COLOR)")
	fs.StringVar(&f.record, "record", "", "write every sample received to `FILE` (a history file, mode 0600; socktop replay FILE plays it)")
	rest, code, done = parseInterspersed(fs, args)
	if done {
		return nil, nil, code, true
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	usageErr := func(err error) (*connectFlags, []string, int, bool) {
		fmt.Fprintf(stderr, "socktop connect: %v\n", err)
		return nil, nil, exitUsage, true
	}
	for _, v := range []struct {
		name string
		ms   int
	}{{"metrics-interval-ms", f.metricsMS}, {"processes-interval-ms", f.processesMS}, {"disks-interval-ms", f.disksMS}} {
		if v.ms < 0 {
			return usageErr(fmt.Errorf("--%s must not be negative", v.name))
		}
	}
	if f.pin != "" {
		p, err := wire.ParseFingerprint(f.pin)
		if err != nil {
			return usageErr(err)
		}
		f.pin = p
	}
	return f, rest, exitOK, false
}

// connect runs `socktop connect args`: it resolves profiles, hosts and
// URLs, asks to trust a new certificate, and runs the dashboard (or the
// fleet, for several agents). It returns the exit code.
func connect(ctx context.Context, args []string, env connectEnv) int {
	env.defaults()
	f, rest, code, done := parseConnectFlags(args, env.Stderr)
	if done {
		return code
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(env.Stderr, "socktop connect: %v\n", err)
		return code
	}
	path, err := profiles.DefaultPath()
	if err != nil {
		return fail(exitFailure, err)
	}
	store, err := profiles.Load(path)
	if err != nil {
		if !explicitTargets(f, rest) {
			return fail(exitFailure, err)
		}
		// The URLs need no profile: say what is wrong, and go on.
		fmt.Fprintf(env.Stderr, "socktop connect: ignoring the profiles: %v\n", err)
	}
	if store.Imported != "" {
		fmt.Fprintf(env.Stderr, "socktop: imported %d profiles from %s into %s (the old file is untouched)\n", len(store.Names()), store.Imported, store.Path())
	}
	if err := alert.Check(store); err != nil { // one line per bad [[alerts]] rule
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(env.Stderr, "socktop connect: %s\n", line)
		}
		return exitFailure
	}
	if wantsFleet(store, rest) {
		return connectFleet(ctx, f, store, rest, env)
	}
	arg := ""
	if len(rest) == 1 {
		arg = rest[0]
	}
	if arg == "" && f.profile == "" {
		choice, err := pick(ctx, env, f, store)
		if err != nil {
			return fail(exitUsage, err)
		}
		if choice == "" {
			return exitOK
		}
		arg = choice
	}
	if arg == "demo" && !store.Has("demo") {
		return connectDemo(ctx, f, env)
	}
	opts, prof, err := resolveTarget(ctx, store, f, arg, env)
	if err != nil {
		if errors.Is(err, errUsage) {
			return fail(exitUsage, err)
		}
		return fail(exitFailure, err)
	}
	if err := trustOnFirstUse(ctx, &opts, prof, store, env); err != nil {
		return fail(exitFailure, err)
	}
	opts.Version, opts.ASCII, opts.NoColor, opts.Screen = env.Version, f.ascii, f.noColor, env.Screen
	opts.Alerts = alert.ForHost(store, prof, opts.Target.URL)
	opts.Record = f.record
	if err := env.Run(ctx, opts); err != nil {
		return fail(exitFailure, err)
	}
	return exitOK
}

// errUsage marks a resolution error that is the command line's fault.
var errUsage = errors.New("usage")

func connectDemo(ctx context.Context, f *connectFlags, env connectEnv) int {
	if env.DemoAgent == nil {
		fmt.Fprintln(env.Stderr, "socktop connect: the demo is not available in this build (run socktop demo)")
		return exitFailure
	}
	u, stop, err := env.DemoAgent(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "socktop connect: start demo agent: %v\n", err)
		return exitFailure
	}
	defer stop()
	opts := tui.Options{Target: tui.Target{Label: "demo", URL: u}, Demo: true, Version: env.Version, ASCII: f.ascii, NoColor: f.noColor, Screen: env.Screen,
		Record: f.record}
	if err := env.Run(ctx, opts); err != nil {
		fmt.Fprintf(env.Stderr, "socktop connect: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// pick shows the picker: every profile (with its URL), then demo. It
// returns the chosen name, or "" when the user quit.
func pick(ctx context.Context, env connectEnv, f *connectFlags, store *profiles.Store) (string, error) {
	if env.Screen == nil && !env.Interactive {
		return "", errors.New("no agent given and no terminal for the picker: give a NAME, HOST or URL (socktop connect -h)")
	}
	var items []tui.PickItem
	for i, n := range store.Names() {
		p, _ := store.Get(n)
		detail := p.URL
		if p.Group != "" {
			detail += "  (group " + p.Group + ")"
		}
		key := rune(0)
		if i < 9 {
			key = rune('1' + i)
		}
		items = append(items, tui.PickItem{Name: n, Detail: detail, Key: key})
	}
	items = append(items, tui.PickItem{Name: "demo", Detail: "this machine, through an agent on a loopback port", Key: 'd'})
	return tui.Pick(ctx, tui.PickOptions{Screen: env.Screen, ASCII: f.ascii, NoColor: f.noColor || os.Getenv("NO_COLOR") != "",
		Title: "socktop connect: pick an agent (Enter connects, q quits)", Items: items, OnReady: env.PickerReady})
}

// resolveTarget turns the argument and flags into dashboard options. It
// returns the profile the target came from or was saved to ("" if none).
// A URL (or host) that a profile holds is that profile, so a pin saved for
// it is found when it is typed again.
func resolveTarget(ctx context.Context, store *profiles.Store, f *connectFlags, arg string, env connectEnv) (tui.Options, string, error) {
	var p profiles.Profile
	profName := ""
	switch {
	case strings.HasPrefix(arg, "@"):
		members := store.Group(arg[1:])
		switch len(members) {
		case 0:
			err := fmt.Errorf("%w: no profile is in group %q (set group = %q in a profile)", errUsage, arg[1:], arg[1:])
			if g := closest(arg[1:], store.Groups()); g != "" {
				err = fmt.Errorf("%w; did you mean @%s?", err, g)
			}
			return tui.Options{}, "", err
		default: // one: a group of several is a fleet (wantsFleet)
			p, profName = members[0], members[0].Name
		}
	case f.profile != "" && arg == "":
		var err error
		if p, err = store.Get(f.profile); err != nil {
			if n := closest(f.profile, store.Names()); n != "" {
				err = fmt.Errorf("%w; did you mean %s?", err, n)
			}
			return tui.Options{}, "", err
		}
		if f.save { // --save --profile NAME --pin …: update what the flags give
			p = flagProfile(store, f, p.URL, "")
			if err := saveProfile(store, p, true, env); err != nil {
				return tui.Options{}, "", err
			}
		}
		profName = f.profile
	case f.profile != "":
		u, tok, err := agentURL(arg)
		if err != nil {
			return tui.Options{}, "", fmt.Errorf("%w: %v", errUsage, err)
		}
		p = flagProfile(store, f, u, tok)
		if err := saveProfile(store, p, f.save, env); err != nil {
			return tui.Options{}, "", err
		}
		profName = f.profile
	case store.Has(arg):
		p, _ = store.Get(arg)
		profName = arg
	default:
		u, tok, err := agentURL(arg)
		if err != nil {
			return tui.Options{}, "", fmt.Errorf("%w: %v", errUsage, err)
		}
		if held, ok := store.FindURL(u); ok {
			p, profName = held, held.Name
			if tok != "" {
				p.Token, p.TokenFile, p.TokenEnv = tok, "", ""
			}
			break
		}
		if err := typo(ctx, store, arg, u, env.Resolver); err != nil {
			return tui.Options{}, "", err
		}
		p = profiles.Profile{URL: u, Token: tok}
	}
	tok, err := p.ResolveToken()
	if err != nil {
		return tui.Options{}, "", err
	}
	// the command line wins over the profile
	if f.token != "" {
		tok = f.token
	}
	if tok == "" {
		tok = os.Getenv("SOCKTOP_TOKEN")
	}
	t := tui.Target{Label: firstNonEmpty(profName, arg), URL: p.URL, Token: tok, TLSCA: p.TLSCA, Pin: p.Pin,
		VerifyHostname: p.VerifyHostname, Profile: profName}
	if !store.Has(profName) {
		t.Profile = "" // offered, not saved
	}
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
	return tui.Options{Target: t,
		MetricsInterval:   ms(f.metricsMS, p.MetricsIntervalMS),
		ProcessesInterval: ms(f.processesMS, p.ProcessesIntervalMS),
		DisksInterval:     ms(f.disksMS, p.DisksIntervalMS)}, profName, nil
}

// flagProfile is the profile `--profile NAME URL` saves. When NAME already
// holds that URL, what the flags do not give is kept (its token, group,
// intervals): `socktop connect --pin sha256:… --save --profile NAME URL`
// updates a pin and nothing else. A profile of another URL is replaced
// whole, so its token never goes to another agent.
func flagProfile(store *profiles.Store, f *connectFlags, u, urlToken string) profiles.Profile {
	p := profiles.Profile{Name: f.profile, URL: u}
	if old, err := store.Get(f.profile); err == nil && profiles.SameURL(old.URL, u) {
		p = old
	}
	if tok := firstNonEmpty(f.token, urlToken); tok != "" {
		p.Token, p.TokenFile, p.TokenEnv = tok, "", ""
	}
	if f.set["tls-ca"] || f.set["t"] {
		p.TLSCA = f.tlsCA
	}
	if f.pin != "" {
		p.Pin = f.pin
	}
	if f.set["verify-hostname"] {
		p.VerifyHostname = f.verifyHostname
	}
	if f.set["group"] {
		p.Group = f.group
	}
	for _, iv := range []struct {
		flag int
		to   *int
	}{{f.metricsMS, &p.MetricsIntervalMS}, {f.processesMS, &p.ProcessesIntervalMS}, {f.disksMS, &p.DisksIntervalMS}} {
		if iv.flag > 0 {
			*iv.to = iv.flag
		}
	}
	return p
}

// typo refuses a bare word that is no profile, is close to one, and is no
// host either: "pi-kitchn" is not quietly dialled as ws://pi-kitchn:3000.
// A word that resolves, or a resolver that cannot tell, goes on as a host.
func typo(ctx context.Context, store *profiles.Store, arg, u string, r *net.Resolver) error {
	if strings.Contains(arg, "://") {
		return nil
	}
	near := closest(arg, store.Names())
	if near == "" {
		return nil
	}
	pu, err := url.Parse(u)
	if err != nil {
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var dns *net.DNSError
	if _, err := r.LookupHost(lctx, pu.Hostname()); !errors.As(err, &dns) || !dns.IsNotFound {
		return nil
	}
	return fmt.Errorf("%w: no profile is named %q, and no host either; did you mean %s? (socktop connect %s)", errUsage, arg, near, near)
}

// closest is the name in names nearest to word by edit distance, when it
// is near enough to be a typo of it: at most 2 edits, and at most a third
// of its length (so "pi" is no typo of "nas"). "" if none is.
func closest(word string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		d := editDistance(strings.ToLower(word), strings.ToLower(n))
		if d > 0 && d < bestD && 3*d <= len([]rune(n)) {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance counts the insertions, deletions, substitutions and swaps
// of neighbours that turn a into b (optimal string alignment). Names are
// short; inputs are cut at 64 runes to keep it so.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	x, y = x[:min(len(x), 64)], y[:min(len(y), 64)]
	prev2, prev, cur := make([]int, len(y)+1), make([]int, len(y)+1), make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(y)]
}

// explicitTargets reports whether every argument names its agent without a
// profile: a URL, HOST:PORT or an IP address.
func explicitTargets(f *connectFlags, args []string) bool {
	if f.profile != "" || len(args) == 0 {
		return false
	}
	for _, a := range args {
		_, _, notHostPort := net.SplitHostPort(a)
		if !strings.Contains(a, "://") && notHostPort != nil && net.ParseIP(strings.Trim(a, "[]")) == nil {
			return false
		}
	}
	return true
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

// wantsFleet reports whether the connect arguments name more than one
// agent: several arguments, or an @GROUP with several profiles.
func wantsFleet(store *profiles.Store, args []string) bool {
	if len(args) > 1 {
		return true
	}
	return len(args) == 1 && strings.HasPrefix(args[0], "@") && len(store.Group(args[0][1:])) > 1
}

// connectFleet is `socktop connect A B …` and `socktop connect @GROUP`:
// every argument (a group expands to its profiles) is resolved as a single
// connect would resolve it — profile, host or URL, with the command line's
// token, pin and intervals — new certificates are offered for trust one
// after the other, then the fleet view runs.
func connectFleet(ctx context.Context, f *connectFlags, store *profiles.Store, args []string, env connectEnv) int {
	if f.profile != "" || f.save || f.record != "" {
		fmt.Fprintln(env.Stderr, "socktop connect: --profile, --save and --record take one agent, not several")
		return exitUsage
	}
	var names []string
	for _, arg := range args {
		if g, ok := strings.CutPrefix(arg, "@"); ok {
			members := store.Group(g)
			if len(members) == 0 {
				fmt.Fprintf(env.Stderr, "socktop connect: no profile is in group %q (set group = %q in a profile)\n", g, g)
				return exitUsage
			}
			for _, p := range members {
				names = append(names, p.Name)
			}
			continue
		}
		names = append(names, arg)
	}
	each := make([]tui.Options, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue // named twice (say, alone and in its group): one tile
		}
		seen[n] = true
		o, prof, err := resolveTarget(ctx, store, f, n, env)
		if err != nil {
			fmt.Fprintf(env.Stderr, "socktop connect: %s: %v\n", n, err)
			if errors.Is(err, errUsage) {
				return exitUsage
			}
			return exitFailure
		}
		if err := trustOnFirstUse(ctx, &o, prof, store, env); err != nil {
			fmt.Fprintf(env.Stderr, "socktop connect: %s: %v\n", n, err)
			return exitFailure
		}
		o.Alerts = alert.ForHost(store, prof, o.Target.URL)
		each = append(each, o)
	}
	shared := tui.Options{Version: env.Version, ASCII: f.ascii, NoColor: f.noColor, Screen: env.Screen}
	if err := env.RunFleet(ctx, slices.Clip(each), shared); err != nil {
		fmt.Fprintf(env.Stderr, "socktop connect: %v\n", err)
		return exitFailure
	}
	return exitOK
}
