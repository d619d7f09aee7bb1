package procfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// scanner lists /proc and reads every <pid>/stat with raw syscalls and
// reused buffers: getdents64 into one buffer, openat relative to the /proc
// directory fd with a NUL-terminated path built in place, one read, fstat for
// the owner. On a real procfs the file stays open for the next scan, which
// then costs one pread instead of openat+fstat+read+close: path lookup and
// file setup are most of what reading a small /proc file costs. Nothing here
// allocates in steady state.
type scanner struct {
	dents  []byte
	buf    []byte
	path   []byte
	st     unix.Stat_t
	ps     ProcStat
	fds    *fdCache
	opens  uint32 // <pid>/stat files opened so far
	opened uint32 // the opening the last readStat read from
	// dirfd is the /proc being scanned, during each; aux and num are
	// readPIDFile's buffers.
	dirfd int
	aux   []byte
	num   [12]byte
	pid   [12]byte // a pid's name when the previous list stands for a listing
	// listings counts the scans that listed /proc.
	listings int
	// seed keys the sums of held files' contents (cachedFD.sum); random
	// per scanner, so no process can name itself into a collision.
	seed maphash.Seed
	// parses counts the stat files parsed (not taken from cachedFD);
	// unread the held stat files left unread (sleptThrough).
	parses, unread int
}

// fdCache holds the open <pid>/stat files of the previous scan, sorted by pid
// (readdir of /proc is ascending), and builds the next scan's list. A file
// held open pins only the kernel's small pid struct: once the process is
// gone, or its pid reused, a read of the old file fails with ESRCH and the
// pid is opened afresh. Every file held counts against heldFiles.
type fdCache struct {
	prev, next []cachedFD
	// hold is -1 until the /proc directory has been checked to be a
	// procfs, then 1 if files may be held there, 0 if not (a fixture tree
	// is never held: its files can be replaced under an open descriptor).
	hold int8
	// The listing of /proc is a fifth of a scan. While no task has been
	// created since the last listing (the last pid /proc/loadavg gives is
	// the same) and every process listed then is held, that list stands
	// for a new listing: a process that has gone fails its held read. A
	// fork anywhere moves the last pid, and the next scan lists again.
	// The kernel moves the last pid when it hands a pid out, a moment
	// before the new task shows in /proc, so a list stands only when it
	// was made after the last pid had already stood still for a scan
	// (settled): every task it covers had a whole interval to show.
	loadavg  int32 // held <proc>/loadavg, or -1
	lastPID  int64 // the last pid before the last scan, or -1
	steady   bool  // the last pid before this scan is the one before the last
	settled  bool  // the last list was made after a steady reading
	complete bool  // every process of the last list is held
	reuseOK  int8  // -1 unknown; 1 when a list may stand for a listing: the procfs is of the scanner's own pid namespace (whose last pid loadavg gives) and hides no process
	noSched  bool  // no <pid>/schedstat is read (see sleptThrough): the kernel keeps none, or no file is held here
}

// heldFiles is the budget of files held open between scans, one for the
// whole process: every sampler of every agent in it (the dashboard's fleet
// tests run 45 in one process) shares one RLIMIT_NOFILE. It leaves
// fdReserve files (or what ReserveFiles asked, when more) for sockets and
// other files, or half the limit when that is more (a small limit), so that
// they never run short, and it is at most maxCachedFDs. A sampler that
// finds it spent reads the rest of its files the plain way.
var heldFiles fileBudget

type fileBudget struct {
	once    sync.Once
	cur     int64 // RLIMIT_NOFILE's soft limit, at the first use
	reserve atomic.Int64
	limit   atomic.Int64
	held    atomic.Int64
	// After a scan ran short of descriptors (shed), at most capAt files
	// are held until capUntil (Unix ns): the shortage may pass (a burst
	// of connections), so the cap lasts shedFor, and the next shortage
	// sets it again.
	capAt, capUntil atomic.Int64
}

// shedFor is how long a shortage of descriptors caps the budget.
const shedFor = time.Minute

// init reads the limit once.
func (b *fileBudget) init() {
	b.once.Do(func() {
		var lim unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil {
			b.cur = int64(min(lim.Cur, 1<<40))
		}
		b.reserve.CompareAndSwap(0, fdReserve)
		b.limit.Store(heldLimit(b.cur, b.reserve.Load()))
	})
}

// take counts one more file held, if the budget allows.
func (b *fileBudget) take() bool { return b.takeUnder(0) }

// takeSpare counts one more file held for a use that saves work but is not
// needed (a <pid>/schedstat), only while an eighth of the budget is still
// free: the <pid>/stat files of processes still to come keep their places.
func (b *fileBudget) takeSpare() bool { return b.takeUnder(8) }

// takeUnder takes one file if the budget, less a 1/spare part of it when
// spare > 0, allows.
func (b *fileBudget) takeUnder(spare int64) bool {
	b.init()
	lim := b.limit.Load()
	if until := b.capUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		lim = min(lim, b.capAt.Load())
	}
	if spare > 0 {
		lim -= lim / spare
	}
	if b.held.Add(1) > lim {
		b.held.Add(-1)
		return false
	}
	return true
}

// capHeld caps the budget at what is held now, for shedFor.
func (b *fileBudget) capHeld() {
	b.capAt.Store(b.held.Load())
	b.capUntil.Store(time.Now().Add(shedFor).UnixNano())
}

// ReserveFiles keeps n of the process's RLIMIT_NOFILE files from the /proc
// files samplers hold open between scans (2,048 unless asked for more):
// a server that may hold n sockets calls it before it serves. Files held
// already stay open; the next scans hold fewer. Whatever is reserved, the
// samplers may hold half of what the limit leaves after 256. The largest
// request stands, not their sum: one server to a process (tests that run
// several agents in one keep to the default reserve).
func ReserveFiles(n int) {
	b := &heldFiles
	b.init()
	for {
		old := b.reserve.Load()
		if int64(n) <= old || b.reserve.CompareAndSwap(old, int64(n)) {
			break
		}
	}
	b.limit.Store(heldLimit(b.cur, b.reserve.Load()))
}

// heldLimit is the budget under a RLIMIT_NOFILE of cur leaving reserve
// (see heldFiles): with the default reserve 17,952 of 20,000, 32,768 (then
// maxCachedFDs) of 65,536, 384 of 1,024.
func heldLimit(cur, reserve int64) int64 {
	return min(max(cur-reserve, max(cur-256, 0)/2), maxCachedFDs)
}

// fdReserve is the files heldFiles leaves to the rest of the process by
// default: an agent's 512 clients and its HTTP headroom, pipes, sockets to
// the kernel, with room to spare.
const fdReserve = 2048

// give counts n held files closed.
func (b *fileBudget) give(n int) { b.held.Add(-int64(n)) }

// closeHeld closes a held file and gives its place back.
func closeHeld(fd int32) {
	procClose(int(fd))
	heldFiles.give(1)
}

type cachedFD struct {
	pid    int32
	fd     int32
	uid    uint32 // owner when opened
	opened uint32 // the scanner's count of opens when opened (Process.StatOpened)
	reads  uint16 // reads since the owner was read
	// The last read's bytes, as a sum, and their parse: a read that
	// gives the same bytes again (a process that has not run since, most
	// of them) takes that parse. parsed is false until there is one.
	parsed   bool
	nameFrom uint16 // the name's span in the bytes
	nameTo   uint16
	sum      uint64
	ps       ProcStat // with Name: the process's interned name
	// sched is the held <pid>/schedstat plus one (0: none), of a process
	// with one thread: read before the stat file, the same bytes as last
	// time (ssum, valid when schedRead) say that the process has not run
	// since, and the stat file need not be read (see sleptThrough).
	// fresh counts the scans since the stat file was last read.
	sched     int32
	schedRead bool
	fresh     uint8
	ssum      uint64
}

// release closes the entry's held files and gives their places back.
func (e *cachedFD) release() {
	closeHeld(e.fd)
	e.dropSched()
}

// dropSched closes the entry's held schedstat, if any.
func (e *cachedFD) dropSched() {
	if e.sched > 0 {
		closeHeld(e.sched - 1)
	}
	e.sched, e.schedRead = 0, false
}

// statEvery bounds how many scans a held stat file may go unread while its
// process sleeps (sleptThrough): what can change without the process
// running — its resident memory as the kernel reclaims pages, a nice value
// another process set, a name written to its comm — shows within as many.
const statEvery = 10

// Most files held open in a process, whatever the limit.
const maxCachedFDs = 32768

func newFDCache() *fdCache { return &fdCache{hold: -1, loadavg: -1, lastPID: -1, reuseOK: -1} }

// heldBy ties the files the scanner holds open to owner: they are closed
// when owner is garbage collected, if it was not closed before.
func (sc *scanner) heldBy(owner *ProcessSampler) {
	sc.fds = newFDCache()
	runtime.AddCleanup(owner, (*fdCache).closeAll, sc.fds)
}

// close closes the files held open; the next scan opens them again.
func (sc *scanner) close() {
	if sc.fds != nil {
		sc.fds.closeAll()
	}
}

// closeAll closes every held file (a sampler that is closed or collected).
func (c *fdCache) closeAll() {
	for i := range c.prev {
		c.prev[i].release()
	}
	c.prev = c.prev[:0]
	if c.loadavg >= 0 {
		closeHeld(c.loadavg)
		c.loadavg = -1
	}
	c.lastPID, c.complete, c.settled = -1, false, false
}

// held is how many files the cache holds open.
func (c *fdCache) held() int {
	n := len(c.prev)
	for i := range c.prev {
		if c.prev[i].sched > 0 {
			n++
		}
	}
	if c.loadavg >= 0 {
		n++
	}
	return n
}

// unchanged reports whether the previous scan's list may stand for a
// listing of /proc (see fdCache.loadavg), and notes the last pid for the
// next scan.
func (sc *scanner) unchanged() bool {
	c := sc.fds
	if c.loadavg < 0 {
		return false
	}
	last := int64(-1)
	if n, err := readFull(int(c.loadavg), &sc.aux, fromStart|rawCalls); err == nil {
		last = lastPID(sc.aux[:n])
	}
	c.steady = last >= 0 && last == c.lastPID
	c.lastPID = last
	return c.steady && c.settled && c.complete
}

// holdLoadavg opens <proc>/loadavg for unchanged, after a scan that held
// every process (so that it takes no stat file's place in the budget),
// when the procfs is of the scanner's own pid namespace.
func (sc *scanner) holdLoadavg(dirfd int, proc string) {
	c := sc.fds
	if c.reuseOK < 0 {
		c.reuseOK = sc.ownPIDNamespace(dirfd)
		if c.reuseOK == 1 && sc.hidesPIDs(dirfd, proc) {
			// hidepid: a process can show or hide without a fork
			// (setuid, dumpable), so only a listing is the truth.
			c.reuseOK = 0
		}
	}
	if c.reuseOK != 1 || !heldFiles.take() {
		return
	}
	fd, err := procOpenAt(dirfd, &sc.path, "loadavg", "", 0)
	if err != nil {
		heldFiles.give(1)
		c.reuseOK = 0 // no loadavg here: always list
		return
	}
	c.loadavg = int32(fd)
}

// lastPID is the last field of /proc/loadavg ("0.00 0.01 0.05 1/386
// 16101"), the pid the kernel handed out last, or -1.
func lastPID(b []byte) int64 {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	i := len(b)
	for i > 0 && b[i-1] >= '0' && b[i-1] <= '9' {
		i--
	}
	if i == len(b) || len(b)-i > 10 || i == 0 || b[i-1] != ' ' {
		return -1
	}
	v, _ := strconv.ParseInt(string(b[i:]), 10, 64)
	return v
}

// ownPIDNamespace is 1 when the procfs at dirfd is of the caller's own pid
// namespace: its self/status names one pid in NSpid (a parent namespace's
// procfs names one per level down to ours). /proc/loadavg gives the last
// pid of the reader's namespace, whichever procfs it is read from.
func (sc *scanner) ownPIDNamespace(dirfd int) int8 {
	status, ok := sc.readAt(dirfd, "self/status")
	if !ok {
		return 0
	}
	return nsPIDLevels(status)
}

// hidesPIDs reports whether the procfs mounted at proc has a hidepid
// option, from self/mountinfo (unknown counts as hiding).
func (sc *scanner) hidesPIDs(dirfd int, proc string) bool {
	info, ok := sc.readAt(dirfd, "self/mountinfo")
	return !ok || mountHidesPIDs(info, filepath.Clean(proc))
}

// readAt reads the procfs file name relative to dirfd into sc.aux; the
// bytes are valid until the next read into it.
func (sc *scanner) readAt(dirfd int, name string) ([]byte, bool) {
	fd, err := procOpenAt(dirfd, &sc.path, name, "", 0)
	if err != nil {
		return nil, false
	}
	n, err := readFull(fd, &sc.aux, rawCalls)
	procClose(fd)
	return sc.aux[:n], err == nil
}

// mountHidesPIDs reports whether the last proc mount at mountPoint in a
// mountinfo text (the one seen there) has hidepid set to anything but 0 or
// off; a text that does not parse counts as hiding.
func mountHidesPIDs(mountinfo []byte, mountPoint string) bool {
	ms, err := ParseMountInfo(mountinfo)
	if err != nil {
		return true
	}
	hides := false
	for _, m := range ms {
		if m.MountPoint != mountPoint || m.FSType != "proc" {
			continue
		}
		hides = false
		for opt := range strings.SplitSeq(m.SuperOptions, ",") {
			if v, ok := strings.CutPrefix(opt, "hidepid="); ok && v != "0" && v != "off" {
				hides = true
			}
		}
	}
	return hides
}

// nsPIDLevels is 1 when a status file's NSpid line holds exactly one pid.
func nsPIDLevels(status []byte) int8 {
	const key = "\nNSpid:"
	i := bytes.Index(status, []byte(key))
	if i < 0 {
		return 0
	}
	line := status[i+len(key):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	if len(bytes.Fields(line)) == 1 {
		return 1
	}
	return 0
}

// checkHold decides, once, whether files may be held open under dirfd.
func (c *fdCache) checkHold(dirfd int) { c.hold = mayHoldUnder(dirfd) }

// mayHoldUnder is 1 when dirfd is a procfs, whose files may be held open
// between reads, else 0: a fixture tree's files can be replaced under an
// open descriptor.
func mayHoldUnder(dirfd int) int8 {
	var sfs unix.Statfs_t
	if unix.Fstatfs(dirfd, &sfs) == nil && sfs.Type == unix.PROC_SUPER_MAGIC {
		return 1
	}
	return 0
}

func (sc *scanner) init() {
	if sc.dents == nil {
		sc.dents = make([]byte, 32<<10)
		sc.buf = make([]byte, 1024)
		sc.aux = make([]byte, 512)
		sc.path = make([]byte, 0, 32)
		sc.seed = maphash.MakeSeed()
	}
	if sc.fds == nil {
		sc.fds = newFDCache()
	}
}

// each appends one Process per live pid to dst, calling fn with the process,
// its parsed stat and the raw name bytes (valid only during fn), then after
// (when not nil) with the whole list, the /proc directory still open for
// readPIDFile.
func (sc *scanner) each(fs *FS, dst []Process, fn func(p *Process, ps *ProcStat, name []byte), after func([]Process)) ([]Process, error) {
	sc.init()
	dirfd, err := procOpenAt(unix.AT_FDCWD, &sc.path, fs.proc, "", unix.O_DIRECTORY)
	if err != nil {
		return dst, fmt.Errorf("open %s: %w", fs.proc, err)
	}
	defer procClose(dirfd)
	sc.dirfd = dirfd
	defer func() { sc.dirfd = -1 }()
	c := sc.fds
	if c.hold < 0 {
		c.checkHold(dirfd)
		c.noSched = c.hold != 1 || !sc.schedstatKept(dirfd)
	}
	reuse := sc.unchanged()
	i := 0 // cursor in c.prev
	c.next = c.next[:0]
	listed := 0
	visit := func(pid []byte) error {
		listed++
		id := parsePID(pid)
		// Held files of pids below this one belong to processes that are gone.
		for i < len(c.prev) && c.prev[i].pid < id {
			c.prev[i].release()
			i++
		}
		held := cachedFD{fd: -1}
		if i < len(c.prev) && c.prev[i].pid == id {
			held = c.prev[i]
			i++
		}
		data, uid, slot, err := sc.readStat(dirfd, pid, id, held)
		if err != nil {
			// One process we cannot read (it exited, hides, or its stat is
			// odd: EISDIR, ELOOP, EIO) is skipped; it must not cost every
			// client the whole list.
			return nil
		}
		name, err := sc.parse(data, slot)
		if err != nil {
			return nil // a file we cannot parse is skipped, like a vanished one
		}
		dst = append(dst, Process{})
		p := &dst[len(dst)-1]
		fs.fillProcess(p, &sc.ps)
		p.UID, p.StatOpened = uid, sc.opened
		fn(p, &sc.ps, name)
		return nil
	}
	if reuse {
		// visit walks c.prev with its cursor and builds c.next; c.prev
		// itself is not changed until the swap below.
		for k := 0; k < len(c.prev); k++ {
			_ = visit(strconv.AppendInt(sc.pid[:0], int64(c.prev[k].pid), 10))
		}
	} else {
		sc.listings++
		err = listPIDs(dirfd, sc.dents, visit)
		c.settled = c.steady
	}
	for ; i < len(c.prev); i++ { // after the last listed pid: gone too
		c.prev[i].release()
	}
	c.complete = err == nil && listed == len(c.next)
	c.prev, c.next = c.next, c.prev[:0]
	if c.complete && c.loadavg < 0 && c.hold == 1 {
		sc.holdLoadavg(dirfd, fs.proc)
	}
	if err == nil && after != nil {
		after(dst)
	}
	return dst, err
}

// parse parses a stat file's bytes into sc.ps and returns the name bytes
// (a sub-slice of data). The bytes of a held file (slot, its entry in
// c.next, ≥ 0) that are the same as at its last read take that read's
// parse: parsing is most of a scan's own CPU, and most processes have not
// run between two scans. Same bytes means a 64-bit sum under a random seed.
// No bytes (data nil) from a held file means that its process has not run
// since the last read (sleptThrough): that read's parse, and no name bytes.
// A held file's parse carries its interned name in sc.ps.Name.
func (sc *scanner) parse(data []byte, slot int) ([]byte, error) {
	var e *cachedFD
	var sum uint64
	if slot >= 0 {
		e = &sc.fds.next[slot]
		if data == nil {
			sc.ps = e.ps
			return nil, nil
		}
		sum = maphash.Bytes(sc.seed, data)
		if e.parsed && e.sum == sum && int(e.nameTo) <= len(data) {
			sc.ps = e.ps
			return data[e.nameFrom:e.nameTo], nil
		}
	}
	sc.parses++
	name, err := parseProcStat(data, &sc.ps)
	if e == nil {
		return name, err
	}
	named := e.ps.Name // the last parse's, when there was one
	e.parsed = err == nil && len(data) <= 1<<16-1
	if e.parsed {
		if string(name) != named {
			named = string(name)
		}
		sc.ps.Name = named
		from := cap(data) - cap(name) // name is data[from : from+len(name)]
		e.sum, e.ps = sum, sc.ps
		e.nameFrom, e.nameTo = uint16(from), uint16(from+len(name))
	}
	return name, err
}

// readStat reads <pid>/stat into sc.buf and returns it with the file's
// owner: from the held file when there is one (fd ≥ 0) that still reads,
// else opened relative to dirfd (and held for the next scan when the budget
// allows). slot is the file's entry in c.next when it is held, else -1.
func (sc *scanner) readStat(dirfd int, pid []byte, id int32, held cachedFD) ([]byte, uint32, int, error) {
	c := sc.fds
	if held.fd >= 0 {
		if held.reads >= refreshReads && procFstatAt(dirfd, cPath(&sc.path, pid, "/stat"), &sc.st) == nil {
			// Time to read the owner again (a daemon that dropped
			// root): a stat of the path <pid>/stat has the kernel
			// work the owner out afresh, as an open does, at a
			// fraction of opening the file again. (Not /proc/<pid>
			// itself: a directory shows the effective uid even of a
			// process that is not dumpable, whose files show root.)
			// A new number for the opening all the same
			// (Process.StatOpened).
			sc.opens++
			held.uid, held.opened, held.reads = sc.st.Uid, sc.opens, 0
		}
		if held.reads < refreshReads {
			if sc.sleptThrough(&held, dirfd, pid, id) {
				sc.unread++
				held.reads++
				c.next = append(c.next, held)
				sc.opened = held.opened
				return nil, held.uid, len(c.next) - 1, nil
			}
			if n, err := readFull(int(held.fd), &sc.buf, fromStart|rawCalls); err == nil && n > 0 {
				held.reads++
				c.next = append(c.next, held)
				sc.opened = held.opened
				return sc.buf[:n], held.uid, len(c.next) - 1, nil
			}
		}
		held.release() // gone, pid reused (or its owner could not be read again)
	}
	fd, err := procOpenAt(dirfd, &sc.path, pid, "/stat", 0)
	if (err == unix.EMFILE || err == unix.ENFILE) && sc.shed(err) {
		fd, err = procOpenAt(dirfd, &sc.path, pid, "/stat", 0)
	}
	if err != nil {
		return nil, 0, -1, err
	}
	sc.opens++
	sc.opened = sc.opens
	n, err := 0, procFstat(fd, &sc.st)
	if err == nil {
		n, err = readFull(fd, &sc.buf, rawCalls)
	}
	if err == nil && n == 0 {
		err = unix.ESRCH // a zombie being reaped can read empty
	}
	slot := -1
	if err != nil || id <= 0 || c.hold != 1 || !heldFiles.take() {
		procClose(fd)
	} else {
		// fresh starts at pid modulo statEvery: the files of processes
		// first seen together (an agent's first scan) are read again in
		// different scans, not all in one.
		c.next = append(c.next, cachedFD{pid: id, fd: int32(fd), uid: sc.st.Uid, opened: sc.opened, fresh: uint8(id % statEvery)})
		slot = len(c.next) - 1
	}
	if err != nil {
		return nil, 0, -1, err
	}
	return sc.buf[:n], sc.st.Uid, slot, nil
}

// sleptThrough reports whether the process of the held stat file e (pid,
// id) has not run since that file was last read, so that the read may be
// left out: its <pid>/schedstat (run time in ns, time waited, timeslices;
// held too) reads the same as just before that read. schedstat is a third of
// the kernel's work for stat and tells any run of the process. Only for a
// process with one thread (schedstat is its main thread's), whose parent
// this scan has already seen (a parent's exit gives the child a new parent
// without the child running; pids are listed in ascending order, so a
// parent with a higher pid is not known yet), and at most statEvery−1
// scans in a row. A kernel without schedstat is noted once (noSched).
func (sc *scanner) sleptThrough(e *cachedFD, dirfd int, pid []byte, id int32) bool {
	c := sc.fds
	if c.noSched || !e.parsed || e.ps.Threads != 1 {
		e.dropSched() // a process that grew threads gives its place back
		return false
	}
	if e.sched == 0 {
		if !heldFiles.takeSpare() {
			return false
		}
		fd, err := procOpenAt(dirfd, &sc.path, pid, "/schedstat", 0)
		if err != nil {
			heldFiles.give(1) // (gone: the stat read fails too)
			return false
		}
		e.sched = int32(fd) + 1
	}
	n, err := readFull(int(e.sched-1), &sc.aux, fromStart|rawCalls)
	if err != nil || n == 0 {
		e.dropSched() // gone: the stat read fails too
		return false
	}
	if sc.aux[0] == '0' {
		e.schedRead = false // no run time yet: a child that has not run
		return false
	}
	sum := maphash.Bytes(sc.seed, sc.aux[:n])
	same := e.schedRead && sum == e.ssum && e.fresh < statEvery-1 && c.parentSeen(e, id)
	if same {
		e.fresh++
	} else if e.schedRead {
		// Read now. (Not after a first schedstat read: fresh keeps
		// the offset it started at, so that processes first seen
		// together are read in different scans.)
		e.fresh = 0
	}
	e.ssum, e.schedRead = sum, true
	return same
}

// parentSeen reports whether the parent of e (the process id) is known to
// be the one its last parse names: there is none (pid 1 and 2: PPID 0;
// elsewhere a PPID of 0 is a parent outside the procfs's pid namespace,
// which may go), or this scan has already read it (c.next is in ascending
// pid order), alive (a parent that has exited is a zombie until reaped,
// and its children have a new parent already) and no younger than e (not
// a new process on a reused pid).
func (c *fdCache) parentSeen(e *cachedFD, id int32) bool {
	ppid := e.ps.PPID
	if ppid == 0 {
		return id <= 2
	}
	if ppid >= id {
		return false
	}
	i := sort.Search(len(c.next), func(i int) bool { return c.next[i].pid >= ppid })
	if i == len(c.next) || c.next[i].pid != ppid {
		return false
	}
	p := &c.next[i].ps
	return c.next[i].parsed && p.State != 'Z' && p.State != 'X' && p.StartTime <= e.ps.StartTime
}

// schedstatKept reports whether the kernel keeps <pid>/schedstat, from
// the caller's own (self/schedstat: a process that is running has run):
// one without CONFIG_SCHED_INFO has no such file, or shows zeros.
func (sc *scanner) schedstatKept(dirfd int) bool {
	b, ok := sc.readAt(dirfd, "self/schedstat")
	return ok && len(b) > 0 && b[0] >= '1' && b[0] <= '9'
}

// shed closes the files this scan has held so far, when an open failed for
// want of descriptors, so that the scan goes on without dropping
// processes. When the process ran out (EMFILE: it holds more files than
// the budget allowed for, children's pidfds or sockets) the budget is
// capped at what is held then for shedFor; a full system table (ENFILE) is
// no sign of that. It reports whether it freed any.
func (sc *scanner) shed(err error) bool {
	c := sc.fds
	for i := range c.next {
		c.next[i].release()
	}
	freed := len(c.next) > 0
	c.next = c.next[:0]
	if err == unix.EMFILE {
		heldFiles.capHeld()
	}
	return freed
}

// readPIDFile reads <pid><suffix> (say "/cgroup") of the /proc being
// scanned (in each's callbacks); the bytes are valid until the next call.
// It returns nil when the file cannot be read (the process is gone).
func (sc *scanner) readPIDFile(pid int32, suffix string) []byte {
	if sc.aux == nil {
		sc.aux = make([]byte, 512)
	}
	// Ordinary calls: a read of <pid>/cgroup may wait on the kernel's
	// cgroup locks (held while other programs create or move cgroups), and
	// a raw call would keep its thread from the runtime meanwhile.
	fd, err := openAt(sc.dirfd, &sc.path, strconv.AppendInt(sc.num[:0], int64(pid), 10), suffix)
	if err != nil {
		return nil
	}
	n, err := readFull(fd, &sc.aux, fromPosition)
	unix.Close(fd)
	if err != nil {
		return nil
	}
	return sc.aux[:n]
}

// CountProcesses counts the processes (thread groups, kernel threads
// included: what a ProcessSampler lists) from one listing of the proc
// directory, opening none of their files: a count for a reader that needs
// no more of them (a Prometheus scrape), at a small part of a scan's cost.
func (fs *FS) CountProcesses() (int, error) {
	dirfd, err := unix.Open(fs.proc, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", fs.proc, err)
	}
	defer unix.Close(dirfd)
	rb := fs.bufs.Get().(*readBuf)
	defer fs.bufs.Put(rb)
	if cap(rb.data) < 32<<10 {
		rb.data = make([]byte, 0, 32<<10)
	}
	n := 0
	err = listPIDs(dirfd, rb.data[:cap(rb.data)], func([]byte) error { n++; return nil })
	return n, err
}

// parsePID is the value of an all-digit /proc entry name (see isPID), or
// -1 when it does not fit a pid.
func parsePID(name []byte) int32 {
	var v int64
	for _, c := range name {
		v = v*10 + int64(c-'0')
		if v > 1<<31-1 {
			return -1
		}
	}
	return int32(v)
}

// openAt opens dir/<name><suffix> relative to dirfd, building the
// NUL-terminated path in *pathBuf so the call does not allocate.
func openAt[S []byte | string](dirfd int, pathBuf *[]byte, name S, suffix string) (int, error) {
	return openat(unix.Syscall6, dirfd, cPath(pathBuf, name, suffix), 0)
}

// openat opens the NUL-terminated path p relative to dirfd, read-only with
// flags added, through call (unix.Syscall6, or unix.RawSyscall6 for a
// procfs: raw_linux.go).
func openat(call func(trap, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, uintptr, unix.Errno), dirfd int, p []byte, flags int) (int, error) {
	for {
		r, _, e := call(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&p[0])),
			uintptr(unix.O_RDONLY|unix.O_CLOEXEC|flags), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	}
}

// cPath builds the NUL-terminated <name><suffix> in *pathBuf.
func cPath[S []byte | string](pathBuf *[]byte, name S, suffix string) []byte {
	p := append((*pathBuf)[:0], name...)
	p = append(p, suffix...)
	p = append(p, 0)
	*pathBuf = p
	return p
}

// readMode is how readFull reads: from the file position or from offset 0,
// with ordinary or raw system calls.
type readMode uint8

const (
	fromPosition readMode = 0
	fromStart    readMode = 1 // pread at 0: a held file is regenerated
	rawCalls     readMode = 2 // a procfs file: raw system calls (raw_linux.go)
)

// readFull reads fd into *buf, growing it when a read fills it; with pread
// it reads from offset 0 whatever the file position (a held /proc file is
// regenerated by a read at offset 0). /proc seq files hand out whole records
// per read, so a read that does not fill the buffer and ends in '\n' is
// complete without a second read for EOF.
func readFull(fd int, buf *[]byte, mode readMode) (int, error) {
	n := 0
	for {
		b := *buf
		var m int
		var err error
		switch mode {
		case fromStart:
			m, err = unix.Pread(fd, b[n:], int64(n))
		case fromPosition:
			m, err = unix.Read(fd, b[n:])
		case fromStart | rawCalls:
			m, err = procRead(fd, b[n:], int64(n))
		default:
			m, err = procRead(fd, b[n:], -1)
		}
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
	if err := procRewind(dirfd); err != nil {
		return fmt.Errorf("rewind /proc: %w", err)
	}
	for {
		n, err := procGetdents(dirfd, dents)
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
