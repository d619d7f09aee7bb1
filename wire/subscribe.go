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
func (c *Client) CanSubscribe() bool {
	return c.dialect == DialectV2 && c.hello.HasCapability(CapSubscribe)
}

// Subscribe asks the agent to push samples at s's intervals, replacing this
// connection's earlier subscription; a zero Cadence ends it. Pushes
// arrive on Pushes: one of each subscribed kind at once, then one per
// interval. It returns the intervals the agent keeps (it raises those under
// its floors). Agents that cannot push (upstream ones) give ErrNotSupported;
// ask for each sample instead.
func (c *Client) Subscribe(ctx context.Context, s Cadence) (Cadence, error) {
	if !c.CanSubscribe() {
		return Cadence{}, fmt.Errorf("subscribe: %w (the agent does not push samples; ask for each one)", ErrNotSupported)
	}
	ms := func(d time.Duration) uint32 {
		if d <= 0 {
			return 0
		}
		return uint32(min(max(d.Milliseconds(), 1), 1<<31))
	}
	// Pushes carry the subscription's id; it is known before the request
	// leaves so that none of them can arrive unrecognised.
	id := c.newID()
	c.subID.Store(id)
	r, err := c.roundTripV2ID(ctx, id, &Request{Body: &Request_Subscribe{Subscribe: &SubscribeRequest{
		MetricsMs: ms(s.Metrics), ProcessesMs: ms(s.Processes), DisksMs: ms(s.Disks),
		ContainersMs: ms(s.Containers), ProcessExtras: s.Extras}}})
	if err != nil {
		c.subID.CompareAndSwap(id, 0)
		return Cadence{}, err
	}
	got, err := expect(r, r.GetSubscription(), "subscribe")
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

// deliverPush hands a pushed Response to Pushes without blocking the read
// loop: when the reader is behind, the push is dropped.
func (c *Client) deliverPush(r *Response) {
	var p Push
	switch b := r.Body.(type) {
	case *Response_Metrics:
		p.Metrics = b.Metrics
	case *Response_Processes:
		p.Processes = b.Processes
	case *Response_Disks:
		p.Disks = b.Disks
	case *Response_Containers:
		p.Containers = b.Containers
	default:
		return
	}
	select {
	case c.pushes <- p:
	default:
	}
}

// Ping measures the round trip to the agent with a WebSocket ping, which
// the agent answers without reading anything.
func (c *Client) Ping(ctx context.Context) (time.Duration, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	start := time.Now()
	if err := c.conn.Ping(ctx); err != nil {
		if ctx.Err() != nil {
			return 0, timeoutErr(ctx, "ping")
		}
		return 0, fmt.Errorf("ping: %w", err)
	}
	return time.Since(start), nil
}
