//go:build linux && (amd64 || arm64 || riscv64)

package procfs

import "golang.org/x/sys/unix"

const sysFstat = unix.SYS_FSTAT
