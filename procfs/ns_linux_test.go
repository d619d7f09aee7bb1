package procfs

import (
	"errors"
	iofs "io/fs"
	"os"
	"os/exec"
	"syscall"
	"testing"
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
	same := startSleeper(t)
	if ino, err := fs.NetNamespace(int32(same.Process.Pid)); err != nil || ino != self {
		t.Errorf("child in our namespace: %d, %v; want %d", ino, err, self)
	}
	sleep, _ := exec.LookPath("sleep")
	other := exec.Command(sleep, "60")
	other.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	if err := other.Start(); err != nil {
		t.Skipf("cannot start a child in a new network namespace: %v", err)
	}
	defer func() { other.Process.Kill(); other.Wait() }()
	if ino, err := fs.NetNamespace(int32(other.Process.Pid)); err != nil || ino == self || ino == 0 {
		t.Errorf("child in a new namespace: %d, %v; ours is %d", ino, err, self)
	}
	onThreadAs(t, 65534, func() {
		if _, err := fs.NetNamespace(int32(same.Process.Pid)); !errors.Is(err, iofs.ErrPermission) {
			t.Errorf("root's child as nobody: %v, want a permission error", err)
		}
	})
}
