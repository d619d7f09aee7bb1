package procfs

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The process scan and the held machine-wide /proc files use raw system
// calls. A /proc file is made from kernel memory when it is read and never
// waits for a disk or a device, so the runtime's bookkeeping around a
// blocking call is not needed; and it costs: the first ordinary system call
// after an idle spell wakes the runtime's monitor thread (sysmon), which then
// polls every 20 µs for as long as any goroutine runs — through a whole scan,
// about a fifth of the scan's CPU on a small VM. sysfs files (a driver's
// sensor may sleep on a bus) and files read from a process's memory
// (cmdline, environ) keep the ordinary calls, which let the runtime run
// other goroutines while one waits.

// procOpenAt opens dir/<name><suffix> of a procfs relative to dirfd (see
// openAt), read-only with flags added.
func procOpenAt[S []byte | string](dirfd int, pathBuf *[]byte, name S, suffix string, flags int) (int, error) {
	return openat(unix.RawSyscall6, dirfd, cPath(pathBuf, name, suffix), flags)
}

func procClose(fd int) { unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0) }

// procRead reads into b with read(2), or pread(2) at off when off ≥ 0.
func procRead(fd int, b []byte, off int64) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if off > 0 {
		// The rest of a file larger than the buffer (rare: the buffer
		// grows to fit). 32-bit ABIs pass a 64-bit offset in a register
		// pair (aligned on arm), so only offset 0 is the same call
		// everywhere.
		return unix.Pread(fd, b, off)
	}
	var r uintptr
	var e unix.Errno
	if off == 0 {
		r, _, e = unix.RawSyscall6(unix.SYS_PREAD64, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0, 0, 0)
	} else {
		r, _, e = unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	}
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func procGetdents(dirfd int, b []byte) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_GETDENTS64, uintptr(dirfd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func procRewind(dirfd int) error {
	if _, _, e := unix.RawSyscall(unix.SYS_LSEEK, uintptr(dirfd), 0, 0); e != 0 {
		return e
	}
	return nil
}
