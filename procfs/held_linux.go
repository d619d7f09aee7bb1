package procfs

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// read reads path, through its held file when there is one that still
// reads, and calls parse on the bytes (valid only during parse).
func (h *HeldFiles) read(path string, parse func([]byte) error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.buf == nil {
		h.buf = make([]byte, 4096)
		h.path = make([]byte, 0, 128)
	}
	f, known := h.files[path]
	if known && f.fd >= 0 {
		mode := fromStart
		if f.proc {
			mode |= rawCalls
		}
		if n, err := readFull(int(f.fd), &h.buf, mode); err == nil && n > 0 {
			return parse(h.buf[:n])
		}
		closeHeld(f.fd) // gone (an unplugged sensor) or no longer readable
		delete(h.files, path)
		known = false
	}
	fd, err := openAt(unix.AT_FDCWD, &h.path, path, "")
	if err != nil {
		return fmt.Errorf("read %s: %w", path, &os.PathError{Op: "open", Path: path, Err: err})
	}
	n, err := readFull(fd, &h.buf, fromPosition)
	switch {
	case err != nil || n == 0 || known: // known here: a path found not holdable
		unix.Close(fd)
	case !h.keep(path, fd):
		unix.Close(fd)
		h.files[path] = heldFile{fd: -1}
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, &os.PathError{Op: "read", Path: path, Err: err})
	}
	return parse(h.buf[:n])
}

// keep holds fd open for path when there is room and it is a file of a
// procfs or a sysfs.
func (h *HeldFiles) keep(path string, fd int) bool {
	if len(h.files) >= maxHeldPaths {
		return false
	}
	fsType := fileSystem(fd)
	if fsType == 0 || !heldFiles.take() {
		return false
	}
	// A procfs file is read with raw calls, but not a mountinfo: making
	// it takes the mount namespace's lock, which a storm of mounts holds,
	// and a raw call would keep its thread (with GOMAXPROCS 1 the whole
	// agent) from the runtime meanwhile.
	proc := fsType == unix.PROC_SUPER_MAGIC && !strings.HasSuffix(path, "/mountinfo")
	h.files[path] = heldFile{fd: int32(fd), proc: proc}
	return true
}

// fileSystem is the type of fd's file system when it is a procfs or a
// sysfs, whose files a read from offset 0 regenerates (so they can be held),
// else 0.
func fileSystem(fd int) int64 {
	var sfs unix.Statfs_t
	if unix.Fstatfs(fd, &sfs) != nil || (sfs.Type != unix.PROC_SUPER_MAGIC && sfs.Type != unix.SYSFS_MAGIC) {
		return 0
	}
	return int64(sfs.Type)
}
