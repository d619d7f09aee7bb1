package wire_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
	"github.com/socktop/socktop/wire/wiretest"
	"google.golang.org/protobuf/proto"
)

func dial(t *testing.T, url string, o *wire.Options) *wire.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wire.Dial(ctx, url, o)
	if err != nil {
		t.Fatalf("Dial(%s): %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestClientUpstreamFallback: against an agent that behaves as upstream
// socktop_agent 1.60 the client falls back to the command dialect and
// every typed call it supports works.
func TestClientUpstreamFallback(t *testing.T) {
	agent := wiretest.NewUpstream(wiretest.Config{})
	defer agent.Close()
	c := dial(t, agent.URL, nil)
	if c.Dialect() != wire.DialectCommand {
		t.Fatalf("dialect %v, want command", c.Dialect())
	}
	h, err := c.Hello(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if h.Hostname != "pi-kitchen" || h.Cores != 4 || !h.HasCapability(wire.CapGPU) || !h.HasCapability(wire.CapTemps) || h.HasCapability(wire.CapSignals) {
		t.Errorf("synthesised hello: %v", h)
	}
	want := wiretest.SampleMetrics()
	m, err := c.Metrics(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.SampledAtMs != want.SampledAtMs || m.CpuTotal != want.CpuTotal || m.MemUsed != want.MemUsed || m.GetCpuTempC() != 48.5 ||
		len(m.Networks) != 2 || len(m.Gpus) != 1 || m.Gpus[0].Usage != 38 /* upstream rounds to an integer % */ {
		t.Errorf("metrics: %v", m)
	}
	d, err := c.Disks(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Disks) != 3 || d.Disks[2].Parent != "mmcblk0" || d.Disks[0].GetTemperatureC() != 40 {
		t.Errorf("disks: %v", d)
	}
	p, err := c.Processes(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	wp := wiretest.SampleProcesses(50)
	if len(p.Processes) != 50 || p.Processes[49].Name != wp.Processes[49].Name || p.Processes[49].RssBytes != wp.Processes[49].RssBytes {
		t.Errorf("processes: %d rows, last %v", len(p.Processes), p.Processes[len(p.Processes)-1])
	}
	det, err := c.ProcessDetail(ctx(t), 4242)
	if err != nil {
		t.Fatal(err)
	}
	if det.Process.Command != wiretest.SampleDetail().Process.Command || len(det.Process.ChildProcesses) != 1 {
		t.Errorf("detail: %v", det)
	}
	if _, err := c.ProcessDetail(ctx(t), 1); !errors.Is(err, wire.ErrUnknownPID) {
		t.Errorf("detail of unknown pid: %v", err)
	}
	j, err := c.Journal(ctx(t), 4242, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Entries) != 2 || j.Entries[1].Priority != 3 {
		t.Errorf("journal: %v", j)
	}
	if _, err := c.Journal(ctx(t), 7, 0); !errors.Is(err, wire.ErrUnknownPID) {
		t.Errorf("journal of unknown pid: %v", err)
	}
	if _, err := c.Connections(ctx(t)); !errors.Is(err, wire.ErrNotSupported) {
		t.Errorf("connections on the command dialect: %v", err)
	}
	if _, err := c.Signal(ctx(t), 4242, 1763700000, "TERM"); !errors.Is(err, wire.ErrNotSupported) {
		t.Errorf("signal on the command dialect: %v", err)
	}
	if _, err := c.Subscribe(ctx(t), wire.Cadence{Metrics: time.Second}); c.CanSubscribe() || !errors.Is(err, wire.ErrNotSupported) {
		t.Errorf("subscribe on the command dialect: %v (CanSubscribe %v)", err, c.CanSubscribe())
	}
	if rtt, err := c.Ping(ctx(t)); err != nil || rtt <= 0 {
		t.Errorf("ping an upstream agent: %v, %v", rtt, err)
	}
	// Upstream heard nothing but its own commands.
	for _, f := range agent.Frames() {
		if !strings.HasPrefix(f, "get_") {
			t.Errorf("client sent %q to an upstream agent", f)
		}
	}
	if f := agent.Frames(); len(f) == 0 || f[0] != "get_metrics" {
		t.Errorf("frames %q", f)
	}
}

// TestClientV2 exercises every typed call over socktop.v2.
func TestClientV2(t *testing.T) {
	agent := wiretest.NewV2(wiretest.Config{})
	defer agent.Close()
	c := dial(t, agent.URL, &wire.Options{ClientName: "test"})
	if c.Dialect() != wire.DialectV2 {
		t.Fatalf("dialect %v, want v2", c.Dialect())
	}
	h, _ := c.Hello(ctx(t))
	if !proto.Equal(h, wiretest.SampleHello()) {
		t.Errorf("hello %v", h)
	}
	m, err := c.Metrics(ctx(t))
	if err != nil || !proto.Equal(m, wiretest.SampleMetrics()) {
		t.Errorf("metrics %v %v", m, err)
	}
	d, err := c.Disks(ctx(t))
	if err != nil || !proto.Equal(d, wiretest.SampleDisks()) {
		t.Errorf("disks %v %v", d, err)
	}
	p, err := c.Processes(ctx(t))
	if err != nil || !proto.Equal(p, wiretest.SampleProcesses(50)) {
		t.Errorf("processes %v", err)
	}
	det, err := c.ProcessDetail(ctx(t), 4242)
	if err != nil || !proto.Equal(det, wiretest.SampleDetail()) {
		t.Errorf("detail %v %v", det, err)
	}
	_, err = c.ProcessDetail(ctx(t), 99)
	var werr *wire.Error
	if !errors.As(err, &werr) || werr.Code != wire.ErrorCode_ERROR_CODE_UNKNOWN_PID || !errors.Is(err, wire.ErrUnknownPID) {
		t.Errorf("unknown pid: %v", err)
	}
	j, err := c.Journal(ctx(t), 4242, 0)
	if err != nil || !proto.Equal(j, wiretest.SampleJournal()) {
		t.Errorf("journal %v %v", j, err)
	}
	conns, err := c.Connections(ctx(t))
	if err != nil || !proto.Equal(conns, wiretest.SampleConnections()) {
		t.Errorf("connections %v %v", conns, err)
	}
	if _, err := c.Signal(ctx(t), 4242, 0, "term"); !errors.Is(err, wire.ErrBadRequest) {
		t.Errorf("signal without a start time: %v, want a bad request", err)
	}
	if _, err := c.Signal(ctx(t), 4242, 1763700000-1, "term"); !errors.Is(err, wire.ErrUnknownPID) {
		t.Errorf("signal with another start time: %v, want an unknown pid", err)
	}
	sr, err := c.Signal(ctx(t), 4242, 1763700000, "term")
	if err != nil || sr.Signal != "SIGTERM" || sr.Pid != 4242 {
		t.Errorf("signal %v %v", sr, err)
	}
	if s := agent.Signals(); len(s) != 1 || s[0] != "4242:SIGTERM" {
		t.Errorf("agent saw signals %q", s)
	}
}

// TestClientConcurrentV2: concurrent callers, replies out of order (metrics
// are slow), each caller gets its own answer.
func TestClientConcurrentV2(t *testing.T) {
	agent := wiretest.NewV2(wiretest.Config{Latency: func(kind string) time.Duration {
		if kind == "metrics" {
			return 30 * time.Millisecond
		}
		return 0
	}})
	defer agent.Close()
	c := dial(t, agent.URL, nil)
	concurrentCalls(t, c)
}

// TestClientConcurrentCommand: concurrent callers on the command dialect
// are serialised, one request outstanding at a time.
func TestClientConcurrentCommand(t *testing.T) {
	agent := wiretest.NewUpstream(wiretest.Config{})
	defer agent.Close()
	c := dial(t, agent.URL, nil)
	concurrentCalls(t, c)
}

func concurrentCalls(t *testing.T, c *wire.Client) {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 8; i++ {
		wg.Add(3)
		go func() {
			defer wg.Done()
			m, err := c.Metrics(ctx(t))
			if err == nil && m.Hostname != "pi-kitchen" {
				err = fmt.Errorf("metrics answered with %v", m)
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			d, err := c.Disks(ctx(t))
			if err == nil && len(d.Disks) != 3 {
				err = fmt.Errorf("disks answered with %v", d)
			}
			errs <- err
		}()
		go func() {
			defer wg.Done()
			p, err := c.ProcessDetail(ctx(t), 4242)
			if err == nil && p.Process.Pid != 4242 {
				err = fmt.Errorf("detail answered with %v", p)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestClientCommandLateReply: a caller that gives up does not receive the
// next caller's reply; its late reply is dropped when it comes.
func TestClientCommandLateReply(t *testing.T) {
	var slow atomic.Bool
	slow.Store(true)
	agent := wiretest.NewUpstream(wiretest.Config{Latency: func(kind string) time.Duration {
		if kind == "disks" && slow.Swap(false) {
			return 300 * time.Millisecond
		}
		return 0
	}})
	defer agent.Close()
	c := dial(t, agent.URL, nil)
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Disks(short); !errors.Is(err, wire.ErrTimeout) {
		t.Fatalf("slow disks: %v, want ErrTimeout", err)
	}
	m, err := c.Metrics(ctx(t))
	if err != nil || m.Hostname != "pi-kitchen" {
		t.Fatalf("metrics after a timeout: %v %v", m, err)
	}
	d, err := c.Disks(ctx(t))
	if err != nil || len(d.Disks) != 3 {
		t.Fatalf("disks after the late reply: %v %v", d, err)
	}
	if c.Err() != nil {
		t.Fatalf("connection ended: %v", c.Err())
	}
}

func TestClientToken(t *testing.T) {
	for _, mk := range []func(wiretest.Config) *wiretest.Agent{wiretest.NewUpstream, wiretest.NewV2} {
		agent := mk(wiretest.Config{Token: "s3cret"})
		for _, tok := range []string{"", "wrong"} {
			_, err := wire.Dial(ctx(t), agent.URL, &wire.Options{Token: tok})
			if !errors.Is(err, wire.ErrUnauthorized) {
				t.Errorf("%s with token %q: %v, want ErrUnauthorized", agent.URL, tok, err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the token: %v", err)
			}
		}
		c, err := wire.Dial(ctx(t), agent.URL, &wire.Options{Token: "s3cret"})
		if err != nil {
			t.Fatalf("right token: %v", err)
		}
		if strings.Contains(c.URL(), "s3cret") {
			t.Errorf("URL() shows the token: %s", c.URL())
		}
		c.Close()
		agent.Close()
	}
	// Our agent also takes the bearer header alone.
	agent := wiretest.NewV2(wiretest.Config{Token: "s3cret"})
	defer agent.Close()
	dial(t, agent.URL, &wire.Options{Token: "s3cret", TokenHeaderOnly: true})
}

func TestClientTLSPinning(t *testing.T) {
	agent := wiretest.NewV2(wiretest.Config{TLS: true})
	defer agent.Close()
	cert := agent.Certificate()
	fp := wire.Fingerprint(cert)
	if !strings.HasPrefix(fp, "sha256:") || len(fp) != 7+64 {
		t.Fatalf("fingerprint %q", fp)
	}

	// No pin: the self-signed certificate is not trusted, and the error
	// tells the pin that would accept it.
	_, err := wire.Dial(ctx(t), agent.URL, nil)
	var untrusted *wire.UntrustedCertError
	if !errors.As(err, &untrusted) || untrusted.Fingerprint != fp || !strings.Contains(err.Error(), fp) {
		t.Fatalf("no pin: %v", err)
	}

	// The right pin, in openssl's spelling too.
	dial(t, agent.URL, &wire.Options{Pins: []string{fp}})
	openssl := strings.ToUpper(strings.TrimPrefix(fp, "sha256:"))
	var pairs []string
	for i := 0; i < len(openssl); i += 2 {
		pairs = append(pairs, openssl[i:i+2])
	}
	dial(t, agent.URL, &wire.Options{Pins: []string{"SHA256:" + strings.Join(pairs, ":")}})

	// A wrong pin names both fingerprints.
	wrong := "sha256:" + strings.Repeat("ab", 32)
	_, err = wire.Dial(ctx(t), agent.URL, &wire.Options{Pins: []string{wrong}})
	var pm *wire.PinMismatchError
	if !errors.As(err, &pm) || pm.Got != fp || len(pm.Want) != 1 || pm.Want[0] != wrong || !strings.Contains(err.Error(), fp) || !strings.Contains(err.Error(), wrong) {
		t.Fatalf("wrong pin: %v", err)
	}

	// --tls-ca with the exact certificate.
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	dial(t, agent.URL, &wire.Options{CAPEM: certPEM})

	// Hostname verification: off by default, on request.
	byName := strings.Replace(agent.URL, "127.0.0.1", "localhost", 1)
	dial(t, byName, &wire.Options{Pins: []string{fp}})
	dial(t, agent.URL, &wire.Options{Pins: []string{fp}, VerifyHostname: true}) // 127.0.0.1 is a SAN
	_, err = wire.Dial(ctx(t), byName, &wire.Options{Pins: []string{fp}, VerifyHostname: true})
	var he *wire.HostnameError
	if !errors.As(err, &he) {
		t.Fatalf("VerifyHostname with a name not in the SANs: %v", err)
	}

	// A pin on a ws:// URL is a mistake worth saying.
	if _, err := wire.Dial(ctx(t), strings.Replace(agent.URL, "wss://", "ws://", 1), &wire.Options{Pins: []string{fp}}); err == nil || !strings.Contains(err.Error(), "wss://") {
		t.Fatalf("pin with ws://: %v", err)
	}
	if _, err := wire.ParseFingerprint("sha256:xyz"); err == nil {
		t.Fatal("bad pin accepted")
	}
}

func TestClientDialErrors(t *testing.T) {
	// Unreachable: a port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	if _, err := wire.Dial(ctx(t), addr, nil); !errors.Is(err, wire.ErrUnreachable) {
		t.Errorf("closed port: %v, want ErrUnreachable", err)
	}
	_, err = wire.Dial(ctx(t), addr, &wire.Options{Token: "s3cret/+"})
	if !errors.Is(err, wire.ErrUnreachable) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("closed port with a token: %v", err)
	}
	// Something that is not an agent.
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if _, err := wire.Dial(ctx(t), srv.URL, nil); !errors.Is(err, wire.ErrProtocol) {
		t.Errorf("HTTP 404 server: %v, want ErrProtocol", err)
	}
	// A v2 agent of another major version.
	hello := wiretest.SampleHello()
	hello.ProtocolMajor = 3
	agent := wiretest.NewV2(wiretest.Config{Hello: hello})
	defer agent.Close()
	if _, err := wire.Dial(ctx(t), agent.URL, nil); !errors.Is(err, wire.ErrProtocolVersion) {
		t.Errorf("major 3 agent: %v, want ErrProtocolVersion", err)
	}
	// Forcing v2 against an upstream agent.
	up := wiretest.NewUpstream(wiretest.Config{})
	defer up.Close()
	if _, err := wire.Dial(ctx(t), up.URL, &wire.Options{Dialect: wire.DialectV2}); !errors.Is(err, wire.ErrProtocol) {
		t.Errorf("forced v2 against upstream: %v", err)
	}
	if _, err := wire.Dial(ctx(t), "ftp://x", nil); err == nil {
		t.Error("ftp:// accepted")
	}
	if _, err := wire.Dial(ctx(t), up.URL, &wire.Options{Dialect: wire.DialectJSON}); err == nil {
		t.Error("DialectJSON accepted")
	}
	// Forcing the command dialect against a v2 agent works too.
	v2 := wiretest.NewV2(wiretest.Config{})
	defer v2.Close()
	c := dial(t, strings.TrimSuffix(strings.TrimPrefix(v2.URL, "ws://"), "/ws"), &wire.Options{Dialect: wire.DialectCommand})
	if c.Dialect() != wire.DialectCommand {
		t.Errorf("forced command dialect: got %v", c.Dialect())
	}
	if p, err := c.Processes(ctx(t)); err != nil || len(p.Processes) != 50 {
		t.Errorf("processes over the forced command dialect: %v", err)
	}
}

// waitGoroutines waits until no more goroutines run than before.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestClientCloseLeavesNoGoroutine: after Close (and after the agent drops
// a connection) nothing the client started keeps running.
func TestClientCloseLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, mk := range []func(wiretest.Config) *wiretest.Agent{wiretest.NewUpstream, wiretest.NewV2} {
		agent := mk(wiretest.Config{})
		c, err := wire.Dial(ctx(t), agent.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Processes(ctx(t)); err != nil {
			t.Fatal(err)
		}
		c.Close()
		c.Close() // idempotent
		if _, err := c.Metrics(ctx(t)); !errors.Is(err, wire.ErrClosed) {
			t.Errorf("call after Close: %v, want ErrClosed", err)
		}

		// The agent going away ends the client too.
		c2, err := wire.Dial(ctx(t), agent.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		agent.DropConnections()
		select {
		case <-c2.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("client did not notice the dropped connection")
		}
		if !errors.Is(c2.Err(), wire.ErrClosed) {
			t.Errorf("Err after drop: %v", c2.Err())
		}
		c2.Close()
		agent.Close()
	}
	waitGoroutines(t, before)
}

func TestReconnect(t *testing.T) {
	agent := wiretest.NewUpstream(wiretest.Config{})
	defer agent.Close()
	var states []wire.State
	var mu sync.Mutex
	conns := 0
	err := wire.Reconnect(ctx(t), agent.URL, nil, wire.ReconnectOptions{MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
		OnState: func(e wire.Event) {
			mu.Lock()
			states = append(states, e.State)
			mu.Unlock()
		}},
		func(ctx context.Context, c *wire.Client) error {
			conns++
			if _, err := c.Metrics(ctx); err != nil {
				return err
			}
			if conns == 2 {
				return nil
			}
			agent.DropConnections()
			<-c.Done()
			return c.Err()
		})
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.State{wire.StateConnecting, wire.StateConnected, wire.StateRetrying, wire.StateConnecting, wire.StateConnected, wire.StateStopped}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Errorf("states %v, want %v", states, want)
	}

	// A refused token is reported and not retried.
	locked := wiretest.NewV2(wiretest.Config{Token: "t"})
	defer locked.Close()
	states = nil
	err = wire.Reconnect(ctx(t), locked.URL, nil, wire.ReconnectOptions{MinDelay: time.Millisecond, OnState: func(e wire.Event) { states = append(states, e.State) }},
		func(context.Context, *wire.Client) error { t.Error("run called without a token"); return nil })
	if !errors.Is(err, wire.ErrUnauthorized) || fmt.Sprint(states) != fmt.Sprint([]wire.State{wire.StateConnecting, wire.StateAuthFailed}) {
		t.Errorf("auth failure: %v, states %v", err, states)
	}

	// An unreachable agent is retried until the context ends.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	retries := 0
	err = wire.Reconnect(short, addr, nil, wire.ReconnectOptions{MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond,
		OnState: func(e wire.Event) {
			if e.State == wire.StateRetrying {
				retries++
				if !errors.Is(e.Err, wire.ErrUnreachable) || e.Delay <= 0 || e.Delay > 3*time.Millisecond {
					t.Errorf("retry event %+v", e)
				}
			}
		}},
		func(context.Context, *wire.Client) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) || retries < 2 {
		t.Errorf("unreachable: %v after %d retries", err, retries)
	}
}

// TestClientFramingBoundary: the client reads an upstream metrics reply of
// exactly 768 bytes (a text frame) and of 769 bytes (gzip in a binary
// frame) alike.
func TestClientFramingBoundary(t *testing.T) {
	for _, size := range []int{wire.GzipThreshold, wire.GzipThreshold + 1} {
		m := wiretest.SampleMetrics()
		m.Hostname += strings.Repeat("x", size-len(dialect.EncodeCommandMetrics(m)))
		if n := len(dialect.EncodeCommandMetrics(m)); n != size {
			t.Fatalf("built %d bytes, want %d", n, size)
		}
		if f := dialect.ReplyMetrics(wire.DialectCommand, m); f.Text() != (size <= wire.GzipThreshold) {
			t.Fatalf("%d bytes: text frame %v", size, f.Text())
		}
		agent := wiretest.NewUpstream(wiretest.Config{Metrics: m})
		c := dial(t, agent.URL, nil)
		got, err := c.Metrics(ctx(t))
		if err != nil || got.Hostname != m.Hostname {
			t.Errorf("%d-byte reply: %v", size, err)
		}
		c.Close()
		agent.Close()
	}
}
