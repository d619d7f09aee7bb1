package agent

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
	"golang.org/x/sys/unix"
)

// BenchmarkCachedRequest is one request for a cached sample, over a real
// loopback WebSocket, in each dialect: what serving costs once the data is
// collected (the read loop, the rate limit, the shared encodings, the
// envelope, the write). The caches live an hour, so nothing is collected
// during the loop. cpu-ns/op is the process's CPU time (client and agent
// both) per request, which a busy machine's scheduling delays do not
// inflate as they do ns/op; compare it across commits, measured in one
// run.
func BenchmarkCachedRequest(b *testing.B) {
	cfg := testConfig()
	cfg.MetricsTTL, cfg.ProcessesTTL, cfg.DisksTTL = time.Hour, time.Hour, time.Hour
	cfg.RequestsPerSecond, cfg.Burst = 1e9, 1<<30
	_, srv := startAgent(b, cfg)
	v2 := &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}}
	cases := []struct {
		name string
		opts *websocket.DialOptions
		typ  websocket.MessageType
		req  []byte
	}{
		{"v2/metrics", v2, websocket.MessageBinary, wire.AppendRequest(nil, &wire.Request{Id: 7, Body: &wire.Request_Metrics{Metrics: &wire.MetricsRequest{}}})},
		{"v2/processes", v2, websocket.MessageBinary, wire.AppendRequest(nil, &wire.Request{Id: 7, Body: &wire.Request_Processes{Processes: &wire.ProcessesRequest{}}})},
		{"json/metrics", nil, websocket.MessageText, []byte(`{"type":"metrics"}`)},
		{"command/metrics", nil, websocket.MessageText, []byte("get_metrics")},
		{"command/processes", nil, websocket.MessageText, []byte("get_processes")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			conn := dial(b, wsURL(srv), c.opts)
			ctx := context.Background()
			ask := func() {
				if err := conn.Write(ctx, c.typ, c.req); err != nil {
					b.Fatal(err)
				}
				if _, _, err := conn.Read(ctx); err != nil {
					b.Fatal(err)
				}
			}
			ask() // the first collection happens here
			cpu0 := processCPU()
			for b.Loop() {
				ask()
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServeV2Cached is the agent's own part of a cached v2 request,
// without the WebSocket: finding the kind, the cache, the shared body and
// the envelope.
func BenchmarkServeV2Cached(b *testing.B) {
	cfg := testConfig()
	cfg.MetricsTTL, cfg.ProcessesTTL = time.Hour, time.Hour
	a, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for name, req := range map[string]*wire.Request{
		"metrics":   {Id: 7, Body: &wire.Request_Metrics{Metrics: &wire.MetricsRequest{}}},
		"processes": {Id: 7, Body: &wire.Request_Processes{Processes: &wire.ProcessesRequest{}}},
	} {
		b.Run(name, func(b *testing.B) {
			if _, err := a.serveV2(ctx, req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				a.serveV2(ctx, req)
			}
		})
	}
}
