package procfs

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// scanner lists /proc and reads every <pid>/stat with raw syscalls and
// reused buffers: getdents64 into one buffer, openat relative to the /proc
// directory fd with a NUL-terminated path built in place, one read, fstat for
// the owner, close. Nothing here allocates in steady state.
type scanner struct {
	dents []byte
	buf   []byte
	path  []byte
	st    unix.Stat_t
	ps    ProcStat
}

func (sc *scanner) init() {
	if sc.dents == nil {
		sc.dents = make([]byte, 32<<10)
		sc.buf = make([]byte, 1024)
		sc.path = make([]byte, 0, 32)
	}
}

// each appends one Process per live pid to dst, calling fn with the process,
// its parsed stat and the raw name bytes (valid only during fn).
func (sc *scanner) each(fs *FS, dst []Process, fn func(p *Process, ps *ProcStat, name []byte)) ([]Process, error) {
	sc.init()
	dirfd, err := unix.Open(fs.proc, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return dst, fmt.Errorf("open %s: %w", fs.proc, err)
	}
	defer unix.Close(dirfd)
	err = listPIDs(dirfd, sc.dents, func(pid []byte) error {
		data, err := sc.readStat(dirfd, pid)
		if err != nil {
			// One process we cannot read (it exited, hides, or its stat is
			// odd: EISDIR, ELOOP, EIO) is skipped; it must not cost every
			// client the whole list.
			return nil
		}
		name, err := parseProcStat(data, &sc.ps)
		if err != nil {
			return nil // a file we cannot parse is skipped, like a vanished one
		}
		dst = append(dst, Process{})
		p := &dst[len(dst)-1]
		fs.fillProcess(p, &sc.ps)
		p.UID = sc.st.Uid
		fn(p, &sc.ps, name)
		return nil
	})
	return dst, err
}

// readStat reads <pid>/stat relative to dirfd into sc.buf and fstats it into sc.st.
func (sc *scanner) readStat(dirfd int, pid []byte) ([]byte, error) {
	fd, err := openAt(dirfd, &sc.path, pid, "/stat")
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	if err := unix.Fstat(fd, &sc.st); err != nil {
		return nil, err
	}
	n, err := readFull(fd, &sc.buf)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, unix.ESRCH // a zombie being reaped can read empty
	}
	return sc.buf[:n], nil
}

// openAt opens dir/<name><suffix> relative to dirfd, building the
// NUL-terminated path in *pathBuf so the call does not allocate.
func openAt[S []byte | string](dirfd int, pathBuf *[]byte, name S, suffix string) (int, error) {
	p := append((*pathBuf)[:0], name...)
	p = append(p, suffix...)
	p = append(p, 0)
	*pathBuf = p
	for {
		r, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&p[0])),
			uintptr(unix.O_RDONLY|unix.O_CLOEXEC), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

// readFull reads fd into *buf, growing it when a read fills it. /proc seq
// files hand out whole records per read, so a read that does not fill the
// buffer and ends in '\n' is complete without a second read for EOF.
func readFull(fd int, buf *[]byte) (int, error) {
	n := 0
	for {
		b := *buf
		m, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		n += m
		if m == 0 || (n < len(b) && n > 0 && b[n-1] == '\n') {
			return n, nil
		}
		if n == len(b) {
			nb := make([]byte, 2*len(b))
			copy(nb, b)
			*buf = nb
		}
	}
}

// listPIDs calls fn with the name of every all-digit entry of the directory
// dirfd, in directory order.
func listPIDs(dirfd int, dents []byte, fn func(pid []byte) error) error {
	if _, err := unix.Seek(dirfd, 0, 0); err != nil {
		return fmt.Errorf("rewind /proc: %w", err)
	}
	for {
		n, err := unix.Getdents(dirfd, dents)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("getdents /proc: %w", err)
		}
		if n <= 0 {
			return nil
		}
		b := dents[:n]
		for len(b) >= 19 {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return fmt.Errorf("getdents /proc: bad record length %d", reclen)
			}
			name := b[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			if isPID(name) {
				if err := fn(name); err != nil {
					return err
				}
			}
			b = b[reclen:]
		}
	}
}
