package agent

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
)

func dialClient(t testing.TB, url string) *wire.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wire.Dial(ctx, url, &wire.Options{ClientVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// collectPushes reads pushes for d and counts them by kind.
func collectPushes(c *wire.Client, d time.Duration) (metrics []*wire.Metrics, procs, disks int) {
	end := time.After(d)
	for {
		select {
		case p := <-c.Pushes():
			switch {
			case p.Metrics != nil:
				metrics = append(metrics, p.Metrics)
			case p.Processes != nil:
				procs++
			case p.Disks != nil:
				disks++
			}
		case <-end:
			return
		}
	}
}

func (a *Agent) groupCount() int {
	a.pushMu.Lock()
	defer a.pushMu.Unlock()
	return len(a.groups)
}

func TestSubscribePushes(t *testing.T) {
	cfg := testConfig()
	cfg.DisksTTL = 100 * time.Millisecond
	a, srv := startAgent(t, cfg)
	c := dialClient(t, wsURL(srv))
	if !c.CanSubscribe() {
		t.Fatalf("a v2 agent must offer %q", wire.CapSubscribe)
	}
	ctx := context.Background()
	got, err := c.Subscribe(ctx, wire.Cadence{Metrics: 100 * time.Millisecond, Processes: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if want := (wire.Cadence{Metrics: 100 * time.Millisecond, Processes: 200 * time.Millisecond}); got != want {
		t.Errorf("agent keeps %+v, want %+v (processes raised to the 200 ms floor)", got, want)
	}
	// One of each at once, then one per tick that has a new sample: with the
	// metrics cache's 250 ms TTL, every third 100 ms tick. Counted until
	// enough have come: a loaded CI machine delays ticks.
	var metrics []*wire.Metrics
	procs, disks := 0, 0
	start := time.Now()
	for (len(metrics) < 5 || procs < 1) && time.Since(start) < 10*time.Second {
		m, p, d := collectPushes(c, 100*time.Millisecond)
		metrics, procs, disks = append(metrics, m...), procs+p, disks+d
	}
	if len(metrics) < 5 || procs < 1 || disks != 0 {
		t.Errorf("in %v: %d metrics, %d process lists, %d disks pushed; want ≥ 5, ≥ 1, 0", time.Since(start), len(metrics), procs, disks)
	}
	t.Logf("5 metrics pushes at 100 ms with a 250 ms TTL took %v", time.Since(start).Round(time.Millisecond))
	for i := 1; i < len(metrics); i++ {
		if metrics[i].SampledAtMs <= metrics[i-1].SampledAtMs {
			t.Errorf("push %d sampled at %d, push %d at %d: a sample pushed twice or out of order",
				i, metrics[i].SampledAtMs, i-1, metrics[i-1].SampledAtMs)
		}
	}
	if n := a.Subscribers(); n != 1 {
		t.Errorf("Subscribers = %d, want 1", n)
	}

	// A new subscription replaces the old one.
	if _, err := c.Subscribe(ctx, wire.Cadence{Disks: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	collectPushes(c, 50*time.Millisecond) // what was already on its way
	metrics, _, disks = collectPushes(c, 1000*time.Millisecond)
	if disks < 2 || len(metrics) != 0 {
		t.Errorf("after switching to disks: %d disks, %d metrics pushes", disks, len(metrics))
	}
	if n := a.groupCount(); n != 1 {
		t.Errorf("%d clocks running, want 1 (disks)", n)
	}

	// A zero Cadence ends it: the clocks stop and nothing more comes.
	if _, err := c.Subscribe(ctx, wire.Cadence{}); err != nil {
		t.Fatal(err)
	}
	collectPushes(c, 100*time.Millisecond) // drain what was already sent
	if m, p, d := collectPushes(c, 500*time.Millisecond); len(m)+p+d != 0 {
		t.Errorf("after unsubscribing: %d pushes", len(m)+p+d)
	}
	if n, g := a.Subscribers(), a.groupCount(); n != 0 || g != 0 {
		t.Errorf("after unsubscribing: %d subscribers, %d clocks", n, g)
	}
}

// A hundred subscribers of one cadence share one clock and one collection
// per tick: every one of them sees the same samples.
func TestSubscribersShareOneClock(t *testing.T) {
	a, srv := startAgent(t, testConfig())
	const n = 20
	clients := make([]*wire.Client, n)
	for i := range clients {
		clients[i] = dialClient(t, wsURL(srv))
		if _, err := clients[i].Subscribe(context.Background(), wire.Cadence{Metrics: 300 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	// Each joins its clock just after its reply: wait for the last.
	if !waitFor(5*time.Second, func() bool { return a.Subscribers() == n }) || a.groupCount() != 1 {
		t.Fatalf("%d of %d subscribers of one cadence joined, running %d clocks; want all and 1", a.Subscribers(), n, a.groupCount())
	}
	samples := make([]map[uint64]bool, n)
	done := make(chan int)
	for i, c := range clients {
		go func() {
			m, _, _ := collectPushes(c, 1300*time.Millisecond)
			samples[i] = map[uint64]bool{}
			for _, x := range m {
				samples[i][x.SampledAtMs] = true
			}
			done <- i
		}()
	}
	for range clients {
		<-done
	}
	// The pushes after the first ones come from shared ticks: the later
	// samples of every client are the same samples.
	common := map[uint64]int{}
	for _, s := range samples {
		if len(s) < 3 {
			t.Fatalf("a subscriber got %d distinct samples in 1.3 s at 300 ms, want ≥ 3", len(s))
		}
		for at := range s {
			common[at]++
		}
	}
	shared := 0
	for _, k := range common {
		if k == n {
			shared++
		}
	}
	if shared < 3 {
		t.Errorf("only %d samples reached all %d subscribers; the clock is not shared (%v)", shared, n, common)
	}
}

// A connection that goes away leaves its groups; the last one out stops
// the clock.
func TestSubscriptionEndsWithConnection(t *testing.T) {
	a, srv := startAgent(t, testConfig())
	raw := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	// A hostile interval is clamped, not obeyed: 4 billion ms becomes an hour.
	r := v2Call(t, raw, &wire.Request{Id: 7, Body: &wire.Request_Subscribe{Subscribe: &wire.SubscribeRequest{
		MetricsMs: 4_000_000_000, ProcessesMs: 1}}})
	s := r.GetSubscription()
	if s.GetMetricsMs() != uint32(time.Hour.Milliseconds()) || s.GetProcessesMs() != 200 {
		t.Fatalf("subscription reply %v, want metrics 1 h and processes 200 ms", r)
	}
	// The first pushes carry the subscription's id.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 2 {
		_, b, err := raw.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, err := wire.DecodeResponse(b)
		if err != nil || p.Id != 7 || (p.GetMetrics() == nil && p.GetProcesses() == nil) {
			t.Fatalf("push = %v, %v; want a sample with id 7", p, err)
		}
	}
	if !waitFor(5*time.Second, func() bool { return a.groupCount() == 2 }) {
		t.Fatalf("%d clocks, want 2", a.groupCount())
	}
	raw.CloseNow()
	if !waitFor(5*time.Second, func() bool { return a.groupCount() == 0 && a.Subscribers() == 0 }) {
		t.Errorf("5 s after the subscriber left: %d clocks, %d subscribers", a.groupCount(), a.Subscribers())
	}
}
