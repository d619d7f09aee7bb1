package screen

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/procfs/proctest"
	"github.com/socktop/socktop/tui/model"
)

// containersAgent is a real agent on the agent's Raspberry Pi fixture with
// Docker (procfs's rpi4 tree, procfs/cgroup's rpi-docker groups: Pi-hole,
// Home Assistant with --cpus 1.5 --memory 1g, services, a session; its
// python3, pid 700, is Home Assistant's), naming its containers through a
// Docker API socket. later lands the tree's second sample: 198 s of the
// machine's CPU time, 39.6 s of it Home Assistant's (20 %).
type containersAgent struct {
	url   string
	later func()
}

func startContainersAgent(t testing.TB) containersAgent {
	t.Helper()
	dir := t.TempDir()
	fixtures := filepath.Join("..", "..", "procfs", "testdata", "fixtures", "rpi4")
	over := filepath.Join("..", "..", "agent", "testdata", "e2e-cgroup", "rpi4-docker")
	proctest.CopyTree(t, fixtures, dir)
	proctest.CopyTree(t, filepath.Join("..", "..", "procfs", "cgroup", "testdata", "fixtures", "rpi-docker", "sys"), filepath.Join(dir, "sys"))
	proctest.CopyTree(t, filepath.Join(over, "over", "proc"), filepath.Join(dir, "proc"))

	sock := filepath.Join(t.TempDir(), "docker.sock")
	body, err := os.ReadFile(filepath.Join("..", "..", "agent", "internal", "containernames", "testdata", "docker-containers.json"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	api := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(body) })}
	go api.Serve(ln)
	t.Cleanup(func() { api.Close() })

	cfg := agent.DefaultConfig()
	cfg.Version, cfg.Logger = "test", slog.New(slog.DiscardHandler)
	cfg.ProcRoot, cfg.SysRoot = filepath.Join(dir, "proc"), filepath.Join(dir, "sys")
	cfg.ContainerSockets, cfg.ContainersTTL = []string{sock}, 0
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.CloseClientConnections()
		a.Shutdown()
		srv.Close()
	})
	return containersAgent{url: "ws://" + srv.Listener.Addr().String() + "/ws", later: func() {
		proctest.CopyTree(t, filepath.Join(fixtures, "proc-later"), cfg.ProcRoot)
		proctest.CopyTree(t, filepath.Join(over, "later", "sys"), cfg.SysRoot)
	}}
}

// The Containers screen on a real agent: C opens it (the key is offered
// because the agent advertises containers), one row per container and
// service with its runtime, memory against its limit, pids and pressure;
// the names come from Docker's API once it answered; a later sample gives
// Home Assistant 20 % of the machine, 53.3 % of its 1.5-core limit (the Pi
// has 4); the filter and the sort work; Enter lists its processes.
func TestContainersScreen(t *testing.T) {
	ca := startContainersAgent(t)
	// a sample a second: the tree's later files make one sample of shares
	// above 0 (those after it measure no change), shown for a second
	hs := startApp(t, Options{Target: model.Target{URL: ca.url}, ProcessesInterval: time.Second}, 200, 50)
	hs.waitFor("● connected", "C  containers")
	if n := hs.d.w.Needs(); n.Containers {
		t.Error("the dashboard asks for containers before the screen is open")
	}
	hs.rune('C')
	s := hs.waitFor("─ containers ", "NAME", "RUNTIME", "CPU%▼", "LIM%", "MEM/LIMIT", "PIDS", "READ/s", "THROT%", "P.CPU",
		"ssh.service", "session-3.scope")
	if n := hs.d.w.Needs(); !n.Containers {
		t.Error("the open screen does not ask for containers")
	}
	for _, want := range []string{"init.scope", "containerd.service", "docker.service", "getty@tty1.service", "user@1000.service"} {
		if l := lineWith(s, want); !strings.Contains(l, "systemd") && !strings.Contains(l, "user") {
			t.Errorf("row %s: %q", want, l)
		}
	}
	// The names: Docker's API is asked in the background, so the first
	// samples show the short id; a later one the name.
	s = hs.waitUntil("Home Assistant named", func(s string) bool { return strings.Contains(s, "homeassistant") })
	ha := ctrRow(s, "homeassistant")
	for _, want := range []string{"docker", "700M/1.0G", " 2 ", "18.4", "2.8", "0.9"} {
		if !strings.Contains(ha, want) {
			t.Errorf("Home Assistant's row lacks %q: %q", want, ha)
		}
	}
	if l := ctrRow(s, "pihole"); !strings.Contains(l, "no limit") || !strings.Contains(l, " 3 ") {
		t.Errorf("Pi-hole's row (no memory limit, 3 pids): %q", l)
	}

	// The second sample: CPU of the machine, and of the limit.
	ca.later()
	s = hs.waitUntil("Home Assistant at 20 %", func(s string) bool { return strings.Contains(ctrRow(s, "homeassistant"), " 20.0 ") })
	ha = ctrRow(s, "homeassistant")
	if !strings.Contains(ha, " 53.3 ") || !strings.Contains(ha, "0B/s") {
		t.Errorf("Home Assistant's row: want 53.3 %% of its limit and I/O rates: %q", ha)
	}
	if !strings.Contains(s, "busiest homeassistant 20.0%") {
		t.Errorf("the status line does not name the busiest:\n%s", lineWith(s, "sort "))
	}
	// sorted by CPU, biggest first: Home Assistant, Pi-hole (1 %), ssh (0.5 %)
	if a, b, c := rowIndex(s, "homeassistant"), rowIndex(s, "pihole"), rowIndex(s, "ssh.service"); !(a < b && b < c) {
		t.Errorf("rows not sorted by CPU%%: lines %d %d %d\n%s", a, b, c, s)
	}

	// The filter: words of the name, runtime:NAME.
	hs.rune('/')
	hs.typeText("runtime:docker")
	hs.key(tcell.KeyEnter)
	s = hs.waitFor(`filter "runtime:docker"`, "2/10")
	if strings.Contains(s, "ssh.service") || !strings.Contains(s, "pihole") {
		t.Errorf("runtime:docker kept other rows:\n%s", s)
	}
	hs.rune('/')
	hs.key(tcell.KeyCtrlU)
	hs.typeText("home")
	hs.key(tcell.KeyEnter)
	s = hs.waitFor(`filter "home"`, "1/10")
	if strings.Contains(s, "pihole") {
		t.Errorf("the filter home kept pihole:\n%s", s)
	}

	// Enter: the dashboard with its processes, python3 alone.
	hs.key(tcell.KeyEnter)
	s = hs.waitFor("─ processes ", `filter "container:homeassistant"`, "python3")
	if body := s[strings.Index(s, "─ processes "):]; strings.Contains(body, " systemd ") || strings.Contains(body, " socktop ") {
		t.Errorf("container:homeassistant lists other processes:\n%s", body)
	}
	if n := hs.d.w.Needs(); n.Containers {
		t.Error("containers still asked for after the screen closed")
	}
}

// The process table's CONTAINER column names each process's container or
// service (where the agent serves containers), gives way first on a narrow
// screen, and sorts; container:NAME filters by it (NAME* by its start, -
// for processes in none); t twice groups the tree by container.
func TestProcessContainerColumn(t *testing.T) {
	ca := startContainersAgent(t)
	hs := startApp(t, Options{Target: model.Target{URL: ca.url}}, 160, 40)
	s := hs.waitFor("─ processes ", "CONTAINER", "python3", "ssh.service")
	for pid, want := range map[string]string{"python3": "e3b0c44298fc", "socktop": "ssh.service", "systemd": "init.scope"} {
		l := lineWith(s, " "+pid+" ")
		if !strings.Contains(l, want) && !(want == "e3b0c44298fc" && strings.Contains(l, "homeassistant")) {
			t.Errorf("%s's row: want container %s: %q", pid, want, l)
		}
	}
	if l := lineWith(s, " kthreadd "); strings.Contains(l, ".scope") || strings.Contains(l, ".service") {
		t.Errorf("a kernel thread in a container: %q", l)
	}

	// narrow: CONTAINER goes first: at the widest terminal without it,
	// every other column of the wide one is still there
	wide := strings.Fields(lineWith(s, "PID"))
	for w := 158; ; w -= 2 {
		hs.resize(w, 40)
		hdr := lineWith(hs.text(), "PID")
		if strings.Contains(hdr, "CONTAINER") {
			continue
		}
		for _, c := range wide {
			if c != "CONTAINER" && !strings.Contains(hdr, c) {
				t.Errorf("at %d columns %s went with CONTAINER: %q", w, c, hdr)
			}
		}
		break
	}
	hs.resize(160, 40)
	hs.waitFor("CONTAINER")

	for _, c := range []struct {
		filter   string
		want     []string
		unwanted []string
	}{
		{"container:ssh.service", []string{"socktop"}, []string{"python3", "systemd", "kthreadd"}},
		{"container:SSH.SERVICE", []string{"socktop"}, []string{"python3"}},
		{"container:ssh", nil, []string{"socktop", "python3"}}, // a whole name, or NAME*
		{"container:init*", []string{"systemd"}, []string{"socktop", "python3"}},
		{"container:-", []string{"kthreadd"}, []string{"socktop", "python3", "systemd"}},
	} {
		hs.rune('/')
		hs.key(tcell.KeyCtrlU)
		hs.typeText(c.filter)
		hs.key(tcell.KeyEnter)
		s = hs.waitFor(`filter "` + c.filter + `"`)
		body := s[strings.Index(s, "─ processes "):]
		for _, w := range c.want {
			if !strings.Contains(body, " "+w) {
				t.Errorf("%s does not list %s:\n%s", c.filter, w, body)
			}
		}
		for _, u := range c.unwanted {
			if strings.Contains(body, " "+u+" ") {
				t.Errorf("%s lists %s:\n%s", c.filter, u, body)
			}
		}
	}
	hs.key(tcell.KeyEscape)
	hs.waitUntil("filter cleared", func(s string) bool { return !strings.Contains(s, `filter "`) })

	// the tree grouped by container: a head per container, its processes under it
	hs.rune('t')
	hs.waitFor("· tree")
	hs.rune('t')
	s = hs.waitFor("· tree by container", "● ssh.service", "● init.scope", "● (none)")
	if h, p := rowIndex(s, "● ssh.service"), rowIndex(s, " socktop "); p != h+1 {
		t.Errorf("socktop (line %d) is not under its service's head (line %d):\n%s", p, h, s)
	}
	if strings.Contains(lineWith(s, "PID"), "CONTAINER") {
		t.Error("grouped, the CONTAINER column is still shown")
	}
	// a head is no process: Enter opens nothing, k offers nothing
	hs.key(tcell.KeyHome)
	hs.key(tcell.KeyEnter)
	hs.redraw()
	if s := hs.text(); strings.Contains(s, "─ process ") {
		t.Errorf("Enter on a container's head opened a process:\n%s", s)
	}
	hs.rune('t')
	hs.waitUntil("the list again", func(s string) bool { return !strings.Contains(s, "· tree") })
}

// ctrRow is the table row of the container named name (not the status
// line, which names the busiest).
func ctrRow(screen, name string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, "│ "+name+" ") {
			return l
		}
	}
	return ""
}

// A fleet tile names its host's busiest container: the fleet asks each
// watcher for containers (slowly) while it is shown and not once a host's
// dashboard covers it; in a tile of the minimum height the container takes
// the process count's place.
func TestFleetTileBusiestContainer(t *testing.T) {
	ca := startContainersAgent(t)
	targets := []model.Target{{Label: "pi", URL: ca.url}}
	hs, f := startFleet(t, targets, Options{MetricsInterval: 200 * time.Millisecond}, 120, 30)
	waitTiles(hs, f, "a ctr line", func(ts map[string]string) bool { return strings.Contains(ts["pi"], "ctr -") })
	if n := f.members[0].d.w.Needs(); !n.TileContainers || n.Containers {
		t.Errorf("the fleet's needs: %+v", n)
	}
	// the second sample after the tree's later files land names the busiest.
	// They land right after a sample arrived, so that the next one (the
	// tile asks every few seconds) cannot fall in the middle of the copy
	// and see the machine's new CPU time without the group's.
	samples := func() (n int) {
		hs.onUI(func() { n = f.members[0].d.h.Containers.Samples })
		return n
	}
	hs.waitUntil("a containers sample", func(string) bool { return samples() > 0 })
	n0 := samples()
	hs.waitUntil("a fresh containers sample", func(string) bool { return samples() > n0 })
	ca.later()
	ts := waitTiles(hs, f, "the busiest container", func(ts map[string]string) bool {
		return strings.Contains(ts["pi"], "ctr homeassistant 20.0%")
	})
	if !strings.Contains(ts["pi"], "4 procs") {
		t.Errorf("a tall tile lost the process count:\n%s", ts["pi"])
	}
	hs.resize(40, 9) // one tile of the minimum height
	ts = waitTiles(hs, f, "the container in the top line", func(ts map[string]string) bool {
		return strings.Contains(ts["pi"], "ctr homeassistant")
	})
	if strings.Contains(ts["pi"], "4 procs") {
		t.Errorf("a small tile has no room for both:\n%s", ts["pi"])
	}
	hs.key(tcell.KeyEnter)
	hs.waitFor("─ processes ")
	if n := f.members[0].d.w.Needs(); n.TileContainers {
		t.Error("the covered fleet still asks for containers")
	}
}
