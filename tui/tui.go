package tui

import (
	"context"
	"path/filepath"

	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/screen"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/history"
)

// Options configures one dashboard run (see screen.Options).
type Options = screen.Options

// Target is one agent to connect to, resolved from a profile, a host or a
// URL.
type Target = model.Target

// Client and DialFunc let a caller (or a test) supply the connections.
type (
	Client   = model.Client
	DialFunc = model.DialFunc
)

// ErrNoTargets is returned by RunFleet when it is given no agent.
var ErrNoTargets = screen.ErrNoTargets

// Run shows the dashboard until the user quits or ctx ends. It never
// returns because the agent went away: that is shown and retried.
func Run(ctx context.Context, opts Options) error { return screen.Run(ctx, opts) }

// RunFleet shows the fleet view for targets until the user quits or ctx
// ends. opts applies to every agent (opts.Target is ignored): cadence,
// dialer, screen, ASCII and colour. Each agent gets its own connection; an
// agent that is slow, gone or refusing never delays the others.
func RunFleet(ctx context.Context, targets []Target, opts Options) error {
	each := make([]Options, len(targets))
	for i, t := range targets {
		each[i] = opts
		each[i].Target = t
	}
	return RunFleetOptions(ctx, each, opts)
}

// RunFleetOptions is RunFleet with each agent's own options (its Target and
// intervals, e.g. from its profile). From shared it takes the screen,
// dialer, clock, version, ASCII and colour.
func RunFleetOptions(ctx context.Context, each []Options, shared Options) error {
	return screen.RunFleet(ctx, each, shared)
}

// Probe dials t as the dashboard would (announcing version), within the
// dashboard's request timeout, and hangs up: how `socktop connect` learns
// an agent's certificate before trusting it.
func Probe(ctx context.Context, t Target, version string) error {
	ctx, cancel := context.WithTimeout(ctx, model.RequestTimeout)
	defer cancel()
	c, err := wire.Dial(ctx, t.URL, model.WireOptions(t, version))
	if err == nil {
		c.Close()
	}
	return err
}

// Replay is a recording played back on the dashboard (Options.Replay).
type Replay = model.Replay

// A replay's speeds (Replay.SetSpeed).
const (
	MinReplaySpeed = model.MinReplaySpeed
	MaxReplaySpeed = model.MaxReplaySpeed
)

// OpenReplay loads the recording at path (socktop connect --record, or an
// agent's history file) for Options.Replay, without changing the file. A
// damaged tail is skipped: info says where (print info.String() once).
func OpenReplay(path string) (*Replay, history.LoadInfo, error) {
	s, info, err := history.Load(path, history.Options{})
	if err != nil {
		return nil, info, err
	}
	r, err := model.NewReplay(filepath.Base(path), s, nil)
	return r, info, err
}

// RedactURL hides a ?token= in u, as the header shows URLs.
func RedactURL(u string) string { return model.RedactURL(u) }
