package agent

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/history"
	"google.golang.org/protobuf/proto"
)

// TestHistoryRecordsWhileNobodyWatches is issue 17's acceptance: the real
// agent with --history 10m --history-interval 1s records a core burnt for
// 8 s by a child process while no client is connected; asked afterwards,
// the burn is in cpu_total and the burner among the top processes, and a
// restart with the same --history-file still has it.
func TestHistoryRecordsWhileNobodyWatches(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built binary for ~20 s")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	skipUnlessRunnable(t, self)
	bin := buildSocktop(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "state", "socktop_agent", "history.bin")
	args := []string{"--history", "10m", "--history-interval", "1s", "--history-file", file}
	ap := startAgentProcess(t, bin, nil, args...)

	time.Sleep(2 * time.Second) // a quiet stretch before the burn
	burner := startHelper(t, "burn", copyTestBinary(t, dir, "burner"), func(c *exec.Cmd) {
		c.Env = append(c.Env, "SOCKTOP_TEST_BURN=8s")
	})
	from := time.Now()
	if got := burner.next(t); got != "done" {
		t.Fatalf("burner said %q, want done", got)
	}
	to := time.Now()
	burner.cmd.Wait()
	time.Sleep(1500 * time.Millisecond) // the tick after the burn
	pid := uint32(burner.pid())

	for fi, want := range map[string]os.FileMode{file: 0o600, filepath.Dir(file): 0o700} {
		if st, err := os.Stat(fi); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v, mode %v, want %v", fi, err, st.Mode().Perm(), want)
		}
	}
	first := askHistory(t, ap.url)
	burn := checkBurn(t, first, pid, from, to)

	// Restarted with the same file, the agent still has the burn.
	ap.cmd.Process.Signal(syscall.SIGTERM)
	if err := ap.cmd.Wait(); err != nil {
		t.Fatalf("agent exit: %v\n%s", err, ap.tail())
	}
	ap = startAgentProcess(t, bin, nil, args...)
	again := askHistory(t, ap.url)
	kept := checkBurn(t, again, pid, from, to)
	if !slices.EqualFunc(burn, kept, func(a, b *wire.HistorySample) bool { return proto.Equal(a, b) }) {
		t.Errorf("after the restart the burn's %d samples differ from the %d before", len(kept), len(burn))
	}

	// The JSON dialect tells the same story (gzip when large).
	c := dial(t, ap.url, nil)
	typ, b := roundTrip(t, c, websocket.MessageText, []byte(`{"type":"history","seconds":600}`))
	if typ == websocket.MessageBinary {
		if b, err = wire.Gunzip(b); err != nil {
			t.Fatal(err)
		}
	}
	var js struct {
		IntervalMs uint32 `json:"interval_ms"`
		Samples    []struct {
			SampledAtMs uint64  `json:"sampled_at_ms"`
			CPUTotal    float64 `json:"cpu_total"`
			Top         []struct {
				Pid      uint32  `json:"pid"`
				Name     string  `json:"name"`
				CPUUsage float64 `json:"cpu_usage"`
			} `json:"top_processes"`
		} `json:"samples"`
	}
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatalf("JSON history: %v\n%.300s", err, b)
	}
	named := 0
	for _, s := range js.Samples {
		for _, p := range s.Top {
			if p.Pid == pid && p.Name == "burner" {
				named++
			}
		}
	}
	if js.IntervalMs != 1000 || named < len(burn)/2 {
		t.Errorf("JSON history: interval %d ms, burner named in %d samples; want 1000 ms and at least %d", js.IntervalMs, named, len(burn)/2)
	}
}

// askHistory asks the agent at url for all of its history (v2), checking
// the reply with the validating protobuf decoder too.
func askHistory(t *testing.T, url string) *wire.History {
	t.Helper()
	c := dial(t, url, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	defer c.Close(websocket.StatusNormalClosure, "")
	hello := v2Call(t, c, &wire.Request{Id: 1, Body: &wire.Request_Hello{Hello: &wire.HelloRequest{ProtocolMajor: wire.ProtocolMajor}}})
	if !slices.Contains(hello.GetHello().GetCapabilities(), wire.CapHistory) {
		t.Fatalf("capabilities %v lack %q", hello.GetHello().GetCapabilities(), wire.CapHistory)
	}
	req := &wire.Request{Id: 2, Body: &wire.Request_History{History: &wire.HistoryRequest{}}}
	_, raw := roundTrip(t, c, websocket.MessageBinary, wire.AppendRequest(nil, req))
	var strict wire.Response
	if err := proto.Unmarshal(raw, &strict); err != nil {
		t.Fatalf("google.golang.org/protobuf refuses the history reply: %v", err)
	}
	h := strict.GetHistory()
	if h == nil {
		t.Fatalf("reply is not a history: %v", &strict)
	}
	return h
}

// checkBurn finds the samples taken inside the burn (its first second
// aside: that tick measures from before it) and checks that the burner is
// among each one's top processes, busy, and inside cpu_total.
func checkBurn(t *testing.T, h *wire.History, pid uint32, from, to time.Time) []*wire.HistorySample {
	t.Helper()
	lo, hi := uint64(from.Add(1500*time.Millisecond).UnixMilli()), uint64(to.Add(-200*time.Millisecond).UnixMilli())
	var burn []*wire.HistorySample
	listed, share := 0, 0.0
	for _, s := range h.GetSamples() {
		if s.SampledAtMs < lo || s.SampledAtMs > hi {
			continue
		}
		burn = append(burn, s)
		for _, p := range s.TopProcesses {
			if p.Pid != pid {
				continue
			}
			listed++
			share += float64(p.CpuUsage)
			if s.CpuTotal+1 < p.CpuUsage {
				t.Errorf("at %d: cpu_total %.1f%% is below the burner's %.1f%%", s.SampledAtMs, s.CpuTotal, p.CpuUsage)
			}
		}
	}
	core := 100 / float64(runtime.NumCPU())
	if len(burn) < 4 || listed < len(burn)-1 {
		t.Fatalf("%d samples of %d in the burn, the burner (pid %d) among the top processes of %d; want at least 4, and it in all but one",
			len(burn), len(h.GetSamples()), pid, listed)
	}
	if mean := share / float64(listed); mean < core/4 {
		t.Errorf("the burner's mean CPU share is %.1f%%, want at least a quarter of one core (%.1f%%)", mean, core/4)
	}
	t.Logf("%d samples, %d in the burn; the burner listed in %d at %.1f%% on average (one core is %.1f%%)",
		len(h.GetSamples()), len(burn), listed, share/float64(listed), core)
	return burn
}

// TestHistoryFileDamageAtStartUp: whatever torn record or garbage a
// power cut leaves at the end of the file, the agent starts, logs one
// line, keeps every whole sample before the damage, and records after
// them.
func TestHistoryFileDamageAtStartUp(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, path string, lastRecord int64)
		kept   int
	}{
		{"truncated mid-record", func(t *testing.T, path string, last int64) {
			st, _ := os.Stat(path)
			if err := os.Truncate(path, st.Size()-last/2); err != nil {
				t.Fatal(err)
			}
		}, damageSamples - 1},
		{"random bytes appended", func(t *testing.T, path string, _ int64) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			junk := make([]byte, 777)
			for i := range junk {
				junk[i] = byte(i*131 + 7)
			}
			f.Write(junk)
			f.Close()
		}, damageSamples},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.bin")
			want, last := writeHistoryFile(t, path)
			c.damage(t, path, last)

			cfg := testConfig()
			cfg.History, cfg.HistoryInterval, cfg.HistoryFile = time.Hour, time.Second, path
			logs := &syncBuffer{}
			cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
			a, srv := startAgent(t, cfg)
			if lines := written(logs); len(lines) != 1 || !containsAll(lines[0], "damaged at byte", "kept the", "skipped") {
				t.Errorf("start-up logged %q, want one line saying where the damage is", lines)
			}
			h := askHistory(t, wsURL(srv))
			if got := sampleTimes(h.Samples); !slices.Equal(got, want[:c.kept]) {
				t.Fatalf("the agent serves %d samples (%v…), want the %d whole ones before the damage", len(got), got[:min(3, len(got))], c.kept)
			}
			// New samples follow the good ones, never behind the garbage.
			a.rec.tick(context.Background())
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			b, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if n := b.rec.store.Len(); n != c.kept+1 {
				t.Errorf("after a tick and a restart the file holds %d samples, want %d", n, c.kept+1)
			}
			if lines := written(logs); len(lines) != 2 || containsAll(lines[1], "damaged") {
				t.Errorf("second start logged %q, want one line and no damage", lines[1:])
			}
		})
	}
}

// TestHistoryRequestsBounded: what a peer may ask of the history is
// bounded (points, seconds), malformed requests get an error naming the
// field, and an agent without --history says how to get one.
func TestHistoryRequestsBounded(t *testing.T) {
	cfg := testConfig()
	cfg.History, cfg.HistoryInterval = time.Hour, time.Second
	a, srv := startAgent(t, cfg)
	a.rec.queries = newTokenBucket(1000, 1000) // the agent-wide bound has its own test
	now := uint64(time.Now().UnixMilli())
	for i := range 3000 {
		hs := &wire.HistorySample{SampledAtMs: now - 3_000_000 + uint64(i)*1000, CpuTotal: float32(i % 100), MemTotal: 1 << 30, MemUsed: 1 << 29,
			TopProcesses: []*wire.Process{{Pid: 42, Name: "job", CpuUsage: 12.5, MemBytes: 1 << 20}}}
		if err := a.rec.store.Append(hs); err != nil {
			t.Fatal(err)
		}
	}
	c := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	for _, r := range []struct {
		req      *wire.HistoryRequest
		min, max int
	}{
		{&wire.HistoryRequest{}, 900, 1000},                          // the default max_points
		{&wire.HistoryRequest{MaxPoints: 1 << 31}, 3000, 3000},       // bounded, and all there is
		{&wire.HistoryRequest{MaxPoints: 10}, 5, 10},                 // downsampled
		{&wire.HistoryRequest{SinceMs: now, UntilMs: now - 1}, 0, 0}, // an empty span
		{&wire.HistoryRequest{SinceMs: now - 60_000}, 55, 60},        // the last minute
	} {
		resp := v2Call(t, c, &wire.Request{Id: 7, Body: &wire.Request_History{History: r.req}})
		if n := len(resp.GetHistory().GetSamples()); n < r.min || n > r.max || resp.GetError() != nil {
			t.Errorf("%v: %d samples (error %v), want %d to %d", r.req, n, resp.GetError(), r.min, r.max)
		}
	}

	j := dial(t, wsURL(srv), nil)
	for _, r := range []struct {
		req      string
		min, max int
		text     bool
	}{
		{`{"type":"history","seconds":1}`, 2, 2, true}, // small: a text frame
		{`{"type":"history","seconds":600}`, 601, 601, false},
		{`{"type":"history","seconds":600,"max_points":10}`, 5, 10, false},
		{`{"type":"history","max_points":99999999999999999999}`, 3000, 3000, false}, // clamped
	} {
		typ, b := roundTrip(t, j, websocket.MessageText, []byte(r.req))
		if typ == websocket.MessageBinary {
			var err error
			if b, err = wire.Gunzip(b); err != nil {
				t.Fatalf("%s: %v", r.req, err)
			}
		}
		var h struct{ Samples []json.RawMessage }
		if err := json.Unmarshal(b, &h); err != nil || len(h.Samples) < r.min || len(h.Samples) > r.max || (typ == websocket.MessageText) != r.text {
			t.Errorf("%s: %d samples in a %v frame (%v), want %d to %d, text %v", r.req, len(h.Samples), typ, err, r.min, r.max, r.text)
		}
	}
	j = dial(t, wsURL(srv), nil) // a fresh request budget
	for _, bad := range []string{`"seconds":-1`, `"seconds":"3600"`, `"seconds":1.5`, `"seconds":1e99`, `"seconds":99999999999`, `"max_points":-3`} {
		_, b := roundTrip(t, j, websocket.MessageText, []byte(`{"type":"history",`+bad+`}`))
		var e struct{ Error, Request string }
		if json.Unmarshal(b, &e) != nil || e.Request != "history" || !containsAll(e.Error, "history") {
			t.Errorf("%s: reply %s, want an error object for the history request", bad, b)
		}
	}

	_, plain := startAgent(t, testConfig())
	p := dial(t, wsURL(plain), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	hello := v2Call(t, p, &wire.Request{Id: 1, Body: &wire.Request_Hello{Hello: &wire.HelloRequest{ProtocolMajor: wire.ProtocolMajor}}})
	resp := v2Call(t, p, &wire.Request{Id: 2, Body: &wire.Request_History{History: &wire.HistoryRequest{}}})
	if slices.Contains(hello.GetHello().GetCapabilities(), wire.CapHistory) || resp.GetError().GetCode() != wire.ErrorCode_ERROR_CODE_NOT_SUPPORTED ||
		!containsAll(resp.GetError().GetMessage(), "--history") {
		t.Errorf("an agent without --history: capabilities %v, answer %v; want no history and NOT_SUPPORTED naming --history",
			hello.GetHello().GetCapabilities(), resp.GetError())
	}
}

// TestHistoryQueriesBoundedAgentWide: whoever asks, the agent decodes at
// most historyBurst queries at once and historyRate a second after that.
func TestHistoryQueriesBoundedAgentWide(t *testing.T) {
	r := &recorder{queries: newTokenBucket(historyRate, historyBurst)}
	t0 := time.Unix(1e9, 0)
	for i := range historyBurst {
		if !r.admit(t0) {
			t.Fatalf("query %d of the burst refused", i+1)
		}
	}
	if r.admit(t0) {
		t.Error("a query beyond the burst admitted")
	}
	n := 0
	for r.admit(t0.Add(time.Second)) {
		n++
	}
	if n != historyRate {
		t.Errorf("a second later %d queries admitted, want %d", n, historyRate)
	}
}

// damageSamples is how many samples writeHistoryFile writes.
const damageSamples = 20

// writeHistoryFile writes damageSamples samples of the last minute to a
// new history file at path and returns their times and the length of the
// last record (header and payload).
func writeHistoryFile(t *testing.T, path string) (times []uint64, lastRecord int64) {
	t.Helper()
	s, _, err := history.Open(path, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := uint64(time.Now().Add(-time.Minute).UnixMilli())
	var size int64
	for i := range damageSamples {
		hs := &wire.HistorySample{SampledAtMs: at + uint64(i)*1000, CpuTotal: float32(i), CpuPerCore: []float32{float32(i), 1},
			MemTotal: 1 << 30, MemUsed: uint64(i) << 20, Networks: []*wire.Network{{Name: "eth0", RxBytes: uint64(i) << 10}},
			TopProcesses: []*wire.Process{{Pid: 4242, Name: "nightly-job", CpuUsage: 50, MemBytes: 64 << 20}}}
		if err := s.Append(hs); err != nil {
			t.Fatal(err)
		}
		times = append(times, hs.SampledAtMs)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		lastRecord, size = st.Size()-size, st.Size()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return times, lastRecord
}

func sampleTimes(ss []*wire.HistorySample) []uint64 {
	out := make([]uint64, len(ss))
	for i, s := range ss {
		out[i] = s.SampledAtMs
	}
	return out
}

// written is the lines logged so far.
func written(logs *syncBuffer) []string {
	var out []string
	for _, l := range logs.lines("") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
