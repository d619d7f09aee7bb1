package procfs

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLiveProcessDetail(t *testing.T) {
	fs := liveFS(t)
	child := startChild(t, "sleep")
	d, err := fs.ProcessDetail(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	wd, _ := os.Getwd()
	switch {
	case d.Exe != nil && strings.HasPrefix(filepath.Base(*d.Exe), "qemu-"):
		t.Logf("running under %s: /proc/<pid>/exe names the emulator", *d.Exe)
	case d.Exe == nil || *d.Exe != exe:
		t.Errorf("exe = %v, want %s", d.Exe, exe)
	}
	if d.Cwd == nil || *d.Cwd != wd {
		t.Errorf("cwd = %v, want %s", d.Cwd, wd)
	}
	if d.UID != uint32(os.Getuid()) || d.GID != uint32(os.Getgid()) || int(d.PPID) != os.Getppid() {
		t.Errorf("ids: %+v", d)
	}
	if len(d.Cmdline) != len(os.Args) || d.Cmdline[0] != os.Args[0] {
		t.Errorf("cmdline %q, want %q", d.Cmdline, os.Args)
	}
	if d.FDCount == nil || *d.FDCount < 3 || d.ReadBytes == nil || d.VoluntaryCtxtSwitches == nil {
		t.Errorf("fd/io/ctxt unknown for own process: %+v", d)
	}
	if len(d.Threads) != int(d.NumThreads) && len(d.Threads) < 1 {
		t.Errorf("threads %d vs %d", len(d.Threads), d.NumThreads)
	}
	if !slices.Contains(d.Children, int32(child.Process.Pid)) {
		t.Errorf("children %v lack %d", d.Children, child.Process.Pid)
	}
	if since := time.Since(time.Unix(d.StartUnix, 0)); since < -2*time.Second || since > time.Hour {
		t.Errorf("start %v ago", since)
	}
	if _, err := fs.ProcessDetail(1 << 30); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing pid: err = %v, want ErrNotFound", err)
	}
}

// Identity tells a process from its threads and gives the start time the
// process list and detail give.
func TestLiveIdentity(t *testing.T) {
	fs := liveFS(t)
	pid := os.Getpid()
	me, err := fs.Identity(pid)
	if err != nil {
		t.Fatal(err)
	}
	d, err := fs.ProcessDetail(pid)
	if err != nil {
		t.Fatal(err)
	}
	if me.PID != int32(pid) || me.TGID != int32(pid) || me.StartUnix != d.StartUnix || me.StartTime != d.StartTime {
		t.Errorf("identity %+v, detail start %d/%d", me, d.StartUnix, d.StartTime)
	}
	var thread int32
	for _, th := range d.Threads {
		if th.TID != int32(pid) {
			thread = th.TID
		}
	}
	if thread == 0 {
		t.Skip("a single-threaded test binary")
	}
	th, err := fs.Identity(int(thread))
	if err != nil || th.PID != thread || th.TGID != int32(pid) {
		t.Errorf("thread %d: %+v %v, want the thread group %d", thread, th, err, pid)
	}
	if _, err := fs.Identity(1 << 30); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing pid: %v", err)
	}
}
