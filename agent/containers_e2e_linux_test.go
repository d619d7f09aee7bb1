package agent

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/agent/internal/containernames"
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
	copyTree(t, filepath.Join("..", "procfs", "cgroup", "testdata", "fixtures", f.cgroup, "sys"), a.cfg.SysRoot)
	over := filepath.Join("testdata", "e2e-cgroup", f.tree)
	copyTree(t, filepath.Join(over, "over", "proc"), a.cfg.ProcRoot)
	namedBy(t, a, runtimeAPI(t, filepath.Join("internal", "containernames", "testdata", "docker-containers.json"),
		filepath.Join("internal", "containernames", "testdata", "podman-containers.json")))
	return a, func() {
		later()
		copyTree(t, filepath.Join(over, "later", "sys"), a.cfg.SysRoot)
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
