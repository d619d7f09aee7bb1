package screen

import (
	"strings"
	"testing"
	"time"

	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire/wiretest"
)

// firstRTT is the first round trip the header shows after connecting.
func firstRTT(t *testing.T, hs *harness) time.Duration {
	t.Helper()
	var rtt time.Duration
	deadline := time.Now().Add(waitLimit)
	for rtt == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no round trip shown; screen:\n%s", hs.text())
		}
		hs.onUI(func() { rtt = hs.d.h.Status.RTT })
		time.Sleep(time.Millisecond)
	}
	return rtt
}

// The first round trip shown is a round trip, not the agent's first
// collection: with an agent that takes 300 ms to answer for metrics, the
// header's first RTT on loopback is a ping's, well under 50 ms.
func TestFirstRTTIsARoundTrip(t *testing.T) {
	slow := func(kind string) time.Duration {
		if kind == "metrics" || kind == "processes" || kind == "disks" {
			return 300 * time.Millisecond
		}
		return 0
	}
	ag := wiretest.NewV2(wiretest.Config{Latency: slow, Processes: wiretest.SampleProcesses(5)})
	t.Cleanup(ag.Close)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 120, 40)
	if rtt := firstRTT(t, hs); rtt >= 50*time.Millisecond {
		t.Errorf("first RTT shown %v with a 300 ms collection: it timed a request, not a round trip", rtt)
	} else {
		t.Logf("first RTT %v", rtt)
	}
	hs.waitFor("rtt ", "socktop-4")
}

// The same against a real agent, which pushes: the first RTT is taken
// before the subscription starts its first collection.
func TestFirstRTTOnLiveAgent(t *testing.T) {
	la := startLiveAgent(t, "", "")
	hs := startApp(t, Options{Target: model.Target{URL: la.url}}, 120, 40)
	if rtt := firstRTT(t, hs); rtt >= 50*time.Millisecond {
		t.Errorf("first RTT shown on loopback %v", rtt)
	} else {
		t.Logf("first RTT %v", rtt)
	}
}

// An agent never reached shows the cause alone: no empty panes behind
// the dialog.
func TestUnreachableShowsOnlyTheCause(t *testing.T) {
	ln := listenLoop(t)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	hs := startApp(t, Options{Target: model.Target{URL: "ws://" + addr + "/ws"}}, 120, 40)
	s := hs.waitFor("agent unreachable", "press r to retry now")
	for _, pane := range []string{"─ cpu ", "─ memory ", "─ processes ", "waiting for the process list"} {
		if strings.Contains(s, pane) {
			t.Errorf("an empty %q is drawn behind the dialog:\n%s", pane, s)
		}
	}
}
