//go:build linux && (arm || 386)

package procfs

import "golang.org/x/sys/unix"

const (
	sysFstat   = unix.SYS_FSTAT64
	sysFstatat = unix.SYS_FSTATAT64
)
