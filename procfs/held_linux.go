package procfs

import (
	"fmt"
	"os"

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
		if n, err := readFull(int(f.fd), &h.buf, true); err == nil && n > 0 {
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
	n, err := readFull(fd, &h.buf, false)
	switch {
	case err != nil || n == 0 || (known && f.fd < 0):
		unix.Close(fd)
	case !known && (len(h.files) >= maxHeldPaths || !holdable(fd) || !heldFiles.take()):
		unix.Close(fd)
		h.files[path] = heldFile{fd: -1}
	default:
		h.files[path] = heldFile{fd: int32(fd)}
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, &os.PathError{Op: "read", Path: path, Err: err})
	}
	return parse(h.buf[:n])
}

// holdable reports whether fd is a file of a procfs or sysfs, whose
// content a read from offset 0 regenerates.
func holdable(fd int) bool {
	var sfs unix.Statfs_t
	return unix.Fstatfs(fd, &sfs) == nil && (sfs.Type == unix.PROC_SUPER_MAGIC || sfs.Type == unix.SYSFS_MAGIC)
}
