package screen

import (
	"errors"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/procfs/proctest"
	"github.com/socktop/socktop/tui/model"
)

// The test binary re-executed with SOCKTOP_TEST_HELPER=traffic moves bytes
// until it is killed: 200 KiB every 100 ms over a loopback TCP
// connection to itself (both ends are its own) and to
// $SOCKTOP_TEST_DIR/data with fsync.
func init() {
	if os.Getenv("SOCKTOP_TEST_HELPER") != "traffic" {
		return
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		os.Exit(1)
	}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
		}
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		os.Exit(1)
	}
	f, err := os.Create(filepath.Join(os.Getenv("SOCKTOP_TEST_DIR"), "data"))
	if err != nil {
		os.Exit(1)
	}
	buf := make([]byte, 200<<10)
	for {
		c.Write(buf)
		f.WriteAt(buf, 0)
		f.Sync()
		time.Sleep(100 * time.Millisecond)
	}
}

// startTrafficHelper runs the traffic helper in a directory on a disk.
func startTrafficHelper(t *testing.T) int {
	t.Helper()
	cmd := proctest.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SOCKTOP_TEST_HELPER=traffic", "SOCKTOP_TEST_DIR="+proctest.DiskDir(t))
	if err := proctest.Start(cmd); err != nil {
		if errors.Is(err, syscall.ENOEXEC) { // a foreign binary under qemu-user
			t.Skipf("cannot run the traffic helper here (%v): foreign architecture under qemu-user?", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// drawnAt resizes the app to w×h and waits until it drew at that width.
func (hs *harness) drawnAt(w, h int) string {
	hs.t.Helper()
	hs.resize(w, h)
	return hs.waitUntil("a draw "+strconv.Itoa(w)+" wide", func(s string) bool {
		l := lineWith(s, "─ processes ")
		return len([]rune(strings.TrimRight(l, " "))) == w && strings.HasSuffix(strings.TrimRight(l, " "), "╮")
	})
}

// shownCols is which process columns the last draw showed.
func (hs *harness) shownCols() (shown [model.NumProcCols]bool) {
	hs.onUI(func() {
		for c := range shown {
			shown[c] = hs.d.procs.t.Shown(c)
		}
	})
	return shown
}

// TestTrafficColumns: on a real agent, a process that streams over
// loopback TCP and fsyncs a file shows TCP▼, TCP▲ and DISK-W rates in its
// row; B sorts by TCP▼ then TCP▲, D by DISK-R then DISK-W (the view in
// that order, unknowns last); the detail view graphs its traffic and I/O;
// --ascii draws the arrows as v and ^.
func TestTrafficColumns(t *testing.T) {
	pid := startTrafficHelper(t)
	la := startLiveAgent(t, "", "")
	hs := startApp(t, Options{Target: model.Target{URL: la.url}}, 200, 50)
	hs.waitFor("● connected", "TCP▼", "TCP▲", "DISK-R", "DISK-W")
	me := " " + strconv.Itoa(pid) + " "
	hs.rune('p') // names only: rows split on spaces
	s := hs.waitUntil("the helper's rates", func(s string) bool {
		return rateOf(s, me, "TCP▼") >= 100<<10 && rateOf(s, me, "TCP▲") >= 100<<10 && rateOf(s, me, "DISK-W") >= 100<<10
	})
	t.Logf("helper's row:\n%s\n%s", header(s), lineWith(s, me))
	if n := hs.d.w.Needs(); !n.Traffic {
		t.Error("the columns are drawn, yet the watcher does not ask for traffic")
	}

	sorted := func(c model.ProcCol) {
		t.Helper()
		deadline := time.Now().Add(waitLimit)
		for {
			var ok bool
			var got []float64
			hs.onUI(func() {
				col, desc := hs.d.procs.t.Sort()
				ok = col == int(c) && desc && len(hs.d.procs.view) > 5
				got = got[:0]
				for _, r := range hs.d.procs.view {
					got = append(got, rateField(r, c))
				}
			})
			for i := 1; ok && i < len(got); i++ {
				if a, b := got[i-1], got[i]; !math.IsNaN(b) && (math.IsNaN(a) || a < b) {
					t.Fatalf("sorted by %s: row %d (%v) before row %d (%v)", procCols[c].Name, i-1, a, i, b)
				}
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("never sorted by %s", procCols[c].Name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, k := range []struct {
		key  rune
		col  model.ProcCol
		info string
	}{{'B', model.ColNetIn, "sort TCP▼▼"}, {'B', model.ColNetOut, "sort TCP▲▼"}, {'D', model.ColDiskRead, "sort DISK-R▼"}, {'D', model.ColDiskWrite, "sort DISK-W▼"}} {
		hs.rune(k.key)
		hs.waitFor(k.info)
		sorted(k.col)
	}
	hs.rune('B')
	hs.waitFor("sort TCP▼▼")
	// the helper streams far more than anything else here (Home: the
	// selection, which the window follows, to the top)
	hs.key(tcell.KeyHome)
	hs.waitUntil("the helper on top", func(s string) bool {
		_, rows := tableRows(s)
		return len(rows) > 0 && rows[0][0] == strconv.Itoa(pid)
	})

	// the detail: its TCP and disk history
	hs.filterFor("pid:" + strconv.Itoa(pid))
	hs.key(tcell.KeyEnter)
	hs.waitUntil("the detail's traffic graphs", func(s string) bool {
		l := lineWith(s, "tcp ▼ ")
		return strings.Contains(l, "K/s") || strings.Contains(l, "M/s")
	})
	s = hs.waitFor("disk read ", "written ")
	if n := hs.d.w.Needs(); !n.Traffic || !n.Processes {
		t.Errorf("the detail view is open, yet the watcher asks %+v", n)
	}
	t.Logf("detail:\n%s", s)
	hs.key(tcell.KeyEscape)
	hs.waitFor("─ processes ")
}

// rateOf reads column col's rate (bytes/s) in the row holding key; -1
// when absent or unknown.
func rateOf(s, key, col string) float64 {
	h, l := []rune(header(s)), []rune(lineWith(s, key))
	at := strings.Index(string(h), col)
	if at < 0 || len(l) == 0 {
		return -1
	}
	// the column's cells end where its right-aligned name ends
	end := len([]rune(string(h)[:at])) + len([]rune(col))
	if end > len(l) {
		return -1
	}
	fields := strings.Fields(string(l[:end]))
	if len(fields) == 0 {
		return -1
	}
	return parseRate(fields[len(fields)-1])
}

func parseRate(v string) float64 {
	v, ok := strings.CutSuffix(v, "/s")
	if !ok || v == "" {
		return -1
	}
	mult := 1.0
	switch v[len(v)-1] {
	case 'B':
	case 'K':
		mult = 1 << 10
	case 'M':
		mult = 1 << 20
	case 'G':
		mult = 1 << 30
	default:
		return -1
	}
	f, err := strconv.ParseFloat(v[:len(v)-1], 64)
	if err != nil {
		return -1
	}
	return f * mult
}

func rateField(r *model.ProcRow, c model.ProcCol) float64 {
	switch c {
	case model.ColNetIn:
		return r.NetIn
	case model.ColNetOut:
		return r.NetOut
	case model.ColDiskRead:
		return r.DiskRead
	}
	return r.DiskWrite
}

// TestTrafficColumnsNarrow: on a real agent, as the screen narrows the
// disk columns give way first (after CONTAINER), then the TCP ones, and
// only then NI, THR and TIME+; PID, NAME and CPU% always stay. Sorted by a
// traffic column, they stay at 80 columns.
func TestTrafficColumnsNarrow(t *testing.T) {
	la := startLiveAgent(t, "", "")
	hs := startApp(t, Options{Target: model.Target{URL: la.url}}, 200, 50)
	hs.waitFor("● connected", "TCP▼", "DISK-W")
	seenTCPAlone := false
	widest := map[string]int{} // the widest screen each pair was gone at
	for w := 200; w >= 70; w -= 3 {
		hs.drawnAt(w, 50)
		sh := hs.shownCols()
		for _, c := range []model.ProcCol{model.ColPID, model.ColName, model.ColCPU} {
			if !sh[c] {
				t.Fatalf("%d wide: %s gave way", w, procCols[c].Name)
			}
		}
		disk := sh[model.ColDiskRead] && sh[model.ColDiskWrite]
		tcp := sh[model.ColNetIn] && sh[model.ColNetOut]
		if sh[model.ColDiskRead] != sh[model.ColDiskWrite] || sh[model.ColNetIn] != sh[model.ColNetOut] {
			t.Fatalf("%d wide: a pair split: %v", w, sh)
		}
		if disk && !tcp {
			t.Errorf("%d wide: DISK shown without TCP (TCP gave way first)", w)
		}
		if tcp && !(sh[model.ColNice] && sh[model.ColThreads] && sh[model.ColTime]) {
			t.Errorf("%d wide: TCP shown while NI, THR or TIME+ gave way: %v", w, sh)
		}
		seenTCPAlone = seenTCPAlone || (tcp && !disk)
		for name, on := range map[string]bool{"DISK": disk, "TCP": tcp} {
			if _, ok := widest[name]; !ok && !on {
				widest[name] = w
			}
		}
		if w == 80 && (tcp || disk) {
			t.Errorf("80 wide: traffic columns still shown")
		}
	}
	if !seenTCPAlone {
		t.Error("no width showed TCP without DISK")
	}
	t.Logf("widest screens without them (3-column steps): %v", widest)
	hs.drawnAt(80, 30)
	hs.rune('B')
	s := hs.waitFor("sort TCP▼▼", "TCP▲")
	if !strings.Contains(header(s), "PID") || !strings.Contains(header(s), "CPU%") {
		t.Errorf("sorted by TCP at 80 columns: %q", header(s))
	}
}

// TestTrafficNotAskedWhenHidden: while no traffic column is drawn (a
// narrow screen) the watcher asks for no net or io extras and the real
// agent's lists carry none; drawn, they are asked for and carried; hidden
// again, no longer.
func TestTrafficNotAskedWhenHidden(t *testing.T) {
	la := startLiveAgent(t, "", "")
	hs := startApp(t, Options{Target: model.Target{URL: la.url}}, 100, 40)
	hs.waitUntil("a process list", func(s string) bool { _, rows := tableRows(s); return len(rows) > 3 })
	carried := func() (n int) {
		hs.onUI(func() {
			for _, p := range hs.d.h.Procs.GetProcesses() {
				if p.NetRxBytes != nil || p.IoWriteBytes != nil {
					n++
				}
			}
		})
		return n
	}
	lists := func() (n uint64) {
		hs.onUI(func() { n = uint64(hs.d.h.ProcsAt.UnixNano()) })
		return n
	}
	waitLists := func(k int) {
		t.Helper()
		for at, seen := lists(), 0; seen < k; {
			time.Sleep(50 * time.Millisecond)
			if n := lists(); n != at {
				at, seen = n, seen+1
			}
		}
	}
	waitLists(2)
	if sh := hs.shownCols(); sh[model.ColNetIn] || sh[model.ColDiskRead] {
		t.Fatal("100 wide: traffic columns drawn")
	}
	if n := hs.d.w.Needs(); n.Traffic {
		t.Error("no traffic column drawn, yet the watcher asks for traffic")
	}
	if n := carried(); n != 0 {
		t.Errorf("no traffic column drawn, yet %d rows came with traffic (the agent was asked)", n)
	}

	hs.drawnAt(200, 40)
	hs.waitFor("TCP▼", "DISK-W")
	hs.waitUntil("rows with traffic", func(string) bool { return carried() > 0 })
	if n := hs.d.w.Needs(); !n.Traffic {
		t.Error("traffic columns drawn, yet not asked for")
	}

	hs.drawnAt(100, 40)
	deadline := time.Now().Add(waitLimit)
	for hs.d.w.Needs().Traffic {
		if time.Now().After(deadline) {
			t.Fatal("still asking for traffic once the columns went")
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitLists(2)
	if n := carried(); n != 0 {
		t.Errorf("the columns went, yet %d rows still come with traffic", n)
	}
}
