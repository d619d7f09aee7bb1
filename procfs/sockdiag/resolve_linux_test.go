//go:build linux

package sockdiag

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestResolverIncremental: after a first (full) resolution, a new socket of
// this process is found by reading only this process's fds, and an
// unchanged set reads nothing. The resolver is driven directly with only
// this test's sockets, so other processes' churn cannot interfere.
func TestResolverIncremental(t *testing.T) {
	var fi unix.Stat_t
	if err := unix.Stat("/proc/self/fd", &fi); err != nil || fi.Size == 0 {
		t.Skip("kernel does not report fd counts in /proc/<pid>/fd size (Linux < 6.2)")
	}
	ln1, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln1.Close()
	var r resolver
	now := time.Now()
	resolve := func(socks []Socket) Stats {
		t.Helper()
		var st Stats
		if err := r.resolve("/proc", socks, now, time.Hour, &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	socks := []Socket{{Inode: connInode(t, ln1)}}
	first := resolve(socks)
	if !first.FullScan || socks[0].PID != os.Getpid() {
		t.Fatalf("first resolve: %+v %+v, want a full scan finding us", first, socks[0])
	}

	ln2, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	socks = append(socks, Socket{Inode: connInode(t, ln2)})
	st := resolve(socks)
	if socks[1].PID != os.Getpid() || socks[1].Process != selfComm(t) {
		t.Fatalf("new listener not resolved to us: %+v", socks[1])
	}
	// This process's fd count changed, so it is read before the unchanged
	// processes and the scan stops there (new processes may come first).
	if st.FullScan || st.PIDsScanned >= first.PIDsScanned {
		t.Errorf("new socket caused a full scan: %+v (first: %+v)", st, first)
	}
	t.Logf("full scan: %d pids, %d fds; incremental: %d pids, %d fds", first.PIDsScanned, first.FDsRead, st.PIDsScanned, st.FDsRead)
	// Unchanged: nothing is read at all.
	if st := resolve(socks); st.PIDsScanned != 0 || st.FDsRead != 0 || socks[0].PID != os.Getpid() {
		t.Errorf("unchanged set read fds: %+v", st)
	}
	// Past maxAge the map is rebuilt.
	now = now.Add(2 * time.Hour)
	if st := resolve(socks); !st.FullScan {
		t.Errorf("stale map not rebuilt: %+v", st)
	}
}

// TestOtherUsersSockets runs a copy of this test binary as nobody: it must
// list this (root) process's listener without a pid, and its own with its
// pid. Needs root to switch users.
func TestOtherUsersSockets(t *testing.T) {
	if os.Getenv("SOCKDIAG_HELPER") == "1" {
		helperListAsOtherUser()
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a helper as another user")
	}
	const nobody = 65534
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "sockdiag-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "helper.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	cmd := exec.Command(bin, "-test.run=^TestOtherUsersSockets$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SOCKDIAG_HELPER=1", "SOCKDIAG_ROOT_ADDR="+ln.Addr().String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("helper as uid %d failed (%v): %s", nobody, err, out)
	}
	var r helperResult
	if err := json.Unmarshal(lastLine(out), &r); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	if r.Skip != "" {
		t.Skip("helper: " + r.Skip)
	}
	if !r.RootFound || r.RootPID != 0 || r.RootUID != 0 {
		t.Errorf("root's listener as seen by nobody: found=%v pid=%d uid=%d, want listed without pid", r.RootFound, r.RootPID, r.RootUID)
	}
	if r.OwnPID != r.HelperPID || r.OwnUID != nobody {
		t.Errorf("helper's own listener: pid %d uid %d, want %d %d", r.OwnPID, r.OwnUID, r.HelperPID, nobody)
	}
	t.Logf("as nobody: %+v", r)
	if !r.Counters {
		t.Errorf("unprivileged netlink dump gave no counters")
	}
}

type helperResult struct {
	Skip              string
	RootFound         bool
	RootPID           int
	RootUID           uint32
	OwnPID, HelperPID int
	OwnUID            uint32
	Counters          bool
}

func lastLine(b []byte) []byte {
	for _, l := range splitLines(b) {
		if len(l) > 0 && l[0] == '{' {
			return l
		}
	}
	return b
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		out = append(out, b[:i])
		if i < len(b) {
			i++
		}
		b = b[i:]
	}
	return out
}

func helperListAsOtherUser() {
	var r helperResult
	defer func() {
		b, _ := json.Marshal(r)
		fmt.Printf("%s\n", b)
	}()
	r.HelperPID = os.Getpid()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		r.Skip = err.Error()
		return
	}
	defer ln.Close()
	c := NewCollector("/proc")
	socks, err := c.Collect(nil, Options{TCP: true, Listening: true, Processes: true})
	if err != nil {
		r.Skip = err.Error()
		return
	}
	if !c.Stats().Netlink {
		r.Skip = fmt.Sprint("no netlink: ", c.Stats().NetlinkErr)
		return
	}
	rootAddr := os.Getenv("SOCKDIAG_ROOT_ADDR")
	for _, s := range socks {
		switch s.Local.String() {
		case rootAddr:
			r.RootFound, r.RootPID, r.RootUID = true, s.PID, s.UID
		case ln.Addr().String():
			r.OwnPID, r.OwnUID, r.Counters = s.PID, s.UID, s.CountersAvailable
		}
	}
}
