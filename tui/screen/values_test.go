package screen

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// nonsense is what an agent must not be able to draw: int(NaN) as a
// temperature, NaN and Inf, 2^64−1, a share from it, float exponents.
var nonsense = []string{"NaN", "Inf", "-9223372036854775808", "18446744073709551615", "171798", "16.0E", "e+", "e-0"}

// badAgent serves values that cannot be: NaN, ±Inf, negatives, 2^64−1.
func badAgent(t *testing.T) *wiretest.Agent {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	m := wiretest.SampleMetrics()
	m.CpuTotal, m.CpuPerCore = nan, []float32{nan, inf, -5, 1e30}
	m.CpuTempC = &nan
	m.Temperatures = []*wire.Temperature{{Label: "hot", ValueC: inf}, {Label: "cold", ValueC: -inf}, {Label: "none", ValueC: nan}}
	m.Load1, m.Load5, m.Load15 = math.NaN(), math.Inf(1), -1
	m.MemUsed, m.SwapUsed = math.MaxUint64, math.MaxUint64
	m.UptimeS = math.Inf(1)
	m.Gpus[0].Usage, m.Gpus[0].TempC = nan, &inf
	procs := wiretest.SampleProcesses(10)
	procs.Processes[0].CpuPercent = nan
	procs.Processes[1].RssBytes = math.MaxUint64
	procs.Processes[2].CpuPercent = inf
	procs.Processes[3].CpuPercent = -3
	disks := wiretest.SampleDisks()
	disks.Disks[0].Total = math.MaxUint64
	disks.Disks[0].TemperatureC = &nan
	ag := wiretest.NewV2(wiretest.Config{Metrics: m, Processes: procs, Disks: disks})
	t.Cleanup(ag.Close)
	return ag
}

func checkNoNonsense(t *testing.T, where, s string) {
	t.Helper()
	for _, bad := range nonsense {
		if strings.Contains(s, bad) {
			t.Errorf("%s draws %q:\n%s", where, bad, s)
		}
	}
}

// NaN, ±Inf, negatives and 2^64−1 from an agent are drawn as "-" (or 0
// for a negative amount), never as the number they overflow to: on the
// dashboard, in the process table, and on the fleet's tiles and table.
func TestBadValuesDrawnAsDash(t *testing.T) {
	ag := badAgent(t)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 200, 60)
	hs.waitFor("● connected", "─ processes ", "─ disks ", "mmcblk0", "hot")
	s := hs.waitUntil("the process table", func(s string) bool { _, rows := tableRows(s); return len(rows) >= 10 })
	checkNoNonsense(t, "the dashboard", s)
	hdr, rows := tableRows(s)
	mem, memPct := -1, -1
	for i, h := range hdr {
		switch strings.TrimRight(h, "▲▼") {
		case "MEM":
			mem = i
		case "MEM%":
			memPct = i
		}
	}
	huge := strconv.Itoa(int(wiretest.SampleProcesses(10).Processes[1].Pid))
	found := false
	for _, r := range rows {
		if r[0] == huge {
			found = true
			if r[mem] != "-" || r[memPct] != "-" {
				t.Errorf("a resident set of 2^64−1 is drawn as %s, %s%%; want - and -", r[mem], r[memPct])
			}
		}
	}
	if !found || mem < 0 || memPct < 0 {
		t.Errorf("no row for pid %s with MEM and MEM%% (header %q)", huge, hdr)
	}
	if !strings.Contains(lineWith(s, "hot"), "-") || !strings.Contains(lineWith(s, "mem "), "-") {
		t.Errorf("an infinite temperature or impossible memory use is not drawn as -:\n%s", s)
	}

	fhs, _ := startFleet(t, []model.Target{{Label: "bad", URL: ag.URL}}, Options{}, 160, 30)
	s = fhs.waitFor("● live", "cpu ", "mem ", "load ")
	checkNoNonsense(t, "a fleet tile", s)
	fhs.rune('t')
	s = fhs.waitFor("NAME▲", "TEMP")
	checkNoNonsense(t, "the fleet table", s)
}

// Counts and ids above 2^31 — a pid, uid or process count from a hostile
// or strange agent — are drawn unsigned, also where int is 32 bits wide
// (GOARCH=arm, 386), never as the negative number int(uint32) makes.
func TestBigIDsDrawnUnsigned(t *testing.T) {
	const big = math.MaxUint32
	m := wiretest.SampleMetrics()
	m.ProcessCount = big
	procs := wiretest.SampleProcesses(5)
	procs.Processes[0].Pid = big
	d := wiretest.SampleDetail()
	d.Process.Pid, d.Process.UserId, d.Process.GroupId = big, big, big
	d.Process.ThreadCount, d.Process.FdCount = big, ptr(uint32(big))
	ag := wiretest.NewV2(wiretest.Config{Metrics: m, Processes: procs, Details: map[uint32]*wire.ProcessDetail{big: d}})
	t.Cleanup(ag.Close)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 160, 40)
	hs.waitFor("procs 4294967295", "4294967295 ")
	hs.filterFor("pid:4294967295")
	hs.key(tcell.KeyEnter)
	s := hs.waitFor("process 4294967295 ", "uid 4294967295 gid 4294967295", "threads   4294967295", "fds 4294967295")
	if strings.Contains(s, "-1 ") || strings.Contains(s, "-2147483") {
		t.Errorf("a big id drawn signed:\n%s", s)
	}
}

func ptr[T any](v T) *T { return &v }
