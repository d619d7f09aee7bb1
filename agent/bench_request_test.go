package agent

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
)

// BenchmarkCachedRequest is one request for a cached sample, over a real
// loopback WebSocket, in each dialect: what serving costs once the data is
// collected (the read loop, the rate limit, the shared encodings, the
// envelope, the write). The caches live an hour, so nothing is collected
// during the loop. Compare ns/op across commits, measured in one run.
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
			for b.Loop() {
				ask()
			}
		})
	}
}
