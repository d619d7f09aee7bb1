//go:build linux && (arm || 386 || mips || mipsle)

package procfs

import "golang.org/x/sys/unix"

// sysFstat is the fstat(2) that unix.Fstat calls on this architecture.
const sysFstat = unix.SYS_FSTAT64
