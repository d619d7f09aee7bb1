package procfs

import (
	"os"
	"strings"

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

// readInto reads the whole file at path, appending to buf. Files in /proc
// report size 0, so it reads until EOF and grows buf as needed. Raw syscalls
// skip the os.File machinery (poller registration, finalizer), which costs
// as much as the read of a small /proc file.
func readInto(path string, rb *readBuf) ([]byte, error) {
	buf := rb.data[:0]
	if strings.IndexByte(path, 0) >= 0 {
		return buf, &os.PathError{Op: "open", Path: path, Err: unix.EINVAL}
	}
	fd, err := openAt(unix.AT_FDCWD, &rb.path, path, "")
	if err != nil {
		return buf, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return buf, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n <= 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// readPrefix reads at most len(buf) bytes of the file at path (a
// NUL-free path built in *pathBuf's storage) into buf, and reports whether
// the file holds more, with raw syscalls as readInto does.
func readPrefixInto(path []byte, pathBuf *[]byte, buf []byte) (int, bool, error) {
	fd, err := openAt(unix.AT_FDCWD, pathBuf, path, "")
	if err != nil {
		return 0, false, err
	}
	defer unix.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, false, err
		}
		if m <= 0 {
			return n, false, nil
		}
		n += m
	}
	var one [1]byte
	for {
		m, err := unix.Read(fd, one[:])
		if err == unix.EINTR {
			continue
		}
		return n, err == nil && m > 0, nil
	}
}
