package proctraffic

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/procfs/proctest"
	"github.com/socktop/socktop/procfs/sockdiag"
)

// helper is a child process of this test binary (see child in main_test.go).
type helper struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	pid int32
}

func startHelper(t testing.TB, mode string, env ...string) *helper {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := proctest.Command(exe)
	cmd.Env = append(os.Environ(), append([]string{childEnv + "=" + mode}, env...)...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := proctest.Start(cmd); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, in: in, out: bufio.NewReader(out), pid: int32(cmd.Process.Pid)}
	t.Cleanup(func() { in.Close(); cmd.Process.Kill(); cmd.Wait() })
	return h
}

// line reads the helper's next line.
func (h *helper) line(t testing.TB) string {
	t.Helper()
	l, err := h.out.ReadString('\n')
	if err != nil {
		t.Fatalf("helper %d: %v (read %q)", h.pid, err, l)
	}
	return strings.TrimSpace(l)
}

func (h *helper) expect(t testing.TB, want string) {
	t.Helper()
	if got := h.line(t); got != want {
		t.Fatalf("helper %d said %q, want %q", h.pid, got, want)
	}
}

func (h *helper) tell(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(h.in, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// live is a Sampler over the real /proc with its process sampler.
type live struct {
	procs *procfs.ProcessSampler
	s     *Sampler
	ps    []procfs.Process
	ex    []Extras
}

func newLive(t *testing.T) *live {
	t.Helper()
	fs, err := procfs.DefaultFS()
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	sd := sockdiag.NewCollector("/proc")
	if _, err := sd.Collect(nil, sockdiag.Options{TCP: true}); err != nil || !sd.Stats().Netlink {
		t.Skipf("netlink sock_diag unavailable (%v %v): no counters", err, sd.Stats().NetlinkErr)
	}
	l := &live{procs: fs.NewProcessSampler(), s: NewSampler(fs, sd, Limits{})}
	l.procs.Window = 0
	t.Cleanup(func() { l.procs.Close(); l.s.Close() })
	return l
}

// sample returns every process's extras by pid.
func (l *live) sample(t *testing.T) map[int32]Extras {
	t.Helper()
	return l.sampleAt(t, time.Now())
}

// sampleAt is sample on the Sampler's clock at now.
func (l *live) sampleAt(t *testing.T, now time.Time) map[int32]Extras {
	t.Helper()
	var err error
	if l.ps, err = l.procs.Sample(context.Background(), l.ps); err != nil {
		t.Fatal(err)
	}
	l.ex = l.s.SampleAt(l.ps, Net|IO, l.ex, now)
	if st := l.s.Stats(); st.NetErr != nil {
		t.Fatalf("net sample incomplete: %v", st.NetErr)
	}
	m := make(map[int32]Extras, len(l.ps))
	for i, p := range l.ps {
		m[p.PID] = l.ex[i]
	}
	return m
}

// Tolerances: TCP payload counters add 1 for the SYN and 1 for the FIN; the
// other direction carries a one-byte answer.
const (
	sendSlack = sendSize / 80 // 8 MiB → < 8.1 MiB
	quiet     = 64 << 10      // what a process not in the transfer may show
)

func within(v, lo, slack uint64) bool { return v >= lo && v < lo+slack }

// A child that sends 8 MiB over loopback TCP to another child, and one that
// writes 16 MiB with fsync, show those bytes in their own rows only; a
// process whose socket closed keeps its total.
func TestLiveTraffic(t *testing.T) {
	l := newLive(t)
	dir := proctest.DiskDir(t)
	self := int32(os.Getpid())
	before := l.sample(t)

	recv := startHelper(t, "recv")
	addr := recv.line(t)
	send := startHelper(t, "send", "SOCKTOP_PROCTRAFFIC_ADDR="+addr)
	write := startHelper(t, "write", "SOCKTOP_PROCTRAFFIC_DIR="+dir)
	send.expect(t, "sent")
	recv.expect(t, "received")
	write.expect(t, "written")

	check := func(step string, m map[int32]Extras, senderOpen, receiverOpen bool) {
		t.Helper()
		s, r, w := m[send.pid], m[recv.pid], m[write.pid]
		if !s.NetKnown || !within(s.NetTx, sendSize, sendSlack) || s.NetRx > quiet {
			t.Errorf("%s: sender (socket open %v) %+v, want tx in [%d, %d) and rx ≈ 0", step, senderOpen, s, sendSize, sendSize+sendSlack)
		}
		if !r.NetKnown || !within(r.NetRx, sendSize, sendSlack) || r.NetTx > quiet {
			t.Errorf("%s: receiver (socket open %v) %+v, want rx in [%d, %d) and tx ≈ 0", step, receiverOpen, r, sendSize, sendSize+sendSlack)
		}
		if !w.NetKnown || w.NetRx != 0 || w.NetTx != 0 {
			t.Errorf("%s: writer %+v, want no traffic", step, w)
		}
		if !w.IOKnown || !within(w.IOWrite, writeSize, 1<<20) {
			t.Errorf("%s: writer %+v, want write_bytes in [%d, %d)", step, w, writeSize, writeSize+1<<20)
		}
		for _, h := range []*helper{send, recv} {
			if e := m[h.pid]; !e.IOKnown || e.IOWrite > quiet {
				t.Errorf("%s: helper %d wrote %+v to storage", step, h.pid, e)
			}
		}
		// Nobody else got the transfer: not this process (the children's
		// parent), and no other row shows a growth the size of it.
		if e, b := m[self], before[self]; !e.NetKnown || e.NetRx-b.NetRx > quiet || e.NetTx-b.NetTx > quiet {
			t.Errorf("%s: this test process %+v (before %+v), want no traffic", step, e, b)
		}
		for pid, e := range m {
			if pid == send.pid || pid == recv.pid {
				continue
			}
			b := before[pid]
			if within(e.NetTx-b.NetTx, sendSize, sendSlack) || within(e.NetRx-b.NetRx, sendSize, sendSlack) {
				t.Errorf("%s: pid %d also got the transfer: %+v (before %+v)", step, pid, e, b)
			}
		}
	}
	check("sockets open", l.sample(t), true, true)

	send.tell(t, "close")
	send.expect(t, "closed")
	check("sender closed", l.sample(t), false, true)

	recv.tell(t, "close")
	recv.expect(t, "closed")
	m := l.sample(t)
	check("both closed", m, false, false)
	t.Logf("sender %+v; receiver %+v; writer %+v", m[send.pid], m[recv.pid], m[write.pid])
}

// Processes whose sockets cannot be seen are unknown, not zero: one in
// another network namespace, and — for an agent running as nobody —
// root's processes (their fds and io are not readable), while nobody's own
// processes stay known.
func TestLiveUnknown(t *testing.T) {
	l := newLive(t)
	other := proctest.StartSleeper(t, &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET})
	same := proctest.StartSleeper(t, nil)
	m := l.sample(t)
	if e := m[int32(other.Process.Pid)]; e.NetKnown || !e.IOKnown {
		t.Errorf("child in another network namespace: %+v, want net unknown, io known", e)
	}
	if e := m[int32(same.Process.Pid)]; !e.NetKnown || e.NetRx != 0 || e.NetTx != 0 || !e.IOKnown {
		t.Errorf("idle child in our namespace: %+v, want known zeros", e)
	}

	mine := proctest.StartSleeper(t, &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: proctest.Nobody, Gid: proctest.Nobody}})
	nobody := newLive(t)
	proctest.OnThread(t, proctest.As(proctest.Nobody, proctest.Nobody), func() { m = nobody.sample(t) })
	if e := m[int32(same.Process.Pid)]; e.NetKnown || e.IOKnown {
		t.Errorf("root's child sampled as nobody: %+v, want all unknown", e)
	}
	if e := m[int32(mine.Process.Pid)]; !e.NetKnown || e.NetRx != 0 || e.NetTx != 0 || !e.IOKnown {
		t.Errorf("nobody's idle child sampled as nobody: %+v, want known zeros", e)
	}
	if st := nobody.s.Stats(); st.NetUnknown == 0 || st.IOUnknown == 0 {
		t.Errorf("stats as nobody %+v: unknowns not counted", st)
	}
}

// With NetRefresh, a sample within it of the last dump gives that dump's
// totals again (Stats.NetAt the dump's time) without dumping: a process
// started since is unknown (never 0) until the next dump, io stays per
// sample; the next dump has the new process and keeps the bytes of a
// socket that closed in between; a clock that went back dumps again.
func TestLiveReusedDump(t *testing.T) {
	l := newLive(t)
	l.s.NetRefresh = 5 * time.Second
	recv := startHelper(t, "recv")
	addr := recv.line(t)
	send := startHelper(t, "send", "SOCKTOP_PROCTRAFFIC_ADDR="+addr)
	send.expect(t, "sent")
	recv.expect(t, "received")

	t0 := time.Now()
	first := l.sampleAt(t, t0)
	if st := l.s.Stats(); st.NetReused || !st.NetAt.Equal(t0) || st.Sockets == 0 {
		t.Fatalf("first sample: stats %+v, want a dump at %v", st, t0)
	}
	if s := first[send.pid]; !s.NetKnown || !within(s.NetTx, sendSize, sendSlack) {
		t.Fatalf("first sample: sender %+v", s)
	}
	late := proctest.StartSleeper(t, nil)
	send.tell(t, "close")
	send.expect(t, "closed")

	again := l.sampleAt(t, t0.Add(2*time.Second))
	st := l.s.Stats()
	if !st.NetReused || !st.NetAt.Equal(t0) || st.Sockets != l.s.last.stats.Sockets {
		t.Errorf("sample 2 s after the dump: stats %+v, want the dump of %v reused", st, t0)
	}
	if e := again[int32(late.Process.Pid)]; e.NetKnown || !e.IOKnown {
		t.Errorf("process started after the dump, dump reused: %+v, want net unknown, io known", e)
	}
	for _, h := range []*helper{send, recv} {
		if e, was := again[h.pid], first[h.pid]; !e.NetKnown || e.NetRx != was.NetRx || e.NetTx != was.NetTx || !e.IOKnown {
			t.Errorf("helper %d with the dump reused: %+v, want the dump's totals %+v", h.pid, e, was)
		}
	}

	fresh := l.sampleAt(t, t0.Add(5*time.Second))
	if st := l.s.Stats(); st.NetReused || !st.NetAt.Equal(t0.Add(5*time.Second)) {
		t.Errorf("sample 5 s after the dump: stats %+v, want a new dump", st)
	}
	if e := fresh[int32(late.Process.Pid)]; !e.NetKnown || e.NetRx != 0 || e.NetTx != 0 {
		t.Errorf("new process at the next dump: %+v, want known zeros", e)
	}
	if s := fresh[send.pid]; !s.NetKnown || !within(s.NetTx, sendSize, sendSlack) {
		t.Errorf("sender whose socket closed between dumps: %+v, want its total kept", s)
	}

	l.sampleAt(t, t0.Add(4*time.Second))
	if st := l.s.Stats(); st.NetReused {
		t.Errorf("clock went back before the last dump: stats %+v, want a new dump", st)
	}
}
