package agent

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/agent/internal/containernames"
	"github.com/socktop/socktop/procfs/proctest"
	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/proto"
)

// runtimeAPI serves each file as GET /containers/json on a unix socket of
// its own, as Docker's and Podman's sockets answer, and returns the
// sockets' paths.
func runtimeAPI(t *testing.T, files ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var socks []string
	for i, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sock := filepath.Join(dir, "api"+string(rune('0'+i))+".sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/containers/json" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		socks = append(socks, sock)
	}
	return socks
}

// namedBy makes the agent's container names come from socks, asked once
// now (the agent asks in the background and uses the answer from a later
// sample on; a golden needs it from the first).
func namedBy(t *testing.T, a *Agent, socks []string) {
	t.Helper()
	g := a.coll.groups
	g.names = containernames.New(containernames.Options{Sockets: socks})
	t.Cleanup(g.names.Close)
	if err := g.names.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// cgroupFixture is a procfs fixture tree with a cgroup tree laid over it
// (testdata/e2e-cgroup/gen.py says which and why).
type cgroupFixture struct{ tree, procfs, cgroup string }

var cgroupFixtures = []cgroupFixture{
	{"rpi4-docker", "rpi4", "rpi-docker"},
	{"x86-hybrid", "x86-server", "hybrid"},
}

// cgroupFixtureAgent is fixtureAgent on the tree with its cgroups; later
// lands the tree's later files and the groups' grown CPU times.
func cgroupFixtureAgent(t *testing.T, f cgroupFixture) (*Agent, func()) {
	t.Helper()
	a, later := fixtureAgent(t, f.procfs)
	proctest.CopyTree(t, filepath.Join("..", "procfs", "cgroup", "testdata", "fixtures", f.cgroup, "sys"), a.cfg.SysRoot)
	over := filepath.Join("testdata", "e2e-cgroup", f.tree)
	proctest.CopyTree(t, filepath.Join(over, "over", "proc"), a.cfg.ProcRoot)
	namedBy(t, a, runtimeAPI(t, filepath.Join("internal", "containernames", "testdata", "docker-containers.json"),
		filepath.Join("internal", "containernames", "testdata", "podman-containers.json")))
	return a, func() {
		later()
		proctest.CopyTree(t, filepath.Join(over, "later", "sys"), a.cfg.SysRoot)
	}
}

// TestContainersEndToEndGolden runs the agent on procfs's fixture trees
// with cgroups (a Raspberry Pi with Docker on cgroup v2; this CI machine's
// hybrid v1+v2 layout with a cgroupfs-driver Docker container) and
// compares `socktop snapshot containers`, `snapshot processes` (whose rows
// name their container) and /metrics with testdata/e2e/TREE/ (-update
// rewrites them). CPU shares come from the tree's two samples; names from
// Docker's and Podman's API answers in containernames' testdata, served on
// unix sockets.
func TestContainersEndToEndGolden(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the fixtures' /proc/net addresses are little-endian")
	}
	ctx := context.Background()
	for _, f := range cgroupFixtures {
		t.Run(f.tree, func(t *testing.T) {
			snap := func(a *Agent, kind string) proto.Message {
				t.Helper()
				m, err := a.Snapshot(ctx, kind)
				if err != nil {
					t.Fatalf("snapshot %s: %v", kind, err)
				}
				return m
			}
			a, later := cgroupFixtureAgent(t, f)
			if !slices.Contains(a.Capabilities(), wire.CapContainers) {
				t.Fatalf("capabilities %v: no containers", a.Capabilities())
			}
			snap(a, "processes")
			snap(a, "containers")
			later()
			procs, conts := snap(a, "processes"), snap(a, "containers").(*wire.Containers)
			normalise(procs)
			conts.SampledAtMs = 0
			checkE2E(t, f.tree, "processes.json", append(SnapshotJSON(procs, "  "), '\n'))
			checkE2E(t, f.tree, "containers.json", append(SnapshotJSON(conts, "  "), '\n'))

			// The JSON dialect answers {"type":"containers"} with the
			// snapshot on one line (a fresh sample: the files did not move
			// since, so its CPU shares are 0).
			srv := httptest.NewServer(a.Handler())
			defer srv.Close()
			c := dial(t, wsURL(srv), nil)
			typ, b := roundTrip(t, c, websocket.MessageText, []byte(`{"type":"containers"}`))
			var got, want map[string]any
			if err := json.Unmarshal(b, &got); typ != websocket.MessageText || err != nil {
				t.Fatalf("JSON dialect reply (%v): %v %.200s", typ, err, b)
			}
			json.Unmarshal(SnapshotJSON(conts, ""), &want)
			for _, m := range []map[string]any{got, want} {
				m["sampled_at_ms"] = float64(0)
				for _, c := range m["containers"].([]any) {
					c.(map[string]any)["cpu_percent"] = float64(0)
				}
			}
			if g, w := mustJSON(got), mustJSON(want); g != w {
				t.Errorf("JSON dialect reply differs from the snapshot:\n%s\n%s", g, w)
			}

			b2, later2 := cgroupFixtureAgent(t, f)
			snap(b2, "processes")
			later2()
			snap(b2, "processes")
			srv2 := httptest.NewServer(b2.Handler())
			defer srv2.Close()
			resp, err := http.Get(srv2.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			checkE2E(t, f.tree, "metrics.prom", agentSeries.ReplaceAll(body, []byte("$1 NORMALISED")))
			if promtool, err := exec.LookPath("promtool"); err == nil {
				cmd := exec.Command(promtool, "check", "metrics")
				cmd.Stdin = bytes.NewReader(body)
				if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
					t.Errorf("promtool check metrics: %v\n%s", err, out)
				}
			}
		})
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// A machine with more groups than /metrics writes series for: each family
// stops at maxContainerSeries, the count says how many there are, label
// values stay short valid UTF-8 with quotes and backslashes escaped, and
// promtool finds nothing wrong.
func TestContainerMetricsBounded(t *testing.T) {
	dir := t.TempDir()
	mi := "30 21 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
	write := func(path, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "proc", "self", "mountinfo"), mi)
	odd := []string{`quo"te\back.service`, strings.Repeat("long-", 45) + "name.service", "größe-ünïcode.service"}
	names := odd
	for i := range maxContainerSeries + 44 {
		names = append(names, fmt.Sprintf("svc%03d.service", i))
	}
	for _, n := range names {
		g := filepath.Join(dir, "sys", "fs", "cgroup", "system.slice", n)
		write(filepath.Join(g, "cpu.stat"), "usage_usec 1000\n")
		write(filepath.Join(g, "memory.current"), "4096\n")
		write(filepath.Join(g, "memory.max"), "max\n")
		write(filepath.Join(g, "pids.current"), "1\n")
	}
	cfg := testConfig()
	cfg.ProcRoot, cfg.SysRoot, cfg.ContainerSockets = filepath.Join(dir, "proc"), filepath.Join(dir, "sys"), []string{}
	_, srv := startAgent(t, cfg)
	body := scrape(t, srv.URL+"/metrics")
	counts := map[string]int{}
	for line := range strings.Lines(string(body)) {
		name, rest, ok := strings.Cut(line, "{")
		if !ok || !strings.HasPrefix(name, "socktop_container_") {
			continue
		}
		counts[name]++
		labels, _, _ := strings.Cut(rest, "} ")
		if !utf8.ValidString(labels) || len(labels) > 3*(maxLabelBytes+8)+40 {
			t.Errorf("labels %q", labels)
		}
	}
	for _, f := range []string{"socktop_container_cpu_seconds_total", "socktop_container_memory_bytes", "socktop_container_pids"} {
		if counts[f] != maxContainerSeries {
			t.Errorf("%s: %d series, want %d", f, counts[f], maxContainerSeries)
		}
	}
	if counts["socktop_container_memory_limit_bytes"] != 0 {
		t.Errorf("%d memory limit series for groups without a limit", counts["socktop_container_memory_limit_bytes"])
	}
	if !bytes.Contains(body, fmt.Appendf(nil, "socktop_container_groups %d\n", len(names))) {
		t.Errorf("no socktop_container_groups %d", len(names))
	}
	if long := clip(odd[1], maxLabelBytes); !strings.HasSuffix(long, "…") || !bytes.Contains(body, []byte(`name="`+long+`"`)) {
		t.Errorf("the %d-byte name is not cut to %d bytes", len(odd[1]), maxLabelBytes)
	}
	if !bytes.Contains(body, []byte(`name="quo\"te\\back.service"`)) {
		t.Errorf("the quoted name is not escaped as the text format wants")
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}
}

// Where no cgroup hierarchy can be read (the x86 fixture lists a cgroup2
// mount but has no /sys/fs/cgroup), containers is not advertised, is
// refused in every dialect, and processes name no container.
func TestContainersNotServedWithoutCgroups(t *testing.T) {
	a, _ := fixtureAgent(t, "x86-server")
	if slices.Contains(a.Capabilities(), wire.CapContainers) {
		t.Fatalf("capabilities %v list containers", a.Capabilities())
	}
	if _, err := a.Snapshot(context.Background(), "containers"); !errorsIsCode(err, wire.ErrorCode_ERROR_CODE_NOT_SUPPORTED) {
		t.Errorf("snapshot containers: %v", err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	if _, b := roundTrip(t, dial(t, wsURL(srv), nil), websocket.MessageText, []byte(`{"type":"containers"}`)); !bytes.Contains(b, []byte(`"error":"containers is not available`)) {
		t.Errorf("JSON dialect: %s", b)
	}
	m, err := a.Snapshot(context.Background(), "processes")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.(*wire.Processes).Processes {
		if p.Container != "" {
			t.Errorf("process %d in container %q", p.Pid, p.Container)
		}
	}
	if a.coll.procs.GroupOf != nil {
		t.Error("the process sampler reads /proc/<pid>/cgroup on an agent that does not serve containers")
	}
}
