package sockdiag

import (
	"net"
	"os"
	"os/exec"
	"testing"

	"github.com/socktop/socktop/procfs/proctest"
	"golang.org/x/sys/unix"
)

// startHolder starts a sleeping child holding f (a socket), then closes
// this process's copy so that the child is its only holder.
func startHolder(t *testing.T, f *os.File) int {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	cmd := proctest.Command(sleep, "60")
	cmd.ExtraFiles = []*os.File{f}
	if err := proctest.Start(cmd); err != nil {
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
	}{{"nobody", proctest.As(proctest.Nobody, proctest.Nobody), proctest.Nobody}, {"root without CAP_SYS_PTRACE", proctest.Without(unix.CAP_SYS_PTRACE), 0}} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollector("/proc")
			var got int
			proctest.OnThread(t, tc.setup, func() { got = owner(c) })
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
