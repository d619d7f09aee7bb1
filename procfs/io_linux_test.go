package procfs

import (
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/socktop/socktop/procfs/proctest"
)

// Bytes this process writes and fsyncs show in its write_bytes and wchar,
// through ProcessIO and through an IOReader's held file alike.
func TestProcessIOSelf(t *testing.T) {
	fs := liveFS(t)
	self := int32(os.Getpid())
	r := fs.NewIOReader()
	defer r.Close()
	before, err := fs.ProcessIO(self)
	if err != nil {
		t.Fatal(err)
	}
	procs := []Process{{PID: self}}
	res := r.Read(procs, nil) // opens and holds the file
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	const size = 4 << 20
	f, err := os.Create(filepath.Join(proctest.DiskDir(t), "w"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	after, err := fs.ProcessIO(self)
	if err != nil {
		t.Fatal(err)
	}
	if d := after.WriteBytes - before.WriteBytes; d < size {
		t.Errorf("write_bytes grew by %d after writing %d bytes with fsync", d, size)
	}
	if d := after.WChar - before.WChar; d < size {
		t.Errorf("wchar grew by %d after writing %d bytes", d, size)
	}
	res = r.Read(procs, res)
	if r.h.count() != 1 {
		t.Errorf("%d files held, want 1", r.h.count())
	}
	if g := res[0]; g.Err != nil || g.IO.WriteBytes < after.WriteBytes || g.IO.WChar < after.WChar {
		t.Errorf("held file read %+v, %v; a fresh open read %+v", g.IO, g.Err, after)
	}
}

// heldOn counts this process's descriptors open on path.
func heldOn(t *testing.T, path string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && l == path {
			n++
		}
	}
	return n
}

// A held file never outlives its process, and an exited process reads as
// gone, not as zeros.
func TestIOReaderExited(t *testing.T) {
	fs := liveFS(t)
	cmd := proctest.StartSleeper(t, nil)
	pid := int32(cmd.Process.Pid)
	path := "/proc/" + strconv.Itoa(int(pid)) + "/io"
	r := fs.NewIOReader()
	defer r.Close()
	procs := []Process{{PID: pid}}
	res := r.Read(procs, nil)
	if res[0].Err != nil {
		t.Fatalf("read a live child: %v", res[0].Err)
	}
	if n := heldOn(t, path); n != 1 || r.h.count() != 1 {
		t.Errorf("%d descriptors on %s (%d held), want 1", n, path, r.h.count())
	}
	cmd.Process.Kill()
	cmd.Wait()
	res = r.Read(procs, res)
	if !errors.Is(res[0].Err, ErrNotFound) || res[0].IO != (ProcIO{}) {
		t.Errorf("exited child read %+v, %v; want ErrNotFound", res[0].IO, res[0].Err)
	}
	if n := heldOn(t, path); n != 0 || r.h.count() != 0 {
		t.Errorf("%d descriptors on %s (%d held) after the process exited", n, path, r.h.count())
	}
	if _, err := fs.ProcessIO(pid); !errors.Is(err, ErrNotFound) {
		t.Errorf("ProcessIO of an exited process: %v", err)
	}
	// Close releases what is held.
	r.Read([]Process{{PID: int32(os.Getpid())}}, res)
	r.Close()
	if n := heldOn(t, "/proc/"+strconv.Itoa(os.Getpid())+"/io"); n != 0 || r.h.count() != 0 {
		t.Errorf("%d descriptors left after Close", n)
	}
}

// Another user's process is unknown (fs.ErrPermission), never zeros, also
// through a file held open since a privileged read: the kernel checks at
// every read. The reader's own process stays readable (the kernel lets a
// thread group read itself).
func TestIOReaderOtherUser(t *testing.T) {
	fs := liveFS(t)
	child := int32(proctest.StartSleeper(t, nil).Process.Pid)
	self := int32(os.Getpid())
	r := fs.NewIOReader()
	defer r.Close()
	procs := []Process{{PID: child}, {PID: self}}
	if self < child {
		procs[0], procs[1] = procs[1], procs[0] // ascending: both files held
	}
	res := r.Read(procs, nil)
	if res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("as root: %v, %v", res[0].Err, res[1].Err)
	}
	proctest.OnThread(t, proctest.As(proctest.Nobody, proctest.Nobody), func() {
		if _, err := fs.ProcessIO(child); !errors.Is(err, iofs.ErrPermission) {
			t.Errorf("ProcessIO(child) as nobody: %v, want a permission error", err)
		}
		res = r.Read(procs, res)
	})
	for i, g := range res {
		if procs[i].PID == child && (!errors.Is(g.Err, iofs.ErrPermission) || g.IO != (ProcIO{})) {
			t.Errorf("root's child read as nobody through a held file: %+v, %v; want a permission error", g.IO, g.Err)
		}
		if procs[i].PID == self && (g.Err != nil || g.IO.RChar == 0) {
			t.Errorf("own process read as nobody through its held file: %+v, %v", g.IO, g.Err)
		}
	}
}

// A process ReadIf skips keeps its held file (no reopen later) and reads
// as ErrSkipped, not as zeros.
func TestIOReaderReadIf(t *testing.T) {
	fs := liveFS(t)
	self, child := int32(os.Getpid()), int32(proctest.StartSleeper(t, nil).Process.Pid)
	procs := []Process{{PID: self}, {PID: child}}
	if child < self {
		procs[0], procs[1] = procs[1], procs[0]
	}
	r := fs.NewIOReader()
	defer r.Close()
	res := r.Read(procs, nil)
	skipped := "/proc/" + strconv.Itoa(int(procs[0].PID)) + "/io"
	before := heldOn(t, skipped)
	res = r.ReadIf(procs, []bool{false}, res) // the second is past need's end: read
	if !errors.Is(res[0].Err, ErrSkipped) || res[0].IO != (ProcIO{}) || res[1].Err != nil {
		t.Errorf("ReadIf: %+v", res)
	}
	if r.h.count() != 2 || heldOn(t, skipped) != before || before != 1 {
		t.Errorf("%d held, %d on the skipped process's file (%d before)", r.h.count(), heldOn(t, skipped), before)
	}
	if res = r.ReadIf(procs, []bool{true, false}, res); res[0].Err != nil || !errors.Is(res[1].Err, ErrSkipped) {
		t.Errorf("ReadIf again: %+v", res)
	}
}
