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
	n = 0
	ps = sampleNow(t, s, ps)
	if c := findPID(ps, child.Process.Pid); c == nil || c.Group == "" {
		t.Fatalf("new child's row: %+v", c)
	}
	if n == 0 || n > 3 {
		// the child, and maybe a short-lived process or two of the machine
		t.Errorf("second sample called GroupOf %d times, want about 1 (the new child)", n)
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
