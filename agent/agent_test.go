package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
)

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Version = "test"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

// startAgent runs a real agent behind a real HTTP server on 127.0.0.1:0.
func startAgent(t testing.TB, cfg Config) (*Agent, *httptest.Server) {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { a.Shutdown(); srv.Close() })
	return a, srv
}

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws" }

func dial(t testing.TB, url string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", url, err, status)
	}
	c.SetReadLimit(64 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func roundTrip(t testing.TB, c *websocket.Conn, typ websocket.MessageType, msg []byte) (websocket.MessageType, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, typ, msg); err != nil {
		t.Fatalf("write %q: %v", msg, err)
	}
	rt, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read reply to %q: %v", msg, err)
	}
	return rt, b
}

func TestJSONDialect(t *testing.T) {
	_, srv := startAgent(t, testConfig())
	c := dial(t, wsURL(srv), nil)

	typ, b := roundTrip(t, c, websocket.MessageText, []byte(`{"type":"metrics"}`))
	if typ != websocket.MessageText || wire.IsGzip(b) {
		t.Fatalf("metrics reply: type %v gzip %v; the JSON dialect always answers plain text", typ, wire.IsGzip(b))
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("metrics reply is not JSON: %v", err)
	}
	for _, k := range []string{"cpu_total", "cpu_per_core", "mem_total", "mem_used", "swap_total", "swap_used", "hostname", "cpu_temp_c", "networks", "gpus"} {
		if _, ok := m[k]; !ok {
			t.Errorf("metrics reply lacks %q", k)
		}
	}
	host, _ := os.Hostname()
	if m["hostname"] != host {
		t.Errorf("hostname %v, want %q", m["hostname"], host)
	}

	typ, b = roundTrip(t, c, websocket.MessageText, []byte(`{"type":"processes"}`))
	if typ != websocket.MessageBinary {
		t.Fatalf("processes reply is %v, want a binary frame", typ)
	}
	pl, err := decodeProcessList(b)
	if err != nil {
		t.Fatal(err)
	}
	if pl.ProcessCount < 2 || findPID(pl, uint32(os.Getpid())) == nil {
		t.Errorf("process list of %d rows lacks this test (pid %d)", pl.ProcessCount, os.Getpid())
	}

	typ, b = roundTrip(t, c, websocket.MessageText, []byte(`{"type":"bogus"}`))
	if typ != websocket.MessageText || !strings.Contains(string(b), `"error"`) || !strings.Contains(string(b), `"request":"bogus"`) {
		t.Errorf("unknown type: got %v %s", typ, b)
	}
}

func findPID(pl *wire.ProcessList, pid uint32) *wire.Process {
	for _, p := range pl.Processes {
		if p.Pid == pid {
			return p
		}
	}
	return nil
}

func TestCommandDialect(t *testing.T) {
	_, srv := startAgent(t, testConfig())
	c := dial(t, wsURL(srv), nil)

	typ, b := roundTrip(t, c, websocket.MessageText, []byte("get_metrics"))
	// ≤ 768 bytes: plain text; longer: gzip in a binary frame.
	if (typ == websocket.MessageBinary) != wire.IsGzip(b) {
		t.Fatalf("get_metrics: frame type %v but gzip=%v", typ, wire.IsGzip(b))
	}
	payload, err := wire.Payload(wire.Frame{Type: typ, Data: b})
	if err != nil {
		t.Fatal(err)
	}
	if typ == websocket.MessageText && len(payload) > wire.GzipThreshold {
		t.Errorf("a %d-byte reply was sent uncompressed", len(payload))
	}
	m, err := decodeText[textMetrics](payload)
	if err != nil {
		t.Fatal(err)
	}
	if m.MemTotal == 0 || len(m.CPUPerCore) == 0 {
		t.Errorf("get_metrics decoded to %+v", m)
	}

	typ, b = roundTrip(t, c, websocket.MessageText, []byte("get_processes"))
	if typ != websocket.MessageBinary {
		t.Fatalf("get_processes reply is %v", typ)
	}
	if pl, err := decodeProcessList(b); err != nil || findPID(pl, uint32(os.Getpid())) == nil {
		t.Errorf("get_processes: %v", err)
	}

	// Upstream ignores an unknown command, leaving its client waiting
	// forever; this agent answers it, and a frame of no dialect, with the
	// error object ("request":"").
	for _, junk := range []string{"get_nothing", "this is not json"} {
		typ, b = roundTrip(t, c, websocket.MessageText, []byte(junk))
		if typ != websocket.MessageText || !strings.Contains(string(b), `"error"`) || !strings.Contains(string(b), `"request":""`) {
			t.Errorf("%s: got %v %s, want an error object", junk, typ, b)
		}
	}
	typ, b = roundTrip(t, c, websocket.MessageText, []byte("get_process_metrics:abc"))
	if !strings.Contains(string(b), `"error"`) {
		t.Errorf("bad pid: got %v %s", typ, b)
	}
}

func v2Call(t testing.TB, c *websocket.Conn, req *wire.Request) *wire.Response {
	t.Helper()
	_, b := roundTrip(t, c, websocket.MessageBinary, wire.AppendRequest(nil, req))
	resp, err := wire.DecodeResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Id != req.Id {
		t.Fatalf("response id %d for request %d", resp.Id, req.Id)
	}
	return resp
}

func TestV2Dialect(t *testing.T) {
	cfg := testConfig()
	cfg.AllowSignals = true
	_, srv := startAgent(t, cfg)
	c := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if c.Subprotocol() != wire.Subprotocol {
		t.Fatalf("subprotocol %q not negotiated", c.Subprotocol())
	}
	hello := v2Call(t, c, &wire.Request{Id: 1, Body: &wire.Request_Hello{Hello: &wire.HelloRequest{ProtocolMajor: wire.ProtocolMajor, ClientVersion: "t"}}}).GetHello()
	if hello == nil || hello.AgentVersion != "test" || hello.Cores == 0 || !hello.HasCapability("metrics") || !hello.HasCapability("signals") {
		t.Fatalf("hello = %+v", hello)
	}
	m := v2Call(t, c, &wire.Request{Id: 2, Body: &wire.Request_Metrics{Metrics: &wire.MetricsRequest{}}}).GetMetrics()
	if m == nil || m.MemTotal == 0 || len(m.CpuPerCore) != int(hello.Cores) {
		t.Fatalf("metrics = %+v (cores %d)", m, hello.Cores)
	}
	ps := v2Call(t, c, &wire.Request{Id: 3, Body: &wire.Request_Processes{Processes: &wire.ProcessesRequest{}}}).GetProcesses()
	var self *wire.ProcessInfo
	for _, p := range ps.GetProcesses() {
		if p.Pid == uint32(os.Getpid()) {
			self = p
		}
	}
	if self == nil || self.Ppid != uint32(os.Getppid()) || self.User == "" || self.Threads == 0 {
		t.Fatalf("own process row = %+v", self)
	}
	// Signals: pid 1 and the agent itself are refused.
	e := v2Call(t, c, &wire.Request{Id: 4, Body: &wire.Request_Signal{Signal: &wire.SignalRequest{Pid: 1, Signal: "KILL"}}}).GetError()
	if e.GetCode() != wire.ErrorCode_ERROR_CODE_NOT_PERMITTED {
		t.Errorf("KILL pid 1: %v", e)
	}
	e = v2Call(t, c, &wire.Request{Id: 5, Body: &wire.Request_Signal{Signal: &wire.SignalRequest{Pid: 99999999, Signal: "SEGV"}}}).GetError()
	if e.GetCode() != wire.ErrorCode_ERROR_CODE_BAD_REQUEST {
		t.Errorf("SEGV: %v", e)
	}
	// A wrong major version gets an error and a close with 1002.
	_, b := roundTrip(t, c, websocket.MessageBinary, wire.AppendRequest(nil, &wire.Request{Id: 6, Body: &wire.Request_Hello{Hello: &wire.HelloRequest{ProtocolMajor: 9}}}))
	if r, _ := wire.DecodeResponse(b); r.GetError().GetCode() != wire.ErrorCode_ERROR_CODE_PROTOCOL_VERSION {
		t.Errorf("major 9: %v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusProtocolError {
		t.Errorf("after a wrong major version: %v, want close 1002", err)
	}
}

func TestV2Garbage(t *testing.T) {
	_, srv := startAgent(t, testConfig())
	c := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	for _, junk := range [][]byte{{0xff, 0xff, 0xff}, {}, []byte("not protobuf at all \xff\xfe")} {
		_, b := roundTrip(t, c, websocket.MessageBinary, junk)
		r, err := wire.DecodeResponse(b)
		if err != nil || r.GetError().GetCode() != wire.ErrorCode_ERROR_CODE_BAD_REQUEST {
			t.Errorf("junk %q: %v %v", junk, r, err)
		}
	}
	// Still serving.
	if m := v2Call(t, c, &wire.Request{Id: 9, Body: &wire.Request_Metrics{Metrics: &wire.MetricsRequest{}}}).GetMetrics(); m == nil {
		t.Error("no metrics after junk")
	}
}

func TestTextGarbageAndInvalidUTF8(t *testing.T) {
	_, srv := startAgent(t, testConfig())
	c := dial(t, wsURL(srv), nil)
	for _, junk := range []string{"{not json", "{\"type\":\"\xff\xfe\"}", "{\"type\":\"process_metrics\",\"pid\":-1}", `{"type":"process_metrics","pid":"1; rm -rf /"}`} {
		typ, b := roundTrip(t, c, websocket.MessageText, []byte(junk))
		var e struct{ Error string }
		if typ != websocket.MessageText || json.Unmarshal(b, &e) != nil || e.Error == "" {
			t.Errorf("%q: got %v %q, want an error object", junk, typ, b)
		}
	}
	// Frames of no dialect, binary outside v2 included, get an error object.
	for _, junk := range []struct {
		typ websocket.MessageType
		b   string
	}{{websocket.MessageBinary, "\x00\x01\x02\x03"}, {websocket.MessageText, "\xff\xfe\xfd"}} {
		typ, b := roundTrip(t, c, junk.typ, []byte(junk.b))
		var e struct{ Error string }
		if typ != websocket.MessageText || !utf8.Valid(b) || json.Unmarshal(b, &e) != nil || e.Error == "" {
			t.Errorf("%q: got %v %q, want an error object", junk.b, typ, b)
		}
	}
	if typ, _ := roundTrip(t, c, websocket.MessageText, []byte(`{"type":"metrics"}`)); typ != websocket.MessageText {
		t.Error("not serving after junk")
	}
}

func TestAuth(t *testing.T) {
	cfg := testConfig()
	cfg.Token = "s3cret"
	_, srv := startAgent(t, cfg)
	url := wsURL(srv)
	status := func(u string, h http.Header) int {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h})
		if err == nil {
			c.CloseNow()
			return http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatalf("dial %s: %v", u, err)
		}
		return resp.StatusCode
	}
	cases := []struct {
		name string
		url  string
		hdr  http.Header
		want int
	}{
		{"none", url, nil, 401},
		{"wrong query", url + "?token=nope", nil, 401},
		{"wrong bearer", url, http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"query", url + "?token=s3cret", nil, 101},
		{"bearer", url, http.Header{"Authorization": {"Bearer s3cret"}}, 101},
	}
	for _, tc := range cases {
		if got := status(tc.url, tc.hdr); got != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, got, tc.want)
		}
	}
	// /metrics needs the token too; /healthz does not.
	for path, want := range map[string]int{"/metrics": 401, "/healthz": 200, "/metrics?token=s3cret": 200} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestOriginCheck(t *testing.T) {
	_, srv := startAgent(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, wsURL(srv), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin browser request: %v, want 403", err)
	}
}

func TestOversizedFrameCloses1009(t *testing.T) {
	_, srv := startAgent(t, testConfig())
	c := dial(t, wsURL(srv), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	big := []byte(`{"type":"metrics","pad":"` + strings.Repeat("x", 100<<10) + `"}`)
	c.Write(ctx, websocket.MessageText, big)
	_, _, err := c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("100 KiB frame: %v, want close 1009", err)
	}
}

func TestMaxClients(t *testing.T) {
	cfg := testConfig()
	cfg.MaxClients = 64
	cfg.MaxClientsPerPeer = 64 // every client here comes from 127.0.0.1
	a, srv := startAgent(t, cfg)
	for range 64 {
		dial(t, wsURL(srv), nil)
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.Clients() < 64 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, wsURL(srv), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("client 65: %v, want HTTP 503", err)
	}
}

// A flood on one connection is rate limited there and does not starve
// another client, whose every request is answered.
func TestFloodDoesNotStarveOthers(t *testing.T) {
	_, srv := startAgent(t, testConfig())
	flood := dial(t, wsURL(srv), nil)
	calm := dial(t, wsURL(srv), nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var limited, answered int
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 2000 {
			if flood.Write(ctx, websocket.MessageText, []byte(`{"type":"metrics"}`)) != nil {
				return
			}
		}
	})
	wg.Go(func() {
		for answered+limited < 2000 {
			_, b, err := flood.Read(ctx)
			if err != nil {
				return
			}
			if strings.Contains(string(b), "rate limited") {
				limited++
			} else {
				answered++
			}
		}
	})
	var worst time.Duration
	for range 20 {
		start := time.Now()
		_, b := roundTrip(t, calm, websocket.MessageText, []byte(`{"type":"metrics"}`))
		worst = max(worst, time.Since(start))
		if strings.Contains(string(b), "error") {
			t.Fatalf("calm client got %s during the flood", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	if limited == 0 {
		t.Errorf("2000 requests back to back were never rate limited (%d answered)", answered)
	}
	t.Logf("flood: %d answered, %d rate limited; calm client's worst latency %v", answered, limited, worst)
}

func TestMetricsEndpoint(t *testing.T) {
	_, srv := startAgent(t, testConfig())
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"# TYPE socktop_cpu_busy_percent gauge", `socktop_cpu_busy_percent{cpu="all"}`,
		"socktop_memory_total_bytes ", `socktop_network_receive_bytes_total{interface="lo"}`, "socktop_agent_clients 0"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestCacheSingleFlight(t *testing.T) {
	var calls int
	var mu sync.Mutex
	release := make(chan struct{})
	c := newCache(time.Hour, func(ctx context.Context) (int, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		<-release
		return 42, nil
	})
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if v, err := c.Get(context.Background()); v != 42 || err != nil {
				t.Errorf("Get = %d, %v", v, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if calls != 1 {
		t.Errorf("100 concurrent Gets caused %d collections, want 1", calls)
	}
	// A failed collection is not cached.
	fail := newCache(time.Hour, func(context.Context) (int, error) { calls++; return 0, errors.New("boom") })
	fail.Get(context.Background())
	fail.Get(context.Background())
	if calls != 3 {
		t.Errorf("failed collections were cached: %d calls", calls)
	}
}

func TestConnectionsV2(t *testing.T) {
	_, srv := startAgent(t, testConfig())
	c := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	cs := v2Call(t, c, &wire.Request{Id: 1, Body: &wire.Request_Connections{Connections: &wire.ConnectionsRequest{}}}).GetConnections()
	if cs == nil {
		t.Fatal("no connections body")
	}
	// The test server's listening socket belongs to this process.
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	for _, x := range cs.Connections {
		if x.LocalPort == uint32(port) && x.State == 10 {
			if x.Pid != uint32(os.Getpid()) {
				t.Errorf("listener on %d owned by pid %d, want %d", port, x.Pid, os.Getpid())
			}
			return
		}
	}
	t.Errorf("the test server's listener on port %d is not listed among %d sockets", port, len(cs.Connections))
}

func TestDisksAndDetail(t *testing.T) {
	_, srv := startAgent(t, testConfig())
	c := dial(t, wsURL(srv), nil)

	typ, b := roundTrip(t, c, websocket.MessageText, []byte(`{"type":"disks"}`))
	var disks []struct {
		Name             string
		Total, Available uint64
		IsPartition      bool `json:"is_partition"`
	}
	if typ != websocket.MessageText || json.Unmarshal(b, &disks) != nil {
		t.Fatalf("disks reply %v %s", typ, b)
	}
	for _, d := range disks {
		if d.Total == 0 || d.Available > d.Total {
			t.Errorf("disk %+v: sizes make no sense", d)
		}
	}

	typ, b = roundTrip(t, c, websocket.MessageText, []byte(`{"type":"process_metrics","pid":`+strconv.Itoa(os.Getpid())+`}`))
	d, err := decodeText[textDetail](b)
	if typ != websocket.MessageText || err != nil {
		t.Fatalf("process_metrics: %v %v %s", typ, err, b)
	}
	exe, _ := os.Executable()
	cwd, _ := os.Getwd()
	p := d.Process
	if p.Pid != uint32(os.Getpid()) || p.ParentPid != uint32(os.Getppid()) || p.ExecutablePath != exe || p.WorkingDirectory != cwd || len(p.Threads) == 0 {
		t.Errorf("own detail: pid %d ppid %d exe %q cwd %q threads %d", p.Pid, p.ParentPid, p.ExecutablePath, p.WorkingDirectory, len(p.Threads))
	}

	_, b = roundTrip(t, c, websocket.MessageText, []byte("get_process_metrics:999999999"))
	if !strings.Contains(string(b), `"error":"Process 999999999 not found"`) {
		t.Errorf("unknown pid: %s", b)
	}
}

func TestClientSeesBusyAgent(t *testing.T) {
	cfg := testConfig()
	cfg.MaxClients = 1
	_, srv := startAgent(t, cfg)
	dial(t, wsURL(srv), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := wire.Dial(ctx, wsURL(srv), nil)
	if !errors.Is(err, wire.ErrBusy) {
		t.Errorf("dial to a full agent: %v, want wire.ErrBusy", err)
	}
}

func TestMetricsCarryTopProcess(t *testing.T) {
	_, srv := startAgent(t, testConfig())
	c := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	m := v2Call(t, c, &wire.Request{Id: 1, Body: &wire.Request_Metrics{Metrics: &wire.MetricsRequest{}}}).GetMetrics()
	ps := v2Call(t, c, &wire.Request{Id: 2, Body: &wire.Request_Processes{Processes: &wire.ProcessesRequest{}}}).GetProcesses()
	top := m.GetTopProcess()
	if top == nil || top.Pid == 0 || top.Name == "" {
		t.Fatalf("metrics without a top process: %+v", top)
	}
	for _, p := range ps.Processes {
		if p.Pid == top.Pid {
			return // the same sample (cached) lists it
		}
	}
	t.Errorf("top process %d (%s) is not in the process list", top.Pid, top.Name)
}

// TestConfigDefaults: New fills in what Config says of its zero fields; a
// zero TTL caches nothing (two requests, two collections) while the
// default serves both from one sample; a negative TTL is refused.
func TestConfigDefaults(t *testing.T) {
	a, err := New(Config{Logger: testConfig().Logger})
	if err != nil {
		t.Fatal(err)
	}
	c := a.cfg
	if c.Version != "dev" || c.ProcRoot != "/proc" || c.SysRoot != "/sys" || c.MaxClients != DefaultMaxClients || c.MaxClientsPerPeer != DefaultMaxClients/2 ||
		c.RequestsPerSecond != 20 || c.Burst != 40 || c.PingInterval != 45*time.Second || c.MetricsTTL != 0 || c.GPU || c.Temps || c.StaleAfter != procfs.DefaultStaleAfter || a.coll.cpu.StaleAfter != c.StaleAfter {
		t.Errorf("New(Config{}) = %+v", c)
	}
	sampledAt := func(a *Agent) [2]uint64 {
		var at [2]uint64
		for i := range at {
			m, err := a.Snapshot(context.Background(), "metrics")
			if err != nil {
				t.Fatal(err)
			}
			at[i] = m.(*wire.Metrics).SampledAtMs
		}
		return at
	}
	if at := sampledAt(a); at[0] == at[1] {
		t.Errorf("TTL 0: two requests served one sample (%d)", at[0])
	}
	d, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if at := sampledAt(d); at[0] != at[1] {
		t.Errorf("default TTL %v: two requests at once collected twice (%v)", d.cfg.MetricsTTL, at)
	}
	for _, set := range []func(*Config){
		func(c *Config) { c.MetricsTTL = -time.Millisecond },
		func(c *Config) { c.ProcessesTTL = -1 },
		func(c *Config) { c.DisksTTL = -time.Second },
		func(c *Config) { c.ConnectionsTTL = -time.Hour },
	} {
		cfg := testConfig()
		set(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "TTL") {
			t.Errorf("a negative TTL: %v, want an error naming it", err)
		}
	}
	cfg := testConfig()
	cfg.MaxClients, cfg.MaxClientsPerPeer = 4, 9
	if b, err := New(cfg); err != nil || b.cfg.MaxClientsPerPeer != 4 {
		t.Errorf("MaxClientsPerPeer above MaxClients: %v", err)
	}
}
