package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/wire"
)

// TestSnapshotForScripts runs the real binary as a script would: what it
// prints is JSON whose numbers jq can divide, and --watch prints a fresh
// sample a line at the interval asked, for every kind.
func TestSnapshotForScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildBinary(t)
	jq, _ := exec.LookPath("jq")

	r := run(t, bin, "snapshot", "metrics")
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); r.code != 0 || err != nil {
		t.Fatalf("snapshot metrics: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	used, ok1 := m["mem_used"].(float64)
	total, ok2 := m["mem_total"].(float64)
	if !ok1 || !ok2 || used <= 0 || used >= total {
		t.Errorf("mem_used %v, mem_total %v: want numbers, used below total", m["mem_used"], m["mem_total"])
	}
	if jq != "" {
		cmd := exec.Command("sh", "-c", `"$0" snapshot metrics | "$1" -e '.mem_used / .mem_total < 1'`, bin, jq)
		if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "true" {
			t.Errorf("snapshot metrics | jq -e '.mem_used / .mem_total < 1': %v %s", err, out)
		}
		cmd = exec.Command("sh", "-c", `"$0" snapshot --watch 1s metrics | head -3 | "$1" -e .cpu_total`, bin, jq)
		out, err := cmd.CombinedOutput()
		if lines := strings.Fields(string(out)); err != nil || len(lines) != 3 {
			t.Errorf("snapshot --watch 1s metrics | head -3 | jq -e .cpu_total: %v %q", err, out)
		}
	} else {
		t.Log("no jq here: the jq pipelines are not run")
	}

	// Three lines of each kind, each a fresh sample: for metrics one a
	// second, the interval asked (it was 2 s, the same sample twice).
	for kind, every := range map[string]string{"metrics": "1s", "disks": "300ms", "processes": "300ms", "connections": "300ms"} {
		at := watchLines(t, bin, kind, every, 3)
		for i := 1; i < len(at); i++ {
			gap := at[i] - at[i-1]
			if gap <= 0 {
				t.Errorf("%s --watch %s: line %d has sampled_at_ms %d, after %d: not a fresh sample", kind, every, i+1, at[i], at[i-1])
			}
			if d, _ := time.ParseDuration(every); kind == "metrics" && (gap < 500 || gap > 1600) {
				t.Errorf("metrics --watch %v: samples %d ms apart, want about %v", d, gap, d)
			}
		}
	}
}

// watchLines runs snapshot --watch and returns the sampled_at_ms of its
// first n lines, each of which must be one JSON object.
func watchLines(t *testing.T, bin, kind, every string, n int) []int64 {
	t.Helper()
	cmd := exec.Command(bin, "snapshot", "--watch", every, kind)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var at []int64
	for len(at) < n && sc.Scan() {
		var v struct {
			SampledAtMs *int64 `json:"sampled_at_ms"`
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil || v.SampledAtMs == nil {
			t.Fatalf("%s --watch: line %q: %v", kind, sc.Bytes()[:min(len(sc.Bytes()), 80)], err)
		}
		at = append(at, *v.SampledAtMs)
	}
	if len(at) < n {
		t.Fatalf("%s --watch %s: %d lines, want %d (%v)", kind, every, len(at), n, sc.Err())
	}
	return at
}

// TestSnapshotUsage: usage errors exit 2 and say what to do.
func TestSnapshotUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "name one kind"},
		{[]string{"nope"}, `unknown kind "nope"`},
		{[]string{"--format", "text", "connections"}, "--format text is the stream of --watch connections"},
		{[]string{"--watch", "1s", "--format", "text", "metrics"}, "--format text is the stream of --watch connections"},
		{[]string{"--format", "xml", "metrics"}, `--format "xml"`},
		{[]string{"--watch", "-1s", "metrics"}, "--watch -1s"},
		{[]string{"history"}, "history asks one agent"},
		{[]string{"history", "a", "b"}, "history asks one agent"},
		{[]string{"--watch", "1s", "history", "pi"}, "history asks one agent"},
		{[]string{"--since", "1h", "metrics"}, "are for snapshot history"},
		{[]string{"history", "--max-points", "0", "pi"}, "--max-points 0"},
		{[]string{"history", "--since", "soon", "pi"}, "want a duration"},
	} {
		var stdout, stderr bytes.Buffer
		if code := snapshotCommand(t.Context(), c.args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("snapshot %v: exit %d, said %q; want 2 and %q", c.args, code, stderr.String(), c.want)
		}
	}
}

// TestSnapshotHistoryAsksTheAgent: snapshot history asks a running agent
// (over TLS, pinned) for what it recorded and prints the JSON dialect's
// reply; an agent without --history says how to get one.
func TestSnapshotHistoryAsksTheAgent(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no profiles of the user's
	ta := startTLSAgent(t, func(c *agent.Config) { c.History, c.HistoryInterval = time.Hour, time.Second })
	ask := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := snapshotCommand(t.Context(), args, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	type reply struct {
		IntervalMs uint32 `json:"interval_ms"`
		Samples    []struct {
			SampledAtMs int64     `json:"sampled_at_ms"`
			MemTotal    uint64    `json:"mem_total"`
			CPUPerCore  []any     `json:"cpu_per_core"`
			Top         []any     `json:"top_processes"`
			LoadAvg     []float64 `json:"load_avg"`
		} `json:"samples"`
	}
	var h reply
	deadline := time.Now().Add(10 * time.Second)
	for len(h.Samples) < 3 {
		code, out, errs := ask("history", "--since", "10m", "--pin", ta.pin, ta.url)
		if code != 0 || json.Unmarshal([]byte(out), &h) != nil {
			t.Fatalf("snapshot history: exit %d, %s%.200s", code, errs, out)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d samples after 10 s at 1 s", len(h.Samples))
		}
		time.Sleep(200 * time.Millisecond)
	}
	since := time.Now().Add(-10 * time.Minute).UnixMilli()
	for _, s := range h.Samples {
		if s.SampledAtMs < since || s.MemTotal == 0 || len(s.CPUPerCore) == 0 || len(s.Top) == 0 || len(s.LoadAvg) != 3 {
			t.Fatalf("sample %+v: want one of the last 10 minutes with memory, cores, load and top processes", s)
		}
	}
	if h.IntervalMs != 1000 {
		t.Errorf("interval_ms %d, want 1000", h.IntervalMs)
	}
	if code, out, _ := ask("history", "--max-points", "1", "--pin", ta.pin, ta.url); code != 0 || json.Unmarshal([]byte(out), &h) != nil || len(h.Samples) != 1 {
		t.Errorf("--max-points 1: exit %d, %d samples", code, len(h.Samples))
	}
	if code, _, errs := ask("history", ta.url); code != exitFailure {
		t.Errorf("without the pin: exit %d (%s), want 1", code, errs)
	}
	plain := startTLSAgent(t)
	if code, _, errs := ask("history", "--pin", plain.pin, plain.url); code != exitFailure || !strings.Contains(errs, "--history") {
		t.Errorf("an agent without history: exit %d, %q; want 1 and a hint naming --history", code, errs)
	}
}

// TestConnectionStream: the text stream marks what was open when the watch
// began PARTIAL, then says NEW, CHANGED (with rates over the interval) and
// CLOSED, in the dashboard's units and ss's state names; a connection that
// goes to TIME-WAIT (and loses its inode) is the same connection.
func TestConnectionStream(t *testing.T) {
	lo := []byte{127, 0, 0, 1}
	tcp := func(lport, rport uint32, state uint32, inode, in, out uint64) *wire.Connection {
		return &wire.Connection{Transport: wire.Transport_TRANSPORT_TCP, Family: wire.AddressFamily_ADDRESS_FAMILY_INET,
			LocalAddr: lo, LocalPort: lport, RemoteAddr: lo, RemotePort: rport, State: state, Inode: inode,
			Pid: 42, ProcessName: "curl", CountersAvailable: true, BytesReceived: in, BytesAcked: out, RttUs: 1200}
	}
	listener := tcp(80, 0, 10, 7, 0, 0)
	listener.LocalAddr, listener.RemoteAddr = []byte{0, 0, 0, 0}, []byte{0, 0, 0, 0}
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	stream := connectionStream(w)
	samples := []*wire.Connections{
		{SampledAtMs: 1_000, Connections: []*wire.Connection{listener, tcp(5000, 80, 1, 11, 40_055_603, 1000)}},
		{SampledAtMs: 3_000, Connections: []*wire.Connection{listener, tcp(5000, 80, 6, 0, 40_055_603+2<<20, 1000), tcp(5001, 80, 1, 12, 0, 0)}},
		{SampledAtMs: 4_000, Connections: []*wire.Connection{listener}},
	}
	for _, s := range samples {
		if err := stream(s); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := [][]string{
		{"TIME", "EVENT", "PROTO", "LOCAL -> REMOTE", "STATE", "PID/PROCESS", "IN", "OUT", "IN/s", "OUT/s", "RTT"},
		{"PARTIAL", "0.0.0.0:80 -> 0.0.0.0:0", "LISTEN", "42/curl", " - "},
		{"PARTIAL", "127.0.0.1:5000 -> 127.0.0.1:80", "ESTAB", "38.2M", "1000B", "1.2ms"},
		{"CHANGED", "127.0.0.1:5000 -> 127.0.0.1:80", "TIME-WAIT", "40.2M", "1.0M/s", "0B/s"},
		{"NEW", "127.0.0.1:5001 -> 127.0.0.1:80", "ESTAB", "0B"},
		{"CLOSED", "127.0.0.1:5000 -> 127.0.0.1:80", "CLOSED"},
		{"CLOSED", "127.0.0.1:5001 -> 127.0.0.1:80", "CLOSED"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, ws := range want {
		for _, s := range ws {
			if !strings.Contains(lines[i], s) {
				t.Errorf("line %d %q lacks %q", i+1, lines[i], s)
			}
		}
	}
}
