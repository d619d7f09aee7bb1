package screen

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/history"
)

// The past of the history agent below: ten minutes at 1 s, ending just
// before the agent starts. From 4 to 3 minutes ago a "nightly-job" (pid
// 4242, which no live process has) ran; CPU follows a sawtooth (i%50·2 %)
// that live samples of this machine would not draw.
const (
	pastSamples = 600
	jobPID      = 4242
	jobName     = "nightly-job"
)

// historyAgent is a real agent started with --history 1h --history-interval
// 1s over a history file holding the past above, served on loopback and
// recording on; it returns the agent's URL and the past's newest time.
func historyAgent(t *testing.T) (url string, newest time.Time) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.bin")
	s, _, err := history.Open(path, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(-2 * time.Second)
	start := end.Add(-(pastSamples - 1) * time.Second)
	for i := range pastSamples {
		at := start.Add(time.Duration(i) * time.Second)
		cpu := float32(i%50) * 2
		hs := &wire.HistorySample{SampledAtMs: uint64(at.UnixMilli()), CpuTotal: cpu, CpuPerCore: []float32{cpu, cpu / 2},
			MemTotal: 8 << 30, MemUsed: 2<<30 + uint64(i)<<20, Load1: 1.5,
			Networks:     []*wire.Network{{Name: "eth0", RxBytes: uint64(i) * 1 << 20, TxBytes: uint64(i) * 1 << 18}},
			TopProcesses: []*wire.Process{{Pid: 1, Name: "init", CpuUsage: 0.5, MemBytes: 8 << 20}}}
		if ago := end.Sub(at); ago >= 3*time.Minute && ago <= 4*time.Minute {
			hs.TopProcesses = append([]*wire.Process{{Pid: jobPID, Name: jobName, CpuUsage: 97.5, MemBytes: 1 << 30}}, hs.TopProcesses...)
		}
		if err := s.Append(hs); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := agent.DefaultConfig()
	cfg.Version, cfg.Logger = "test", slog.New(slog.DiscardHandler)
	cfg.History, cfg.HistoryInterval, cfg.HistoryFile = time.Hour, time.Second, path
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	recorded := make(chan error, 1)
	go func() { recorded <- a.Record(ctx) }()
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.CloseClientConnections()
		a.Shutdown()
		srv.Close()
		cancel()
		<-recorded
		a.Close()
	})
	return "ws://" + srv.Listener.Addr().String() + "/ws", end
}

// onHost reads the dashboard's host model on the UI goroutine.
func onHost[T any](hs *harness, f func(h *model.Host) T) T {
	var v T
	hs.onUI(func() { v = f(hs.d.h) })
	return v
}

// TestHistoryFillsGraphsOnConnect: right after connecting to an agent
// with history, the graphs (total, per core, memory, network) hold the
// agent's past, long before the live samples could have filled them; a
// fleet's tiles too.
func TestHistoryFillsGraphsOnConnect(t *testing.T) {
	url, _ := historyAgent(t)
	hs := startApp(t, Options{Target: model.Target{URL: url}}, 120, 40)
	hs.waitFor("connected", "─ cpu ")
	deadline := time.Now().Add(waitLimit)
	for onHost(hs, func(h *model.Host) int { return h.CPU.Len() }) < model.HistoryLen {
		if time.Now().After(deadline) {
			t.Fatalf("the CPU graph holds %d samples, want %d", onHost(hs, func(h *model.Host) int { return h.CPU.Len() }), model.HistoryLen)
		}
		time.Sleep(20 * time.Millisecond)
	}
	type rings struct {
		live          int64
		cpu, mem, net int
		cores         []int
		saw           bool
	}
	got := onHost(hs, func(h *model.Host) rings {
		r := rings{live: hs.d.w.Requests(), cpu: h.CPU.Len(), mem: h.Mem.Len(), net: h.NetRx.Len()}
		for _, c := range h.Cores {
			r.cores = append(r.cores, c.Len())
		}
		// the past's sawtooth: values that step by 2 between samples a
		// second apart, at 500 ms each
		for i := 0; i+4 < h.CPU.Len() && !r.saw; i++ {
			r.saw = h.CPU.At(i+2)-h.CPU.At(i) == 2 && h.CPU.At(i+4)-h.CPU.At(i+2) == 2
		}
		return r
	})
	if got.live > 100 || got.mem < model.HistoryLen-5 || got.net < model.HistoryLen-5 || !got.saw {
		t.Errorf("after %d answers: cpu %d, memory %d, network %d samples, the past's sawtooth %v; want full graphs of the past",
			got.live, got.cpu, got.mem, got.net, got.saw)
	}
	for i, n := range got.cores {
		if i < 2 && n < model.HistoryLen {
			t.Errorf("core %d holds %d samples, want %d", i, n, model.HistoryLen)
		}
	}
	// the graph's left edge is drawn: its bottom row is not blank there
	a := onHostArea(hs)
	bottom := []rune(strings.Split(hs.text(), "\n")[a.y+a.h-1])
	if edge := string(bottom[a.x : a.x+4]); strings.Trim(edge, "⠀ ") == "" {
		t.Errorf("the CPU graph's left edge is empty: %q", string(bottom))
	}

	// A fleet tile's CPU line is filled the same way.
	fs, _ := startFleet(t, []model.Target{{Label: "past", URL: url}}, Options{}, 120, 30)
	fs.waitFor("past")
	deadline = time.Now().Add(waitLimit)
	for onHost(fs, func(h *model.Host) int { return h.CPU.Len() }) < model.HistoryLen {
		if time.Now().After(deadline) {
			t.Fatalf("the fleet tile's CPU history holds %d samples, want %d", onHost(fs, func(h *model.Host) int { return h.CPU.Len() }), model.HistoryLen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTimeCursorShowsThePast: [ puts the cursor on the newest recorded
// moment and the header says so; a click on the zoomed graph goes to the
// moment under it, whose top processes the table shows, marked as
// history; Esc comes back to live.
func TestTimeCursorShowsThePast(t *testing.T) {
	url, end := historyAgent(t)
	hs := startApp(t, Options{Target: model.Target{URL: url}}, 120, 40)
	hs.waitFor("connected", "[ ]  past")
	hs.waitUntil("a live process list", func(s string) bool { _, rows := tableRows(s); return len(rows) > 3 })
	if strings.Contains(hs.text(), jobName) {
		t.Fatalf("%s is on the live list", jobName)
	}

	hs.rune('[')
	s := hs.waitFor("◷ history ", " ago)", "Esc live", "processes · history", "zoom 5 min")
	if lineWith(s, "◷ history") != lineWith(s, "connected") {
		t.Errorf("the moment is not in the header's status line:\n%s", s)
	}

	// The moment under a click on the CPU graph, 3.5 minutes before the
	// past's end: the nightly job's.
	want := end.Add(-210 * time.Second)
	x, y := onHostXY(hs, func(h *model.Host) (int, int) {
		a := hs.d.cpuArea
		tl := h.ZoomedTimeline(hs.sh.Now())
		if tl == nil {
			return -1, -1
		}
		col := int(float64(uint64(want.UnixMilli())-tl.From) / float64(tl.To-tl.From) * float64(a.w))
		return a.x + col, a.y + a.h/2
	})
	if x < 0 {
		hs.waitFor("5 min · at ") // the zoomed span has arrived
		t.Fatal("no zoomed timeline after the first step back")
	}
	hs.click(x, y)
	s = hs.waitFor(jobName, strconv.Itoa(jobPID))
	got := onHost(hs, func(h *model.Host) uint64 { return h.Moment().GetSampledAtMs() })
	if d := time.UnixMilli(int64(got)).Sub(want); d < -10*time.Second || d > 10*time.Second {
		t.Errorf("the click went to %v, %v from the %v clicked", time.UnixMilli(int64(got)), d, want)
	}
	clockText := time.UnixMilli(int64(got)).Format("15:04:05")
	if !strings.Contains(lineWith(s, "◷ history"), clockText) || !strings.Contains(lineWith(s, "processes · history"), clockText) {
		t.Errorf("header and table do not name the moment %s:\n%s", clockText, s)
	}
	// recorded as 97.5 % of the machine; CPU% is per core by default
	cores := onHost(hs, func(h *model.Host) int { return h.CoreCount() })
	if row, cpu := lineWith(s, jobName), strconv.FormatFloat(97.5*float64(cores), 'f', 1, 64); !strings.Contains(row, " "+cpu+" ") {
		t.Errorf("the job's row %q lacks its recorded CPU share (%s per core on %d cores)", row, cpu, cores)
	}

	// a recorded moment keeps pid, name, CPU and memory: no empty columns
	// for the rest, and no live CPU breakdown under the past's graph
	if hdr := lineWith(s, "PID"); strings.Contains(hdr, "USER") || strings.Contains(hdr, "TIME+") || strings.Contains(hdr, "COMMAND") {
		t.Errorf("the past moment's table has columns it has no data for: %q", hdr)
	}
	if strings.Contains(s, "iowait") {
		t.Errorf("the live CPU breakdown is shown on a past moment:\n%s", s)
	}

	// ] steps forward, Esc comes back to live.
	hs.rune(']')
	hs.waitUntil("the next moment", func(string) bool {
		return onHost(hs, func(h *model.Host) uint64 { return h.Moment().GetSampledAtMs() }) > got
	})
	hs.key(tcell.KeyEscape)
	s = hs.waitUntil("live again", func(s string) bool {
		return !strings.Contains(s, "◷ history") && !strings.Contains(s, "processes · history") && strings.Contains(s, "─ processes ")
	})
	if strings.Contains(s, jobName) {
		t.Errorf("back to live, the table still lists %s:\n%s", jobName, s)
	}
	// z zooms: 5 min, 1 h, 24 h, then live again; Esc leaves a zoom too.
	for _, z := range []string{"zoom 5 min", "zoom 1 h", "zoom 24 h"} {
		hs.rune('z')
		hs.waitFor(z)
	}
	hs.key(tcell.KeyEscape)
	hs.waitUntil("no zoom", func(s string) bool {
		return !strings.Contains(s, "zoom 5 min") && !strings.Contains(s, "zoom 1 h") && !strings.Contains(s, "zoom 24 h")
	})
	select {
	case err := <-hs.done:
		t.Fatalf("Esc quit the dashboard (%v)", err)
	default:
	}
}

func onHostXY(hs *harness, f func(h *model.Host) (int, int)) (int, int) {
	var x, y int
	hs.onUI(func() { x, y = f(hs.d.h) })
	return x, y
}

// An agent without history behaves as before: no time keys in the footer,
// [ does nothing, a click on a graph says why.
func TestNoHistoryNoTimeTravel(t *testing.T) {
	la := startLiveAgent(t, "", "")
	hs := startApp(t, Options{Target: model.Target{URL: la.url}}, 120, 40)
	hs.waitFor("connected", "─ cpu ")
	hs.rune('[')
	a := onHostArea(hs)
	hs.click(a.x+a.w/2, a.y+a.h/2)
	s := hs.waitFor("keeps no history")
	if strings.Contains(s, "◷ history") || strings.Contains(s, "[ ]  past") || onHost(hs, func(h *model.Host) uint64 { return h.CursorAt }) != 0 {
		t.Errorf("an agent without history shows time travel:\n%s", s)
	}
}

func onHostArea(hs *harness) graphArea {
	var a graphArea
	hs.onUI(func() { a = hs.d.cpuArea })
	return a
}

// TestRecordThenReplay: socktop connect --record writes every metrics
// sample the dashboard receives (with the processes it showed), and
// socktop replay plays that file back on the same screens, with no
// network: pause, speed, seek, the time cursor.
func TestRecordThenReplay(t *testing.T) {
	la := startLiveAgent(t, "", "")
	burner := startBurner(t)
	pid := strconv.Itoa(burner.Process.Pid)
	path := filepath.Join(t.TempDir(), "session.rec")
	rec, err := model.OpenRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	// as Run does with Options.Record
	hs := startAppWith(t, Options{Target: model.Target{URL: la.url}}, 120, 40, func(d *dash) { d.rec = rec; d.w.Record(rec) })
	hs.waitFor("connected", pid, "● rec ")
	hs.waitUntil("eight samples recorded", func(string) bool { _, n, _ := rec.Status(); return n >= 8 })
	hs.stop()
	received := onHostAfterStop(hs)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	burner.Process.Kill()
	burner.Wait()

	s, info, err := history.Load(path, history.Options{})
	if err != nil || info.Damaged {
		t.Fatalf("load the recording: %v %v", err, info)
	}
	all := s.Query(0, 1<<62, 0).Samples
	// The last sample may have been received and recorded while the
	// dashboard was quitting, before it was drawn.
	if n := len(all) - len(received); n < 0 || n > 1 {
		t.Fatalf("%d samples recorded, the dashboard drew %d metrics samples", len(all), len(received))
	}
	listed := 0
	for i, hs := range all {
		if i < len(received) && abs(float64(hs.CpuTotal)-received[i]) > 0.006 {
			t.Errorf("sample %d: recorded cpu_total %v, the dashboard drew %v", i, hs.CpuTotal, received[i])
		}
		if slices.ContainsFunc(hs.TopProcesses, func(p *wire.Process) bool { return strconv.Itoa(int(p.Pid)) == pid }) {
			listed++
		}
	}
	if listed < len(all)/2 {
		t.Errorf("the burner is in %d of %d recorded samples' top processes", listed, len(all))
	}

	r, err := model.NewReplay("session.rec", s, nil)
	if err != nil {
		t.Fatal(err)
	}
	rp := startApp(t, Options{Replay: r}, 120, 40)
	sc := rp.waitFor("session.rec", "▶ replay", pid, "×1")
	if !strings.Contains(sc, "─ cpu ") || strings.Contains(sc, "connecting") {
		t.Errorf("the replay does not show the dashboard:\n%s", sc)
	}
	rp.rune(' ')
	sc = rp.waitFor("❚❚ paused")
	at := lineWith(sc, "❚❚ paused")
	time.Sleep(1200 * time.Millisecond)
	if again := lineWith(rp.text(), "❚❚ paused"); again != at {
		t.Errorf("paused, the position moved: %q then %q", at, again)
	}
	rp.rune('+')
	rp.waitFor("×2")
	rp.rune('[')
	rp.waitFor("◷ history", "processes · history", pid)
	rp.key(tcell.KeyEscape)
	rp.waitUntil("live replay", func(s string) bool { return !strings.Contains(s, "◷ history") })
	rp.rune('\'') // a minute on: past the end
	rp.waitFor("■ end of recording")
	rp.rune(';')
	rp.waitUntil("back from the end", func(s string) bool { return !strings.Contains(s, "■ end of recording") })
}

// onHostAfterStop is the CPU values the dashboard drew (its ring), read
// once the app has stopped (nothing else touches the host then).
func onHostAfterStop(hs *harness) []float64 {
	r := hs.d.h.CPU
	out := make([]float64, r.Len())
	for i := range out {
		out[i] = r.At(i)
	}
	return out
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
