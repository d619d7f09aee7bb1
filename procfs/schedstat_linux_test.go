package procfs

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// heldEntry is the scanner's held entry for pid after the last scan, or nil.
func heldEntry(s *ProcessSampler, pid int) *cachedFD {
	for i := range s.scan.fds.prev {
		if int(s.scan.fds.prev[i].pid) == pid {
			return &s.scan.fds.prev[i]
		}
	}
	return nil
}

// freshStat parses /proc/<pid>/stat read now, with a fresh open.
func freshStat(t *testing.T, pid int) ProcStat {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ParseProcStat(b)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// quiet scans until the stat file of pid, a process that sleeps, is left
// unread (its schedstat unchanged: it has settled), and returns the list.
func quiet(t *testing.T, s *ProcessSampler, ps []Process, pid int) []Process {
	t.Helper()
	for range 3 * statEvery {
		time.Sleep(20 * time.Millisecond)
		ps = sampleNow(t, s, ps)
		if e := heldEntry(s, pid); e != nil && e.fresh > 0 {
			return ps
		}
	}
	t.Skipf("the stat file of %d was never left unread: a kernel without schedstat?", pid)
	return nil
}

// sameAsFresh reports how a row differs from a fresh read of its stat file
// ("" when it does not).
func sameAsFresh(p *Process, st ProcStat, pageSize uint64) string {
	switch {
	case p == nil:
		return "not listed"
	case p.Name != st.Name, p.PPID != st.PPID, p.State != st.State, p.StartTime != st.StartTime,
		p.UTime != st.UTime, p.STime != st.STime, p.VSize != st.VSize, p.Threads != st.Threads,
		p.Nice != st.Nice, p.RSS != st.RSSPages*pageSize:
		return "row " + strconv.Quote(p.Name) + " ppid " + strconv.Itoa(int(p.PPID)) + " nice " + strconv.Itoa(int(p.Nice)) +
			"; fresh " + strconv.Quote(st.Name) + " ppid " + strconv.Itoa(int(st.PPID)) + " nice " + strconv.Itoa(int(st.Nice))
	}
	return ""
}

// A sleeping process with one thread has its stat file left unread while its
// schedstat says it has not run, at most statEvery−1 scans in a row, and its
// row is what a fresh read gives all the same; a process that runs is read
// on every scan.
func TestSleeperStatLeftUnread(t *testing.T) {
	skipForkUnderEmulation(t)
	idle := startSleepers(t, 1)[0]
	spin := exec.Command("sh", "-c", "while :; do :; done")
	if err := spin.Start(); err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { spin.Process.Kill(); spin.Wait() })
	fs := liveFS(t)
	s := fs.NewProcessSampler()
	s.Window = 0
	defer s.Close()
	ps := sampleNow(t, s, nil)
	if e := heldEntry(s, idle); e == nil || e.sched == 0 {
		t.Skipf("no schedstat held for the sleeper (%+v): a kernel without it?", e)
	}
	unreadScans, spinUnread := 0, 0
	for scan := 0; scan < 2*statEvery; scan++ {
		// A tick apart at least: the kernel moves the run time of a
		// process that is running through it at ticks.
		time.Sleep(30 * time.Millisecond)
		ps = sampleNow(t, s, ps)
		e := heldEntry(s, idle)
		if e == nil {
			t.Fatal("the sleeper's stat file is no longer held")
		}
		if e.fresh > 0 {
			unreadScans++
		}
		if e.fresh >= statEvery {
			t.Fatalf("the sleeper's stat file unread for %d scans", e.fresh)
		}
		if d := sameAsFresh(findPID(ps, idle), freshStat(t, idle), fs.pageSize); d != "" {
			t.Errorf("scan %d: the sleeper: %s", scan, d)
		}
		if findPID(ps, spin.Process.Pid) == nil {
			t.Fatal("the spinner is not listed")
		}
		if e := heldEntry(s, spin.Process.Pid); e == nil || e.fresh != 0 {
			spinUnread++ // (it may not have run in a busy machine's 30 ms)
		}
	}
	if unreadScans < statEvery {
		t.Errorf("the sleeper's stat file was left unread in %d of %d scans", unreadScans, 2*statEvery)
	}
	if spinUnread > statEvery/2 {
		t.Errorf("the spinner's stat file was left unread in %d of %d scans", spinUnread, 2*statEvery)
	}
	p, st := findPID(ps, spin.Process.Pid), freshStat(t, spin.Process.Pid)
	if p == nil || st.UTime+st.STime == 0 || p.UTime+p.STime+2 < st.UTime+st.STime {
		t.Errorf("the spinner's row %+v, a fresh read %+v", p, st)
	}
}

// A child whose parent exits gets a new parent without running: the next
// scan shows it, however long its stat file has been left unread.
func TestOrphanShowsItsNewParentAtOnce(t *testing.T) {
	skipForkUnderEmulation(t)
	parent := exec.Command("sh", "-c", "sleep 60 >/dev/null & echo $!; read x")
	stdin, err := parent.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { parent.Process.Kill(); parent.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Kill(child, unix.SIGKILL) })
	if child < parent.Process.Pid {
		t.Skip("the child's pid is below its parent's (pids wrapped): its stat is read on every scan")
	}
	fs := liveFS(t)
	s := fs.NewProcessSampler()
	s.Window = 0
	defer s.Close()
	ps := quiet(t, s, nil, child)
	if p := findPID(ps, child); p == nil || int(p.PPID) != parent.Process.Pid {
		t.Fatalf("the child's row %+v, want parent %d", p, parent.Process.Pid)
	}
	heldEntry(s, child).fresh = 1 // far from its periodic read
	stdin.Close()
	if _, err := io.Copy(io.Discard, stdout); err != nil {
		t.Fatal(err)
	}
	// The parent is a zombie until it is reaped; its child has a new
	// parent already.
	for freshStat(t, parent.Process.Pid).State != 'Z' {
		time.Sleep(5 * time.Millisecond)
	}
	check := func(when string) {
		t.Helper()
		ps = sampleNow(t, s, ps)
		st := freshStat(t, child)
		if int(st.PPID) == parent.Process.Pid {
			t.Fatalf("the child still has its old parent %d", st.PPID)
		}
		if d := sameAsFresh(findPID(ps, child), st, fs.pageSize); d != "" {
			t.Errorf("the orphan %s: %s", when, d)
		}
	}
	check("while its parent is a zombie")
	parent.Wait()
	heldEntry(s, child).fresh = 1
	check("after its parent was reaped")
}

// Processes first seen together have their stat files read again in
// different scans, not all in one.
func TestUnreadStatFilesReadInTurn(t *testing.T) {
	skipForkUnderEmulation(t)
	pids := startSleepers(t, 20)
	time.Sleep(50 * time.Millisecond) // (settled in their sleep)
	s := liveFS(t).NewProcessSampler()
	s.Window = 0
	defer s.Close()
	ps := quiet(t, s, nil, pids[0])
	most := 0
	for range 2 * statEvery {
		ps = sampleNow(t, s, ps)
		read := 0
		for _, pid := range pids {
			if e := heldEntry(s, pid); e == nil || e.fresh == 0 {
				read++
			}
		}
		most = max(most, read)
	}
	if most > len(pids)/2 {
		t.Errorf("one scan read the stat files of %d of %d sleepers started together", most, len(pids))
	}
}

// What changes while a process sleeps (here its nice value, set by another
// process) shows within statEvery scans.
func TestSleeperNiceShowsWithinStatEvery(t *testing.T) {
	skipForkUnderEmulation(t)
	pid := startSleepers(t, 1)[0]
	fs := liveFS(t)
	s := fs.NewProcessSampler()
	s.Window = 0
	defer s.Close()
	ps := quiet(t, s, nil, pid)
	old := findPID(ps, pid)
	if old == nil {
		t.Fatal("the sleeper is not listed")
	}
	nice := int(old.Nice) + 3
	if err := unix.Setpriority(unix.PRIO_PROCESS, pid, nice); err != nil {
		t.Skip(err)
	}
	for scan := 1; scan <= statEvery; scan++ {
		ps = sampleNow(t, s, ps)
		if p := findPID(ps, pid); p != nil && int(p.Nice) == nice {
			return
		}
	}
	t.Errorf("the sleeper's nice %d did not show in %d scans", nice, statEvery)
}

// sleptThrough's decisions on schedstat bytes, from files that stand for a
// held schedstat: the same bytes leave the stat file unread up to
// statEvery−1 times; zeros from a process that has run mark a kernel that
// keeps no schedstat, after which none is read; zeros from one that has not
// run yet do not.
func TestSleptThroughDecides(t *testing.T) {
	dir := t.TempDir()
	held := func(t *testing.T, content string) int32 {
		t.Helper()
		name := filepath.Join(dir, "schedstat")
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !heldFiles.take() {
			unix.Close(fd)
			t.Skip("no room in the held-file budget")
		}
		return int32(fd) + 1
	}
	var sc scanner
	sc.init()
	pid := []byte("4242")
	// Its parent, pid 100, read already in this scan.
	sc.fds.next = []cachedFD{{pid: 100, parsed: true, ps: ProcStat{State: 'S', StartTime: 5}}}
	e := cachedFD{pid: 4242, parsed: true, ps: ProcStat{PPID: 100, Threads: 1, UTime: 7, StartTime: 10}}
	e.sched = held(t, "123456 789 10\n")
	if sc.sleptThrough(&e, -1, pid, 4242) {
		t.Error("left unread on the first schedstat read")
	}
	for i := 1; i < statEvery; i++ {
		if !sc.sleptThrough(&e, -1, pid, 4242) {
			t.Fatalf("read %d: the same schedstat did not leave the stat file unread", i)
		}
	}
	if sc.sleptThrough(&e, -1, pid, 4242) {
		t.Errorf("unread %d scans in a row", statEvery)
	}
	if !sc.sleptThrough(&e, -1, pid, 4242) {
		t.Error("not unread again after the periodic read")
	}
	// A parent that cannot be the one the last parse names.
	for _, c := range []struct {
		why    string
		ppid   int32
		parent ProcStat
	}{
		{"a zombie parent", 100, ProcStat{State: 'Z', StartTime: 5}},
		{"a parent younger than its child (a reused pid)", 100, ProcStat{State: 'S', StartTime: 11}},
		{"a parent not read in this scan", 99, ProcStat{State: 'S', StartTime: 5}},
		{"no parent in the namespace, not pid 1 or 2", 0, ProcStat{State: 'S', StartTime: 5}},
	} {
		sc.fds.next[0].ps = c.parent
		e.ps.PPID, e.fresh = c.ppid, 1
		if sc.sleptThrough(&e, -1, pid, 4242) {
			t.Errorf("%s: the stat file left unread", c.why)
		}
	}
	sc.fds.next[0].ps = ProcStat{State: 'S', StartTime: 5}
	e.ps.PPID = 100
	e.ps.Threads = 2
	if sc.sleptThrough(&e, -1, pid, 4242) || e.sched != 0 {
		t.Errorf("a process with two threads: schedstat still held (%d) or trusted", e.sched)
	}

	// Zeros: a process that has not run yet.
	e = cachedFD{pid: 4242, parsed: true, ps: ProcStat{Threads: 1}}
	e.sched = held(t, "0 0 0\n")
	for i := range 2 {
		if sc.sleptThrough(&e, -1, pid, 4242) || e.schedRead {
			t.Errorf("read %d: zeros left the stat file unread", i)
		}
	}
	// A kernel without schedstat: none is read, the file held is let go.
	sc.fds.noSched = true
	if sc.sleptThrough(&e, -1, pid, 4242) || e.sched != 0 {
		t.Errorf("with noSched the schedstat is still held (%d)", e.sched)
	}
}

// schedstatKept tells a kernel that keeps schedstat from its own
// self/schedstat: no file, or zeros for a process that is running, say it
// keeps none.
func TestSchedstatKept(t *testing.T) {
	for _, c := range []struct {
		content string // "" for no file
		want    bool
	}{
		{"271829534 71518932 1066\n", true},
		{"0 0 0\n", false},
		{"", false},
	} {
		dir := t.TempDir()
		if c.content != "" {
			if err := os.Mkdir(filepath.Join(dir, "self"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "self", "schedstat"), []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		dirfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		var sc scanner
		sc.init()
		if got := sc.schedstatKept(dirfd); got != c.want {
			t.Errorf("self/schedstat %q: kept %v, want %v", c.content, got, c.want)
		}
		unix.Close(dirfd)
	}
	fs := liveFS(t)
	s := fs.NewProcessSampler()
	defer s.Close()
	s.Window = 0
	sampleNow(t, s, nil)
	if b, err := os.ReadFile("/proc/self/schedstat"); err == nil && b[0] != '0' && s.scan.fds.noSched {
		t.Errorf("noSched on a kernel whose self/schedstat reads %q", b)
	}
}
