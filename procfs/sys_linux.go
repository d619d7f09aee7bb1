package procfs

import (
	"os"

	"github.com/tklauser/go-sysconf"
	"golang.org/x/sys/unix"
)

func clockTicks() uint64 {
	if v, err := sysconf.Sysconf(sysconf.SC_CLK_TCK); err == nil && v > 0 {
		return uint64(v)
	}
	return 100
}

func pageSize() uint64 {
	if v, err := sysconf.Sysconf(sysconf.SC_PAGE_SIZE); err == nil && v > 0 {
		return uint64(v)
	}
	return uint64(os.Getpagesize())
}

func unameMachine() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Machine[:])
}

func statfs(path string) (StatfsResult, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return StatfsResult{}, err
	}
	bs := uint64(st.Bsize)
	if st.Frsize > 0 {
		bs = uint64(st.Frsize)
	}
	return StatfsResult{
		Total:     uint64(st.Blocks) * bs,
		Free:      uint64(st.Bfree) * bs,
		Available: uint64(st.Bavail) * bs,
	}, nil
}
