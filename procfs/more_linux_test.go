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
)

// TestGPUNoneIsCached: a machine without a GPU is probed once; a card that
// appears later is not seen (the agent never probes again per request).
func TestGPUNoneIsCached(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "proc"), 0o755)
	fsys, err := NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys"), WithNvidiaSMI("", 0))
	if err != nil {
		t.Fatal(err)
	}
	gs, err := fsys.GPUs(context.Background())
	if err != nil || len(gs) != 0 {
		t.Fatalf("no GPU: %v %v", gs, err)
	}
	card := filepath.Join(dir, "sys", "class", "drm", "card0", "device")
	os.MkdirAll(card, 0o755)
	os.WriteFile(filepath.Join(card, "vendor"), []byte("0x1002\n"), 0o644)
	os.WriteFile(filepath.Join(card, "gpu_busy_percent"), []byte("5\n"), 0o644)
	if gs, _ := fsys.GPUs(context.Background()); len(gs) != 0 {
		t.Errorf("probed again: %v", gs)
	}
	// A fresh FS does see the card (so the cache, not the probe, hid it).
	fresh, _ := NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys"), WithNvidiaSMI("", 0))
	if gs, _ := fresh.GPUs(context.Background()); len(gs) != 1 || gs[0].Usage == nil || *gs[0].Usage != 5 {
		t.Errorf("fresh FS: %+v", gs)
	}
}

// writeScript makes an executable shell script standing in for nvidia-smi.
func writeScript(t *testing.T, body string) string {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	p := filepath.Join(t.TempDir(), "nvidia-smi")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNvidiaSMI(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "proc"), 0o755)
	smi := writeScript(t, `case "$*" in *--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu*) ;; *) exit 9;; esac
echo "0, NVIDIA GeForce RTX 3080, 12, 1234, 10240, 45"
echo "1, Tesla T4, [N/A], 0, 15360, [N/A]"
`)
	fsys, _ := NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys"), WithNvidiaSMI(smi, 5*time.Second))
	gs, err := fsys.GPUs(context.Background())
	if err != nil || len(gs) != 2 {
		t.Fatalf("%v %+v", err, gs)
	}
	if gs[0].Name != "NVIDIA GeForce RTX 3080" || *gs[0].Usage != 12 || *gs[0].MemUsed != 1234<<20 || *gs[0].MemTotal != 10240<<20 || *gs[0].TempC != 45 {
		t.Errorf("gpu0 %+v", gs[0])
	}
	if gs[1].Usage != nil || gs[1].TempC != nil || *gs[1].MemTotal != 15360<<20 {
		t.Errorf("gpu1 N/A values: %+v", gs[1])
	}

	// A hanging nvidia-smi is cut off by the timeout, and after a few
	// failures it is not run any more.
	hang := writeScript(t, "exec sleep 30\n")
	fsys, _ = NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys"), WithNvidiaSMI(hang, 100*time.Millisecond))
	for i := 0; i < smiMaxFailures; i++ {
		if _, err := fsys.GPUs(context.Background()); err == nil || !strings.Contains(err.Error(), "nvidia-smi") {
			t.Fatalf("run %d: err = %v, want a nvidia-smi timeout", i, err)
		}
	}
	if gs, err := fsys.GPUs(context.Background()); err != nil || len(gs) != 0 {
		t.Errorf("after %d failures: %v %v, want no GPU and no error", smiMaxFailures, gs, err)
	}
}

// TestSamplerStale: after a long idle the sampler measures a fresh window
// instead of reporting the average since the previous (old) sample.
func TestSamplerStale(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, filepath.Join("testdata", "fixtures", "rpi4"), dir)
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
	copyTree(t, filepath.Join("testdata", "fixtures", "rpi4"), dir2)
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

func TestUserName(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "proc"), 0o755)
	pw := filepath.Join(dir, "passwd")
	os.WriteFile(pw, []byte("root:x:0:0::/:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n"), 0o644)
	fsys, _ := NewFS(filepath.Join(dir, "proc"), "/sys", WithPasswd(pw))
	if fsys.UserName(0) != "root" || fsys.UserName(1000) != "alice" || fsys.UserName(4242) != "4242" {
		t.Errorf("got %q %q %q", fsys.UserName(0), fsys.UserName(1000), fsys.UserName(4242))
	}
	if n := testing.AllocsPerRun(100, func() { fsys.UserName(1000); fsys.UserName(4242) }); n != 0 {
		t.Errorf("cached lookups allocate %v times", n)
	}
	// A missing passwd file gives numeric names, not a failure.
	nofile, _ := NewFS(filepath.Join(dir, "proc"), "/sys", WithPasswd(filepath.Join(dir, "nope")))
	if nofile.UserName(0) != "0" {
		t.Errorf("missing passwd: %q", nofile.UserName(0))
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
	copyTree(t, filepath.Join("testdata", "fixtures", "rpi4"), dir)
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
	gs, err := fsys.GPUs(context.Background())
	if err != nil || len(gs) != 1 || gs[0].Vendor != "broadcom" {
		t.Fatalf("%v %+v", err, gs)
	}
	if gs[0].Usage != nil {
		t.Errorf("unchanged stats over the first window: usage %v, want unknown", *gs[0].Usage)
	}
	write(1_500_000_000, 300_000_000) // render busy 200 ms of 500 ms
	gs, _ = fsys.GPUs(context.Background())
	if gs[0].Usage == nil || *gs[0].Usage < 39.99 || *gs[0].Usage > 40.01 {
		t.Errorf("usage %v, want 40", gs[0].Usage)
	}
}
