package proctest

import (
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Nobody is the unprivileged user tests read as.
const Nobody = 65534

// OnThread runs fn on a locked OS thread after setup changed that thread's
// credentials (the kernel checks /proc access against the calling
// thread's), so one test reads as another user while the rest of the
// process stays root. The thread is thrown away afterwards. It skips
// without root.
func OnThread(t testing.TB, setup func() error, fn func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to change a thread's credentials")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		if err := setup(); err != nil {
			t.Errorf("change thread credentials: %v", err)
			return
		}
		fn()
	}()
	<-done
}

// As sets the thread's effective gid, then uid (which clears its effective
// capabilities), as for a program run as that user.
func As(uid, gid int) func() error {
	return func() error {
		keep := ^uintptr(0) // -1: unchanged
		for _, c := range [2]struct{ call, id uintptr }{{unix.SYS_SETRESGID, uintptr(gid)}, {unix.SYS_SETRESUID, uintptr(uid)}} {
			if _, _, e := unix.RawSyscall(c.call, keep, c.id, keep); e != 0 {
				return e
			}
		}
		return nil
	}
}

// Without drops one capability from the thread's effective set, keeping
// it root otherwise (e.g. CAP_SYS_PTRACE: /proc/<pid>/fd of another root
// process still lists, but its links need ptrace access).
func Without(capability int) func() error {
	return func() error {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return err
		}
		data[0].Effective &^= 1 << capability
		return unix.Capset(&hdr, &data[0])
	}
}

// DiskDir is a temporary directory on a block device: memory file systems
// (tmpfs, ramfs) count no write_bytes. It skips where there is none.
func DiskDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if fsType := uint32(st.Type); fsType == unix.TMPFS_MAGIC || fsType == unix.RAMFS_MAGIC {
		t.Skipf("%s is on a memory file system: no storage writes to count", dir)
	}
	return dir
}

// Command returns cmd set up to be killed by the kernel should the test
// process die first, so a crashed test leaves no children behind. Start it
// with Start.
func Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// spawner is one OS thread that lives as long as the process and starts
// every child: the kernel sends Pdeathsig when the thread that forked the
// child exits, and OnThread throws its threads away.
var spawner struct {
	once sync.Once
	reqs chan func()
}

// Start starts cmd from the spawner thread.
func Start(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan func())
		go func() {
			runtime.LockOSThread()
			for f := range spawner.reqs {
				f()
			}
		}()
	})
	errc := make(chan error, 1)
	spawner.reqs <- func() { errc <- cmd.Start() }
	return <-errc
}

// StartSleeper starts a `sleep` child, killed and reaped when the test
// ends; attr, if given, sets its credentials or namespaces.
func StartSleeper(t testing.TB, attr *syscall.SysProcAttr) *exec.Cmd {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	cmd := Command(sleep, "600")
	if attr != nil {
		attr.Pdeathsig = syscall.SIGKILL
		cmd.SysProcAttr = attr
	}
	if err := Start(cmd); err != nil {
		t.Skipf("cannot start a child (%+v): %v", attr, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// TopUpProcesses starts sleepers until the machine runs n processes, for
// benchmarks at a given process count; they are killed and reaped when b
// ends (or killed by the kernel should the benchmark die first). Each
// child's pidfd is let go at once: 10,000 of them would spend half of this
// process's descriptors, which a monitor on a real server does not hold.
func TopUpProcesses(b *testing.B, n int) {
	b.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range ents {
		if c := e.Name()[0]; c >= '1' && c <= '9' {
			n--
		}
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		b.Skip("no sleep binary")
	}
	var pids []int
	b.Cleanup(func() {
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		for _, pid := range pids {
			syscall.Wait4(pid, nil, 0, nil) // our child: its pid is not reused before this
		}
	})
	for range max(n, 0) {
		cmd := Command(sleep, "600")
		if err := Start(cmd); err != nil {
			b.Skipf("cannot start sleeper %d: %v", len(pids)+1, err)
		}
		pids = append(pids, cmd.Process.Pid)
		cmd.Process.Release()
	}
}

// OpenTCPPairs holds n loopback TCP connections open (2n sockets), each
// with a little traffic, until tb ends; it skips when RLIMIT_NOFILE is too
// low for them and spare descriptors besides.
func OpenTCPPairs(tb testing.TB, n, spare int) {
	tb.Helper()
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil || rl.Cur < uint64(2*n+spare) {
		tb.Skipf("RLIMIT_NOFILE %d too low for %d sockets", rl.Cur, 2*n)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	conns := make([]net.Conn, 0, 2*n)
	tb.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			tb.Fatalf("dial after %d connections: %v", len(conns)/2, err)
		}
		s, err := ln.Accept()
		if err != nil {
			tb.Fatal(err)
		}
		c.Write([]byte("hello"))
		conns = append(conns, c, s)
	}
}
