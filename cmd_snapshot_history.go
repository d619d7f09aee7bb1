package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/history"
)

// historyTimeout bounds `socktop snapshot history`: the dial, the
// handshake and the answer (a day of samples is megabytes).
const historyTimeout = 30 * time.Second

// historyFlags are snapshot's flags for asking an agent for its history.
type historyFlags struct {
	since      spanFlag
	points     int
	token, pin string
	tlsCA      string
	verifyHost bool
}

func (h *historyFlags) add(fs *flag.FlagSet) {
	h.since.d = time.Hour
	fs.Var(&h.since, "since", "history: from this `long` ago (e.g. 1h, 7d; 0 = everything kept)")
	fs.IntVar(&h.points, "max-points", history.DefaultMaxPoints, fmt.Sprintf("history: at most `N` samples (1 to %d); longer spans are averaged", history.MaxPoints))
	fs.StringVar(&h.token, "token", "", "history: the agent's `TOKEN` (also SOCKTOP_TOKEN, ?token= or the profile's)")
	fs.StringVar(&h.pin, "pin", "", "history: the agent certificate's `sha256:…` pin, for wss://")
	fs.StringVar(&h.tlsCA, "tls-ca", "", "history: the agent's certificate `FILE` (PEM), for wss://")
	fs.BoolVar(&h.verifyHost, "verify-hostname", false, "history: also check that the certificate names the host")
}

// given reports whether a history flag was set.
func (h *historyFlags) given(fs *flag.FlagSet) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "since", "max-points", "token", "pin", "tls-ca", "verify-hostname":
			set = true
		}
	})
	return set
}

// snapshotHistory is `socktop snapshot history ARG`: the history of the
// agent that ARG names (a profile, a host or a URL, as connect resolves
// them), printed as the JSON dialect's history reply.
func snapshotHistory(ctx context.Context, arg string, hf historyFlags, stdout, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "socktop snapshot: %v\n", err)
		return code
	}
	if hf.points < 1 || hf.points > history.MaxPoints {
		return fail(exitUsage, fmt.Errorf("--max-points %d: want 1 to %d", hf.points, history.MaxPoints))
	}
	f := &connectFlags{token: hf.token, tlsCA: hf.tlsCA, verifyHostname: hf.verifyHost, set: map[string]bool{}}
	if hf.tlsCA != "" {
		f.set["tls-ca"] = true
	}
	if hf.pin != "" {
		p, err := wire.ParseFingerprint(hf.pin)
		if err != nil {
			return fail(exitUsage, err)
		}
		f.pin = p
	}
	var store *profiles.Store
	if path, err := profiles.DefaultPath(); err == nil {
		store, _ = profiles.Load(path) // a broken file holds no profile: ARG is then a host or URL
	}
	if store == nil {
		store, _ = profiles.Load("")
	}
	opts, _, err := resolveTarget(ctx, store, f, arg, connectEnv{Stderr: stderr, Resolver: net.DefaultResolver})
	if err != nil {
		if errors.Is(err, errUsage) {
			return fail(exitUsage, err)
		}
		return fail(exitFailure, err)
	}
	t := opts.Target
	ctx, cancel := context.WithTimeout(ctx, historyTimeout)
	defer cancel()
	wo := &wire.Options{Token: t.Token, CAFile: t.TLSCA, VerifyHostname: t.VerifyHostname,
		ClientName: "socktop-snapshot", ClientVersion: version}
	if t.Pin != "" {
		wo.Pins = []string{t.Pin}
	}
	c, err := wire.Dial(ctx, t.URL, wo)
	if err != nil {
		return fail(exitFailure, err)
	}
	defer c.Close()
	req := &wire.HistoryRequest{MaxPoints: uint32(hf.points)}
	if hf.since.d > 0 {
		req.SinceMs = uint64(max(time.Now().Add(-hf.since.d).UnixMilli(), 0))
	}
	h, err := c.History(ctx, req)
	if errors.Is(err, wire.ErrNotSupported) {
		return fail(exitFailure, fmt.Errorf("%s keeps no history: start its agent with --history (e.g. socktop agent --history 24h)", tui.RedactURL(t.URL)))
	}
	if err != nil {
		return fail(exitFailure, err)
	}
	if _, err := stdout.Write(append(history.EncodeJSON(h), '\n')); err != nil {
		return fail(exitFailure, err)
	}
	return exitOK
}
