package model

import (
	"testing"
	"time"

	"github.com/socktop/socktop/wire"
)

func TestClampInterval(t *testing.T) {
	for _, c := range []struct{ in, def, floor, want time.Duration }{
		{0, 500 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond},
		{50 * time.Millisecond, 500 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond},
		{150 * time.Millisecond, 2 * time.Second, 200 * time.Millisecond, 200 * time.Millisecond},
		{3 * time.Second, 2 * time.Second, 200 * time.Millisecond, 3 * time.Second},
	} {
		if got := ClampInterval(c.in, c.def, c.floor); got != c.want {
			t.Errorf("clamp(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if c := NewCadence(10*time.Millisecond, 1, 0); c.Metrics != MinMetricsInterval || c.Processes != MinProcessesInterval || c.Disks != DefaultDisksInterval {
		t.Errorf("cadence %+v", c)
	}
}

func TestBackoff(t *testing.T) {
	// wire's policy with the dashboard's start: the middle of each wait,
	// and every random draw within ±20 % of it
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := reconnect.Backoff(i+1, 0); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
		for range 20 {
			if got := retryDelay(i + 1); got < w*8/10 || got > w*12/10 {
				t.Errorf("retryDelay(%d) = %v, want %v ± 20%%", i+1, got, w)
			}
		}
	}
}

func TestParseFilter(t *testing.T) {
	rows := []ProcRow{{PID: 42, Name: "Nginx", User: "www-data"}, {PID: 7, Name: "bash", User: "root"}}
	for _, c := range []struct {
		f    string
		want []uint32
	}{
		{"", []uint32{42, 7}}, {"ngi", []uint32{42}}, {"NGINX", []uint32{42}}, {"pid:7", []uint32{7}},
		{"PID: 42", []uint32{42}}, {"user:root", []uint32{7}}, {"user:www", []uint32{42}}, {"pid:x", nil}, {"4", []uint32{42}},
	} {
		f := ParseFilter(c.f)
		var got []uint32
		for i := range rows {
			if f.Match(&rows[i]) {
				got = append(got, rows[i].PID)
			}
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("filter %q matched %v, want %v", c.f, got, c.want)
		}
	}
}

// A ppid cycle (a hostile or confused agent) must not hang the tree.
func TestTreeSurvivesCycles(t *testing.T) {
	rows := []ProcRow{{PID: 1, PPID: 2, Name: "a"}, {PID: 2, PPID: 1, Name: "b"}, {PID: 3, PPID: 3, Name: "self"}, {PID: 4, PPID: 99, Name: "orphan"}}
	v := BuildView(nil, rows, ProcFilter{}, ColPID, false, true)
	seen := map[uint32]bool{}
	for _, r := range v {
		seen[r.PID] = true
	}
	if !seen[3] || !seen[4] {
		t.Errorf("tree lost rows: %v", seen)
	}
}

func TestRatesFromCounters(t *testing.T) {
	h := NewHost("x", "ws://x/ws")
	m := &wire.Metrics{SampledAtMs: 1000, Networks: []*wire.Network{{Name: "eth0", RxBytes: 1000, TxBytes: 0}}}
	h.AddMetrics(m, time.Now())
	m2 := &wire.Metrics{SampledAtMs: 3000, Networks: []*wire.Network{{Name: "eth0", RxBytes: 5000, TxBytes: 2000}}}
	h.AddMetrics(m2, time.Now())
	if got := h.Ifaces["eth0"].Rx.Last(); got != 2000 {
		t.Errorf("rx rate %v, want 2000 B/s", got)
	}
	// a counter reset (agent restarted the interface) yields no bogus spike
	m3 := &wire.Metrics{SampledAtMs: 4000, Networks: []*wire.Network{{Name: "eth0", RxBytes: 10, TxBytes: 10}}}
	h.AddMetrics(m3, time.Now())
	if h.Ifaces["eth0"].Rx.Len() != 1 || h.NetPeakRx != 2000 {
		t.Errorf("reset produced a sample: len %d peak %v", h.Ifaces["eth0"].Rx.Len(), h.NetPeakRx)
	}
	d1 := &wire.Disks{SampledAtMs: 1000, Disks: []*wire.Disk{{Name: "sda", ReadBytes: 0, WriteBytes: 0}}}
	d2 := &wire.Disks{SampledAtMs: 2000, Disks: []*wire.Disk{{Name: "sda", ReadBytes: 4096, WriteBytes: 8192}}}
	h.AddDisks(d1, time.Now())
	h.AddDisks(d2, time.Now())
	if r := h.DiskRates["sda"]; r.Read != 4096 || r.Write != 8192 {
		t.Errorf("disk rates %+v", r)
	}
}

func TestRedactURL(t *testing.T) {
	if got := RedactURL("ws://h/ws?token=secret&x=1"); got != "ws://h/ws?token=…&x=1" {
		t.Errorf("redact = %q", got)
	}
}

func TestCompareFold(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"abc", "ABD", -1}, {"Zeta", "alpha", 1}, {"same", "SAME", 0}, {"ab", "abc", -1}, {"Ä", "ä", 0}, {"t", "Z", -1}} {
		if got := CompareFold(c.a, c.b); got != c.want {
			t.Errorf("CompareFold(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// However many cores an agent claims, no more than MaxCores histories are
// kept; a disk that is gone loses its rate.
func TestHostBounds(t *testing.T) {
	h := NewHost("x", "ws://x/ws")
	h.AddMetrics(&wire.Metrics{SampledAtMs: 1000, CpuPerCore: make([]float32, 100000)}, time.Now())
	if len(h.Cores) != MaxCores {
		t.Errorf("%d per-core histories", len(h.Cores))
	}
	h.AddDisks(&wire.Disks{SampledAtMs: 1000, Disks: []*wire.Disk{{Name: "sda"}, {Name: "sdb"}}}, time.Now())
	h.AddDisks(&wire.Disks{SampledAtMs: 2000, Disks: []*wire.Disk{{Name: "sda", ReadBytes: 10}, {Name: "sdb"}}}, time.Now())
	h.AddDisks(&wire.Disks{SampledAtMs: 3000, Disks: []*wire.Disk{{Name: "sda", ReadBytes: 20}}}, time.Now())
	if _, ok := h.DiskRates["sdb"]; ok || len(h.DiskRates) != 1 || h.DiskRates["sda"].Read != 10 {
		t.Errorf("disk rates %+v", h.DiskRates)
	}
}
