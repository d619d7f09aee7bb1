package wire

import (
	"context"
	"fmt"
	"time"
)

// Cadence is how often an agent pushes each kind of sample; zero means that
// kind is not pushed.
type Cadence struct {
	Metrics, Processes, Disks time.Duration
	// Containers needs CapContainers (protocol minor 2).
	Containers time.Duration
	// Extras are the costly fields the pushed process lists carry
	// (CapProcessExtras; nil: none).
	Extras *ProcessExtras
}

// Push is one sample an agent pushed: exactly one field is set.
type Push struct {
	Metrics    *Metrics
	Processes  *Processes
	Disks      *Disks
	Containers *Containers
}

// pushBuffer is how many pushes wait for a slow reader of Pushes before
// new ones are dropped.
const pushBuffer = 8

// CanSubscribe reports whether the agent pushes samples (a socktop.v2 agent
// that lists CapSubscribe).
func (c *Client) CanSubscribe() bool { return c.hello.HasCapability(CapSubscribe) }

// Subscribe asks the agent to push samples at s's intervals, replacing this
// connection's earlier subscription; a zero Cadence ends it. Pushes
// arrive on Pushes: one of each subscribed kind at once, then one per
// interval. It returns the intervals the agent keeps (it raises those under
// its floors). Agents that cannot push (upstream ones) give ErrNotSupported;
// ask for each sample instead.
func (c *Client) Subscribe(ctx context.Context, s Cadence) (Cadence, error) {
	if err := c.need(CapSubscribe, "subscribe", "the agent does not push samples; ask for each one"); err != nil {
		return Cadence{}, err
	}
	ms := func(d time.Duration) uint32 {
		if d <= 0 {
			return 0
		}
		return uint32(min(max(d.Milliseconds(), 1), 1<<31))
	}
	got, err := call(c, ctx, &Request{Body: &Request_Subscribe{Subscribe: &SubscribeRequest{
		MetricsMs: ms(s.Metrics), ProcessesMs: ms(s.Processes), DisksMs: ms(s.Disks),
		ContainersMs: ms(s.Containers), ProcessExtras: s.Extras}}}, (*Response).GetSubscription)
	if err != nil {
		return Cadence{}, err
	}
	d := func(ms uint32) time.Duration { return time.Duration(ms) * time.Millisecond }
	return Cadence{Metrics: d(got.MetricsMs), Processes: d(got.ProcessesMs), Disks: d(got.DisksMs),
		Containers: d(got.ContainersMs), Extras: got.ProcessExtras}, nil
}

// Pushes delivers the samples of the current subscription. It is never
// closed; watch Done for the end of the connection.
func (c *Client) Pushes() <-chan Push { return c.pushes }

// Ping measures the round trip to the agent with a WebSocket ping, which
// the agent answers without reading anything.
func (c *Client) Ping(ctx context.Context) (time.Duration, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	if ctx.Err() != nil {
		return 0, timeoutErr(ctx, "ping")
	}
	// coder/websocket closes the connection when the context of a write
	// ends mid-write: the ping is sent and awaited under the client's own
	// bound, and the caller stops waiting when its ctx ends.
	type pong struct {
		rtt time.Duration
		err error
	}
	got := make(chan pong, 1)
	go func() {
		pctx, cancel := context.WithTimeout(c.loopCtx, writeTimeout)
		defer cancel()
		start := time.Now()
		err := c.ws.Ping(pctx)
		got <- pong{time.Since(start), err}
	}()
	select {
	case p := <-got:
		if p.err != nil {
			return 0, fmt.Errorf("ping: %w", p.err)
		}
		return p.rtt, nil
	case <-ctx.Done():
		return 0, timeoutErr(ctx, "ping")
	}
}
