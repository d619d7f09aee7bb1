package procfs

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"runtime"
	"strconv"
	"sync"
	"syscall"
)

// ProcessIO reads /proc/<pid>/io: the process's storage and read/write
// syscall byte counters (all its threads, live and exited; not its
// children). It keeps no state. Every error means the counters are unknown,
// never zero:
//   - ErrNotFound (wrapped): the process is gone (ENOENT, ESRCH);
//   - an error for which errors.Is(err, fs.ErrPermission) holds: another
//     user's process without CAP_SYS_PTRACE (the kernel checks ptrace
//     access at every read);
//   - ErrMalformed (wrapped): a file ParseProcIO does not understand.
//
// The agent reads many processes per sample through an IOReader instead,
// which keeps the files open between samples.
func (fs *FS) ProcessIO(pid int32) (ProcIO, error) {
	var io ProcIO
	if pid <= 0 {
		return io, fmt.Errorf("process %d: %w", pid, ErrNotFound)
	}
	path := fs.procPath(strconv.Itoa(int(pid)), "io")
	err := fs.readWith(path, func(b []byte) error {
		var err error
		io, err = ParseProcIO(b)
		return err
	})
	if err != nil {
		return ProcIO{}, pidFileError(pid, "io", err)
	}
	return io, nil
}

// pidFileError maps the errors of reading a file of /proc/<pid> onto what
// callers branch on: gone (ErrNotFound) or not permitted (fs.ErrPermission).
func pidFileError(pid int32, file string, err error) error {
	switch {
	case errors.Is(err, iofs.ErrNotExist), errors.Is(err, syscall.ESRCH):
		return fmt.Errorf("process %d %s: %w", pid, file, ErrNotFound)
	case errors.Is(err, iofs.ErrPermission):
		return fmt.Errorf("process %d %s: %w", pid, file, iofs.ErrPermission)
	}
	return fmt.Errorf("process %d %s: %w", pid, file, err)
}

// IOReader reads /proc/<pid>/io of every process of a sample. On Linux it
// keeps each file open for the next sample, which then costs one pread per
// process instead of openat+read+close (the path lookup and file set-up
// are most of the cost, as for the sampler's held stat files). The kernel
// checks ptrace access at every read, so a held file never shows what a
// fresh open would refuse; once the process is gone, or its pid reused, a
// read fails with ESRCH and the pid is opened afresh.
//
// An IOReader keeps no other state. Safe for use by one goroutine at a
// time; concurrent calls are serialized.
type IOReader struct {
	fs *FS
	mu sync.Mutex
	h  *ioHeld
}

// IOResult is one process's io counters, or why they are unknown: Err is
// nil, ErrNotFound (gone), fs.ErrPermission (not permitted), ErrMalformed,
// ErrSkipped (ReadIf was told not to read it) or another read error,
// compared with errors.Is. Errors are not wrapped, so a sample with many
// unreadable processes allocates nothing.
type IOResult struct {
	IO  ProcIO
	Err error
}

// NewIOReader returns a reader of fs's processes. Close it to release the
// files it holds open (one per process, bounded by RLIMIT_NOFILE); one that
// is garbage collected releases them too.
func (fs *FS) NewIOReader() *IOReader {
	r := &IOReader{fs: fs, h: newIOHeld()}
	runtime.AddCleanup(r, (*ioHeld).closeAll, r.h)
	return r
}

// Read appends one IOResult per process of procs, in the same order, to
// dst[:0] and returns it. procs in ascending pid order (as a
// ProcessSampler lists them) lets every file be held; other orders are read
// correctly, just with fewer held files.
func (r *IOReader) Read(procs []Process, dst []IOResult) []IOResult {
	return r.ReadIf(procs, nil, dst)
}

// ErrSkipped is the IOResult.Err of a process ReadIf did not read.
var ErrSkipped = errors.New("io not read")

// ReadIf is Read for the processes i where need[i] is true (and those past
// the end of need: all when need is nil); the others get ErrSkipped and
// keep their held files for a later read.
func (r *IOReader) ReadIf(procs []Process, need []bool, dst []IOResult) []IOResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.h.read(r.fs, procs, need, dst[:0])
}

// Close releases the held files; a later Read opens them again.
func (r *IOReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.h.closeAll()
	return nil
}
