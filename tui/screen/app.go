// Package screen holds the dashboard's screens — one host's dashboard,
// process detail, connections, the dialogs, the fleet overview — each a
// shell.Screen value with its key map and the hooks that declare the data
// it needs, and the two ways of putting them on one shell: a single host
// (Run) or a fleet whose members' dashboards are pushed on the fleet's
// shell (RunFleet).
package screen

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/alert"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
)

// Options configures one dashboard run, or (RunFleet) what every member
// of a fleet shares.
type Options struct {
	// Target is the agent to watch.
	Target model.Target
	// Screen is where to draw; nil opens the terminal. Tests pass a
	// tcell.SimulationScreen.
	Screen tcell.Screen
	// Version is this client's version, sent in Hello.
	Version string
	// Demo marks the header "demo" (socktop demo).
	Demo bool
	// ASCII draws without braille or box characters; NoColor without
	// colour (NO_COLOR in the environment sets it too).
	ASCII, NoColor bool
	// Request intervals; 0 means the defaults (500 ms, 2 s, 5 s). Smaller
	// values are clamped at 100 ms (metrics) and 200 ms (others).
	MetricsInterval, ProcessesInterval, DisksInterval time.Duration
	// Dial opens connections; nil uses the wire client (announcing
	// Version).
	Dial model.DialFunc
	// Now is the clock; nil uses time.Now (tests pin it).
	Now func() time.Time
	// Alerts is the host's alert rules and profiles.toml's [notify]
	// (alert.ForHost); the zero value watches nothing. A fleet takes each
	// member's rules, and [notify] from the first member that has one.
	Alerts alert.Setup
	// Record names a history file that every sample received is written
	// to (socktop connect --record; one agent only).
	Record string
	// Replay plays a recording instead of watching an agent (socktop
	// replay): Target and Dial are then the recording's.
	Replay *model.Replay
}

// ErrNoTargets is returned by RunFleet when it is given no agent.
var ErrNoTargets = errors.New("tui: fleet view needs at least one agent")

// Run shows one agent's dashboard until the user quits or ctx ends. It
// never returns because the agent went away: that is shown and retried.
// With Record it first opens the recording, and returns its error.
func Run(ctx context.Context, opts Options) error {
	var rec *model.Recording
	if opts.Record != "" {
		var err error
		if rec, err = model.OpenRecording(opts.Record); err != nil {
			return err
		}
	}
	d := newSingle(ctx, opts)
	d.rec = rec
	d.w.Record(rec)
	err := d.sh.Run() // returns once the watcher has stopped
	if rec != nil {
		if cerr := rec.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// RunFleet shows the fleet view for each agent's options (its Target and
// intervals, e.g. from its profile) until the user quits or ctx ends. From
// shared it takes the screen, dialer, clock, version, ASCII and colour.
// Each agent has its own watcher; one that is slow, gone or refusing never
// delays the others.
func RunFleet(ctx context.Context, each []Options, shared Options) error {
	f, err := newFleet(ctx, each, shared)
	if err != nil {
		return err
	}
	return f.sh.Run()
}

// setup fills the defaults and makes the shell.
func setup(ctx context.Context, opts Options) (*shell.Shell, Options) {
	if opts.Dial == nil {
		opts.Dial = model.WireDial(opts.Version)
	}
	if os.Getenv("NO_COLOR") != "" {
		opts.NoColor = true
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	th := widget.NewTheme(opts.ASCII, opts.NoColor)
	th.ApplyTview()
	return shell.New(ctx, shell.Options{Screen: opts.Screen, Theme: th, Now: opts.Now}), opts
}

// newSingle is one host's dashboard on its own shell.
func newSingle(ctx context.Context, opts Options) *dash {
	sh, opts := setup(ctx, opts)
	al := newAlerting(sh, opts.Alerts)
	d := newDash(sh, opts, false, al)
	al.watch(d, opts.Alerts)
	al.start()
	sh.Push(d.main)
	sh.OnStart(func() { sh.Go(d.w.Run) })
	return d
}

// newDash builds a host's model, watcher and screens on sh; al is the
// shell's alerting.
func newDash(sh *shell.Shell, opts Options, member bool, al *alerting) *dash {
	if r := opts.Replay; r != nil {
		opts.Dial, opts.Target = r.Dial, model.Target{Label: r.Name(), URL: "replay:" + r.Name()}
	}
	label := opts.Target.Label
	if label == "" {
		label = opts.Target.URL
	}
	every := model.NewCadence(opts.MetricsInterval, opts.ProcessesInterval, opts.DisksInterval)
	h := model.NewHost(label, opts.Target.URL)
	d := &dash{sh: sh, th: sh.Theme(), h: h, target: opts.Target, every: every, demo: opts.Demo, member: member, al: al, replay: opts.Replay}
	d.w = model.NewWatcher(opts.Target, opts.Dial, sh.Post, h, every)
	d.build()
	return d
}
