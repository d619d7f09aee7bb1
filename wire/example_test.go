package wire_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// Dial an agent and read one metrics sample. The agent here is an
// in-process emulation of upstream socktop_agent 1.60, so the client falls
// back to the command dialect; against a socktop agent the same code
// speaks socktop.v2. For a real agent use its URL and options, e.g.
//
//	wire.Dial(ctx, "wss://pi-kitchen:8443/ws", &wire.Options{Token: "s3cret", Pins: []string{"sha256:…"}})
func ExampleDial() {
	agent := wiretest.NewUpstream(wiretest.Config{})
	defer agent.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wire.Dial(ctx, agent.URL, &wire.Options{Token: ""})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	m, err := c.Metrics(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("dialect %s, host %s, %d cores, CPU %.1f%%, memory %d/%d MiB\n",
		c.Dialect(), m.Hostname, len(m.CpuPerCore), m.CpuTotal, m.MemUsed>>20, m.MemTotal>>20)
	// Output: dialect command, host pi-kitchen, 4 cores, CPU 12.5%, memory 3072/8192 MiB
}

// Keep a dashboard connected: Reconnect dials, retries with backoff and
// jitter, and stops on a refused token instead of hammering the agent.
func ExampleReconnect() {
	agent := wiretest.NewV2(wiretest.Config{})
	defer agent.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := wire.Reconnect(ctx, agent.URL, nil, wire.ReconnectOptions{
		OnState: func(e wire.Event) { fmt.Println("state:", e.State) },
	}, func(ctx context.Context, c *wire.Client) error {
		h, err := c.Hello(ctx)
		if err != nil {
			return err
		}
		fmt.Println("dialect", c.Dialect(), "host", h.Hostname, "signals:", h.HasCapability(wire.CapSignals))
		return nil // done; a real dashboard polls until c.Done()
	})
	fmt.Println("err:", err)
	// Output:
	// state: connecting
	// state: connected
	// dialect v2 host pi-kitchen signals: true
	// state: stopped
	// err: <nil>
}
