package procfs

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// GroupOf gets each process's /proc/<pid>/cgroup when the process is
// first seen, then again only every refreshReads scans; a process that
// appears later is read at once, and a process that is gone keeps nothing.
func TestProcessGroupOf(t *testing.T) {
	fs := liveFS(t)
	s := fs.NewProcessSampler()
	s.Window = 0
	defer s.Close()
	calls := map[string]int{} // content → calls
	n := 0
	s.GroupOf = func(b []byte) string {
		n++
		calls[string(b)]++
		if len(b) == 0 {
			return ""
		}
		return "group:" + strings.TrimSpace(string(b))
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	ps := sampleNow(t, s, nil)
	if n < len(ps) {
		t.Fatalf("first sample of %d processes called GroupOf %d times", len(ps), n)
	}
	self := findPID(ps, os.Getpid())
	if want := "group:" + strings.TrimSpace(string(own)); self == nil || self.Group != want {
		t.Fatalf("own row %+v, want group %q", self, want)
	}

	// A new process is read at its first scan; the others are not read
	// again until refreshReads scans have passed.
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	type seen struct {
		pid   int32
		start uint64
	}
	before := map[seen]bool{}
	for _, p := range ps {
		before[seen{p.PID, p.StartTime}] = true
	}
	n = 0
	ps = sampleNow(t, s, ps)
	if c := findPID(ps, child.Process.Pid); c == nil || c.Group == "" {
		t.Fatalf("new child's row: %+v", c)
	}
	// The child, and whatever else the machine started meanwhile (a busy
	// CI machine starts several): one read for each new row, none for the
	// others.
	fresh := 0
	for _, p := range ps {
		if !before[seen{p.PID, p.StartTime}] {
			fresh++
		}
	}
	if n != fresh {
		t.Errorf("second sample called GroupOf %d times for %d new processes (the child among them), want one each", n, fresh)
	}
	if self = findPID(ps, os.Getpid()); self == nil || self.Group == "" {
		t.Fatalf("own row lost its group on a scan that did not read it: %+v", self)
	}
	reads := 0
	for range refreshReads + 1 {
		before := n
		ps = sampleNow(t, s, ps)
		if n > before {
			reads++
		}
	}
	if reads == 0 {
		t.Errorf("no process's group was read again in %d scans", refreshReads+1)
	}
	if self = findPID(ps, os.Getpid()); self == nil || self.Group != "group:"+strings.TrimSpace(string(own)) {
		t.Errorf("own row after %d scans: %+v", refreshReads+1, self)
	}
}
