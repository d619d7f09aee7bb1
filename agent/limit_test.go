package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
)

// dashboard is a v2 client that subscribes as `socktop connect` does
// (metrics 500 ms, processes 2 s, disks 5 s) and counts its pushes.
type dashboard struct {
	c      *websocket.Conn
	pushes atomic.Int64
	done   chan struct{}
}

// dialDashboard connects one dashboard from local to url; it returns the
// HTTP status of a refusal.
func dialDashboard(ctx context.Context, url, local string) (*dashboard, int, error) {
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: httpFrom(local), Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		return nil, status, err
	}
	d := &dashboard{c: c, done: make(chan struct{})}
	for i, req := range []*wire.Request{
		{Id: 1, Body: &wire.Request_Hello{Hello: &wire.HelloRequest{ProtocolMajor: wire.ProtocolMajor, ClientName: "dashboard-test"}}},
		{Id: 2, Body: &wire.Request_Subscribe{Subscribe: &wire.SubscribeRequest{MetricsMs: 500, ProcessesMs: 2000, DisksMs: 5000}}},
	} {
		b, _ := req.MarshalVT()
		if err := c.Write(ctx, websocket.MessageBinary, b); err != nil {
			c.CloseNow()
			return nil, 0, err
		}
		_, reply, err := c.Read(ctx)
		if err != nil {
			c.CloseNow()
			return nil, 0, fmt.Errorf("request %d: %w", i+1, err)
		}
		if r, err := wire.DecodeResponse(reply); err != nil || r.GetError() != nil {
			c.CloseNow()
			return nil, 0, fmt.Errorf("request %d: %v %v", i+1, err, r.GetError())
		}
	}
	c.SetReadLimit(64 << 20)
	go func() {
		defer close(d.done)
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
			d.pushes.Add(1)
		}
	}()
	return d, 0, nil
}

func (d *dashboard) close() { d.c.CloseNow(); <-d.done }

// TestWebSocketSharePerPeer: one address may hold at most its share of
// --max-clients; the refusal names the flag; another address is served.
func TestWebSocketSharePerPeer(t *testing.T) {
	cfg := testConfig()
	cfg.MaxClients = 8 // 4 per peer
	_, addr := serveAgent(t, cfg)
	url := "ws://" + addr + "/ws"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 4 {
		d, _, err := dialDashboard(ctx, url, "127.0.0.1")
		if err != nil {
			t.Fatalf("dashboard %d: %v", i+1, err)
		}
		defer d.close()
	}
	_, status, err := dialDashboard(ctx, url, "127.0.0.1")
	if status != http.StatusServiceUnavailable {
		t.Fatalf("dashboard 5 from one address: %v (HTTP %d), want 503", err, status)
	}
	resp, err := httpFrom("127.0.0.1").Get("http://" + addr + "/ws")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "--max-clients-per-peer") {
			t.Errorf("refusal %q does not name --max-clients-per-peer", b)
		}
	}
	for i := range 4 {
		d, _, err := dialDashboard(ctx, url, "127.0.0.2")
		if err != nil {
			t.Fatalf("dashboard %d from another address: %v", i+1, err)
		}
		defer d.close()
	}
	if _, status, _ := dialDashboard(ctx, url, "127.0.0.3"); status != http.StatusServiceUnavailable {
		t.Errorf("dashboard 9 (over --max-clients): HTTP %d, want 503", status)
	}
}

// TestHundredDashboards is issue 13's acceptance: 100 dashboards (real
// wire clients subscribed at `socktop connect`'s cadence) on a default
// agent from one address, with 0 refusals; then the agent filled to its
// default --max-clients from two addresses, with its RSS per client
// measured and held to the 64 MiB of the shipped unit — plain and TLS.
func TestHundredDashboards(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built binary with 512 clients")
	}
	bin := buildSocktop(t)
	t.Run("plain", func(t *testing.T) { hundredDashboards(t, startAgentProcess(t, bin, nil), "") })
	t.Run("TLS", func(t *testing.T) {
		env := []string{"XDG_CONFIG_HOME=" + t.TempDir()}
		hundredDashboards(t, startAgentProcess(t, bin, env, "--tls"), certPin(t, bin, env))
	})
}

func hundredDashboards(t *testing.T, ap *agentProcess, pin string) {
	pid := ap.cmd.Process.Pid
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	settle := func() uint64 { time.Sleep(3 * time.Second); return processRSS(t, pid) }
	rss0 := settle()

	var clients []*wire.Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	refused := 0
	for range 100 {
		c, err := wire.Dial(ctx, ap.url, &wire.Options{ClientName: "dashboard-test", Pins: pinsFor(ap.url, pin)})
		if err != nil {
			refused++
			t.Logf("refused: %v", err)
			continue
		}
		clients = append(clients, c)
		if _, err := c.Subscribe(ctx, wire.Cadence{Metrics: 500 * time.Millisecond, Processes: 2 * time.Second, Disks: 5 * time.Second}); err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		go func() {
			for range c.Pushes() {
			}
		}()
	}
	if refused != 0 {
		t.Fatalf("%d of 100 dashboards refused by a default agent, want 0", refused)
	}
	rss100 := settle()
	t.Logf("100 dashboards: RSS %.1f → %.1f MiB (%.0f KiB per client)", mib(rss0), mib(rss100), float64(rss100-rss0)/100/1024)

	// Fill to the default --max-clients: the rest of 127.0.0.1's share,
	// then the other half from 127.0.0.2.
	var dash []*dashboard
	defer func() {
		for _, d := range dash {
			d.close()
		}
	}()
	for i := 100; i < DefaultMaxClients; i++ {
		local := "127.0.0.1"
		if i >= DefaultMaxClients/2 {
			local = "127.0.0.2"
		}
		d, status, err := dialDashboard(ctx, ap.url, local)
		if err != nil {
			t.Fatalf("dashboard %d from %s: %v (HTTP %d)", i+1, local, err, status)
		}
		dash = append(dash, d)
	}
	rssFull := settle()
	perClient := float64(rssFull-rss0) / DefaultMaxClients
	t.Logf("%d dashboards: RSS %.1f MiB (%.0f KiB per client over the idle %.1f MiB)", DefaultMaxClients, mib(rssFull), perClient/1024, mib(rss0))
	if rssFull > 64<<20 {
		t.Errorf("agent RSS %.1f MiB with %d dashboards, want ≤ 64 MiB", mib(rssFull), DefaultMaxClients)
	}
	_, status, err := dialDashboard(ctx, ap.url, "127.0.0.3")
	if status != http.StatusServiceUnavailable {
		t.Errorf("dashboard %d: %v (HTTP %d), want 503", DefaultMaxClients+1, err, status)
	}
	var silent int
	for _, d := range dash {
		if d.pushes.Load() == 0 {
			silent++
		}
	}
	if silent > 0 {
		t.Errorf("%d dashboards got no push", silent)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("ran out of time")
	}
}
