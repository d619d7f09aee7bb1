package procfs

import (
	iofs "io/fs"
	"strconv"

	"golang.org/x/sys/unix"
)

// ioHeld is the IOReader's open <pid>/io files, sorted by pid.
type ioHeld struct {
	prev, next []heldIO
	// hold is -1 until the proc directory has been checked to be a procfs,
	// then 1 if files may be held there (each counts against heldFiles,
	// the process's one budget), 0 if not.
	hold int8
	buf  []byte
	path []byte
	name []byte
}

type heldIO struct {
	pid int32
	fd  int32
}

func newIOHeld() *ioHeld { return &ioHeld{hold: -1} }

func (h *ioHeld) closeAll() {
	for _, e := range h.prev {
		closeHeld(e.fd)
	}
	h.prev = h.prev[:0]
}

func (h *ioHeld) read(fs *FS, procs []Process, need []bool, dst []IOResult) []IOResult {
	if h.buf == nil {
		h.buf = make([]byte, 512)
		h.path = make([]byte, 0, 32)
		h.name = make([]byte, 0, 16)
	}
	dirfd, err := unix.Open(fs.proc, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		for range procs {
			dst = append(dst, IOResult{Err: ErrNotFound})
		}
		return dst
	}
	defer unix.Close(dirfd)
	if h.hold < 0 {
		h.hold = mayHoldUnder(dirfd)
	}
	h.next = h.next[:0]
	i := 0 // cursor in h.prev
	last := int32(0)
	for k, p := range procs {
		held, ordered := int32(-1), p.PID > last
		if ordered {
			last = p.PID
			// Held files of pids below this one belong to processes that are gone.
			for i < len(h.prev) && h.prev[i].pid < p.PID {
				closeHeld(h.prev[i].fd)
				i++
			}
			if i < len(h.prev) && h.prev[i].pid == p.PID {
				held = h.prev[i].fd
				i++
			}
		}
		if k < len(need) && !need[k] {
			if held >= 0 {
				h.next = append(h.next, heldIO{pid: p.PID, fd: held})
			}
			dst = append(dst, IOResult{Err: ErrSkipped})
			continue
		}
		var res IOResult
		res.IO, res.Err = h.readOne(dirfd, p.PID, held, ordered)
		dst = append(dst, res)
	}
	for ; i < len(h.prev); i++ {
		closeHeld(h.prev[i].fd)
	}
	h.prev, h.next = h.next, h.prev[:0]
	return dst
}

// readOne reads one io file: through the held file when there is one that
// still reads, else opened relative to dirfd and held when mayHold and the
// budget allow.
func (h *ioHeld) readOne(dirfd int, pid, held int32, mayHold bool) (ProcIO, error) {
	if pid <= 0 {
		return ProcIO{}, ErrNotFound
	}
	if held >= 0 {
		if n, err := readFull(int(held), &h.buf, fromStart); err == nil && n > 0 {
			h.next = append(h.next, heldIO{pid: pid, fd: held})
			return parseIOResult(h.buf[:n])
		}
		closeHeld(held) // gone, pid reused, or no longer permitted
	}
	h.name = strconv.AppendInt(h.name[:0], int64(pid), 10)
	fd, err := openAt(dirfd, &h.path, h.name, "/io")
	if err != nil {
		return ProcIO{}, ioErrno(err)
	}
	n, err := readFull(fd, &h.buf, fromPosition)
	if err == nil && n == 0 {
		err = unix.ESRCH
	}
	if err != nil || !mayHold || h.hold != 1 || !heldFiles.take() {
		unix.Close(fd)
	} else {
		h.next = append(h.next, heldIO{pid: pid, fd: int32(fd)})
	}
	if err != nil {
		return ProcIO{}, ioErrno(err)
	}
	return parseIOResult(h.buf[:n])
}

func parseIOResult(b []byte) (ProcIO, error) {
	io, err := ParseProcIO(b)
	if err != nil {
		return ProcIO{}, ErrMalformed
	}
	return io, nil
}

// ioErrno maps an errno onto the IOResult sentinels without allocating.
func ioErrno(err error) error {
	switch err {
	case unix.ENOENT, unix.ESRCH:
		return ErrNotFound
	case unix.EACCES, unix.EPERM:
		return iofs.ErrPermission
	}
	return err
}

// count is the number of files held open.
func (h *ioHeld) count() int { return len(h.prev) }
