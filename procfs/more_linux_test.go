package procfs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs/proctest"
)

// TestDiscoverGPUs: discovery sees the cards there are when it runs (its
// caller decides how often to look again).
func TestDiscoverGPUs(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "proc"), 0o755)
	fsys, err := NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys"))
	if err != nil {
		t.Fatal(err)
	}
	if cards := fsys.DiscoverGPUs(); len(cards) != 0 {
		t.Fatalf("no GPU: %+v", cards)
	}
	card := filepath.Join(dir, "sys", "class", "drm", "card0", "device")
	os.MkdirAll(card, 0o755)
	os.WriteFile(filepath.Join(card, "vendor"), []byte("0x1002\n"), 0o644)
	os.WriteFile(filepath.Join(card, "gpu_busy_percent"), []byte("5\n"), 0o644)
	cards := fsys.DiscoverGPUs()
	if len(cards) != 1 {
		t.Fatalf("after the card appeared: %+v", cards)
	}
	if g := fsys.ReadGPU(context.Background(), &cards[0]); g.Usage == nil || *g.Usage != 5 || g.Vendor != "amd" || g.Device != "card0" {
		t.Errorf("card0: %+v", g)
	}
}

// TestSamplerStale: after a long idle the sampler measures a fresh window
// instead of reporting the average since the previous (old) sample.
func TestSamplerStale(t *testing.T) {
	dir := t.TempDir()
	proctest.CopyTree(t, filepath.Join("testdata", "fixtures", "rpi4"), dir)
	fsys := fixtureFS(t, dir)
	s := fsys.NewProcessSampler()
	s.Window = 0
	s.StaleAfter = time.Hour
	ctx := context.Background()
	ps, err := s.Sample(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// python3 (pid 700) burns 180 jiffies while the machine's total grows.
	for _, f := range []string{"stat", "700/stat"} {
		b, _ := os.ReadFile(filepath.Join(dir, "proc-later", f))
		os.WriteFile(filepath.Join(dir, "proc", f), b, 0o644)
	}
	s.StaleAfter = time.Nanosecond // the previous sample is now "old"
	time.Sleep(time.Millisecond)
	if ps, err = s.Sample(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if p := findPID(ps, 700); p == nil || p.CPU != 0 {
		t.Errorf("stale sample reported %+v; want 0%% over the fresh (idle) window", p)
	}
	// Control: without staleness the same change does show up.
	dir2 := t.TempDir()
	proctest.CopyTree(t, filepath.Join("testdata", "fixtures", "rpi4"), dir2)
	s2 := fixtureFS(t, dir2).NewProcessSampler()
	s2.Window, s2.StaleAfter = 0, time.Hour
	if ps, err = s2.Sample(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"stat", "700/stat"} {
		b, _ := os.ReadFile(filepath.Join(dir2, "proc-later", f))
		os.WriteFile(filepath.Join(dir2, "proc", f), b, 0o644)
	}
	if ps, err = s2.Sample(ctx, ps); err != nil {
		t.Fatal(err)
	}
	if p := findPID(ps, 700); p == nil || p.CPU <= 0 {
		t.Errorf("control: %+v, want a positive CPU share", p)
	}
}

func TestUsers(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "proc"), 0o755)
	pw := filepath.Join(dir, "passwd")
	os.WriteFile(pw, []byte("root:x:0:0::/:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n"), 0o644)
	fsys, _ := NewFS(filepath.Join(dir, "proc"), "/sys", WithPasswd(pw))
	users, err := fsys.Users()
	if err != nil || users[0] != "root" || users[1000] != "alice" || len(users) != 2 || fsys.PasswdPath() != pw {
		t.Errorf("got %v %v from %s", users, err, fsys.PasswdPath())
	}
	nofile, _ := NewFS(filepath.Join(dir, "proc"), "/sys", WithPasswd(filepath.Join(dir, "nope")))
	if _, err := nofile.Users(); err == nil {
		t.Error("a missing passwd file read without an error")
	}
}

// TestLiveChurn samples while processes start and exit: vanished pids are
// skipped silently and never produce an error or a half-read row.
func TestLiveChurn(t *testing.T) {
	fs := liveFS(t)
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true binary")
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				exec.Command(truePath).Run()
			}
		}
	}()
	s := fs.NewProcessSampler()
	s.Window = 0
	var ps []Process
	for i := 0; i < 30; i++ {
		if ps, err = s.Sample(context.Background(), ps); err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.PID <= 0 || p.State == 0 || p.CPU < 0 || p.CPU > 100 {
				t.Fatalf("bad row %+v", p)
			}
		}
	}
	close(stop)
	<-done
}

// TestV3DUsage: the Raspberry Pi GPU's busy share comes from two gpu_stats
// readings.
func TestV3DUsage(t *testing.T) {
	dir := t.TempDir()
	proctest.CopyTree(t, filepath.Join("testdata", "fixtures", "rpi4"), dir)
	fsys := fixtureFS(t, dir)
	stats := filepath.Join(dir, "sys", "class", "drm", "card0", "device", "gpu_stats")
	write := func(ts, render uint64) {
		s := fmt.Sprintf("queue\ttimestamp\tjobs\truntime\nbin\t%d\t10\t%d\nrender\t%d\t20\t%d\ntfu\t%d\t0\t0\ncsd\t%d\t0\t0\ncache_clean\t%d\t0\t0\n",
			ts, render/4, ts, render, ts, ts, ts)
		if err := os.WriteFile(stats, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(1_000_000_000, 100_000_000)
	cards := fsys.DiscoverGPUs()
	if len(cards) != 1 {
		t.Fatalf("cards %+v", cards)
	}
	g := fsys.ReadGPU(context.Background(), &cards[0])
	if g.Vendor != "broadcom" {
		t.Fatalf("%+v", g)
	}
	if g.Usage != nil {
		t.Errorf("unchanged stats over the first window: usage %v, want unknown", *g.Usage)
	}
	write(1_500_000_000, 300_000_000) // render busy 200 ms of 500 ms
	g = fsys.ReadGPU(context.Background(), &cards[0])
	if g.Usage == nil || *g.Usage < 39.99 || *g.Usage > 40.01 {
		t.Errorf("usage %v, want 40", g.Usage)
	}
}

// TestCmdlineReader reads this test's own command line: argv with a NUL
// after each argument, cut at the reader's size with more reported.
func TestCmdlineReader(t *testing.T) {
	fs := liveFS(t)
	want := strings.Join(os.Args, "\x00") + "\x00"
	r := fs.NewCmdlineReader(len(want) + 10)
	b, more, err := r.Read(int32(os.Getpid()))
	if err != nil || more || string(b) != want {
		t.Fatalf("own cmdline %q more=%v err=%v, want %q", b, more, err, want)
	}
	short := fs.NewCmdlineReader(5)
	if b, more, err := short.Read(int32(os.Getpid())); err != nil || !more || string(b) != want[:5] {
		t.Errorf("cut at 5: %q more=%v err=%v", b, more, err)
	}
	if _, _, err := r.Read(1<<31 - 1); err == nil {
		t.Error("a pid that does not exist read without an error")
	}
}
