package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui/alert"
)

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
func connectFleet(ctx context.Context, f *connectFlags, store *profiles.Store, args []string, env ConnectOptions) int {
	if f.profile != "" || f.save {
		fmt.Fprintln(env.Stderr, "socktop connect: --profile and --save take one agent, not several")
		return 2
	}
	var names []string
	for _, arg := range args {
		if g, ok := strings.CutPrefix(arg, "@"); ok {
			members := store.Group(g)
			if len(members) == 0 {
				fmt.Fprintf(env.Stderr, "socktop connect: no profile is in group %q (set group = %q in a profile)\n", g, g)
				return 2
			}
			for _, p := range members {
				names = append(names, p.Name)
			}
			continue
		}
		names = append(names, arg)
	}
	each := make([]Options, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue // named twice (say, alone and in its group): one tile
		}
		seen[n] = true
		o, prof, err := resolveTarget(store, f, n, env)
		if err != nil {
			fmt.Fprintf(env.Stderr, "socktop connect: %s: %v\n", n, err)
			if errors.Is(err, errUsage) {
				return 2
			}
			return 1
		}
		if err := trustOnFirstUse(ctx, &o, prof, store, env); err != nil {
			fmt.Fprintf(env.Stderr, "socktop connect: %s: %v\n", n, err)
			return 1
		}
		o.Alerts = alert.ForHost(store, prof, o.Target.URL)
		each = append(each, o)
	}
	shared := Options{Version: env.Version, ASCII: f.ascii, NoColor: f.noColor, Screen: env.Screen}
	if err := env.RunFleet(ctx, slices.Clip(each), shared); err != nil {
		fmt.Fprintf(env.Stderr, "socktop connect: %v\n", err)
		return 1
	}
	return 0
}
