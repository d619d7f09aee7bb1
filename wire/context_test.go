package wire_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// Every call made with a context that has already ended fails with that
// context's error and sends nothing; Hello too, though it sends nothing
// anyway.
func TestCallsHonourEndedContexts(t *testing.T) {
	for _, mk := range []func(wiretest.Config) *wiretest.Agent{wiretest.NewUpstream, wiretest.NewV2} {
		agent := mk(wiretest.Config{})
		t.Cleanup(agent.Close)
		c := dial(t, agent.URL, nil)
		framesBefore, requestsBefore := len(agent.Frames()), len(agent.Requests())

		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel2()
		calls := map[string]func(context.Context) error{
			"hello":          func(ctx context.Context) error { _, err := c.Hello(ctx); return err },
			"metrics":        func(ctx context.Context) error { _, err := c.Metrics(ctx); return err },
			"disks":          func(ctx context.Context) error { _, err := c.Disks(ctx); return err },
			"processes":      func(ctx context.Context) error { _, err := c.Processes(ctx); return err },
			"process detail": func(ctx context.Context) error { _, err := c.ProcessDetail(ctx, 4242); return err },
			"journal":        func(ctx context.Context) error { _, err := c.Journal(ctx, 4242, 5); return err },
			"ping":           func(ctx context.Context) error { _, err := c.Ping(ctx); return err },
		}
		if c.Dialect() == wire.DialectV2 {
			calls["connections"] = func(ctx context.Context) error { _, err := c.Connections(ctx); return err }
			calls["signal"] = func(ctx context.Context) error { _, err := c.Signal(ctx, 4242, 1763700000, "TERM"); return err }
		}
		for name, call := range calls {
			if err := call(cancelled); !errors.Is(err, context.Canceled) {
				t.Errorf("%s %s with a cancelled context: %v, want context.Canceled", c.Dialect(), name, err)
			}
			if err := call(expired); !errors.Is(err, wire.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s %s with an expired deadline: %v, want ErrTimeout and DeadlineExceeded", c.Dialect(), name, err)
			}
		}
		if f, r := agent.Frames(), agent.Requests(); len(f) != framesBefore || len(r) != requestsBefore {
			t.Errorf("%s: calls with ended contexts reached the agent: frames %q, requests %q", c.Dialect(), f[framesBefore:], r[requestsBefore:])
		}
		// The connection is unharmed.
		if m, err := c.Metrics(ctx(t)); err != nil || m.Hostname != "pi-kitchen" {
			t.Errorf("%s: metrics afterwards: %v %v", c.Dialect(), m, err)
		}
	}
}

// A caller whose deadline passes while the agent is slow gets ErrTimeout
// and the connection stays usable, on both dialects.
func TestCallDeadlineWhileWaiting(t *testing.T) {
	for _, mk := range []func(wiretest.Config) *wiretest.Agent{wiretest.NewUpstream, wiretest.NewV2} {
		release := make(chan struct{})
		agent := mk(wiretest.Config{Latency: func(kind string) time.Duration {
			if kind == "journal" {
				<-release
			}
			return 0
		}})
		c := dial(t, agent.URL, nil)
		short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_, err := c.Journal(short, 4242, 0)
		cancel()
		close(release)
		if !errors.Is(err, wire.ErrTimeout) {
			t.Errorf("%s: slow journal: %v, want ErrTimeout", c.Dialect(), err)
		}
		if d, err := c.Disks(ctx(t)); err != nil || len(d.Disks) != 3 {
			t.Errorf("%s: disks after the timeout: %v", c.Dialect(), err)
		}
		c.Close()
		agent.Close()
	}
}

func ExampleClient_Journal() {
	agent := wiretest.NewV2(wiretest.Config{})
	defer agent.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wire.Dial(ctx, agent.URL, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	j, err := c.Journal(ctx, 4242, 50) // at most 50 entries
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range j.Entries {
		fmt.Printf("%d %s\n", e.Priority, e.Message)
	}
	// Output:
	// 6 Started nginx.service
	// 3 bind() to 0.0.0.0:80 failed (98: Address "already" in use)
}
