package agent

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
)

// processesOver asks for the process list over v2, with extras, and
// decodes it with protobuf's validating decoder.
func processesOver(t *testing.T, c *websocket.Conn, id uint32, extras *wire.ProcessExtras) (*wire.Processes, []byte) {
	t.Helper()
	_, b := roundTrip(t, c, websocket.MessageBinary, wire.AppendRequest(nil, &wire.Request{Id: id, Body: &wire.Request_Processes{Processes: &wire.ProcessesRequest{Extras: extras}}}))
	var r wire.Response
	if err := proto.Unmarshal(b, &r); err != nil {
		t.Fatalf("proto.Unmarshal: %v", err)
	}
	if r.Id != id || r.GetProcesses() == nil {
		t.Fatalf("reply %v", &r)
	}
	return r.GetProcesses(), b
}

func rowOf(ps *wire.Processes, pid int) *wire.ProcessInfo {
	for _, p := range ps.Processes {
		if p.Pid == uint32(pid) {
			return p
		}
	}
	return nil
}

// TestProcessCommands: a v2 client that asks for command lines gets each
// process's, joined by spaces; one that asks for nothing gets none, and
// the same list otherwise; the agent says it serves the extra; a process
// started niced shows its nice value.
func TestProcessCommands(t *testing.T) {
	cfg := testConfig()
	_, srv := startAgent(t, cfg)
	c := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if h := v2Call(t, c, &wire.Request{Id: 1, Body: &wire.Request_Hello{Hello: &wire.HelloRequest{ProtocolMajor: wire.ProtocolMajor}}}).GetHello(); !h.HasCapability(wire.CapProcessExtras) {
		t.Errorf("capabilities %v lack %s", h.GetCapabilities(), wire.CapProcessExtras)
	}
	args := []string{"--alpha", "two words", "ünïcode"}
	h := startHelper(t, "victim", "", nil, args...)
	self, _ := os.Executable()
	want := strings.Join(append([]string{self}, args...), " ")
	niced := exec.Command("nice", "-n", "7", "sleep", "60")
	if err := niced.Start(); err != nil {
		t.Skipf("no nice: %v", err)
	}
	t.Cleanup(func() { niced.Process.Kill(); niced.Wait() })

	plain, plainBytes := processesOver(t, c, 2, nil)
	with, _ := processesOver(t, c, 3, &wire.ProcessExtras{Command: true})
	if plain.SampledAtMs != with.SampledAtMs || len(plain.Processes) != len(with.Processes) {
		t.Fatalf("the two replies are not of one sample: %d/%d rows at %d/%d", len(plain.Processes), len(with.Processes), plain.SampledAtMs, with.SampledAtMs)
	}
	for i, p := range plain.Processes {
		if p.Command != "" {
			t.Errorf("no extras asked, yet pid %d has command %q", p.Pid, p.Command)
		}
		w := proto.Clone(with.Processes[i]).(*wire.ProcessInfo)
		w.Command = ""
		if !proto.Equal(p, w) {
			t.Errorf("row %d differs beyond the command:\n%v\n%v", i, p, w)
		}
	}
	if r := rowOf(with, h.pid()); r == nil || r.Command != want {
		t.Errorf("helper's command %q, want %q", r.GetCommand(), want)
	}
	if r := rowOf(with, niced.Process.Pid); r == nil || r.Command != "sleep 60" || r.Nice != 7 {
		t.Errorf("niced sleep: %v, want command \"sleep 60\" and nice 7", r)
	}
	if r := rowOf(plain, niced.Process.Pid); r == nil || r.Nice != 7 {
		t.Errorf("nice without extras: %v", r)
	}
	// The list without extras is the shared sample's, byte for byte: what
	// a client that asks for nothing is sent did not change.
	if again, b := processesOver(t, c, 2, nil); again.SampledAtMs == plain.SampledAtMs && string(b) != string(plainBytes) {
		t.Error("the same sample, asked twice without extras, came back in two encodings")
	}
}

// TestProcessCommandsPushed: a subscription with process_extras gets
// command lines in its pushes and is told so; one without gets none.
func TestProcessCommandsPushed(t *testing.T) {
	_, srv := startAgent(t, testConfig())
	for _, ask := range []bool{true, false} {
		c := dialClient(t, wsURL(srv))
		var extras *wire.ProcessExtras
		if ask {
			extras = &wire.ProcessExtras{Command: true}
		}
		got, err := c.Subscribe(context.Background(), wire.Cadence{Processes: 200 * time.Millisecond, Extras: extras})
		if err != nil {
			t.Fatal(err)
		}
		if got.Extras.GetCommand() != ask {
			t.Errorf("asked command %v: the subscription keeps %v", ask, got.Extras)
		}
		p := <-c.Pushes()
		self := rowOf(p.Processes, os.Getpid())
		if self == nil || (self.Command != "") != ask {
			t.Errorf("asked command %v: own row %v", ask, self)
		}
	}
}

// TestCommandKept: a command line is read once and kept while the
// process's stat file stays open; read again when it was reopened.
func TestCommandKept(t *testing.T) {
	a, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	c := a.coll.commands
	self := &wire.ProcessInfo{Pid: uint32(os.Getpid()), Name: "x", StartTime: 7}
	want := strings.Join(os.Args, " ")
	if got := c.of(self, 5); got != want {
		t.Fatalf("own command %q, want %q", got, want)
	}
	c.known[self.Pid].text = "kept"
	if got := c.of(self, 5); got != "kept" {
		t.Errorf("the same stat opening read it again: %q", got)
	}
	if got := c.of(self, 6); got != want {
		t.Errorf("after the stat file was reopened: %q, want it read again", got)
	}
	c.known[self.Pid].text = "kept"
	if got := c.of(&wire.ProcessInfo{Pid: self.Pid, Name: "renamed", StartTime: 7}, 6); got != want {
		t.Errorf("after an exec (a new name): %q, want it read again", got)
	}
}

func TestCommandText(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6,000 bytes
	for _, c := range []struct {
		in   string
		more bool
		want string
	}{
		{"", false, ""},
		{"sshd: /usr/sbin/sshd -D\x00", false, "sshd: /usr/sbin/sshd -D"},
		{"a\x00b c\x00d\x00\x00", false, "a b c d"},
		{"bad\xff\x00x\x00", false, "bad\uFFFD x"},
	} {
		if got := commandText([]byte(c.in), c.more); got != c.want {
			t.Errorf("commandText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// Cut: what the reader left (more), or what grew past the bound.
	for _, c := range []struct {
		in   string
		more bool
	}{{long[:4096], true}, {long[:5001], false}, {"a\xff" + long[:4094], false}} {
		got := commandText([]byte(c.in), c.more)
		if len(got) > maxListCommand || len(got) < maxListCommand-8 || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
			t.Errorf("cut %d bytes (more %v): %d bytes, valid %v", len(c.in), c.more, len(got), utf8.ValidString(got))
		}
	}
}

// TestDisksAsDf: the disks sample, the snapshot and the JSON dialect's
// reply give each mounted file system's size, free and used space as df
// computes them from statfs: used = size − free (the blocks reserved for
// root are not used), use% = used ÷ (used + available).
func TestDisksAsDf(t *testing.T) {
	a, srv := startAgent(t, testConfig())
	m, err := a.Snapshot(context.Background(), "disks")
	if err != nil {
		t.Fatal(err)
	}
	_, b := roundTrip(t, dial(t, wsURL(srv), nil), websocket.MessageText, []byte(`{"type":"disks"}`))
	var dialect []struct {
		MountPoint        string `json:"mount_point"`
		Total, Used, Free uint64
		Available         uint64
	}
	if err := json.Unmarshal(b, &dialect); err != nil {
		t.Fatal(err)
	}
	const slack = 256 << 20 // the file systems are written to meanwhile
	near := func(x, y uint64) bool { return max(x, y)-min(x, y) <= slack }
	usePct := func(used, avail uint64) float64 { return float64(used) / float64(used+avail) * 100 }
	checked := 0
	for _, d := range m.(*wire.Disks).Disks {
		if d.MountPoint == "" {
			continue
		}
		var st unix.Statfs_t
		if err := unix.Statfs(d.MountPoint, &st); err != nil {
			continue
		}
		bs := uint64(st.Frsize)
		if bs == 0 {
			bs = uint64(st.Bsize)
		}
		total, free, avail := st.Blocks*bs, st.Bfree*bs, st.Bavail*bs
		if d.Total != total || !near(d.Free, free) || !near(d.Available, avail) || d.Used != d.Total-d.Free {
			t.Errorf("%s: agent size %d free %d avail %d used %d; statfs %d %d %d (df's used %d)", d.MountPoint, d.Total, d.Free, d.Available, d.Used, total, free, avail, total-free)
		}
		if got, want := usePct(d.Used, d.Available), usePct(total-free, avail); math.Abs(got-want) > 0.5 {
			t.Errorf("%s: use %.2f%%, df's %.2f%%", d.MountPoint, got, want)
		}
		for _, j := range dialect {
			if j.MountPoint == d.MountPoint && (!near(j.Used, d.Used) || !near(j.Free, d.Free) || j.Total != d.Total) {
				t.Errorf("%s: JSON dialect used %d free %d, sample %d %d", d.MountPoint, j.Used, j.Free, d.Used, d.Free)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Skip("no mounted real file system here")
	}
}
