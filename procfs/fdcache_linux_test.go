package procfs

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func sampleNow(t *testing.T, s *ProcessSampler, ps []Process) []Process {
	t.Helper()
	ps, err := s.Sample(context.Background(), ps)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// The sampler keeps each <pid>/stat open between samples; what it reads
// through a held file must be what a fresh open would read, and a held file
// must never outlive its process.
func TestHeldStatFiles(t *testing.T) {
	fs := liveFS(t)
	s := fs.NewProcessSampler()
	s.Window = 0
	base := openFDs(t)
	ps := sampleNow(t, s, nil)
	held := s.scan.fds.held()
	if held == 0 || held > 2*len(ps)+1 { // stat, schedstat of one-thread processes, loadavg
		t.Fatalf("%d files held for %d processes", held, len(ps))
	}
	if got := openFDs(t) - base; got != held {
		t.Errorf("%d more fds open after a sample, %d held", got, held)
	}

	// Renamed after the first sample (only a process may rename itself):
	// the held file shows the new name, as a read at offset 0 regenerates it.
	self := os.Getpid()
	comm := "/proc/self/comm"
	old, err := os.ReadFile(comm)
	if err != nil {
		t.Fatal(err)
	}
	rename := func(name []byte) {
		f, err := os.OpenFile(comm, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.Write(name)
			f.Close()
		}
		if err != nil {
			t.Fatalf("rename self: %v", err)
		}
	}
	rename([]byte("renamed-self"))
	defer rename(old[:len(old)-1])
	ps = sampleNow(t, s, ps)
	if p := findPID(ps, self); p == nil || p.Name != "renamed-self" {
		t.Errorf("after renaming, the held file reads %+v, want renamed-self", p)
	}

	child := startChild(t, "sleep")
	pid := child.Process.Pid
	ps = sampleNow(t, s, ps)
	if p := findPID(ps, pid); p == nil {
		t.Fatalf("child %d not listed", pid)
	}
	// Once the child is gone, so is its row and its held file.
	child.Process.Kill()
	child.Wait()
	ps = sampleNow(t, s, ps)
	if findPID(ps, pid) != nil {
		t.Errorf("child %d listed after it exited", pid)
	}
	for _, h := range s.scan.fds.prev {
		if int(h.pid) == pid {
			t.Errorf("the exited child's stat file is still held (fd %d)", h.fd)
		}
	}

	s.Close()
	if got := openFDs(t); got != base {
		t.Errorf("after Close %d fds open, %d before the first sample", got, base)
	}
	// Used again after Close it opens files again, as many as the budget
	// allows; the others are read and closed as before.
	limitHeld(t, 5)
	ps = sampleNow(t, s, ps)
	if n := len(s.scan.fds.prev); n != 5 || len(ps) < 10 {
		t.Errorf("after Close, with a budget of 5: %d files held, %d processes listed", n, len(ps))
	}
	s.Close()
}

// A held file's owner serves for at most refreshReads scans, then it is
// read again.
func TestHeldStatFilesRefresh(t *testing.T) {
	fs := liveFS(t)
	s := fs.NewProcessSampler()
	s.Window = 0
	defer s.Close()
	self := int32(os.Getpid())
	var ps []Process
	// reads counts the scans since the owner was read.
	readsOf := func() int {
		for _, h := range s.scan.fds.prev {
			if h.pid == self {
				return int(h.reads)
			}
		}
		return -1
	}
	ps = sampleNow(t, s, ps)
	last, reopened := readsOf(), false
	for range refreshReads + 1 {
		ps = sampleNow(t, s, ps)
		r := readsOf()
		if r < 0 {
			t.Fatal("own stat file not held")
		}
		if r < last {
			reopened = true
		}
		last = r
	}
	if !reopened {
		t.Errorf("own stat file's owner was not read again in %d scans", refreshReads+1)
	}
	if p := findPID(ps, int(self)); p == nil || p.UID != uint32(os.Geteuid()) {
		t.Errorf("own row %+v, want uid %d", p, os.Geteuid())
	}
}

// Fixture trees are never held open: a test (or an operator) may replace a
// file under an open descriptor.
func TestFixtureTreeNotHeld(t *testing.T) {
	fs := fixtureFS(t, "testdata/fixtures/x86-server")
	s := fs.NewProcessSampler()
	s.Window = time.Millisecond
	defer s.Close()
	if ps := sampleNow(t, s, nil); len(ps) == 0 {
		t.Fatal("no processes in the fixture")
	}
	if n := len(s.scan.fds.prev); n != 0 || s.scan.fds.hold != 0 {
		t.Errorf("fixture tree: %d files held (hold %d); want none", n, s.scan.fds.hold)
	}
}

// limitHeld leaves room for n more held files in the process's budget
// until the test ends.
func limitHeld(t *testing.T, n int64) {
	t.Helper()
	heldFiles.take() // the budget is set from the rlimit at the first take
	heldFiles.give(1)
	old := heldFiles.limit.Load()
	heldFiles.limit.Store(heldFiles.held.Load() + n)
	t.Cleanup(func() { heldFiles.limit.Store(old) })
}

// Samplers in one process share one budget of held files: what one holds,
// another cannot; what one lets go of, another may take.
func TestHeldFilesOneBudget(t *testing.T) {
	fs := liveFS(t)
	a, b := fs.NewProcessSampler(), fs.NewProcessSampler()
	a.Window, b.Window = 0, 0
	defer a.Close()
	defer b.Close()
	ps := sampleNow(t, a, nil)
	if len(ps) < 8 {
		t.Skipf("only %d processes", len(ps))
	}
	a.Close()
	budget := int64(len(ps) / 2)
	limitHeld(t, budget)
	ps = sampleNow(t, a, ps)
	ps = sampleNow(t, b, ps)
	heldA, heldB := len(a.scan.fds.prev), len(b.scan.fds.prev)
	if int64(heldA) != budget || heldB != 0 || len(ps) < 8 {
		t.Errorf("with a budget of %d for %d processes: a holds %d, b %d; want a the whole budget and b none", budget, len(ps), heldA, heldB)
	}
	a.Close()
	sampleNow(t, b, ps)
	if n := len(b.scan.fds.prev); int64(n) < budget-2 {
		t.Errorf("after a let go of its files, b holds %d of a budget of %d", n, budget)
	}
}

// While no task is created, a scan takes the previous scan's list for a
// listing of /proc; a fork makes the next scan list again, and a process
// that has gone fails its held read.
func TestListingSkippedWhileNoTaskIsCreated(t *testing.T) {
	fs := liveFS(t)
	s := fs.NewProcessSampler()
	s.Window = 0
	defer s.Close()
	ps := sampleNow(t, s, nil)
	ps = sampleNow(t, s, ps) // holds loadavg after the first: this one notes the last pid,
	ps = sampleNow(t, s, ps) // and this one lists once the last pid stood still
	if s.scan.fds.loadavg < 0 {
		t.Skip("loadavg not held: this /proc is not of the test's pid namespace, or the budget is spent")
	}
	// The test binary's runtime may start a thread now and then, which
	// moves the last pid: one scan of ten that reuses the list is enough.
	reused := false
	for range 10 {
		before := s.scan.listings
		ps = sampleNow(t, s, ps)
		if s.scan.listings == before {
			reused = true
			break
		}
	}
	if !reused {
		t.Fatalf("ten scans listed /proc every time (last pid %d)", s.scan.fds.lastPID)
	}
	n := len(ps)

	child := startChild(t, "sleep")
	pid := child.Process.Pid
	before := s.scan.listings
	ps = sampleNow(t, s, ps)
	if s.scan.listings == before {
		t.Errorf("the scan after a fork took the old list")
	}
	if findPID(ps, pid) == nil {
		t.Fatalf("child %d, started after a scan that reused the list, not listed", pid)
	}
	child.Process.Kill()
	child.Wait()
	ps = sampleNow(t, s, ps)
	if findPID(ps, pid) != nil {
		t.Errorf("child %d listed after it exited", pid)
	}
	if len(ps) > n+5 {
		t.Errorf("%d processes listed, %d before the child", len(ps), n)
	}
}

func TestMountHidesPIDs(t *testing.T) {
	const plain = "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	const hiding = "23 22 0:50 / /proc rw,relatime - proc proc rw,hidepid=invisible,subset=pid\n"
	for _, c := range []struct {
		info string
		want bool
	}{
		{plain, false}, {plain + hiding, true}, {hiding + plain, false},
		{"24 1 0:51 / /proc rw - proc proc rw,hidepid=0\n", false},
		{"24 1 0:51 / /proc rw - proc proc rw,hidepid=2\n", true},
		{"24 1 0:51 / /host/proc rw - proc proc rw,hidepid=2\n", false}, // another mount point
		{"", false}, {"garbage\n - \n", true}, // what does not parse counts as hiding
	} {
		if got := mountHidesPIDs([]byte(c.info), "/proc"); got != c.want {
			t.Errorf("mountHidesPIDs(%q) = %v, want %v", c.info, got, c.want)
		}
	}
}

func TestLastPIDAndNamespaceLevels(t *testing.T) {
	for in, want := range map[string]int64{
		"0.00 0.01 0.05 1/386 16101\n": 16101, "0.00 0.01 0.05 1/386 7": 7,
		"0.00 0.01 0.05 1/386 \n": -1, "": -1, "16101": -1, "0.00 0.01 0.05 1/386 99999999999": -1,
	} {
		if got := lastPID([]byte(in)); got != want {
			t.Errorf("lastPID(%q) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]int8{
		"Name:\tx\nNSpid:\t5\nNSpgid:\t5\n": 1, "Name:\tx\nNSpid:\t10\t5\n": 0, "Name:\tx\n": 0, "Name:\tx\nNSpid:\t5": 1,
	} {
		if got := nsPIDLevels([]byte(in)); got != want {
			t.Errorf("nsPIDLevels(%q) = %d, want %d", in, got, want)
		}
	}
}

// A held stat file that reads the same bytes as at the last scan takes that
// scan's parse; one whose bytes changed is parsed again. Either way the row
// is what a fresh parse of the file gives.
func TestUnchangedStatTakesTheLastParse(t *testing.T) {
	skipForkUnderEmulation(t)
	idle := startSleepers(t, 1)[0]
	busy := startChild(t, "spin")
	s := liveFS(t).NewProcessSampler()
	s.Window = 0
	defer s.Close()
	ps := sampleNow(t, s, nil)
	time.Sleep(200 * time.Millisecond) // the spinner runs; the sleeper does not
	parsed := s.scan.parses
	ps = sampleNow(t, s, ps)
	if n := s.scan.parses - parsed; n >= len(ps) {
		t.Errorf("every one of %d stat files was parsed again (%d parses)", len(ps), n)
	}
	want, err := os.ReadFile("/proc/" + strconv.Itoa(idle) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseProcStat(want)
	if err != nil {
		t.Fatal(err)
	}
	p := findPID(ps, idle)
	if p == nil {
		t.Fatalf("sleeper %d not listed", idle)
	}
	if p.Name != st.Name || p.PPID != st.PPID || p.State != st.State || p.StartTime != st.StartTime ||
		p.UTime != st.UTime || p.STime != st.STime || p.VSize != st.VSize || p.Threads != st.Threads {
		t.Errorf("sleeper row %+v, a fresh parse gives %+v", *p, st)
	}
	b := findPID(ps, busy.Process.Pid)
	if b == nil || b.CPU == 0 {
		t.Fatalf("spinner row %+v: its changed stat was not parsed again", b)
	}
}

func TestHeldLimit(t *testing.T) {
	for _, c := range []struct{ cur, reserve, want int64 }{
		{20000, fdReserve, 17952},
		{65536, fdReserve, maxCachedFDs},
		{1024, fdReserve, 384},
		{4096, fdReserve, 2048},
		{20000, 10000 + 64, 9936}, // an agent of 10,000 clients
		{20000, 30000, 9872},      // never more than half
		{0, fdReserve, 0},
	} {
		if got := heldLimit(c.cur, c.reserve); got != c.want {
			t.Errorf("heldLimit(%d, %d) = %d, want %d", c.cur, c.reserve, got, c.want)
		}
	}
}

// A process short of descriptors (more held elsewhere than the budget
// allowed for) lets go of the files its scan holds and lists every process
// all the same: none is dropped for want of a descriptor.
func TestOutOfDescriptorsDropsNoProcess(t *testing.T) {
	skipForkUnderEmulation(t)
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	pids := startSleepers(t, 40)
	limitHeld(t, 1<<20) // a budget far above what the descriptors allow
	t.Cleanup(func() { heldFiles.capUntil.Store(0) })
	s := liveFS(t).NewProcessSampler()
	s.Window = 0
	defer s.Close()
	// 20 descriptors to spare: the scan runs out half-way through the
	// children.
	small := lim
	small.Cur = uint64(openFDs(t) + 20)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &small); err != nil {
		t.Skipf("cannot lower RLIMIT_NOFILE: %v", err)
	}
	ps, err := s.Sample(context.Background(), nil)
	unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if findPID(ps, pid) == nil {
			t.Errorf("child %d not listed (%d processes listed)", pid, len(ps))
		}
	}
	if held := int64(s.scan.fds.held()); held >= 40 {
		t.Errorf("%d files still held after running out", held)
	}
	// The shortage caps the budget for a while, then it holds again.
	if until := heldFiles.capUntil.Load(); until < time.Now().UnixNano() {
		t.Fatalf("no cap after running out of descriptors")
	}
	ps = sampleNow(t, s, ps)
	if held := s.scan.fds.held(); held >= 40 {
		t.Errorf("%d files held while capped", held)
	}
	heldFiles.capUntil.Store(time.Now().UnixNano() - 1)
	sampleNow(t, s, ps)
	if held := s.scan.fds.held(); held < len(pids) {
		t.Errorf("%d files held once the cap passed, want ≥ %d", held, len(pids))
	}
}

// A process that changes user shows its new owner within refreshReads
// scans of the file held since before the change, with a new StatOpened
// (what the agent reads the command line again on). One that the change
// left undumpable shows root, as its files do, on a refresh as on a fresh
// open.
func TestHeldFileOwnerReadAgain(t *testing.T) {
	skipForkUnderEmulation(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root: the child drops root")
	}
	child := startChild(t, "drop-root")
	undumpable := startChild(t, "drop-root-undumpable")
	pid, upid := child.Process.Pid, undumpable.Process.Pid
	s := liveFS(t).NewProcessSampler()
	s.Window = 0
	defer s.Close()
	ps := sampleNow(t, s, nil)
	p := findPID(ps, pid)
	if p == nil || p.UID != 0 {
		t.Fatalf("child row %+v, want uid 0 before it drops root", p)
	}
	opened := p.StatOpened
	time.Sleep(500 * time.Millisecond)
	for scan := 1; ; scan++ {
		ps = sampleNow(t, s, ps)
		p = findPID(ps, pid)
		if p == nil {
			t.Fatalf("child %d not listed", pid)
		}
		if u := findPID(ps, upid); u == nil || u.UID != 0 {
			t.Fatalf("scan %d: undumpable child row %+v, want uid 0 (its files' owner)", scan, u)
		}
		if p.UID == 65534 {
			if p.StatOpened == opened {
				t.Errorf("new owner with the same StatOpened %d", opened)
			}
			if held := findHeld(s, int32(pid)); held < 0 {
				t.Errorf("the child's file is no longer held")
			}
			break
		}
		if scan > refreshReads+1 {
			t.Fatalf("after %d scans the child still shows uid %d", scan, p.UID)
		}
	}
	// The undumpable one through its own refresh, and in a fresh sampler.
	for range refreshReads + 1 {
		ps = sampleNow(t, s, ps)
	}
	if u := findPID(ps, upid); u == nil || u.UID != 0 {
		t.Errorf("undumpable child after a refresh: %+v, want uid 0", u)
	}
	fs := liveFS(t).NewProcessSampler()
	defer fs.Close()
	fresh := sampleNow(t, fs, nil)
	if u := findPID(fresh, upid); u == nil || u.UID != 0 {
		t.Errorf("undumpable child in a fresh sampler: %+v, want uid 0", u)
	}
}

// findHeld is pid's held descriptor, or -1.
func findHeld(s *ProcessSampler, pid int32) int32 {
	for _, h := range s.scan.fds.prev {
		if h.pid == pid {
			return h.fd
		}
	}
	return -1
}

// startSleepers starts n `sleep 60` children, killed and reaped when the
// test ends, and returns their pids.
func startSleepers(t *testing.T, n int) []int {
	t.Helper()
	sleepBin, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	pids := make([]int, 0, n)
	for range n {
		c := exec.Command(sleepBin, "60")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		pids = append(pids, c.Process.Pid)
	}
	return pids
}

// skipForkUnderEmulation skips a test that starts children under qemu-user
// (CI's arm64/armv7 runs): a fork of its multithreaded guest can deadlock
// (seen in CI: the child stuck in a futex before its exec, the test waiting
// on it until the timeout). What these tests check is not the
// architecture's; TestHeldStatFilesRefresh runs the raw fstatat there.
func skipForkUnderEmulation(t *testing.T) {
	t.Helper()
	if emulated() {
		t.Skip("starts children: not under user-mode emulation")
	}
}

// procFstatAt is the same call as unix.Fstatat on every architecture (a raw
// call with the number and struct of each, or x/sys's).
func TestProcFstatAt(t *testing.T) {
	dirfd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skip(err)
	}
	defer unix.Close(dirfd)
	name := strconv.Itoa(os.Getpid()) + "/stat"
	var path []byte
	var got, want unix.Stat_t
	if err := procFstatAt(dirfd, cPath(&path, name, ""), &got); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fstatat(dirfd, name, &want, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatal(err)
	}
	if got.Ino != want.Ino || got.Uid != want.Uid || got.Mode != want.Mode || got.Dev != want.Dev {
		t.Errorf("procFstatAt: ino %d uid %d mode %o dev %d; unix.Fstatat: ino %d uid %d mode %o dev %d",
			got.Ino, got.Uid, got.Mode, got.Dev, want.Ino, want.Uid, want.Mode, want.Dev)
	}
	if err := procFstatAt(dirfd, cPath(&path, "no-such-file", ""), &got); err != unix.ENOENT {
		t.Errorf("a missing file: %v, want ENOENT", err)
	}
}
