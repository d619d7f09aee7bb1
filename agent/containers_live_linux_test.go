package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/procfs/cgroup"
	"github.com/socktop/socktop/wire"
)

// liveGroups is a sub-tree of cgroups a test made in every hierarchy it
// could write to, removed at cleanup.
type liveGroups struct {
	t     testing.TB
	hiers []*cgroup.Hierarchy
	made  []string // directories, in the order made
}

// makeLiveGroups makes root in v2 and the v1 CPU and pids hierarchies of l
// where this process may (as procfs/cgroup's live test does: not v1
// memory, where a test harness may keep its own accounting), or skips.
func makeLiveGroups(t testing.TB, l cgroup.Layout, root string) *liveGroups {
	g := &liveGroups{t: t}
	for _, h := range []*cgroup.Hierarchy{&l.V2, &l.CPUAcct, &l.CPU, &l.PIDs} {
		if !h.Mounted() || h.Root != "/" || slices.ContainsFunc(g.hiers, func(o *cgroup.Hierarchy) bool { return o.Dir == h.Dir }) {
			continue
		}
		dir, _ := h.GroupDir(root)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Logf("%s is not writable: %v", h.Dir, err)
			continue
		}
		g.hiers = append(g.hiers, h)
		g.made = append(g.made, dir)
	}
	if len(g.hiers) == 0 {
		t.Skipf("no writable cgroup hierarchy (mode %s)", l.Mode())
	}
	t.Cleanup(g.remove)
	return g
}

func (g *liveGroups) mkdir(path string) {
	for _, h := range g.hiers {
		dir, _ := h.GroupDir(path)
		if err := os.Mkdir(dir, 0o755); err != nil {
			g.t.Fatal(err)
		}
		g.made = append(g.made, dir)
	}
}

// move puts pid into the group at path in every hierarchy; home moves it
// back to the group this test process is in.
func (g *liveGroups) move(pid int, path string) error {
	for _, h := range g.hiers {
		dir, _ := h.GroupDir(path)
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("move %d to %s: %w", pid, dir, err)
		}
	}
	return nil
}

func (g *liveGroups) home(pid int) {
	b, _ := os.ReadFile("/proc/self/cgroup")
	ms, _ := cgroup.ParseProcCgroup(b)
	for _, h := range g.hiers {
		own := "/"
		for _, m := range ms {
			if (h.Version == 2) == m.V2() && (h.Version == 2 || slices.ContainsFunc(h.Controllers, func(c string) bool { return slices.Contains(m.Controllers, c) })) {
				own = m.Path
			}
		}
		dir, _ := h.GroupDir(own)
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			g.t.Errorf("move %d back to %s: %v", pid, dir, err)
		}
	}
}

func (g *liveGroups) remove() {
	for _, d := range slices.Backward(g.made) {
		if err := os.Remove(d); err != nil {
			g.t.Errorf("cleanup: %v", err)
		}
	}
}

func hexID(t testing.TB) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// heldUnder counts this process's open files in the groups of g (the Go
// runtime holds the CPU limit files of the process's own group, which the
// agent did not open).
func (g *liveGroups) held(root string) int {
	n := 0
	for _, h := range g.hiers {
		dir, _ := h.GroupDir(root)
		n += heldUnder(dir)
	}
	return n
}

// heldUnder counts this process's open files under dir.
func heldUnder(dir string) int {
	ents, _ := os.ReadDir("/proc/self/fd")
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(l, dir+"/") {
			n++
		}
	}
	return n
}

// TestContainersLive makes cgroups that look like a Docker container, a
// Podman container and a systemd service (as root, in a sub-tree of its
// own; on a hybrid machine such as this CI's in v2 and the v1 CPU
// hierarchies), puts a CPU burner in the Docker one, names it through a
// Docker API socket, and checks what the agent serves: the snapshot, the
// JSON dialect's reply, the burner's ProcessInfo.container, /metrics (and
// promtool's verdict on it), and that the group files held open while a
// client watches are let go when it leaves.
func TestContainersLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make cgroups")
	}
	l, err := cgroup.NewFS("/proc", "/sys").Discover()
	if err != nil {
		t.Skipf("no cgroups: %v", err)
	}
	root := fmt.Sprintf("/socktop-agent-test-%d", os.Getpid())
	groups := makeLiveGroups(t, l, root)
	dockerID, podmanID := hexID(t), hexID(t)
	docker := root + "/system.slice/docker-" + dockerID + ".scope"
	podman := root + "/machine.slice/libpod-" + podmanID + ".scope"
	service := root + "/system.slice/socktop-test.service"
	for _, p := range []string{root + "/system.slice", root + "/machine.slice", docker, podman, service} {
		groups.mkdir(p)
	}

	burner := exec.Command("sh", "-c", "while :; do :; done")
	if err := burner.Start(); err != nil {
		t.Skipf("no sh to burn CPU with: %v", err)
	}
	pid := burner.Process.Pid
	t.Cleanup(func() {
		groups.home(pid) // out of the groups, so that they can be removed
		burner.Process.Kill()
		burner.Wait()
	})
	if err := groups.move(pid, docker); err != nil {
		t.Fatal(err)
	}

	api := filepath.Join(t.TempDir(), "docker.json")
	os.WriteFile(api, fmt.Appendf(nil, `[{"Id":%q,"Names":["/socktop-burner"]}]`, dockerID), 0o644)
	cfg := testConfig()
	cfg.ContainerSockets = runtimeAPI(t, api)
	cfg.ContainersTTL, cfg.ProcessesTTL = 0, 0
	a, srv := startAgent(t, cfg)
	ctx := context.Background()

	// The snapshot: the three groups as what they look like, the burner's
	// CPU share above the empty ones', its name once the API answered (it
	// is asked in the background: the first samples show the short id).
	var box, pod, svc *wire.Container
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := a.Snapshot(ctx, "containers")
		if err != nil {
			t.Fatal(err)
		}
		box, pod, svc = nil, nil, nil
		for _, c := range m.(*wire.Containers).Containers {
			switch c.Cgroup {
			case docker:
				box = c
			case podman:
				pod = c
			case service:
				svc = c
			}
		}
		if box != nil && box.Name == "socktop-burner" && box.CpuPercent > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s the docker group is %v", box)
		}
	}
	if box.Id != dockerID || box.Runtime != "docker" || box.CpuUsageNs == 0 {
		t.Errorf("docker group: %v", box)
	}
	if pod == nil || pod.Runtime != "podman" || pod.Name != podmanID[:12] || pod.CpuPercent >= box.CpuPercent {
		t.Errorf("podman group: %v (the burner's share %v)", pod, box.CpuPercent)
	}
	if svc == nil || svc.Runtime != "systemd" || svc.Name != "socktop-test.service" || svc.CpuPercent >= box.CpuPercent {
		t.Errorf("service group: %v", svc)
	}
	t.Logf("burner: %.1f%% of the machine, %.2f s of CPU, %d pids", box.CpuPercent, float64(box.CpuUsageNs)/1e9, box.Pids)

	// The JSON dialect.
	c := dial(t, wsURL(srv), nil)
	_, b := roundTrip(t, c, websocket.MessageText, []byte(`{"type":"containers"}`))
	var reply struct {
		Containers []struct{ ID, Name, Runtime, Cgroup string }
	}
	if err := json.Unmarshal(b, &reply); err != nil {
		t.Fatalf("JSON dialect reply: %v: %.300s", err, b)
	}
	if !slices.ContainsFunc(reply.Containers, func(c struct{ ID, Name, Runtime, Cgroup string }) bool {
		return c.ID == dockerID && c.Name == "socktop-burner" && c.Runtime == "docker" && c.Cgroup == docker
	}) {
		t.Errorf("JSON dialect reply lacks the burner's container: %.500s", b)
	}

	// v2: the burner's process names its container, and the containers
	// reply decodes with protobuf's validating decoder too.
	wc := dialClient(t, wsURL(srv))
	ps, err := wc.Processes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ps.Processes, func(p *wire.ProcessInfo) bool { return p.Pid == uint32(pid) })
	if i < 0 || ps.Processes[i].Container != "socktop-burner" {
		t.Errorf("burner's process row: %v", ps.Processes[i])
	}
	if self := slices.IndexFunc(ps.Processes, func(p *wire.ProcessInfo) bool { return p.Pid == uint32(os.Getpid()) }); self >= 0 && ps.Processes[self].Container == "socktop-burner" {
		t.Errorf("this test's own process is said to be in the burner's container")
	}
	v2 := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if r := v2Call(t, v2, &wire.Request{Id: 7, Body: &wire.Request_Containers{Containers: &wire.ContainersRequest{}}}); len(r.GetContainers().GetContainers()) < 3 {
		t.Errorf("v2 containers reply: %v", r)
	}
	if groups.held(root) == 0 {
		t.Error("no group file is held open while clients watch")
	}

	// /metrics, while the clients are connected.
	body := scrape(t, srv.URL+"/metrics")
	want := fmt.Sprintf(`socktop_container_cpu_seconds_total{id="%s",name="socktop-burner",runtime="docker"} `, dockerID)
	var secs float64
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), want); ok {
			secs, _ = strconv.ParseFloat(v, 64)
		}
	}
	if secs <= 0 {
		t.Errorf("/metrics: no %s… with a positive value", want)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}

	// The last client leaves: the group files go.
	c.CloseNow()
	v2.CloseNow()
	wc.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		held := groups.held(root)
		if a.Clients() == 0 && held == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d clients, %d group files held after the clients left", a.Clients(), held)
		}
	}
}
