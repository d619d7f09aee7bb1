package screen

import (
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// connsAgent serves the sample sockets (sshd's connection, a UDP socket)
// and a TCP listener of nginx (pid 17, whose detail it serves too).
func connsAgent(t *testing.T) *wiretest.Agent {
	t.Helper()
	cs := wiretest.SampleConnections()
	cs.Connections = append(cs.Connections, &wire.Connection{Transport: wire.Transport_TRANSPORT_TCP, Family: wire.AddressFamily_ADDRESS_FAMILY_INET,
		LocalAddr: []byte{0, 0, 0, 0}, LocalPort: 80, RemoteAddr: []byte{0, 0, 0, 0}, State: model.TCPListen, Inode: 999,
		Pid: 17, ProcessName: "nginx-16", CountersAvailable: true})
	d := wiretest.SampleDetail()
	d.Process.Pid, d.Process.Name = 800, "sshd"
	ag := wiretest.NewV2(wiretest.Config{Connections: cs, Processes: wiretest.SampleProcesses(20),
		Details: map[uint32]*wire.ProcessDetail{800: d}})
	t.Cleanup(ag.Close)
	return ag
}

func openConns(t *testing.T, ag *wiretest.Agent, w, h int) *harness {
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, w, h)
	hs.waitFor("c  conns")
	hs.rune('c')
	hs.waitFor("─ connections ", "sshd")
	return hs
}

// sortName is the column the connections status line says it sorts by.
func sortName(s string) string {
	l := lineWith(s, "· sort ")
	l = l[strings.Index(l, "· sort ")+len("· sort "):]
	return strings.TrimRight(strings.TrimRight(l, "│ "), "▲▼")
}

// At 120 columns some columns give way; h and l walk the sort through
// the columns drawn only.
func TestConnsSortOnlyVisibleColumns(t *testing.T) {
	hs := openConns(t, connsAgent(t), 120, 40)
	s := hs.text()
	hdr := lineWith(s, "LOCAL")
	if strings.Contains(hdr, "SEGS IN") {
		t.Fatalf("SEGS IN fits at 120 columns: the test needs a hidden column: %q", hdr)
	}
	seen := map[string]bool{}
	for range 2 * model.NumConnCols {
		before := sortName(s)
		hs.rune('l')
		s = hs.waitUntil("the sort moved", func(s string) bool { return sortName(s) != before })
		name := sortName(s)
		seen[name] = true
		var shown bool
		hs.onUI(func() { col, _ := hs.d.conns.t.Sort(); shown = hs.d.conns.t.Shown(col) })
		if h := lineWith(s, "LOCAL"); !shown || !strings.ContainsAny(h, "▲▼") {
			t.Fatalf("l sorted by %s, which the header %q does not show", name, h)
		}
	}
	if len(seen) < 8 {
		t.Errorf("the walk saw only %v", seen)
	}
}

// At 200 columns the addresses do not take all the room: the process name
// gets its share.
func TestConnsShareSpareWidth(t *testing.T) {
	hs := openConns(t, connsAgent(t), 200, 40)
	var local, proc int
	hs.onUI(func() {
		tb := hs.d.conns.t
		local = tb.ColumnX(int(model.CCRemote)) - tb.ColumnX(int(model.CCLocal)) - 1
		proc = tb.ColumnX(int(model.CCIn)) - tb.ColumnX(int(model.CCProc)) - 1
	})
	if proc < 24 || local > 40 {
		t.Errorf("at 200 columns LOCAL is %d wide and PROCESS %d: the spare width is not shared", local, proc)
	}
}

// Enter on a connection opens its process's detail; Esc comes back to
// the connections.
func TestConnsEnterOpensProcess(t *testing.T) {
	hs := openConns(t, connsAgent(t), 160, 40)
	s := hs.waitFor("Enter  process")
	y := rowIndex(s, "192.168.1.20:51234")
	hs.click(10, y)
	hs.key(tcell.KeyEnter)
	hs.waitFor("process 800 sshd", "/usr/sbin/nginx")
	hs.waitStack("Dashboard > Connections > Process detail")
	hs.key(tcell.KeyEscape)
	hs.waitStack("Dashboard > Connections")
	hs.waitFor("─ connections ")
}

// A listening TCP socket carries no traffic of its own: "-", not 0B.
func TestConnsListenRowsShowDash(t *testing.T) {
	hs := openConns(t, connsAgent(t), 200, 40)
	hs.rune('L')
	s := hs.waitFor("LISTEN")
	l := lineWith(s, "LISTEN")
	if strings.Contains(l, "0B") || strings.Contains(l, "µs") || strings.Count(l, " - ") < 4 {
		t.Errorf("the LISTEN row shows figures: %q", l)
	}
}
