package sockdiag

import (
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// onThread runs fn on a locked OS thread after setup changed that thread's
// credentials (the kernel checks /proc access with the calling thread's);
// the thread is thrown away afterwards. It needs root.
func onThread(t *testing.T, setup func() error, fn func()) {
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

// asNobody sets the thread's effective uid to nobody (which clears its
// effective capabilities).
func asNobody() error {
	keep := ^uintptr(0)
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, keep, 65534, keep); e != 0 {
		return e
	}
	return nil
}

// withoutPtrace keeps the thread root but drops CAP_SYS_PTRACE from its
// effective set: /proc/<pid>/fd of a root process still lists, but its links
// need ptrace access (as for a process root may not trace in a container).
func withoutPtrace() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[0].Effective &^= 1 << unix.CAP_SYS_PTRACE
	return unix.Capset(&hdr, &data[0])
}

// startHolder starts a sleeping child holding f (a socket), then closes
// this process's copy so that the child is its only holder.
func startHolder(t *testing.T, f *os.File) int {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	cmd := exec.Command(sleep, "60")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// A process whose fds cannot be read is not readable — whether its fd
// directory refuses to open (another user's) or opens but its links need a
// ptrace access the caller lacks — and its socket has no owner; a process
// that was read is readable, with its socket attributed.
func TestFDReadable(t *testing.T) {
	needNetlink(t, NewCollector("/proc"))
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ino := connInode(t, conn)
	f, err := conn.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	child := startHolder(t, f)
	self := os.Getpid()
	opts := Options{TCP: true, Processes: true}
	owner := func(c *Collector) int {
		t.Helper()
		socks, err := c.Collect(nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range socks {
			if s.Inode == ino {
				return s.PID
			}
		}
		t.Fatalf("socket %d not listed", ino)
		return -1
	}

	c := NewCollector("/proc")
	if c.FDReadable(self, 0) {
		t.Errorf("readable before any Collect")
	}
	if got := owner(c); got != child {
		t.Errorf("socket owner %d, want the child %d", got, child)
	}
	if !c.FDReadable(self, 0) || !c.FDReadable(child, 0) {
		t.Errorf("as root: self readable %v, child readable %v", c.FDReadable(self, 0), c.FDReadable(child, 0))
	}

	for _, tc := range []struct {
		name  string
		setup func() error
		uid   uint32 // the caller's uid for the readability of an unscanned process
	}{{"nobody", asNobody, 65534}, {"root without CAP_SYS_PTRACE", withoutPtrace, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollector("/proc")
			var got int
			onThread(t, tc.setup, func() { got = owner(c) })
			if got != 0 {
				t.Errorf("socket owner %d, want none (its holder's fds are unreadable)", got)
			}
			if c.FDReadable(child, 0) {
				t.Errorf("child %d readable", child)
			}
			if !c.FDReadable(self, uint32(tc.uid)) {
				t.Errorf("own process not readable")
			}
			// Not scanned (appeared later) and owned by root: unknown when
			// root's processes were refused to another user, not to root.
			if got, want := c.FDReadable(1<<30, 0), tc.uid == 0; got != want {
				t.Errorf("unscanned root process readable = %v, want %v", got, want)
			}
		})
	}
}
