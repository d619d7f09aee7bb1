package agent

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
)

// emptyFS is an FS over empty proc and sys trees.
func emptyFS(t *testing.T) (*procfs.FS, string) {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "proc"), 0o755)
	fs, err := procfs.NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys"))
	if err != nil {
		t.Fatal(err)
	}
	return fs, dir
}

// TestNvidiaSMI runs a stand-in nvidia-smi (a real process, found on PATH
// as the real one is) and reads its cards; one that hangs is cut off by
// the timeout and, after a few failures, not run any more.
func TestNvidiaSMI(t *testing.T) {
	fs, _ := emptyFS(t)
	onPath(t, t.TempDir(), "nvidia-smi", `case "$*" in *--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu*) ;; *) exit 9;; esac
echo "0, NVIDIA GeForce RTX 3080, 12, 1234, 10240, 45"
echo "1, Tesla T4, [N/A], 0, 15360, [N/A]"
`)
	s := &sensors{fs: fs, gpu: true}
	m := &wire.Metrics{}
	s.add(context.Background(), m)
	if !s.haveGPU || len(m.Gpus) != 2 {
		t.Fatalf("have %v, gpus %+v", s.haveGPU, m.Gpus)
	}
	if g := m.Gpus[0]; g.Name != "NVIDIA GeForce RTX 3080" || g.Usage != 12 || g.MemUsed != 1234<<20 || g.MemTotal != 10240<<20 || g.GetTempC() != 45 {
		t.Errorf("gpu0 %+v", g)
	}
	if g := m.Gpus[1]; g.Usage != 0 || g.TempC != nil || g.MemTotal != 15360<<20 {
		t.Errorf("gpu1 N/A values: %+v", g)
	}

	onPath(t, t.TempDir(), "nvidia-smi", "exec sleep 30\n")
	hang := &sensors{fs: fs, gpu: true}
	hang.once.Do(func() {}) // probed by hand below, with a short timeout
	p, err := exec.LookPath("nvidia-smi")
	if err != nil {
		t.Fatal(err)
	}
	hang.smi = nvidiaSMI{path: p, timeout: 100 * time.Millisecond}
	for i := range smiMaxFailures {
		if _, err := hang.readGPUs(context.Background()); err == nil || !strings.Contains(err.Error(), "nvidia-smi") {
			t.Fatalf("run %d: err = %v, want a nvidia-smi timeout", i, err)
		}
	}
	if gs, err := hang.readGPUs(context.Background()); err != nil || len(gs) != 0 || hang.smi.path != "" {
		t.Errorf("after %d failures: %v %v, want no GPU, no error, no more runs", smiMaxFailures, gs, err)
	}
}

// TestGPUsProbedOnce: a machine without a GPU is probed once; a card that
// appears later is not read per sample (a new agent sees it).
func TestGPUsProbedOnce(t *testing.T) {
	fs, dir := emptyFS(t)
	t.Setenv("PATH", t.TempDir()) // no nvidia-smi
	s := &sensors{fs: fs, gpu: true}
	m := &wire.Metrics{}
	s.add(context.Background(), m)
	if s.haveGPU || len(m.Gpus) != 0 {
		t.Fatalf("no GPU: have %v, %+v", s.haveGPU, m.Gpus)
	}
	card := filepath.Join(dir, "sys", "class", "drm", "card0", "device")
	os.MkdirAll(card, 0o755)
	os.WriteFile(filepath.Join(card, "vendor"), []byte("0x1002\n"), 0o644)
	os.WriteFile(filepath.Join(card, "gpu_busy_percent"), []byte("5\n"), 0o644)
	s.add(context.Background(), m)
	if len(m.Gpus) != 0 {
		t.Errorf("probed again: %+v", m.Gpus)
	}
	fresh := &sensors{fs: fs, gpu: true}
	fresh.add(context.Background(), m)
	if len(m.Gpus) != 1 || m.Gpus[0].Usage != 5 {
		t.Errorf("a new probe: %+v", m.Gpus)
	}
}

func TestUserNames(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "proc"), 0o755)
	pw := filepath.Join(dir, "passwd")
	os.WriteFile(pw, []byte("root:x:0:0::/:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n"), 0o644)
	fs, _ := procfs.NewFS(filepath.Join(dir, "proc"), "/sys", procfs.WithPasswd(pw))
	u := &users{fs: fs}
	if u.name(0) != "root" || u.name(1000) != "alice" || u.name(4242) != "4242" {
		t.Errorf("got %q %q %q", u.name(0), u.name(1000), u.name(4242))
	}
	if n := testing.AllocsPerRun(100, func() { u.name(1000); u.name(4242) }); n != 0 {
		t.Errorf("cached lookups allocate %v times", n)
	}
	// The file changes: the next check after userRecheck sees it.
	os.WriteFile(pw, []byte("root:x:0:0::/:/bin/sh\nbob:x:1000:1000::/:/bin/sh\nextra:x:7:7::/:/bin/sh\n"), 0o644)
	u.checked = time.Now().Add(-2 * userRecheck)
	if u.name(1000) != "bob" {
		t.Errorf("after the passwd file changed: %q", u.name(1000))
	}
	// A missing passwd file gives numeric names, not a failure.
	nofile, _ := procfs.NewFS(filepath.Join(dir, "proc"), "/sys", procfs.WithPasswd(filepath.Join(dir, "nope")))
	if n := (&users{fs: nofile}).name(0); n != "0" {
		t.Errorf("missing passwd: %q", n)
	}
}
