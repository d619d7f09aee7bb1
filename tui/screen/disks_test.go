package screen

import (
	"strings"
	"testing"

	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/wiretest"
)

// The disks pane reads as df: use% = used ÷ (used + available), used =
// size − free, and the space still available beside it. A disk whose
// agent sends no free count shows used as size − available, marked, with
// the title saying so.
func TestDisksPaneAsDf(t *testing.T) {
	const G = 1 << 30
	disks := &wire.Disks{SampledAtMs: 1, Disks: []*wire.Disk{
		// df: Size 252G, Used 16G, Avail 224G, Use% 7% (12G reserved for root)
		{Name: "nvme0n1p2", MountPoint: "/", FsType: "ext4", Total: 252 * G, Available: 224 * G, Used: 16 * G, Free: 236 * G, IsPartition: true},
	}}
	ag := wiretest.NewV2(wiretest.Config{Disks: disks, Processes: wiretest.SampleProcesses(5)})
	t.Cleanup(ag.Close)
	hs := startApp(t, Options{Target: model.Target{URL: ag.URL}}, 160, 40)
	s := hs.waitFor("nvme0n1p2")
	l := lineWith(s, "nvme0n1p2")
	if !strings.Contains(l, "6.7% 16.0G/252G 224G avail") || strings.Contains(l, "*") {
		t.Errorf("disk line %q, want df's 6.7%% 16.0G/252G 224G avail", l)
	}
	if strings.Contains(lineWith(s, "─ disks "), "size − available") {
		t.Errorf("the disks title marks exact figures: %q", lineWith(s, "─ disks "))
	}

	// an agent that sends only size and available (upstream's)
	up := wiretest.NewUpstream(wiretest.Config{Disks: &wire.Disks{Disks: []*wire.Disk{
		{Name: "sda1", MountPoint: "/", Total: 100 * G, Available: 60 * G},
	}}})
	t.Cleanup(up.Close)
	hs = startApp(t, Options{Target: model.Target{URL: up.URL}}, 160, 40)
	s = hs.waitFor("sda1")
	if l := lineWith(s, "sda1"); !strings.Contains(l, "40.0%* 40.0G/100G 60.0G avail") {
		t.Errorf("upstream disk line %q, want 40.0%%* 40.0G/100G 60.0G avail", l)
	}
	if !strings.Contains(lineWith(s, "─ disks "), "* used = size − available") {
		t.Errorf("the disks title does not say how used is known: %q", lineWith(s, "─ disks "))
	}
}
