package procfs

import (
	"errors"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs/proctest"
)

// TestHeldFilesReadFresh checks that a view of Holding reads the live
// files through one held descriptor each, that each read is a fresh
// reading (/proc/uptime moves), and that Close gives every file and its
// place in the budget back.
func TestHeldFilesReadFresh(t *testing.T) {
	fs, err := DefaultFS()
	if err != nil {
		t.Fatal(err)
	}
	// The budget is the process's: let earlier tests' collected samplers
	// give their files back first, not in the middle of this count.
	runtime.GC()
	time.Sleep(20 * time.Millisecond)
	h := NewHeldFiles()
	v := fs.Holding(h)
	budget := heldFiles.held.Load()
	first, err := v.Uptime()
	if err != nil {
		t.Fatal(err)
	}
	var st Stat
	for range 3 {
		if err := v.ReadStat(&st); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Meminfo(); err != nil {
			t.Fatal(err)
		}
	}
	if len(st.Cores) == 0 {
		t.Errorf("a held /proc/stat parsed to no cores: %+v", st)
	}
	time.Sleep(30 * time.Millisecond)
	second, err := v.Uptime()
	if err != nil {
		t.Fatal(err)
	}
	if second.Seconds <= first.Seconds {
		t.Errorf("the held /proc/uptime read %v then %v: not read afresh", first.Seconds, second.Seconds)
	}
	if n := h.Held(); n != 3 {
		t.Errorf("%d files held, want 3 (uptime, stat, meminfo)", n)
	}
	if d := heldFiles.held.Load() - budget; d != 3 {
		t.Errorf("the budget counts %d more held files, want 3", d)
	}
	h.Close()
	if n := h.Held(); n != 0 {
		t.Errorf("%d files held after Close", n)
	}
	if d := heldFiles.held.Load() - budget; d != 0 {
		t.Errorf("the budget counts %d held files after Close, want 0", d)
	}
	if _, err := v.Meminfo(); err != nil || h.Held() != 1 {
		t.Errorf("a read after Close: err %v, %d held, want nil and 1", err, h.Held())
	}
	h.Close()
}

// TestHeldFilesNotOnFixtures checks that a fixture tree's files, which can
// be replaced under an open descriptor, are read but never held.
func TestHeldFilesNotOnFixtures(t *testing.T) {
	dir := filepath.Join("testdata", "fixtures", "x86-server")
	fs, err := NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys"))
	if err != nil {
		t.Fatal(err)
	}
	h := NewHeldFiles()
	defer h.Close()
	v := fs.Holding(h)
	for range 2 {
		if _, err := v.Meminfo(); err != nil {
			t.Fatal(err)
		}
		if _, err := v.LoadAvg(); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.Held(); n != 0 {
		t.Errorf("%d fixture files held, want 0", n)
	}
}

// TestHeldFileOfAGoneProcess checks that a held file that no longer reads
// (its process exited) is dropped and its read fails as a fresh one would.
func TestHeldFileOfAGoneProcess(t *testing.T) {
	fs, err := DefaultFS()
	if err != nil {
		t.Fatal(err)
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	cmd := proctest.Command(sleep, "60")
	if err := proctest.Start(cmd); err != nil {
		t.Fatal(err)
	}
	h := NewHeldFiles()
	defer h.Close()
	v := fs.Holding(h)
	path := filepath.Join(fs.ProcRoot(), strconv.Itoa(cmd.Process.Pid), "stat")
	read := func() error { return v.readWith(path, func([]byte) error { return nil }) }
	if err := read(); err != nil || h.Held() != 1 {
		t.Fatalf("read of a live process's stat: err %v, %d held", err, h.Held())
	}
	cmd.Process.Kill()
	cmd.Wait()
	err = read()
	if err == nil || !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("read of a reaped process's held stat: %v, want a not-exist error", err)
	}
	if n := h.Held(); n != 0 {
		t.Errorf("%d files held after the process was reaped, want 0", n)
	}
}

// A held /proc file larger than the read buffer is read whole, again and
// again: the reads after the first buffer go on from where it ended (an
// offset other than 0), not from the start.
func TestHeldFileLargerThanTheBuffer(t *testing.T) {
	const path = "/proc/self/mountinfo"
	want, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err)
	}
	h := NewHeldFiles()
	defer h.Close()
	h.buf = make([]byte, 64) // far smaller than the file
	h.path = make([]byte, 0, 128)
	for i := range 3 {
		var got []byte
		if err := h.read(path, func(b []byte) error { got = append([]byte(nil), b...); return nil }); err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("read %d of a held %s: %d bytes, want the %d of a fresh read", i, path, len(got), len(want))
		}
		h.buf = h.buf[:64] // a small buffer again for the next read
	}
	if h.Held() != 1 {
		t.Errorf("%d files held, want 1", h.Held())
	}
}
