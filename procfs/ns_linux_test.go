package procfs

import (
	"errors"
	iofs "io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/socktop/socktop/procfs/proctest"
)

// A child in a new network namespace reads another namespace than ours;
// one in ours reads ours; as another user it is unknown.
func TestNetNamespaceLive(t *testing.T) {
	fs := liveFS(t)
	self, err := fs.NetNamespace(0)
	if err != nil {
		t.Fatal(err)
	}
	if own, err := fs.NetNamespace(int32(os.Getpid())); err != nil || own != self {
		t.Fatalf("own pid: %d, %v; self: %d", own, err, self)
	}
	same := proctest.StartSleeper(t, nil)
	if ino, err := fs.NetNamespace(int32(same.Process.Pid)); err != nil || ino != self {
		t.Errorf("child in our namespace: %d, %v; want %d", ino, err, self)
	}
	other := proctest.StartSleeper(t, &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET})
	if ino, err := fs.NetNamespace(int32(other.Process.Pid)); err != nil || ino == self || ino == 0 {
		t.Errorf("child in a new namespace: %d, %v; ours is %d", ino, err, self)
	}
	proctest.OnThread(t, proctest.As(proctest.Nobody, proctest.Nobody), func() {
		if _, err := fs.NetNamespace(int32(same.Process.Pid)); !errors.Is(err, iofs.ErrPermission) {
			t.Errorf("root's child as nobody: %v, want a permission error", err)
		}
	})
}
