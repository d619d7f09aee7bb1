//go:build linux

package sockdiag

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// procEntry is what the resolver remembers of one process.
type procEntry struct {
	name   string
	fdSize int64    // st_size of /proc/<pid>/fd: the fd count on Linux ≥ 6.2, else 0
	inodes []uint64 // socket inodes it held at its last scan
	seen   uint32   // listing generation that last saw the pid
	denied bool     // its fd directory is not readable to us
}

// resolver maps socket inodes to processes, keeping the map between calls.
//
// A full scan reads every fd link of every process: one readlink per open
// file on the machine. Later calls look up each socket's inode in the map
// and scan only when an inode is unknown, and then in the order most likely
// to find it early, stopping as soon as every unknown inode is found:
// processes that appeared since the last listing, then those whose fd count
// changed (Linux ≥ 6.2 reports it as the fd directory's size), then the
// rest. Inodes no visible process holds (other users' processes when not
// root, kernel sockets) are remembered as unresolved until the next full
// scan, so they do not trigger a scan on every call.
type resolver struct {
	owners     map[uint64]int // socket inode → pid
	procs      map[int]*procEntry
	unresolved map[uint64]struct{}
	deniedUIDs map[uint32]struct{} // owners of processes whose fds we may not read
	lastFull   time.Time
	gen        uint32
	euid       uint32

	want map[uint64]int // scratch: inodes to find this call → index in socks
	// held, when set, asks the kernel whether a socket is still held by a
	// file (an exact sock_diag lookup): a wanted socket that is not (closed
	// since the dump) is not searched for in every process.
	held      func(*Socket) bool
	aliveMemo map[int]bool // scratch: owner pids checked this call
	dirBuf    []byte
	linkBuf   []byte
	pids      []int
	scratch   []uint64
}

func (r *resolver) init() {
	if r.owners != nil {
		return
	}
	r.owners = make(map[uint64]int)
	r.procs = make(map[int]*procEntry)
	r.unresolved = make(map[uint64]struct{})
	r.deniedUIDs = make(map[uint32]struct{})
	r.want = make(map[uint64]int)
	r.aliveMemo = make(map[int]bool)
	r.dirBuf = make([]byte, 32<<10)
	r.linkBuf = make([]byte, 64)
	r.euid = uint32(os.Geteuid())
}

// resolve fills PID and Process of socks, scanning /proc as little as it can.
func (r *resolver) resolve(procRoot string, socks []Socket, now time.Time, maxAge time.Duration, st *Stats) error {
	r.init()
	full := r.lastFull.IsZero() || now.Sub(r.lastFull) > maxAge
	clear(r.want)
	clear(r.aliveMemo)
	if !full {
		for i := range socks {
			ino := socks[i].Inode
			if ino == 0 {
				continue
			}
			if pid, ok := r.owners[ino]; ok && r.alive(procRoot, pid) {
				continue
			}
			if _, ok := r.unresolved[ino]; ok {
				continue
			}
			if _, ok := r.deniedUIDs[socks[i].UID]; ok && socks[i].UID != r.euid {
				// Another user's socket while we cannot read that user's
				// processes: scanning would not find it.
				r.unresolved[ino] = struct{}{}
				continue
			}
			r.want[ino] = i
		}
	}
	if full || len(r.want) > 0 {
		if err := r.scan(procRoot, socks, full, now, st); err != nil {
			return err
		}
	}
	for i := range socks {
		s := &socks[i]
		s.PID, s.Process = 0, ""
		if s.Inode == 0 {
			continue
		}
		pid, ok := r.owners[s.Inode]
		if !ok {
			st.Unresolved++
			continue
		}
		s.PID = pid
		if p := r.procs[pid]; p != nil {
			s.Process = p.name
		}
	}
	return nil
}

// alive reports whether pid still exists, checking each pid once per call:
// a socket whose recorded owner exited is held by someone else now (it was
// inherited or passed), so it is looked up again.
func (r *resolver) alive(procRoot string, pid int) bool {
	a, ok := r.aliveMemo[pid]
	if !ok {
		a = unix.Access(procRoot+"/"+strconv.Itoa(pid), unix.F_OK) == nil
		r.aliveMemo[pid] = a
	}
	return a
}

// scan lists the processes and reads fd directories: all of them when full,
// otherwise until every inode in r.want is found.
func (r *resolver) scan(procRoot string, socks []Socket, full bool, now time.Time, st *Stats) error {
	r.gen++
	r.pids = r.pids[:0]
	var newPids, holders, others []int
	err := r.readDir(procRoot, func(name []byte) {
		pid, ok := atoiPID(name)
		if !ok {
			return
		}
		r.pids = append(r.pids, pid)
	})
	if err != nil {
		return fmt.Errorf("list %s: %w", procRoot, err)
	}
	if full {
		clear(r.owners)
		clear(r.procs)
		clear(r.unresolved)
		clear(r.deniedUIDs)
		for i, s := range socks {
			if s.Inode != 0 {
				r.want[s.Inode] = i
			}
		}
	}
	for _, pid := range r.pids {
		p := r.procs[pid]
		if p == nil {
			r.procs[pid] = &procEntry{seen: r.gen}
			newPids = append(newPids, pid)
			continue
		}
		p.seen = r.gen
		if p.denied {
			continue
		}
		if len(p.inodes) > 0 {
			holders = append(holders, pid)
		} else {
			others = append(others, pid)
		}
	}
	// Forget processes that exited.
	for pid, p := range r.procs {
		if p.seen != r.gen {
			r.dropInodes(pid, p)
			delete(r.procs, pid)
		}
	}

	// New processes first, then those that held sockets at their last
	// scan (servers and clients get the new sockets), then the others; in
	// each, those whose fd count changed first, and the ones with fewer fds
	// (cheaper to read) before those with more.
	complete := r.scanEach(procRoot, newPids, full, st)
	if complete && !full {
		r.dropClosed(socks)
	}
	for _, group := range [2][]int{holders, others} {
		if !complete {
			break
		}
		same := []int(nil)
		if !full {
			group, same = r.splitChanged(procRoot, group)
		}
		complete = r.scanEach(procRoot, group, full, st) && r.scanEach(procRoot, same, full, st)
	}
	if complete {
		// Every visible process was read: what is still wanted has no
		// visible owner. Remember it so it does not cause a scan on every
		// call, until the next full scan.
		for ino := range r.want {
			r.unresolved[ino] = struct{}{}
		}
		r.lastFull = now
		st.FullScan = true
	}
	return nil
}

// scanEach scans the fds of pids, stopping early (false) once every wanted
// inode is found, unless full.
func (r *resolver) scanEach(procRoot string, pids []int, full bool, st *Stats) bool {
	for _, pid := range pids {
		if !full && len(r.want) == 0 {
			return false
		}
		r.scanPid(procRoot, pid, st)
	}
	return full || len(r.want) > 0
}

// splitChanged splits pids into those whose fd count changed since their
// last scan (Linux ≥ 6.2 reports it as the fd directory's size) and the
// others, each ordered by fd count at the last scan.
func (r *resolver) splitChanged(procRoot string, pids []int) (changed, same []int) {
	for _, pid := range pids {
		var fi unix.Stat_t
		if err := unix.Stat(procFdPath(procRoot, pid), &fi); err == nil && fi.Size != 0 && fi.Size != r.procs[pid].fdSize {
			changed = append(changed, pid)
		} else {
			same = append(same, pid)
		}
	}
	bySize := func(a, b int) int { return cmp.Compare(r.procs[a].fdSize, r.procs[b].fdSize) }
	slices.SortStableFunc(changed, bySize)
	slices.SortStableFunc(same, bySize)
	return changed, same
}

// maxHeldLookups bounds the exact lookups of one call: past it, walking
// every process is cheaper.
const maxHeldLookups = 64

// dropClosed stops looking for the wanted sockets that no file holds any
// more: sockets that lived briefly between the dump and now (a busy
// server's short connections) would otherwise make every call read every
// process's fds in vain.
func (r *resolver) dropClosed(socks []Socket) {
	if r.held == nil || len(r.want) == 0 || len(r.want) > maxHeldLookups {
		return
	}
	for ino, i := range r.want {
		if !r.held(&socks[i]) {
			delete(r.want, ino)
		}
	}
}

// scanPid reads one process's fd directory and records its socket inodes.
func (r *resolver) scanPid(procRoot string, pid int, st *Stats) {
	p := r.procs[pid]
	dir := procFdPath(procRoot, pid)
	// The fd count is taken before the directory is opened: after, it
	// would include our own dirfd when pid is us, and a socket opened
	// between the two shows up as a changed count next time.
	var fi unix.Stat_t
	if unix.Stat(dir, &fi) == nil {
		p.fdSize = fi.Size
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.EACCES || err == unix.EPERM {
			r.deny(procRoot, pid, p)
		}
		r.dropInodes(pid, p)
		return
	}
	defer unix.Close(dfd)
	st.PIDsScanned++
	r.scratch = r.scratch[:0]
	denied := false
	_ = r.readDirFd(dfd, func(name []byte) {
		if len(name) == 0 || name[0] == '.' || denied {
			return
		}
		st.FDsRead++
		n, err := readlinkat(dfd, name, r.linkBuf)
		if err == unix.EACCES || err == unix.EPERM {
			// The directory lists but its links need ptrace access (a
			// process root may not trace): its sockets are unknown.
			denied = true
			return
		}
		if err != nil {
			return // closed since listed
		}
		if ino, ok := socketInode(r.linkBuf[:n]); ok {
			r.scratch = append(r.scratch, ino)
		}
	})
	if denied {
		r.deny(procRoot, pid, p)
		r.dropInodes(pid, p)
		return
	}
	p.denied = false
	r.dropInodes(pid, p)
	p.inodes = append(p.inodes[:0], r.scratch...)
	for _, ino := range p.inodes {
		if _, ok := r.owners[ino]; !ok {
			r.owners[ino] = pid
		}
		delete(r.want, ino)
		delete(r.unresolved, ino)
	}
	if len(p.inodes) > 0 {
		if b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "comm")); err == nil {
			p.name = string(bytes.TrimSuffix(b, []byte("\n")))
		}
	}
}

// deny records that pid's fds may not be read, and by whose processes.
func (r *resolver) deny(procRoot string, pid int, p *procEntry) {
	p.denied = true
	var fi unix.Stat_t
	if unix.Stat(filepath.Join(procRoot, strconv.Itoa(pid)), &fi) == nil {
		r.deniedUIDs[fi.Uid] = struct{}{}
	}
}

// dropInodes forgets the inodes pid held at its last scan.
func (r *resolver) dropInodes(pid int, p *procEntry) {
	for _, ino := range p.inodes {
		if r.owners[ino] == pid {
			delete(r.owners, ino)
		}
	}
	p.inodes = p.inodes[:0]
}

func procFdPath(procRoot string, pid int) string {
	return procRoot + "/" + strconv.Itoa(pid) + "/fd"
}

// readDir calls fn with each entry name of dir (names are only valid during
// the call).
func (r *resolver) readDir(dir string, fn func(name []byte)) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return r.readDirFd(fd, fn)
}

// readDirFd walks a directory with getdents64 into a reused buffer, so
// listing thousands of fds allocates nothing.
func (r *resolver) readDirFd(fd int, fn func(name []byte)) error {
	for {
		n, err := unix.Getdents(fd, r.dirBuf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		b := r.dirBuf[:n]
		// struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
		for len(b) >= 19 {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return fmt.Errorf("getdents: bad record length %d", reclen)
			}
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[: i : i+1] // the NUL stays within cap: readlinkat uses it
			}
			fn(name)
			b = b[reclen:]
		}
	}
}

// atoiPID parses a /proc entry name that is a pid.
func atoiPID(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0
}

// socketInode parses a link target "socket:[12345]".
func socketInode(b []byte) (uint64, bool) {
	const pre = "socket:["
	if len(b) < len(pre)+2 || string(b[:len(pre)]) != pre || b[len(b)-1] != ']' {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[len(pre):len(b)-1]), 10, 64)
	return v, err == nil
}

// readlinkat reads the link name in directory dfd into buf. name comes from
// readDirFd, whose buffer holds a NUL right after it (within cap), so the
// call needs no allocation; otherwise it falls back to unix.Readlinkat.
func readlinkat(dfd int, name, buf []byte) (int, error) {
	if len(name) == 0 {
		return 0, unix.ENOENT
	}
	if cap(name) > len(name) && name[:len(name)+1][len(name)] == 0 {
		n, _, errno := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dfd),
			uintptr(unsafe.Pointer(&name[0])), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
		if errno != 0 {
			return 0, errno
		}
		return int(n), nil
	}
	return unix.Readlinkat(dfd, string(name), buf)
}
