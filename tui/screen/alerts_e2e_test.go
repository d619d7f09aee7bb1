package screen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui/alert"
	"github.com/socktop/socktop/tui/model"
)

// The test binary re-executed with SOCKTOP_TEST_HELPER=burn is a CPU
// burner: one thread spinning until it is killed.
func init() {
	if os.Getenv("SOCKTOP_TEST_HELPER") != "burn" {
		return
	}
	runtime.GOMAXPROCS(1)
	for i := 0; ; i++ {
		burnSink = i
	}
}

var burnSink int

// startBurner runs one core's worth of busy loop in a child process.
func startBurner(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SOCKTOP_TEST_HELPER=burn")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// cpuOver reads the dashboard's CPU history for d (new samples only) and
// returns their mean and maximum.
func cpuOver(hs *harness, d time.Duration) (mean, peak float64) {
	var n0 int
	hs.onUI(func() { n0 = hs.d.h.CPU.Len() })
	time.Sleep(d)
	var vals []float64
	hs.onUI(func() {
		r := hs.d.h.CPU
		for i := n0; i < r.Len(); i++ { // the test ends long before the ring is full
			vals = append(vals, r.At(i))
		}
	})
	for _, v := range vals {
		mean += v
		peak = max(peak, v)
	}
	if len(vals) > 0 {
		mean /= float64(len(vals))
	}
	return mean, peak
}

// The acceptance test of alerts, end to end: the real agent reading this
// machine, the dashboard on a SimulationScreen, the rules and the notify
// command in a profiles.toml under XDG_CONFIG_HOME, and a real CPU burner.
// `cpu > 30 for 2s` fires while one core of this 2-core machine burns (cpu
// is the whole machine's %), is on screen and runs the command with
// SOCKTOP_ALERT_STATE=firing and the profile's name; it resolves when the
// burn stops; and when the agent is killed, `down` fires.
func TestAlertsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("burns a CPU core for several seconds")
	}
	la := startLiveAgent(t, "", "")
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	dir, cmd := notifyDir(t)
	path, err := profiles.DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`[profiles.box]
url = %q

[[alerts]]
name = "busy"
when = "cpu > 30"
for = "2s"

[[alerts]]
name = "gone"
when = "down"
for = "1s"

[notify]
command = %q
timeout = "5s"
`, la.url, cmd)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := profiles.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := alert.Check(store); err != nil {
		t.Fatal(err)
	}
	setup := alert.ForHost(store, "box", la.url)
	hs := startApp(t, Options{Target: model.Target{Label: "box", URL: la.url}, Alerts: setup}, 160, 40)
	hs.waitFor("● connected", "─ processes ")

	// The machine is shared: tell the burner's load from the others'.
	base, basePeak := cpuOver(hs, 3*time.Second)
	t.Logf("baseline: cpu mean %.1f%%, peak %.1f%% over 3 s (%d cores)", base, basePeak, runtime.NumCPU())
	if base > 20 || strings.Contains(hs.text(), "▲ busy") {
		t.Skipf("the machine is too busy to tell a burner from the rest (cpu %.1f%% mean, %.1f%% peak without it)", base, basePeak)
	}

	burner := startBurner(t)
	s := hs.waitFor("▲ busy ")
	t.Logf("firing: %s", strings.TrimSpace(lineWith(s, "▲ busy")))
	ev := waitNotified(t, dir, "busy", "firing")
	if ev["HOST"] != "box" || ev["RULE"] != "cpu > 30 for 2s" || !strings.HasSuffix(ev["VALUE"], "%") {
		t.Errorf("notify saw %v", ev)
	}

	burner.Process.Kill()
	burner.Wait()
	deadline := time.Now().Add(3 * waitLimit)
	for {
		if resolved(t, dir, "busy") {
			break
		}
		if time.Now().After(deadline) {
			if mean, _ := cpuOver(hs, 2*time.Second); mean > 25 {
				t.Skipf("the machine stayed busy after the burner stopped (cpu %.1f%%): busy cannot resolve", mean)
			}
			t.Fatalf("busy never resolved after the burn stopped; notify saw %v\n%s", notified(t, dir), hs.text())
		}
		time.Sleep(100 * time.Millisecond)
	}
	hs.waitUntil("busy gone from the header", func(s string) bool { return !strings.Contains(s, "▲ busy") })
	hs.rune('!')
	s = hs.waitFor("─ alerts ", "resolved")
	if row := lineWith(s, "● resolved"); !strings.Contains(row, "busy") || !strings.Contains(row, "cpu > 30 for 2s") || strings.Count(row, ":") < 4 {
		t.Errorf("the resolved alert's row %q lacks its rule or when it fired and resolved", row)
	}
	hs.key(tcell.KeyEscape)

	la.stop()
	s = hs.waitFor("▲ gone unreachable")
	t.Logf("down: %s", strings.TrimSpace(lineWith(s, "▲ gone")))
	if ev := waitNotified(t, dir, "gone", "firing"); ev["HOST"] != "box" || ev["VALUE"] != "unreachable" || ev["RULE"] != "down for 1s" {
		t.Errorf("notify saw %v", ev)
	}
}

func resolved(t *testing.T, dir, name string) bool {
	for _, m := range notified(t, dir) {
		if m["NAME"] == name && m["STATE"] == "resolved" {
			return true
		}
	}
	return false
}
