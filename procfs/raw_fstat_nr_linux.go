//go:build linux && (arm64 || riscv64)

package procfs

import "golang.org/x/sys/unix"

const (
	sysFstat   = unix.SYS_FSTAT
	sysFstatat = unix.SYS_FSTATAT
)
