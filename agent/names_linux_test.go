package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
)

// Names that are not UTF-8, as a machine can hold them. The kernel keeps 15
// bytes of a program's name, which cuts the ninth é in half.
const (
	badName   = "\xffhelper"
	cutName   = "ééééééééé" // 18 bytes: comm is "ééééééé\xc3"
	badThread = "t\xffread"
	badArg    = "x\xffarg"
	badCwd    = "cwd-\xff"
	// Only inside private namespaces (as root):
	badHost  = "h\xffst"
	badIface = "if\xffx"
	badUser  = "us\xffer"
	badMount = "mnt-\xff"
	badChip  = "chip\xff"
	badLabel = "lab\xffel"
	badGPU   = "GPU\xffname"
	badUID   = 4242
)

// names is what the test set up, as the agent must report it: each invalid
// byte run replaced by U+FFFD.
type namesFixture struct {
	bad, cut *helper // helpers named badName and cutName
	ns       bool    // the namespace-only names exist
}

func fffd(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// TestNamesEveryDecoderAccepts runs real processes whose name, thread name,
// argv, cwd and exe are not UTF-8 and, in private namespaces as root, a
// host name, interface, mount point, user, hwmon sensor, GPU and journal
// lines that are not either. Every reply of every dialect must then decode
// with google.golang.org/protobuf's validating proto.Unmarshal (prost and
// Python protobuf check the same), be valid UTF-8 JSON, and carry the same
// text with U+FFFD in each dialect.
func TestNamesEveryDecoderAccepts(t *testing.T) {
	if !inNamespaces(t) && os.Geteuid() == 0 {
		reexecInNamespaces(t, "--pid", "--fork", "--mount-proc", "--net", "--uts", "--mount", "--propagation", "private")
		return
	}
	fx := setUpNames(t, inNamespaces(t))
	if !fx.ns {
		t.Log("not root: host name, interface, mount, user, sensor, GPU and journal names are not tested")
	}
	cfg := testConfig()
	cfg.RequestsPerSecond, cfg.Burst = 1000, 1000
	cfg.AllowSignals = true // only to have a signal name echoed in an error; none is sent
	_, srv := startAgent(t, cfg)
	badPID, cutPID := uint32(fx.bad.pid()), uint32(fx.cut.pid())
	self := uint32(os.Getpid())

	// v2: every kind of reply, decoded with the validating decoder.
	v := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	id := uint32(0)
	call := func(body any) *wire.Response {
		t.Helper()
		id++
		req := &wire.Request{Id: id}
		switch b := body.(type) {
		case *wire.HelloRequest:
			req.Body = &wire.Request_Hello{Hello: b}
		case *wire.MetricsRequest:
			req.Body = &wire.Request_Metrics{Metrics: b}
		case *wire.DisksRequest:
			req.Body = &wire.Request_Disks{Disks: b}
		case *wire.ProcessesRequest:
			req.Body = &wire.Request_Processes{Processes: b}
		case *wire.ProcessDetailRequest:
			req.Body = &wire.Request_ProcessDetail{ProcessDetail: b}
		case *wire.JournalRequest:
			req.Body = &wire.Request_Journal{Journal: b}
		case *wire.ConnectionsRequest:
			req.Body = &wire.Request_Connections{Connections: b}
		case *wire.SignalRequest:
			req.Body = &wire.Request_Signal{Signal: b}
		}
		_, frame := roundTrip(t, v, websocket.MessageBinary, wire.AppendRequest(nil, req))
		return strictResponse(t, frame)
	}
	hello := call(&wire.HelloRequest{ProtocolMajor: wire.ProtocolMajor}).GetHello()
	metrics := call(&wire.MetricsRequest{}).GetMetrics()
	disks := call(&wire.DisksRequest{}).GetDisks()
	procs := call(&wire.ProcessesRequest{}).GetProcesses()
	detailBad := call(&wire.ProcessDetailRequest{Pid: badPID}).GetProcessDetail().GetProcess()
	detailCut := call(&wire.ProcessDetailRequest{Pid: cutPID}).GetProcessDetail().GetProcess()
	detailSelf := call(&wire.ProcessDetailRequest{Pid: self}).GetProcessDetail().GetProcess()
	conns := call(&wire.ConnectionsRequest{}).GetConnections()
	call(&wire.SignalRequest{Pid: badPID, Signal: "\xff"}) // an error echoing bytes it was sent
	if hello == nil || metrics == nil || disks == nil || procs == nil || detailBad == nil || detailCut == nil || detailSelf == nil || conns == nil {
		t.Fatalf("a v2 request got no data: hello %v metrics %v disks %v procs %v details %v %v %v conns %v",
			hello != nil, metrics != nil, disks != nil, procs != nil, detailBad != nil, detailCut != nil, detailSelf != nil, conns != nil)
	}
	rowName := func(pid uint32) string {
		for _, p := range procs.Processes {
			if p.Pid == pid {
				return p.Name
			}
		}
		return "(missing)"
	}
	want := func(what, got, wantText string) {
		t.Helper()
		if got != wantText {
			t.Errorf("%s = %q, want %q", what, got, wantText)
		}
	}
	wantBad, wantCut := fffd(badName), fffd(cutName[:15])
	want("process list name", rowName(badPID), wantBad)
	want("process list name", rowName(cutPID), wantCut)
	want("detail name", detailBad.Name, wantBad)
	want("detail name", detailCut.Name, wantCut)
	if !strings.Contains(detailBad.Command, fffd(badArg)) {
		t.Errorf("detail command %q lacks %q", detailBad.Command, fffd(badArg))
	}
	want("detail cwd", filepath.Base(detailBad.GetWorkingDirectory()), fffd(badCwd))
	want("detail exe", filepath.Base(detailBad.GetExecutablePath()), wantBad)
	threadNamed := false
	for _, th := range detailBad.Threads {
		threadNamed = threadNamed || th.Name == fffd(badThread)
	}
	if !threadNamed {
		t.Errorf("no thread of pid %d is named %q: %v", badPID, fffd(badThread), detailBad.Threads)
	}
	kids := map[uint32]string{}
	for _, c := range detailSelf.ChildProcesses {
		kids[c.Pid] = c.Name
	}
	want("child name", kids[badPID], wantBad)
	want("child name", kids[cutPID], wantCut)
	listener := false
	for _, c := range conns.Connections {
		listener = listener || (c.Pid == badPID && c.ProcessName == wantBad)
	}
	if !listener {
		t.Errorf("no socket of pid %d owned by %q", badPID, wantBad)
	}
	var journal *wire.Journal
	if fx.ns {
		want("hostname", metrics.Hostname, fffd(badHost))
		want("hello hostname", hello.Hostname, fffd(badHost))
		want("user", detailBad.User, fffd(badUser))
		iface, mount, temp, gpu := false, false, false, false
		for _, n := range metrics.Networks {
			iface = iface || n.Name == fffd(badIface)
		}
		for _, d := range disks.Disks {
			mount = mount || filepath.Base(d.MountPoint) == fffd(badMount)
		}
		for _, x := range metrics.Temperatures {
			temp = temp || (x.Label == fffd(badLabel) && x.Sensor == fffd(badChip))
		}
		for _, g := range metrics.Gpus {
			gpu = gpu || g.Name == fffd(badGPU)
		}
		if !iface || !mount || !temp || !gpu {
			t.Errorf("namespace names reported: interface %v, mount %v, sensor %v, GPU %v: %v %v %v %v",
				iface, mount, temp, gpu, metrics.Networks, disks.Disks, metrics.Temperatures, metrics.Gpus)
		}
		journal = call(&wire.JournalRequest{Pid: badPID}).GetJournal()
		if journal == nil || len(journal.Entries) != 1 || journal.Entries[0].Message != "hi\uFFFDthere" || journal.Entries[0].GetComm() != wantBad {
			t.Errorf("journal of pid %d = %v", badPID, journal)
		}
		empty := call(&wire.JournalRequest{Pid: cutPID}).GetJournal()
		if !strings.Contains(empty.GetNotice(), "\uFFFD") {
			t.Errorf("journal notice %q does not carry journalctl's stderr made valid", empty.GetNotice())
		}
	}
	// Pushes are the same samples, checked frame by frame too.
	id++
	sub := &wire.Request{Id: id, Body: &wire.Request_Subscribe{Subscribe: &wire.SubscribeRequest{MetricsMs: 500, ProcessesMs: 500, DisksMs: 500}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.Write(ctx, websocket.MessageBinary, wire.AppendRequest(nil, sub)); err != nil {
		t.Fatal(err)
	}
	for range 4 { // the subscription, then one push of each kind
		_, frame, err := v.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		strictResponse(t, frame)
	}

	// The JSON dialect: valid UTF-8 JSON, the same names.
	j := dial(t, wsURL(srv), nil)
	text := func(req string) []byte {
		t.Helper()
		typ, b := roundTrip(t, j, websocket.MessageText, []byte(req))
		if typ != websocket.MessageText || !utf8.Valid(b) || !json.Valid(b) {
			t.Fatalf("%s: a %v frame that is not valid UTF-8 JSON: %q", req, typ, b)
		}
		return b
	}
	var jm struct {
		Hostname string
		Networks []struct{ Name string }
	}
	json.Unmarshal(text(`{"type":"metrics"}`), &jm)
	want("JSON hostname", jm.Hostname, metrics.Hostname)
	text(`{"type":"disks"}`)
	var jd struct {
		Process struct {
			Name, Command    string
			WorkingDirectory string `json:"working_directory"`
			ExecutablePath   string `json:"executable_path"`
			Threads          []struct{ Name string }
			ChildProcesses   []struct{ Name string } `json:"child_processes"`
		}
	}
	json.Unmarshal(text(fmt.Sprintf(`{"type":"process_metrics","pid":%d}`, badPID)), &jd)
	want("JSON detail name", jd.Process.Name, detailBad.Name)
	want("JSON detail command", jd.Process.Command, detailBad.Command)
	want("JSON detail cwd", jd.Process.WorkingDirectory, detailBad.GetWorkingDirectory())
	want("JSON detail exe", jd.Process.ExecutablePath, detailBad.GetExecutablePath())
	if fx.ns {
		var jj struct {
			Entries []struct{ Message, Comm string }
		}
		json.Unmarshal(text(fmt.Sprintf(`{"type":"journal_entries","pid":%d}`, badPID)), &jj)
		if len(jj.Entries) != 1 || jj.Entries[0].Message != journal.Entries[0].Message || jj.Entries[0].Comm != wantBad {
			t.Errorf("JSON journal %+v, v2 %v", jj, journal)
		}
	}
	text(`{"type":"\xff"}`)
	_, plFrame := roundTrip(t, j, websocket.MessageText, []byte(`{"type":"processes"}`))
	checkProcessList(t, "JSON dialect", plFrame, map[uint32]string{badPID: wantBad, cutPID: wantCut})

	// The command dialect (upstream's clients): the same, gzip undone.
	c := dial(t, wsURL(srv), nil)
	for _, req := range []string{"get_metrics", "get_disks", fmt.Sprintf("get_process_metrics:%d", badPID), fmt.Sprintf("get_journal_entries:%d", badPID)} {
		typ, b := roundTrip(t, c, websocket.MessageText, []byte(req))
		p, err := wire.Payload(wire.Frame{Type: typ, Data: b})
		if err != nil || !utf8.Valid(p) || !json.Valid(p) {
			t.Errorf("%s: not valid UTF-8 JSON (%v): %q", req, err, p)
		}
	}
	_, plFrame = roundTrip(t, c, websocket.MessageText, []byte("get_processes"))
	checkProcessList(t, "command dialect", plFrame, map[uint32]string{badPID: wantBad, cutPID: wantCut})

	// Prometheus: the exposition format is UTF-8 as well.
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scrape, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !utf8.Valid(scrape) {
		t.Error("/metrics is not valid UTF-8")
	}
	if fx.ns && !strings.Contains(string(scrape), fffd(badIface)) {
		t.Errorf("/metrics lacks the interface %q", fffd(badIface))
	}
}

// strictResponse decodes a v2 frame with the validating decoder and fails
// the test when it refuses it.
func strictResponse(t *testing.T, frame []byte) *wire.Response {
	t.Helper()
	r := &wire.Response{}
	if err := proto.Unmarshal(frame, r); err != nil {
		t.Fatalf("proto.Unmarshal refuses the agent's %d-byte frame: %v", len(frame), err)
	}
	return r
}

// checkProcessList decodes a ProcessList frame (gzip undone) with the
// validating decoder and checks the names of the given pids.
func checkProcessList(t *testing.T, dialect string, frame []byte, names map[uint32]string) {
	t.Helper()
	b, err := wire.Payload(wire.Frame{Data: frame})
	if err != nil {
		t.Fatal(err)
	}
	pl := &wire.ProcessList{}
	if err := proto.Unmarshal(b, pl); err != nil {
		t.Fatalf("%s ProcessList: proto.Unmarshal refuses it: %v", dialect, err)
	}
	for pid, name := range names {
		got := "(missing)"
		for _, p := range pl.Processes {
			if p.Pid == pid {
				got = p.Name
			}
		}
		if got != name {
			t.Errorf("%s ProcessList: pid %d named %q, want %q", dialect, pid, got, name)
		}
	}
}

// setUpNames starts the helpers and, in private namespaces, the machine's
// names that are not UTF-8.
func setUpNames(t *testing.T, ns bool) namesFixture {
	dir := t.TempDir()
	os.Chmod(dir, 0o755) // the helper running as badUID must reach its program
	os.Chmod(filepath.Dir(dir), 0o755)
	cwd := filepath.Join(dir, badCwd)
	if err := os.Mkdir(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	fx := namesFixture{ns: ns}
	var asUser func(*exec.Cmd)
	if ns {
		setUpNamespaceNames(t, dir)
		asUser = func(c *exec.Cmd) {
			c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: badUID, Gid: badUID}}
		}
	}
	withDir := func(also func(*exec.Cmd)) func(*exec.Cmd) {
		return func(c *exec.Cmd) {
			c.Dir = cwd
			c.Env = append(c.Env, "SOCKTOP_TEST_THREAD_NAME="+badThread)
			if also != nil {
				also(c)
			}
		}
	}
	fx.bad = startHelper(t, "listen", copyTestBinary(t, dir, badName), withDir(asUser), badArg)
	t.Setenv("SOCKTOP_TEST_BAD_PID", strconv.Itoa(fx.bad.pid())) // for the fake journalctl
	fx.cut = startHelper(t, "listen", copyTestBinary(t, dir, cutName), withDir(nil))
	return fx
}

// setUpNamespaceNames gives the namespaces this test runs in a host name,
// a network interface, a mounted disk, a user, a hwmon sensor, a GPU (a
// fake nvidia-smi) and journal lines (a fake journalctl) that are not UTF-8.
func setUpNamespaceNames(t *testing.T, dir string) {
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	if err := unix.Sethostname([]byte(badHost)); err != nil {
		t.Fatal(err)
	}
	run("ip", "link", "set", "lo", "up")
	run("ip", "link", "add", badIface, "type", "veth", "peer", "name", "peer0")

	img, mnt := filepath.Join(dir, "disk.img"), filepath.Join(dir, badMount)
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Truncate(img, 8<<20)
	os.Mkdir(mnt, 0o755)
	run("mkfs.ext4", "-q", "-F", img)
	run("mount", "-o", "loop", img, mnt)
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })

	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(dir, "passwd")
	os.WriteFile(fake, append(passwd, fmt.Sprintf("%s:x:%d:%d::/:/sbin/nologin\n", badUser, badUID, badUID)...), 0o644)
	if err := unix.Mount(fake, "/etc/passwd", "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	// A hwmon chip: a tmpfs over /sys/class (procfs reads only hwmon, drm
	// and thermal there) holding one, in this mount namespace only.
	if err := unix.Mount("tmpfs", "/sys/class", "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	hw := "/sys/class/hwmon/hwmon0"
	os.MkdirAll(hw, 0o755)
	for name, content := range map[string]string{"name": badChip, "temp1_input": "42000", "temp1_label": badLabel} {
		os.WriteFile(filepath.Join(hw, name), []byte(content+"\n"), 0o644)
	}

	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	onPath(t, bin, "nvidia-smi", "printf '0, "+shellBytes(badGPU)+", 5, 100, 1000, 40\\n'\n")
	// journalctl: one entry for the badName helper (its MESSAGE as bytes, as
	// journald exports a value that is not UTF-8), stderr junk otherwise.
	entry := `{"__REALTIME_TIMESTAMP":"1700000000000000","PRIORITY":"6","MESSAGE":[104,105,255,116,104,101,114,101],"_COMM":` + byteArray(badName) + `}`
	onPath(t, bin, "journalctl", "case \"$1\" in\n_PID=$SOCKTOP_TEST_BAD_PID) printf '%s\\n' '"+entry+"' ;;\n*) printf 'no entries \\377\\n' >&2 ;;\nesac\n")
}

// byteArray is s as journalctl exports a value that is not UTF-8: a JSON
// array of its bytes.
func byteArray(s string) string {
	parts := make([]string, len(s))
	for i := 0; i < len(s); i++ {
		parts[i] = strconv.Itoa(int(s[i]))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// shellBytes spells s for printf(1): non-ASCII bytes as octal escapes.
func shellBytes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] < 0x80 {
			b.WriteByte(s[i])
		} else {
			b.WriteString(`\` + strconv.FormatInt(int64(s[i]), 8))
		}
	}
	return b.String()
}
