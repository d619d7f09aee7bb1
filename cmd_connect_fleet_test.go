package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/socktop/socktop/tui"
)

// runFleetConnect runs `socktop connect ARGS` with the fleet replaced by a
// stub that records what connect built for it.
func runFleetConnect(t *testing.T, args ...string) (code int, stderr string, each []tui.Options, shared tui.Options) {
	t.Helper()
	var errb bytes.Buffer
	env := connectEnv{Version: "test", Stdin: strings.NewReader(""), Stdout: &errb, Stderr: &errb,
		Run:      func(context.Context, tui.Options) error { t.Error("the single dashboard ran for a fleet"); return nil },
		RunFleet: func(_ context.Context, e []tui.Options, s tui.Options) error { each, shared = e, s; return nil }}
	code = connect(context.Background(), args, env)
	return code, errb.String(), each, shared
}

func TestConnectRoutesSeveralAgentsToTheFleet(t *testing.T) {
	path := configDir(t)
	writeProfiles(t, path, `
[profiles.pi-1]
url = "ws://10.0.0.1:3000/ws"
group = "rack"
metrics_interval_ms = 1000

[profiles.pi-2]
url = "ws://10.0.0.2:3000/ws"
token = "t2"
group = "rack"

[profiles.nas]
url = "ws://10.0.0.9:3000/ws"
`)
	for _, c := range []struct {
		args   []string
		labels string
	}{
		{[]string{"@rack"}, "pi-1,pi-2"},
		{[]string{"@rack", "nas", "pi-1"}, "pi-1,pi-2,nas"},
		{[]string{"ws://127.0.0.1:4001/ws", "otherhost", "--ascii"}, "ws://127.0.0.1:4001/ws,otherhost"},
	} {
		code, stderr, each, shared := runFleetConnect(t, c.args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", c.args, code, stderr)
			continue
		}
		var labels []string
		for _, o := range each {
			labels = append(labels, o.Target.Label)
		}
		if strings.Join(labels, ",") != c.labels {
			t.Errorf("%v: fleet of %v, want %s", c.args, labels, c.labels)
		}
		if shared.Version != "test" {
			t.Errorf("%v: version %q not passed on", c.args, shared.Version)
		}
		if c.args[0] == "@rack" {
			// each agent keeps its profile's token and cadence
			if each[0].MetricsInterval != time.Second || each[1].Target.Token != "t2" || each[1].MetricsInterval != 0 {
				t.Errorf("per-agent options lost: %+v / %+v", each[0], each[1])
			}
		} else if !shared.ASCII || each[1].Target.URL != "ws://otherhost:3000/ws" {
			t.Errorf("flags or host resolution lost: %+v, %+v", shared, each[1].Target)
		}
	}
	for _, args := range [][]string{{"--profile", "x", "a", "b"}, {"a", "bad host/x"}, {"a", "@nogroup"}} {
		if code, stderr, _, _ := runFleetConnect(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
}
