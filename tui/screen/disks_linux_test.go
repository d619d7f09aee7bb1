package screen

import (
	"strings"
	"testing"

	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/widget"
	"golang.org/x/sys/unix"
)

// On a real agent, the root filesystem's line agrees with statfs as df
// computes it — when the agent sends used and free; until then it is
// marked as size − available.
func TestLiveDiskAgreesWithStatfs(t *testing.T) {
	la := startLiveAgent(t, "", "")
	hs := startApp(t, Options{Target: model.Target{URL: la.url}}, 200, 60)
	hs.waitFor("● connected", "─ disks ")
	var line string
	var exact bool
	hs.waitUntil("the root filesystem's line", func(s string) bool {
		hs.onUI(func() {
			for _, dk := range hs.d.h.Disks.GetDisks() {
				if dk.GetMountPoint() == "/" {
					line, exact = dk.GetName()+" /", dk.GetUsed() != 0 || dk.GetFree() != 0
				}
			}
		})
		return line != "" && strings.Contains(s, line)
	})
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		t.Fatal(err)
	}
	used := (st.Blocks - st.Bfree) * uint64(st.Bsize)
	avail := st.Bavail * uint64(st.Bsize)
	pct := 100 * float64(used) / float64(used+avail)
	l := lineWith(hs.text(), line)
	if !exact {
		if !strings.Contains(l, "%*") {
			t.Errorf("without used and free the line is not marked: %q", l)
		}
		t.Logf("the agent sends no used/free yet; df would say %.1f%%: %q", pct, l)
		return
	}
	// the filesystem moves between the agent's statfs and ours: a tenth
	// of a percent either way
	ok := false
	for _, p := range []float64{pct - 0.1, pct, pct + 0.1} {
		ok = ok || strings.Contains(l, widget.Percent(p)+" ")
	}
	if !ok || !strings.Contains(l, widget.Bytes(avail)[:2]) {
		t.Errorf("root line %q, df says %s used of %s available, %.1f%%", l, widget.Bytes(used), widget.Bytes(avail), pct)
	}
}
