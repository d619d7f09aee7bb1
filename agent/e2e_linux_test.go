package agent

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/procfs/proctest"
	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/proto"
)

var update = flag.Bool("update", false, "rewrite testdata/e2e from procfs's fixture trees")

// fixtureAgent runs an agent on a copy of one of procfs's fixture trees
// (testdata/fixtures/NAME), with the tree's statfs sizes and passwd, 100
// ticks a second and 4 KiB pages, so that what it serves depends on the
// tree alone. Every cache lives 0: each request collects. later lays the
// tree's proc-later files over its proc (CPU times that moved, a reused
// pid), so that CPU shares come from two known samples.
func fixtureAgent(t *testing.T, name string) (a *Agent, later func()) {
	t.Helper()
	src := filepath.Join("..", "procfs", "testdata", "fixtures", name)
	dir := t.TempDir()
	proctest.CopyTree(t, src, dir)
	var sizes map[string]procfs.StatfsResult
	b, err := os.ReadFile(filepath.Join(dir, "statfs.json"))
	if err == nil {
		err = json.Unmarshal(b, &sizes)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()) // no nvidia-smi, no journalctl: the tree's cards only
	cfg := testConfig()
	cfg.ProcRoot, cfg.SysRoot = filepath.Join(dir, "proc"), filepath.Join(dir, "sys")
	cfg.MetricsTTL, cfg.ProcessesTTL, cfg.DisksTTL, cfg.ConnectionsTTL, cfg.ContainersTTL = 0, 0, 0, 0, 0
	a, err = newAgent(cfg, builtin, procfs.WithClockTicks(100), procfs.WithPageSize(4096),
		procfs.WithPasswd(filepath.Join(dir, "etc", "passwd")),
		procfs.WithStatfs(func(path string) (procfs.StatfsResult, error) {
			if s, ok := sizes[path]; ok {
				return s, nil
			}
			return procfs.StatfsResult{}, fmt.Errorf("statfs %s: %w", path, fs.ErrNotExist)
		}))
	if err != nil {
		t.Fatal(err)
	}
	return a, func() { proctest.CopyTree(t, filepath.Join(src, "proc-later"), cfg.ProcRoot) }
}

// TestEndToEndGolden runs the agent on procfs's fixture trees, node
// exporter's way: what it serves — /metrics, and each snapshot as `socktop
// snapshot` prints it — is compared with testdata/e2e/TREE/ (go test
// ./agent -run EndToEnd -update rewrites them; read the diff first). The
// CPU shares come from the tree's two samples. What depends on the moment
// or the machine running the test is normalised: sampling times and
// uptime to 0, the owner of each process (the owner of the checked-out
// files) to none, the agent's own figures in /metrics to NORMALISED, and
// processes sorted by pid (a fixture directory lists in the file system's
// order, /proc in ascending order).
func TestEndToEndGolden(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the fixtures' /proc/net addresses are little-endian")
	}
	for _, tree := range []string{"x86-server", "rpi4"} {
		t.Run(tree, func(t *testing.T) {
			ctx := context.Background()
			snap := func(a *Agent, kind string) proto.Message {
				t.Helper()
				m, err := a.Snapshot(ctx, kind)
				if err != nil {
					t.Fatalf("snapshot %s: %v", kind, err)
				}
				return m
			}
			// The first samples read the tree as it is, the second ones
			// after its later files landed.
			a, later := fixtureAgent(t, tree)
			snap(a, "processes")
			snap(a, "metrics")
			later()
			outputs := map[string]proto.Message{"processes": snap(a, "processes"), "metrics": snap(a, "metrics"), "disks": snap(a, "disks")}
			if _, err := os.Stat(filepath.Join(a.cfg.ProcRoot, "net", "tcp")); err == nil {
				outputs["connections"] = snap(a, "connections")
			}
			for kind, m := range outputs {
				normalise(m)
				checkE2E(t, tree, kind+".json", append(SnapshotJSON(m, "  "), '\n'))
			}

			// /metrics, from an agent of its own: a scrape collects a
			// metrics sample, which the snapshot above has used up.
			b, later := fixtureAgent(t, tree)
			snap(b, "processes")
			snap(b, "metrics")
			later()
			snap(b, "processes")
			srv := httptest.NewServer(b.Handler())
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			checkE2E(t, tree, "metrics.prom", agentSeries.ReplaceAll(body, []byte("$1 NORMALISED")))
		})
	}
}

// agentSeries are the samples of /metrics that tell of the agent process
// or the moment, not of the tree.
var agentSeries = regexp.MustCompile(`(?m)^(socktop_uptime_seconds|socktop_agent_(?:cpu_seconds_total|resident_memory_bytes|goroutines|connections|requests_total)) \S+$`)

// normalise sets what depends on the moment or the machine to fixed values.
func normalise(m proto.Message) {
	switch m := m.(type) {
	case *wire.Metrics:
		m.SampledAtMs, m.UptimeS = 0, 0
		if p := m.TopProcess; p != nil {
			p.Uid, p.User = 0, ""
		}
	case *wire.Processes:
		m.SampledAtMs, m.NetSampledAtMs = 0, 0
		for _, p := range m.Processes {
			p.Uid, p.User = 0, ""
		}
		slices.SortFunc(m.Processes, func(a, b *wire.ProcessInfo) int { return int(a.Pid) - int(b.Pid) })
	case *wire.Disks:
		m.SampledAtMs = 0
	case *wire.Connections:
		m.SampledAtMs = 0
	}
}

func checkE2E(t *testing.T, tree, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "e2e", tree, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./agent -run EndToEnd -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./agent -run EndToEnd -update, after reading the diff):\n%s", path, firstDiff(want, got))
	}
}

// firstDiff shows the first line where two texts differ.
func firstDiff(want, got []byte) string {
	w, g := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := range max(len(w), len(g)) {
		var x, y []byte
		if i < len(w) {
			x = w[i]
		}
		if i < len(g) {
			y = g[i]
		}
		if !bytes.Equal(x, y) {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return ""
}

// The agent runs on one P unless GOMAXPROCS says otherwise, and its
// "listening" line says which.
func TestAgentProcs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	bin := buildSocktop(t)
	for _, c := range []struct{ env, want string }{
		{"GOMAXPROCS=", "procs=1"},
		{"GOMAXPROCS=2", "procs=2"},
	} {
		ap := startAgentProcess(t, bin, []string{c.env})
		var line string
		for _, l := range strings.Split(ap.tail(), "\n") {
			if strings.Contains(l, "socktop agent listening") {
				line = l
			}
		}
		if !strings.Contains(line, " "+c.want) {
			t.Errorf("%s: the listening line %q does not say %s", c.env, line, c.want)
		}
		ap.cmd.Process.Kill()
	}
}
