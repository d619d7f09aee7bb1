//go:build linux && !(amd64 || arm64 || riscv64 || arm || 386)

package procfs

import "golang.org/x/sys/unix"

// procFstat is unix.Fstat where the kernel's stat differs from
// unix.Stat_t (x/sys converts it) or has no fstat call.
func procFstat(fd int, st *unix.Stat_t) error { return unix.Fstat(fd, st) }

// procFstatAt is unix.Fstatat of the NUL-terminated path p, not following
// a final symlink.
func procFstatAt(dirfd int, p []byte, st *unix.Stat_t) error {
	return unix.Fstatat(dirfd, string(p[:len(p)-1]), st, unix.AT_SYMLINK_NOFOLLOW)
}
