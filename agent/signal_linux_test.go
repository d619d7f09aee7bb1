package agent

import (
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
	"golang.org/x/sys/unix"
)

// TestSignalsReachOnlyTheProcessMeant sends the signal requests that used
// to escape — pid 2^32−1 (−1 to kill(2): every process), pids read as
// process groups, thread ids (a thread id signals its whole process; the
// agent's own froze it), pid 1, missing and stale start times, a reused
// pid — to a real agent, through pidfds and through the kill(2) fallback.
// Each must be refused and reach nobody: a victim process and the agent
// itself report every HUP they get, and a USR1 sent afterwards must be the
// first thing each reports (pending signals are delivered lowest number
// first, so an escaped HUP would come before it). It runs only inside a
// private PID namespace (re-executed there as root), so that a mistake
// cannot reach this machine's processes.
func TestSignalsReachOnlyTheProcessMeant(t *testing.T) {
	if !inNamespaces(t) {
		reexecInNamespaces(t, "--pid", "--fork", "--mount-proc")
		return
	}
	cfg := testConfig()
	cfg.AllowSignals = true
	cfg.RequestsPerSecond, cfg.Burst = 1000, 1000
	a, srv := startAgent(t, cfg)
	v := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	mine := make(chan os.Signal, 16)
	signal.Notify(mine, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(mine)

	var id uint32
	send := func(pid uint32, start uint64, sig string) *wire.Response {
		t.Helper()
		id++
		return v2Call(t, v, &wire.Request{Id: id, Body: &wire.Request_Signal{Signal: &wire.SignalRequest{Pid: pid, StartTime: start, Signal: sig}}})
	}
	startOf := func(pid int) uint64 {
		t.Helper()
		idn, err := a.fs.Identity(pid)
		if err != nil {
			t.Fatal(err)
		}
		return uint64(idn.StartUnix)
	}
	threadOf := func(pid int) int {
		t.Helper()
		ents, _ := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
		for _, e := range ents {
			if tid, _ := strconv.Atoi(e.Name()); tid != pid && tid > 0 {
				return tid
			}
		}
		t.Fatalf("pid %d has no second thread", pid)
		return 0
	}
	// The victim leads its own process group, so that a pid read as its
	// negated group id would reach it.
	victim := startHelper(t, "victim", "", func(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} })
	vpid, self := victim.pid(), os.Getpid()
	vstart := startOf(vpid)
	selfThread, victimThread := threadOf(self), threadOf(vpid)

	for _, path := range []string{"pidfd", "kill(2) fallback"} {
		a.noPidfd.Store(path != "pidfd")
		for _, c := range []struct {
			name  string
			pid   uint32
			start uint64
			code  wire.ErrorCode
		}{
			{"pid 2^32-1 (-1: every process)", 1<<32 - 1, vstart, wire.ErrorCode_ERROR_CODE_BAD_REQUEST},
			{"pid 2^31 (a process group)", 1 << 31, vstart, wire.ErrorCode_ERROR_CODE_BAD_REQUEST},
			{"2^32 − the victim's pid (its process group as 32 bits)", uint32(1<<32 - int64(vpid)), vstart, wire.ErrorCode_ERROR_CODE_BAD_REQUEST},
			{"pid 0 (the agent's process group)", 0, vstart, wire.ErrorCode_ERROR_CODE_BAD_REQUEST},
			{"pid 1", 1, startOf(1), wire.ErrorCode_ERROR_CODE_NOT_PERMITTED},
			{"the agent itself", uint32(self), startOf(self), wire.ErrorCode_ERROR_CODE_NOT_PERMITTED},
			{"a thread of the agent", uint32(selfThread), startOf(selfThread), wire.ErrorCode_ERROR_CODE_NOT_PERMITTED},
			{"a thread of the victim", uint32(victimThread), startOf(victimThread), wire.ErrorCode_ERROR_CODE_NOT_PERMITTED},
			{"no start time", uint32(vpid), 0, wire.ErrorCode_ERROR_CODE_BAD_REQUEST},
			{"a stale start time", uint32(vpid), vstart - 1, wire.ErrorCode_ERROR_CODE_UNKNOWN_PID},
			{"a pid that does not exist", 1<<22 - 1, vstart, wire.ErrorCode_ERROR_CODE_UNKNOWN_PID},
		} {
			r := send(c.pid, c.start, "HUP")
			if e := r.GetError(); e.GetCode() != c.code {
				t.Errorf("%s, %s: got %v, want %v", path, c.name, r, c.code)
			} else {
				t.Logf("%s, %s: %s", path, c.name, e.GetMessage())
			}
		}
	}
	a.noPidfd.Store(false)
	// Nothing escaped: the first signal each sees is the USR1 sent now.
	unix.Kill(vpid, syscall.SIGUSR1)
	if got := victim.next(t); got != "SIGUSR1" {
		t.Errorf("the victim got %s before the USR1 sent after the refused requests", got)
	}
	unix.Kill(self, syscall.SIGUSR1)
	if got := <-mine; got != syscall.SIGUSR1 {
		t.Errorf("the agent got %v before the USR1 sent after the refused requests", got)
	}
	// The process meant, with its start time, is signalled, both ways.
	for _, path := range []string{"pidfd", "kill(2) fallback"} {
		a.noPidfd.Store(path != "pidfd")
		if r := send(uint32(vpid), vstart, "SIGHUP"); r.GetSignal().GetSignal() != "SIGHUP" {
			t.Errorf("%s: HUP to the victim: %v", path, r)
		}
		if got := victim.next(t); got != "SIGHUP" {
			t.Errorf("%s: the victim got %s, want SIGHUP", path, got)
		}
	}
	a.noPidfd.Store(false)

	t.Run("reused pid", func(t *testing.T) {
		first := startHelper(t, "victim", "", nil)
		pid, start := first.pid(), startOf(first.pid())
		// Start times are whole seconds: let the next process start in
		// another one.
		for uint64(time.Now().Unix()) <= start+1 {
			time.Sleep(100 * time.Millisecond)
		}
		if r := send(uint32(pid), start, "TERM"); r.GetSignal() == nil {
			t.Fatalf("TERM to pid %d: %v", pid, r)
		}
		first.next(t)
		first.cmd.Wait()
		// The namespace's next pid is this one again.
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0); err != nil {
			t.Skipf("cannot choose the next pid: %v", err)
		}
		second := startHelper(t, "victim", "", nil)
		if second.pid() != pid {
			t.Fatalf("pid %d was not reused (got %d)", pid, second.pid())
		}
		now := startOf(pid)
		if now == start {
			t.Fatalf("the second process started in the same second as the first (%d)", now)
		}
		if r := send(uint32(pid), start, "HUP"); r.GetError().GetCode() != wire.ErrorCode_ERROR_CODE_UNKNOWN_PID {
			t.Errorf("HUP meant for the first process of pid %d: %v", pid, r)
		}
		unix.Kill(pid, syscall.SIGUSR1)
		if got := second.next(t); got != "SIGUSR1" {
			t.Errorf("the process that reused pid %d got %s", pid, got)
		}
		if r := send(uint32(pid), now, "HUP"); r.GetSignal() == nil {
			t.Errorf("HUP with the second process's start time: %v", r)
		}
		if got := second.next(t); got != "SIGHUP" {
			t.Errorf("the second process got %s, want SIGHUP", got)
		}
	})
}
