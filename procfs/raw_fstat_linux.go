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
