package tui

import (
	"testing"
	"time"

	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

func TestClampInterval(t *testing.T) {
	for _, c := range []struct{ in, def, floor, want time.Duration }{
		{0, 500 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond},
		{50 * time.Millisecond, 500 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond},
		{150 * time.Millisecond, 2 * time.Second, 200 * time.Millisecond, 200 * time.Millisecond},
		{3 * time.Second, 2 * time.Second, 200 * time.Millisecond, 3 * time.Second},
	} {
		if got := clampInterval(c.in, c.def, c.floor); got != c.want {
			t.Errorf("clamp(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	a, err := newApp(Options{Target: Target{URL: "ws://x/ws"}, MetricsInterval: 10 * time.Millisecond, ProcessesInterval: 1, Dial: dialWire})
	if err != nil {
		t.Fatal(err)
	}
	if a.every.metrics != MinMetricsInterval || a.every.procs != MinProcessesInterval || a.every.disks != DefaultDisksInterval {
		t.Errorf("cadence %+v", a.every)
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestParseFilter(t *testing.T) {
	rows := []procRow{{pid: 42, name: "Nginx", user: "www-data"}, {pid: 7, name: "bash", user: "root"}}
	for _, c := range []struct {
		f    string
		want []uint32
	}{
		{"", []uint32{42, 7}}, {"ngi", []uint32{42}}, {"NGINX", []uint32{42}}, {"pid:7", []uint32{7}},
		{"PID: 42", []uint32{42}}, {"user:root", []uint32{7}}, {"user:www", []uint32{42}}, {"pid:x", nil}, {"4", []uint32{42}},
	} {
		f := parseFilter(c.f)
		var got []uint32
		for i := range rows {
			if f.match(&rows[i]) {
				got = append(got, rows[i].pid)
			}
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("filter %q matched %v, want %v", c.f, got, c.want)
		}
	}
}

// A ppid cycle (a hostile or confused agent) must not hang the tree.
func TestTreeSurvivesCycles(t *testing.T) {
	rows := []procRow{{pid: 1, ppid: 2, name: "a"}, {pid: 2, ppid: 1, name: "b"}, {pid: 3, ppid: 3, name: "self"}, {pid: 4, ppid: 99, name: "orphan"}}
	v := buildView(nil, rows, procFilter{}, colPID, false, true)
	seen := map[uint32]bool{}
	for _, r := range v {
		seen[r.pid] = true
	}
	if !seen[3] || !seen[4] {
		t.Errorf("tree lost rows: %v", seen)
	}
}

func TestRatesFromCounters(t *testing.T) {
	h := newHost("x", "ws://x/ws")
	m := &wire.Metrics{SampledAtMs: 1000, Networks: []*wire.Network{{Name: "eth0", RxBytes: 1000, TxBytes: 0}}}
	h.addMetrics(m, time.Now())
	m2 := &wire.Metrics{SampledAtMs: 3000, Networks: []*wire.Network{{Name: "eth0", RxBytes: 5000, TxBytes: 2000}}}
	h.addMetrics(m2, time.Now())
	if got := h.ifaces["eth0"].rx.Last(); got != 2000 {
		t.Errorf("rx rate %v, want 2000 B/s", got)
	}
	// a counter reset (agent restarted the interface) yields no bogus spike
	m3 := &wire.Metrics{SampledAtMs: 4000, Networks: []*wire.Network{{Name: "eth0", RxBytes: 10, TxBytes: 10}}}
	h.addMetrics(m3, time.Now())
	if h.ifaces["eth0"].rx.Len() != 1 || h.netPeakRx != 2000 {
		t.Errorf("reset produced a sample: len %d peak %v", h.ifaces["eth0"].rx.Len(), h.netPeakRx)
	}
	d1 := &wire.Disks{SampledAtMs: 1000, Disks: []*wire.Disk{{Name: "sda", ReadBytes: 0, WriteBytes: 0}}}
	d2 := &wire.Disks{SampledAtMs: 2000, Disks: []*wire.Disk{{Name: "sda", ReadBytes: 4096, WriteBytes: 8192}}}
	h.addDisks(d1, time.Now())
	h.addDisks(d2, time.Now())
	if r := h.diskRates["sda"]; r.read != 4096 || r.write != 8192 {
		t.Errorf("disk rates %+v", r)
	}
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("ws://h/ws?token=secret&x=1"); got != "ws://h/ws?token=…&x=1" {
		t.Errorf("redact = %q", got)
	}
}

func TestWrap(t *testing.T) {
	got := wrap("the quick brown fox jumps over the lazy dog", 12)
	for _, l := range got {
		if len([]rune(l)) > 12 {
			t.Errorf("line %q longer than 12", l)
		}
	}
	if len(got) < 4 {
		t.Errorf("wrap = %q", got)
	}
}

// Every terminal size draws without panicking, down to nothing at all, in
// every screen state.
func TestAnySizeDraws(t *testing.T) {
	a, scr := benchApp(t, 10, 10, 50)
	a.h.openDetail(3)
	a.h.addDetail(3, wiretest.SampleDetail(), nil, time.Now())
	a.h.addJournal(3, wiretest.SampleJournal(), nil)
	for _, state := range []func(){
		func() {},
		func() { a.detailOpen = true; a.detail.pid = 3; a.pages.ShowPage("detail") },
		func() { a.helpOpen = true; a.pages.ShowPage("help") },
		func() {
			a.h.status = connStatus{phase: phasePin, err: &PinMismatchError{Want: "sha256:aa", Got: "sha256:bb"}}
		},
	} {
		state()
		for w := 0; w <= 130; w += 13 {
			for h := 0; h <= 50; h += 7 {
				scr.SetSize(w, h)
				redraw(a, scr, w, h)
			}
		}
	}
}

func TestCompareFold(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"abc", "ABD", -1}, {"Zeta", "alpha", 1}, {"same", "SAME", 0}, {"ab", "abc", -1}, {"Ä", "ä", 0}, {"t", "Z", -1}} {
		if got := compareFold(c.a, c.b); got != c.want {
			t.Errorf("compareFold(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
