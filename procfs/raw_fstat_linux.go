//go:build linux && (amd64 || arm64 || riscv64 || arm || 386)

package procfs

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// procFstat is fstat(2) as a raw call, on the architectures whose kernel
// stat is unix.Stat_t as it stands (what unix.Fstat calls there).
func procFstat(fd int, st *unix.Stat_t) error {
	if _, _, e := unix.RawSyscall(sysFstat, uintptr(fd), uintptr(unsafe.Pointer(st)), 0); e != 0 {
		return e
	}
	return nil
}

// procFstatAt is fstatat(2) of the NUL-terminated path p relative to dirfd,
// not following a final symlink, as a raw call (what unix.Fstatat calls).
func procFstatAt(dirfd int, p []byte, st *unix.Stat_t) error {
	if _, _, e := unix.RawSyscall6(sysFstatat, uintptr(dirfd), uintptr(unsafe.Pointer(&p[0])), uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0); e != 0 {
		return e
	}
	return nil
}
