package alert

import (
	"context"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

func f32(v float32) *float32 { return &v }

// Numbers from a peer are bounded; what it does not send is unknown.
func TestFromMetricsBoundsPeerValues(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		m    *wire.Metrics
		want Sample
	}{
		{"nil", nil, Sample{}},
		{"typical", &wire.Metrics{CpuTotal: 42.5, MemTotal: 1000, MemUsed: 250, SwapTotal: 400, SwapUsed: 100, Load1: 1.5,
			CpuTempC: f32(61), Temperatures: []*wire.Temperature{{ValueC: 55}, {ValueC: 72.5}, {ValueC: nan}}},
			Sample{CPU: Known(42.5), Mem: Known(25), Swap: Known(25), Load1: Known(1.5), Temp: Known(72.5)}},
		{"hostile", &wire.Metrics{CpuTotal: nan, MemTotal: 10, MemUsed: 1 << 40, SwapTotal: 0, Load1: math.Inf(1), Load5: 1,
			Temperatures: []*wire.Temperature{{ValueC: float32(math.Inf(1))}}},
			Sample{CPU: Value{}, Mem: Known(100), Swap: Known(0), Load1: Value{V: math.Inf(1)}}},
		{"over 100", &wire.Metrics{CpuTotal: 250, MemTotal: 0}, Sample{CPU: Known(100), Swap: Known(0)}},
		{"upstream without load or sensors", &wire.Metrics{CpuTotal: 5, MemTotal: 4, MemUsed: 1},
			Sample{CPU: Known(5), Mem: Known(25), Swap: Known(0)}},
	} {
		if got := FromMetrics(tc.m); !sameSample(got, tc.want) {
			t.Errorf("%s: FromMetrics =\n %+v\nwant\n %+v", tc.name, got, tc.want)
		}
	}

	var s Sample
	s.SetDisks(&wire.Disks{Disks: []*wire.Disk{
		{Name: "sda", Total: 100},                                  // a whole disk: no mount point
		{Name: "sda1", MountPoint: "/", Total: 200, Available: 50}, // 75 %
		{Name: "sda2", MountPoint: "/empty", Total: 0},             // no size
		{Name: "sda3", MountPoint: "/odd", Total: 10, Available: 99},
	}})
	if !s.FilesystemsKnown || len(s.Filesystems) != 2 || s.Filesystems[0] != (Filesystem{"/", 75}) || s.Filesystems[1] != (Filesystem{"/odd", 0}) {
		t.Errorf("SetDisks: %+v", s.Filesystems)
	}
	s.SetDisks(nil)
	if s.FilesystemsKnown || len(s.Filesystems) != 0 {
		t.Errorf("SetDisks(nil) left %+v", s)
	}
}

func sameSample(a, b Sample) bool {
	same := func(x, y Value) bool { return x.OK == y.OK && (!x.OK || x.V == y.V) }
	return same(a.CPU, b.CPU) && same(a.Mem, b.Mem) && same(a.Swap, b.Swap) && same(a.Load1, b.Load1) && same(a.Temp, b.Temp)
}

// sampleOf asks a real client for everything a sample holds.
func sampleOf(t *testing.T, url string) Sample {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := wire.Dial(ctx, url, &wire.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m, err := c.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Disks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Processes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := FromMetrics(m)
	s.SetDisks(d)
	s.SetProcesses(p)
	return s
}

func fired(t *testing.T, rules []Rule, s Sample) map[string]string {
	t.Helper()
	e := NewEngine()
	e.SetRules("h", rules)
	out := map[string]string{}
	for _, ev := range e.Observe("h", s, t0) {
		out[ev.Name] = ev.Value
	}
	return out
}

// The real agent reading this machine (with a fixture /sys for its
// temperature sensors): every kind of data a rule reads arrives.
func TestRulesAgainstRealAgent(t *testing.T) {
	cfg := agent.DefaultConfig()
	cfg.Version = "test"
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.SysRoot = filepath.Join("..", "..", "procfs", "testdata", "fixtures", "x86-server", "sys")
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { a.Shutdown(); srv.Close() })
	s := sampleOf(t, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws")

	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	self := strings.TrimSpace(string(comm))
	rules := []Rule{
		mustRule(t, "cpu", "cpu >= 0", 0), mustRule(t, "mem", "mem > 0", 0), mustRule(t, "swap", "swap >= 0", 0),
		mustRule(t, "temp", "temp > 0", 0), mustRule(t, "disk", "disk >= 0", 0),
		mustRule(t, "self", "process:"+self, 0), mustRule(t, "ghost", "process:socktop-no-such-process", 0),
		mustRule(t, "down", "down", 0),
	}
	got := fired(t, rules, s)
	for _, name := range []string{"cpu", "mem", "swap", "temp", "disk", "ghost"} {
		if _, ok := got[name]; !ok {
			t.Errorf("rule %q did not fire on the real agent's data (fired: %v; sample %+v)", name, got, s)
		}
	}
	if _, ok := got["self"]; ok {
		t.Errorf("process:%s fired although this test runs as %q", self, self)
	}
	if _, ok := got["down"]; ok {
		t.Error("down fired for a host that answered")
	}
	if !strings.Contains(got["disk"], "% on /") {
		t.Errorf("disk value %q does not name the mount point", got["disk"])
	}
}

// Against an upstream (Rust, 1.60) agent: it sends no sensor list and, here,
// no CPU temperature and no load, and no mount points, so temp, load1 and
// disk:PATH rules are unknown while the rest work.
func TestRulesAgainstUpstreamAgent(t *testing.T) {
	m := wiretest.SampleMetrics()
	m.CpuTempC, m.Load1, m.Load5, m.Load15 = nil, 0, 0, 0
	up := wiretest.NewUpstream(wiretest.Config{Metrics: m})
	defer up.Close()
	s := sampleOf(t, up.URL)
	rules := []Rule{
		mustRule(t, "cpu", "cpu > 10", 0), mustRule(t, "mem", "mem > 30", 0), mustRule(t, "disk", "disk > 30", 0), mustRule(t, "root", "disk:/ > 30", 0),
		mustRule(t, "nginx", "process:nginx", 0), mustRule(t, "temp", "temp >= -100", 0), mustRule(t, "load", "load1 >= 0", 0),
	}
	got := fired(t, rules, s)
	for name, want := range map[string]string{"cpu": "12.5%", "mem": "37.5%", "disk": "36.6% on device mmcblk0p2", "nginx": "nginx not running"} {
		if got[name] != want {
			t.Errorf("rule %q: %q, want %q (all: %v)", name, got[name], want, got)
		}
	}
	for _, name := range []string{"temp", "load", "root"} {
		if v, ok := got[name]; ok {
			t.Errorf("rule %q fired (%q) on data upstream does not send", name, v)
		}
	}
}
