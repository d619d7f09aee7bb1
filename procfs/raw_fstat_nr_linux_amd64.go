//go:build linux

package procfs

import "golang.org/x/sys/unix"

const (
	sysFstat   = unix.SYS_FSTAT
	sysFstatat = unix.SYS_NEWFSTATAT
)
