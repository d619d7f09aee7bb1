package agent

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// worstName is a file-name component of n bytes that JSON spells six bytes
// a byte (control characters), with quotes and backslashes among them.
func worstName(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(1 + i%31)
		if i%7 == 3 {
			b[i] = '"'
		} else if i%11 == 5 {
			b[i] = '\\'
		}
	}
	return string(b)
}

// bigTree starts n children of this test process, each with argv of
// several 128 KiB arguments of control characters, run from a copy of sh
// whose path is near PATH_MAX, in a working directory whose path is near
// PATH_MAX too, all of it escaped six times over in JSON; and it parks
// threads more threads in this process.
func bigTree(t *testing.T, n, threads int) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	deep := t.TempDir()
	for len(deep) < 3840 { // components under NAME_MAX, the path under PATH_MAX
		deep = filepath.Join(deep, worstName(min(200, 3840-len(deep))))
		if err := os.Mkdir(deep, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe := filepath.Join(deep, worstName(4050-len(deep)))
	src, err := os.ReadFile(sh)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, src, 0o755); err != nil {
		t.Fatal(err)
	}
	arg := worstName(128<<10 - 1) // MAX_ARG_STRLEN is 128 KiB
	for range n {
		// sh -c SCRIPT arg0 args…: the arguments only sit in argv.
		cmd := exec.Command(exe, "-c", "read x", arg, arg, arg, arg)
		cmd.Dir = deep
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		stdin, err := cmd.StdinPipe() // "read x" waits on it
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start a child with 512 KiB of arguments: %v", err)
		}
		t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	}
	t.Cleanup(holdThreads(threads))
}

// TestDetailReplyBoundedForAnyTree asks for the detail of a process with 70
// children, each with 512 KiB of arguments (children with 5.7 MB each made
// a 353 MiB reply), paths near PATH_MAX, all made of characters JSON
// escapes six times over, and 300 threads: the reply must stay under 1 MiB
// in every dialect, say what it left out, decode strictly, and cost the
// agent's heap little.
func TestDetailReplyBoundedForAnyTree(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 70 processes with 512 KiB of arguments each")
	}
	bigTree(t, 70, 300)
	cfg := testConfig()
	cfg.ProcessesTTL = 0 // every request collects
	cfg.RequestsPerSecond, cfg.Burst = 1000, 1000
	_, srv := startAgent(t, cfg)
	self := uint32(os.Getpid())

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak := wiretest.HeapPeak()

	v := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	_, frame := roundTrip(t, v, websocket.MessageBinary, wire.AppendRequest(nil, &wire.Request{Id: 1, Body: &wire.Request_ProcessDetail{ProcessDetail: &wire.ProcessDetailRequest{Pid: self}}}))
	r := strictResponse(t, frame)
	d := r.GetProcessDetail().GetProcess()
	if d == nil {
		t.Fatalf("no detail: %v", r)
	}
	j := dial(t, wsURL(srv), nil)
	_, jframe := roundTrip(t, j, websocket.MessageText, []byte(fmt.Sprintf(`{"type":"process_metrics","pid":%d}`, self)))
	typ, cframe := roundTrip(t, j, websocket.MessageText, []byte(fmt.Sprintf("get_process_metrics:%d", self)))
	cpayload, err := wire.Payload(wire.Frame{Type: typ, Data: cframe})
	if err != nil {
		t.Fatal(err)
	}
	grew := peak() - before.HeapInuse
	t.Logf("reply: v2 %d bytes, JSON %d, command %d (%d gzip); %d of %d children, %d of %d threads; agent heap +%.1f MiB at most",
		len(frame), len(jframe), len(cpayload), len(cframe), len(d.ChildProcesses), d.ChildrenTotal, len(d.Threads), d.ThreadCount, float64(grew)/(1<<20))
	for name, n := range map[string]int{"v2": len(frame), "JSON": len(jframe), "command": len(cpayload)} {
		if n > maxDetailBytes {
			t.Errorf("the %s reply is %d bytes, over %d", name, n, maxDetailBytes)
		}
	}
	if !utf8.Valid(jframe) || !json.Valid(jframe) {
		t.Error("the JSON reply is not valid UTF-8 JSON")
	}
	var jd struct {
		Process struct {
			ChildrenTotal  uint32 `json:"children_total"`
			Truncated      bool
			ChildProcesses []struct{ Command string } `json:"child_processes"`
		}
	}
	if err := json.Unmarshal(jframe, &jd); err != nil || jd.Process.ChildrenTotal != d.ChildrenTotal || !jd.Process.Truncated || len(jd.Process.ChildProcesses) != len(d.ChildProcesses) {
		t.Errorf("JSON detail: %v %+v", err, jd.Process.ChildrenTotal)
	}
	if len(d.ChildProcesses) != maxDetailChildren || d.ChildrenTotal < 70 || !d.Truncated {
		t.Errorf("children: %d listed of %d, truncated %v", len(d.ChildProcesses), d.ChildrenTotal, d.Truncated)
	}
	if len(d.Threads) != maxDetailThreads || d.ThreadCount <= maxDetailThreads {
		t.Errorf("threads: %d listed of %d", len(d.Threads), d.ThreadCount)
	}
	for _, c := range d.ChildProcesses {
		if !strings.HasSuffix(c.Command, "…") || !c.Truncated || len(c.Threads) != 0 {
			t.Fatalf("child %d: command of %d bytes not cut (%q…), truncated %v, %d threads", c.Pid, len(c.Command), c.Command[:min(len(c.Command), 20)], c.Truncated, len(c.Threads))
		}
		for what, s := range map[string]string{"command": c.Command, "cwd": c.GetWorkingDirectory(), "exe": c.GetExecutablePath()} {
			if w := jsonLen(t, s); w > 4096+2 {
				t.Errorf("child %d: %s is %d bytes as JSON", c.Pid, what, w)
			}
		}
	}
	if grew > 32<<20 {
		t.Errorf("the agent's heap grew by %d MiB for three detail replies", grew>>20)
	}
}

// jsonLen is the length of s as a JSON string, quotes included.
func jsonLen(t *testing.T, s string) int {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return len(b) - strings.Count(string(b), `\u003c`)*5 - strings.Count(string(b), `\u003e`)*5 - strings.Count(string(b), `\u0026`)*5
}

// A detail is collected once per pid per TTL however many ask, the cache
// holds a bounded number of pids, and a detail costs a client several
// rate-limit tokens.
func TestDetailCachedAndCosted(t *testing.T) {
	var sleepers []*exec.Cmd
	for range 3 * maxCachedDetails {
		c := exec.Command("sleep", "3600")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		sleepers = append(sleepers, c)
	}
	cfg := testConfig()
	cfg.ProcessesTTL = time.Minute
	cfg.RequestsPerSecond, cfg.Burst = 1000, 1000
	a, srv := startAgent(t, cfg)
	v := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	detail := func(c *websocket.Conn, id uint32, pid int) *wire.Response {
		return v2Call(t, c, &wire.Request{Id: id, Body: &wire.Request_ProcessDetail{ProcessDetail: &wire.ProcessDetailRequest{Pid: uint32(pid)}}})
	}
	first := detail(v, 1, os.Getpid()).GetProcessDetail()
	time.Sleep(5 * time.Millisecond) // a new collection would have a later sampled_at_ms
	again := detail(v, 2, os.Getpid()).GetProcessDetail()
	if first == nil || again == nil || first.SampledAtMs != again.SampledAtMs {
		t.Errorf("a second detail within the TTL was collected again: %v then %v", first.GetSampledAtMs(), again.GetSampledAtMs())
	}
	for i, c := range sleepers {
		if d := detail(v, uint32(10+i), c.Process.Pid).GetProcessDetail(); d == nil {
			t.Fatalf("detail of sleeper %d", c.Process.Pid)
		}
	}
	src, _ := a.sourceOf(detailKind)
	if n := src.(*detailSource).c.Len(); n > maxCachedDetails {
		t.Errorf("the detail cache holds %d pids after %d asked for, more than %d", n, len(sleepers)+1, maxCachedDetails)
	}

	// A burst of 10 tokens pays for two details, not three.
	cfg = testConfig()
	cfg.RequestsPerSecond, cfg.Burst = 0.001, 10
	_, srv = startAgent(t, cfg)
	v = dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	for i := range 3 {
		r := detail(v, uint32(i+1), os.Getpid())
		if limited := r.GetError().GetCode() == wire.ErrorCode_ERROR_CODE_RATE_LIMITED; limited != (i == 2) {
			t.Errorf("detail %d of a 10-token burst: %v", i+1, r.GetError())
		}
	}
}
