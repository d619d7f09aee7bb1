package agent

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
)

// faultFixture copies the container fixture's proc tree (pids 1, 7, 31)
// into a fresh directory a row may damage.
func faultFixture(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "proc")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("..", "procfs", "testdata", "fixtures", "container", "proc"))); err != nil {
		t.Fatal(err)
	}
	return dst
}

// faultAgent serves a real agent reading procRoot; with noCache every
// request reads the tree afresh (and waits out the CPU window).
func faultAgent(t *testing.T, procRoot string, noCache bool) (*Agent, string) {
	t.Helper()
	cfg := testConfig()
	cfg.ProcRoot, cfg.SysRoot = procRoot, filepath.Join(t.TempDir(), "sys")
	if noCache {
		cfg.MetricsTTL, cfg.ProcessesTTL, cfg.DisksTTL, cfg.ConnectionsTTL = 0, 0, 0, 0
	}
	cfg.GPU, cfg.Temps = false, false
	cfg.RequestsPerSecond, cfg.Burst = 1000, 1000
	a, srv := startAgent(t, cfg)
	return a, srv.URL
}

// faultReplies is what one round of requests got from an agent.
type faultReplies struct {
	metrics   *wire.Metrics
	metricsE  *wire.Error
	procs     []uint32
	procsE    *wire.Error
	jsonReply string
	scrape    string
}

// askAll makes every kind of request once, over v2 and the JSON dialect and
// /metrics. Every request must be answered (with data or an error) and the
// connection must stay usable: that is the "never crash" half of a row.
func askAll(t *testing.T, base string, v *websocket.Conn, c *websocket.Conn, id *uint32) faultReplies {
	t.Helper()
	var r faultReplies
	next := func() uint32 { *id++; return *id }
	if h := v2Call(t, v, &wire.Request{Id: next(), Body: &wire.Request_Hello{Hello: &wire.HelloRequest{ProtocolMajor: wire.ProtocolMajor}}}); h.GetHello() == nil {
		t.Errorf("Hello: %v", h)
	}
	resp := v2Call(t, v, &wire.Request{Id: next(), Body: &wire.Request_Metrics{Metrics: &wire.MetricsRequest{}}})
	r.metrics, r.metricsE = resp.GetMetrics(), resp.GetError()
	resp = v2Call(t, v, &wire.Request{Id: next(), Body: &wire.Request_Processes{Processes: &wire.ProcessesRequest{}}})
	r.procsE = resp.GetError()
	for _, p := range resp.GetProcesses().GetProcesses() {
		r.procs = append(r.procs, p.Pid)
	}
	slices.Sort(r.procs)
	if r.metrics == nil && r.metricsE == nil || resp.GetProcesses() == nil && r.procsE == nil {
		t.Errorf("a request got neither data nor an error")
	}
	_, b := roundTrip(t, c, websocket.MessageText, []byte(`{"type":"metrics"}`))
	r.jsonReply = string(b)
	hr, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("/metrics: %v", err)
	}
	sb, _ := io.ReadAll(hr.Body)
	hr.Body.Close()
	if hr.StatusCode != 200 || !strings.Contains(string(sb), "socktop_agent_info") {
		t.Errorf("/metrics: HTTP %d without the agent's own metrics", hr.StatusCode)
	}
	r.scrape = string(sb)
	return r
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncateFile(t *testing.T, path string, keep float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b[:int(float64(len(b))*keep)])
}

func junk(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestProcFaults damages one file of a proc tree per row. The agent must
// answer with what it can — or with a clear error when a file it cannot do
// without is broken — and keep serving; it never crashes.
func TestProcFaults(t *testing.T) {
	type want struct {
		metricsErr string   // "" means metrics must be served
		metricsMay bool     // metrics may be served instead of the error
		procs      []uint32 // nil means the process list must be an error
		check      func(t *testing.T, r faultReplies)
	}
	// One pid's stat that cannot be read for a reason other than the
	// process being gone fails the whole list (procfs scanner.each returns
	// the error instead of skipping the pid).
	const statBug = "one unreadable <pid>/stat (EISDIR, ELOOP, EIO…) fails the whole process list for every client instead of skipping that pid"
	all := []uint32{1, 7, 31}
	without7 := []uint32{1, 31}
	rows := []struct {
		name   string
		damage func(t *testing.T, proc string)
		root   bool   // the row means something only when not root
		bug    string // a known agent bug: a mismatch skips instead of failing
		want   want
	}{
		{"intact fixture", func(*testing.T, string) {}, false, "", want{procs: all, check: func(t *testing.T, r faultReplies) {
			if r.metrics.MemTotal == 0 || r.metrics.Hostname == "" || len(r.metrics.CpuPerCore) != 2 {
				t.Errorf("intact fixture metrics: %+v", r.metrics)
			}
		}}},
		{"/proc/stat missing", func(t *testing.T, p string) { os.Remove(filepath.Join(p, "stat")) }, false, "", want{metricsErr: "stat"}},
		{"/proc/stat empty", func(t *testing.T, p string) { writeFile(t, filepath.Join(p, "stat"), nil) }, false, "", want{metricsErr: "stat"}},
		{"/proc/stat garbage", func(t *testing.T, p string) { writeFile(t, filepath.Join(p, "stat"), junk(4096)) }, false, "", want{metricsErr: "stat"}},
		{"/proc/stat is a directory", func(t *testing.T, p string) {
			os.Remove(filepath.Join(p, "stat"))
			os.Mkdir(filepath.Join(p, "stat"), 0o755)
		}, false, "", want{metricsErr: "stat"}},
		{"/proc/meminfo missing", func(t *testing.T, p string) { os.Remove(filepath.Join(p, "meminfo")) }, false, "", want{metricsErr: "meminfo", procs: all}},
		{"/proc/meminfo truncated mid-line", func(t *testing.T, p string) {
			b, _ := os.ReadFile(filepath.Join(p, "meminfo"))
			lines := strings.SplitAfter(string(b), "\n")
			writeFile(t, filepath.Join(p, "meminfo"), []byte(strings.Join(lines[:3], "")+lines[3][:len(lines[3])/2]))
		}, false, "", want{metricsErr: "meminfo", metricsMay: true, procs: all}},
		{"/proc/meminfo garbage", func(t *testing.T, p string) { writeFile(t, filepath.Join(p, "meminfo"), junk(2048)) }, false, "", want{metricsErr: "meminfo", procs: all}},
		{"/proc/loadavg missing", func(t *testing.T, p string) { os.Remove(filepath.Join(p, "loadavg")) }, false, "", want{procs: all, check: func(t *testing.T, r faultReplies) {
			if r.metrics.Load1 != 0 || r.metrics.MemTotal == 0 {
				t.Errorf("without loadavg: load %v, mem %d", r.metrics.Load1, r.metrics.MemTotal)
			}
		}}},
		{"/proc/uptime garbage", func(t *testing.T, p string) {
			writeFile(t, filepath.Join(p, "uptime"), []byte("\xff\xfe up forever\n"))
		}, false, "", want{procs: all}},
		{"/proc/net/dev truncated", func(t *testing.T, p string) { truncateFile(t, filepath.Join(p, "net", "dev"), 0.6) }, false, "", want{procs: all}},
		{"/proc/net/dev missing", func(t *testing.T, p string) { os.Remove(filepath.Join(p, "net", "dev")) }, false, "", want{procs: all, check: func(t *testing.T, r faultReplies) {
			if len(r.metrics.Networks) != 0 {
				t.Errorf("networks from a missing net/dev: %v", r.metrics.Networks)
			}
		}}},
		{"hostname and osrelease missing", func(t *testing.T, p string) {
			os.Remove(filepath.Join(p, "sys", "kernel", "hostname"))
			os.Remove(filepath.Join(p, "sys", "kernel", "osrelease"))
		}, false, "", want{procs: all}},
		{"/proc/cpuinfo binary junk", func(t *testing.T, p string) { writeFile(t, filepath.Join(p, "cpuinfo"), junk(8192)) }, false, "", want{procs: all}},
		{"pid 7 vanished (dir empty)", func(t *testing.T, p string) {
			os.RemoveAll(filepath.Join(p, "7"))
			os.Mkdir(filepath.Join(p, "7"), 0o555)
		}, false, "", want{procs: without7}},
		{"pid 7 stat truncated mid-field", func(t *testing.T, p string) { truncateFile(t, filepath.Join(p, "7", "stat"), 0.3) }, false, "", want{procs: without7}},
		{"pid 7 stat cut inside the name", func(t *testing.T, p string) { writeFile(t, filepath.Join(p, "7", "stat"), []byte("7 (ap")) }, false, "", want{procs: without7}},
		{"pid 7 stat empty", func(t *testing.T, p string) { writeFile(t, filepath.Join(p, "7", "stat"), nil) }, false, "", want{procs: without7}},
		{"pid 7 stat garbage", func(t *testing.T, p string) { writeFile(t, filepath.Join(p, "7", "stat"), junk(600)) }, false, "", want{procs: without7}},
		{"pid 7 stat is a directory", func(t *testing.T, p string) {
			os.Remove(filepath.Join(p, "7", "stat"))
			os.Mkdir(filepath.Join(p, "7", "stat"), 0o755)
		}, false, statBug, want{procs: without7}},
		{"pid 7 stat is a symlink loop", func(t *testing.T, p string) {
			os.Remove(filepath.Join(p, "7", "stat"))
			os.Symlink("stat", filepath.Join(p, "7", "stat"))
		}, false, statBug, want{procs: without7}},
		{"pid 7 stat permission denied", func(t *testing.T, p string) { os.Chmod(filepath.Join(p, "7", "stat"), 0) }, true, "", want{procs: without7}},
		{"pid 7 dir permission denied", func(t *testing.T, p string) { os.Chmod(filepath.Join(p, "7"), 0) }, true, "", want{procs: without7}},
		{"/proc/meminfo permission denied", func(t *testing.T, p string) { os.Chmod(filepath.Join(p, "meminfo"), 0) }, true, "", want{metricsErr: "meminfo", procs: all}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			if row.root && os.Geteuid() == 0 {
				t.Skip("root ignores file modes; the truncated, garbage and missing rows cover the same paths")
			}
			proc := faultFixture(t)
			row.damage(t, proc)
			t.Cleanup(func() { os.Chmod(filepath.Join(proc, "7"), 0o755) }) // let TempDir clean up
			_, base := faultAgent(t, proc, false)
			ws := "ws" + strings.TrimPrefix(base, "http") + "/ws"
			v := dial(t, ws, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
			c := dial(t, ws, nil)
			var id uint32
			// One round: a fresh agent's first sample reads every file twice
			// (the CPU and process samplers difference two readings).
			for round := range 1 {
				r := askAll(t, base, v, c, &id)
				if row.want.metricsErr == "" {
					if r.metrics == nil {
						t.Fatalf("round %d: metrics: %v, want them served", round, r.metricsE)
					}
					if !strings.Contains(r.jsonReply, `"mem_total"`) {
						t.Errorf("round %d: JSON metrics: %.200s", round, r.jsonReply)
					}
				} else if r.metrics == nil || !row.want.metricsMay {
					if r.metricsE == nil || !strings.Contains(r.metricsE.GetMessage(), row.want.metricsErr) {
						t.Fatalf("round %d: metrics: %v / %v, want an error naming %q", round, r.metrics, r.metricsE, row.want.metricsErr)
					}
					if !strings.Contains(r.jsonReply, `"error"`) || !strings.Contains(r.jsonReply, row.want.metricsErr) {
						t.Errorf("round %d: JSON metrics: %.200s, want an error object naming %q", round, r.jsonReply, row.want.metricsErr)
					}
				}
				switch {
				case row.want.procs == nil && r.procsE == nil:
					t.Errorf("round %d: process list %v, want an error", round, r.procs)
				case row.want.procs != nil && !slices.Equal(r.procs, row.want.procs) && row.bug != "":
					t.Skipf("agent bug: %s (got %v, error %v)", row.bug, r.procs, r.procsE.GetMessage())
				case row.want.procs != nil && !slices.Equal(r.procs, row.want.procs):
					t.Errorf("round %d: process list %v (error %v), want %v", round, r.procs, r.procsE, row.want.procs)
				}
				if row.want.check != nil && r.metrics != nil {
					row.want.check(t, r)
				}
				if round == 0 {
					t.Logf("metrics error: %v; processes %v, error: %v", r.metricsE.GetMessage(), r.procs, r.procsE.GetMessage())
				}
			}
		})
	}
}

// TestProcVanishingMidRead removes and recreates process directories and
// files while clients ask for the process list and metrics without caching:
// every reply is a list with the processes that stay, or metrics; none is
// an error, and the agent survives the proc root itself disappearing.
func TestProcVanishingMidRead(t *testing.T) {
	proc := faultFixture(t)
	t.Parallel()
	a, base := faultAgent(t, proc, true)
	ws := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	v := dial(t, ws, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})

	tmpl, err := os.ReadFile(filepath.Join(proc, "31", "stat"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var churned atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() { // processes come and go, files half-written
		for i := 0; ctx.Err() == nil; i++ {
			pid := strconv.Itoa(1000 + i%64)
			dir := filepath.Join(proc, pid)
			if _, err := os.Stat(dir); err == nil {
				os.RemoveAll(dir)
			} else {
				os.Mkdir(dir, 0o755)
				stat := strings.Replace(string(tmpl), "31 (", pid+" (", 1)
				// Write it in two steps so a reader may see half a file.
				f, err := os.Create(filepath.Join(dir, "stat"))
				if err == nil {
					f.WriteString(stat[:len(stat)/2])
					f.WriteString(stat[len(stat)/2:])
					f.Close()
				}
			}
			churned.Add(1)
		}
	})
	wg.Go(func() { // meminfo and net/dev rewritten in place, sometimes seen truncated
		mem, _ := os.ReadFile(filepath.Join(proc, "meminfo"))
		for ctx.Err() == nil {
			os.WriteFile(filepath.Join(proc, "meminfo"), mem, 0o644)
			runtime.Gosched()
		}
	})
	name31 := string(tmpl[strings.IndexByte(string(tmpl), '(')+1 : strings.LastIndexByte(string(tmpl), ')')])
	var lists, errs int
	// Without caching every request waits out the CPU window (150 ms), so
	// 30 rounds take about 7 s while the churn makes thousands of changes.
	for i := range 30 {
		resp := v2Call(t, v, &wire.Request{Id: uint32(i + 1), Body: &wire.Request_Processes{Processes: &wire.ProcessesRequest{}}})
		ps := resp.GetProcesses()
		if ps == nil {
			t.Errorf("request %d during churn: %v", i, resp.GetError())
			errs++
			continue
		}
		lists++
		var have1, have31 bool
		for _, p := range ps.Processes {
			have1, have31 = have1 || p.Pid == 1, have31 || p.Pid == 31
			if p.Pid >= 1000 && p.Name != name31 {
				t.Errorf("churned pid %d has name %q", p.Pid, p.Name)
			}
		}
		if !have1 || !have31 {
			t.Fatalf("request %d: the list lost processes that never left", i)
		}
		if i%4 != 0 {
			continue
		}
		m := v2Call(t, v, &wire.Request{Id: uint32(10000 + i), Body: &wire.Request_Metrics{Metrics: &wire.MetricsRequest{}}})
		if m.GetMetrics() == nil {
			// A read racing a rewrite may see a short file: a clear error
			// is acceptable, a crash or a hang is not.
			if !strings.Contains(m.GetError().GetMessage(), "meminfo") {
				t.Errorf("metrics during churn: %v", m.GetError())
			}
		}
	}
	cancel()
	wg.Wait()
	t.Logf("%d process lists during %d directory changes, %d errors", lists, churned.Load(), errs)

	// The whole proc root disappears, then comes back.
	moved := proc + ".gone"
	if err := os.Rename(proc, moved); err != nil {
		t.Fatal(err)
	}
	r := v2Call(t, v, &wire.Request{Id: 50000, Body: &wire.Request_Processes{Processes: &wire.ProcessesRequest{}}})
	if r.GetError() == nil || !strings.Contains(r.GetError().GetMessage(), proc) {
		t.Errorf("proc root gone: %v, want an error naming %s", r, proc)
	}
	r = v2Call(t, v, &wire.Request{Id: 50001, Body: &wire.Request_Metrics{Metrics: &wire.MetricsRequest{}}})
	if r.GetError() == nil {
		t.Errorf("proc root gone: metrics %v, want an error", r)
	}
	if err := os.Rename(moved, proc); err != nil {
		t.Fatal(err)
	}
	if r := v2Call(t, v, &wire.Request{Id: 50002, Body: &wire.Request_Processes{Processes: &wire.ProcessesRequest{}}}); len(r.GetProcesses().GetProcesses()) < 3 {
		t.Errorf("proc root back: %v", r)
	}
	if a.Clients() != 1 {
		t.Errorf("%d clients, want 1", a.Clients())
	}
}

// rawUpgrade opens a TCP connection and performs the WebSocket handshake by
// hand, so a test can then send half a frame.
func rawUpgrade(t *testing.T, addr string, v2 bool) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 16)
	rand.Read(key)
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\n"
	if v2 {
		req += "Sec-WebSocket-Protocol: " + wire.Subprotocol + "\r\n"
	}
	if _, err := c.Write([]byte(req + "\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 101 ") {
		t.Fatalf("upgrade: %q %v", status, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("upgrade headers: %v", err)
		}
		if line == "\r\n" {
			break
		}
	}
	c.SetReadDeadline(time.Time{})
	return c
}

// maskedHeader is a client frame header (FIN, opcode op) for a payload of
// n bytes, with its masking key.
func maskedHeader(op byte, n int) []byte {
	h := []byte{0x80 | op}
	switch {
	case n < 126:
		h = append(h, 0x80|byte(n))
	case n < 1<<16:
		h = append(h, 0x80|126, byte(n>>8), byte(n))
	}
	return append(h, 0x11, 0x22, 0x33, 0x44)
}

// TestConnectionCutMidFrame cuts client connections at every awkward point —
// inside the upgrade request, inside a frame header, inside a payload, with
// FIN and with RST, and while the agent writes a reply — and checks that the
// agent lets go of each: no client left counted, goroutines back to baseline.
func TestConnectionCutMidFrame(t *testing.T) {
	cfg := testConfig()
	cfg.MaxClients = 1000
	a, srv := startAgent(t, cfg)
	addr := strings.TrimPrefix(srv.URL, "http://")
	// Warm up: caches, pools and the server's own goroutines.
	c := dial(t, wsURL(srv), nil)
	roundTrip(t, c, websocket.MessageText, []byte(`{"type":"processes"}`))
	c.Close(websocket.StatusNormalClosure, "")
	if !waitFor(10*time.Second, func() bool { return a.Clients() == 0 }) {
		t.Fatal("warm-up client still counted")
	}
	gor0 := runtime.NumGoroutine()

	fin := func(c net.Conn) { c.Close() }
	rst := func(c net.Conn) {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
	payload := []byte(`{"type":"metrics"}`)
	masked := func(op byte, msg []byte) []byte {
		f := maskedHeader(op, len(msg))
		mask := f[len(f)-4:]
		for i, b := range msg {
			f = append(f, b^mask[i%4])
		}
		return f
	}
	// Each cut leaves its connection hanging at the awkward point; all are
	// cut only once the agent holds every one of them.
	cuts := []struct {
		name     string
		upgraded bool
		open     func(t *testing.T) net.Conn
		close    func(net.Conn)
	}{
		{"inside the upgrade request", false, func(t *testing.T) net.Conn {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upg"))
			return c
		}, fin},
		{"upgraded, then nothing", true, func(t *testing.T) net.Conn { return rawUpgrade(t, addr, false) }, fin},
		{"one byte of a frame header", true, func(t *testing.T) net.Conn {
			c := rawUpgrade(t, addr, false)
			c.Write([]byte{0x81})
			return c
		}, fin},
		{"header without its masking key", true, func(t *testing.T) net.Conn {
			c := rawUpgrade(t, addr, false)
			c.Write(maskedHeader(1, len(payload))[:4])
			return c
		}, fin},
		{"extended length cut (v2)", true, func(t *testing.T) net.Conn {
			c := rawUpgrade(t, addr, true)
			c.Write(maskedHeader(2, 1000)[:3])
			return c
		}, fin},
		{"header for 1000 bytes, 10 sent", true, func(t *testing.T) net.Conn {
			c := rawUpgrade(t, addr, false)
			c.Write(append(maskedHeader(1, 1000), make([]byte, 10)...))
			return c
		}, fin},
		{"half a v2 frame, then RST", true, func(t *testing.T) net.Conn {
			c := rawUpgrade(t, addr, true)
			c.Write(append(maskedHeader(2, 100), make([]byte, 50)...))
			return c
		}, rst},
		{"first fragment of a message", true, func(t *testing.T) net.Conn {
			c := rawUpgrade(t, addr, false)
			f := masked(1, payload[:5])
			f[0] = 0x01 // text, not final: the rest never comes
			c.Write(f)
			return c
		}, fin},
		{"RST while the agent writes replies", true, func(t *testing.T) net.Conn {
			c := rawUpgrade(t, addr, false)
			for range 5 {
				c.Write(masked(1, []byte(`{"type":"processes"}`)))
			}
			return c
		}, rst},
	}
	const perCut = 20
	type held struct {
		c     net.Conn
		close func(net.Conn)
	}
	var conns []held
	upgraded := 0
	for _, cut := range cuts {
		for range perCut {
			conns = append(conns, held{cut.open(t), cut.close})
			if cut.upgraded {
				upgraded++
			}
		}
	}
	if !waitFor(10*time.Second, func() bool { return a.Clients() == upgraded }) {
		t.Fatalf("the agent counts %d clients, want the %d hanging upgraded connections", a.Clients(), upgraded)
	}
	peak := runtime.NumGoroutine()
	if peak < gor0+upgraded {
		t.Fatalf("%d goroutines with %d connections held (baseline %d): the count cannot show a leak", peak, upgraded, gor0)
	}
	for _, h := range conns {
		h.close(h.c)
	}
	var gor1, clients int
	ok := waitFor(15*time.Second, func() bool {
		gor1, clients = runtime.NumGoroutine(), a.Clients()
		return clients == 0 && gor1 <= gor0
	})
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var scraped string
	for _, line := range strings.Split(string(b), "\n") {
		if v, found := strings.CutPrefix(line, "socktop_agent_goroutines "); found {
			scraped = v
		}
	}
	t.Logf("%d cuts × %d connections: goroutines %d → %d while held → %d after the cuts (socktop_agent_goroutines %s during the scrape), clients %d",
		len(cuts), perCut, gor0, peak, gor1, scraped, clients)
	if !ok {
		buf := make([]byte, 1<<20)
		t.Fatalf("after the cuts: %d clients, %d goroutines (baseline %d)\n%s", clients, gor1, gor0, buf[:runtime.Stack(buf, true)])
	}
	// And the agent still serves.
	c = dial(t, wsURL(srv), nil)
	if _, b := roundTrip(t, c, websocket.MessageText, payload); !strings.Contains(string(b), `"mem_total"`) {
		t.Fatalf("after the cuts: %.100s", b)
	}
}
