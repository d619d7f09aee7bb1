package procfs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs/proctest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the fixture trees")

// snapshot is everything the package reads from one machine.
type snapshot struct {
	Host        Host
	Stat        Stat
	CPU         CPUUsage
	Meminfo     Meminfo
	MemUsed     uint64
	SwapUsed    uint64
	LoadAvg     LoadAvg
	Uptime      Uptime
	NetDev      []NetDev
	Disks       []Disk
	Temps       []Temp
	CPUTempC    *float64
	GPUs        []GPU
	Processes   []goldenProcess
	ProcessInfo ProcessDetail
}

// goldenProcess shows State as a letter.
type goldenProcess struct {
	Process
	State string
}

func fixtureFS(t *testing.T, dir string) *FS {
	t.Helper()
	var sizes map[string]StatfsResult
	b, err := os.ReadFile(filepath.Join(dir, "statfs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sizes); err != nil {
		t.Fatal(err)
	}
	fsys, err := NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys"),
		WithClockTicks(100), WithPageSize(4096), WithPasswd(filepath.Join(dir, "etc", "passwd")),
		WithStatfs(func(path string) (StatfsResult, error) {
			if s, ok := sizes[path]; ok {
				return s, nil
			}
			return StatfsResult{}, fmt.Errorf("statfs %s: %w", path, fs.ErrNotExist)
		}))
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func TestGolden(t *testing.T) {
	for _, name := range []string{"x86-server", "rpi4", "container"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			proctest.CopyTree(t, filepath.Join("testdata", "fixtures", name), dir)
			fsys := fixtureFS(t, dir)
			ctx := context.Background()
			var snap snapshot
			var err error
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}

			// First samples, then the later files land, then second samples.
			tr := fsys.NewCPUTracker()
			tr.Window = 0
			sampler := fsys.NewProcessSampler()
			sampler.Window = 0
			sampler.StaleAfter = time.Hour
			tr.StaleAfter = time.Hour
			_, err = tr.Sample(ctx)
			must(err)
			ps, err := sampler.Sample(ctx, nil)
			must(err)
			proctest.CopyTree(t, filepath.Join("testdata", "fixtures", name, "proc-later"), filepath.Join(dir, "proc-overlay"))
			must(filepath.WalkDir(filepath.Join(dir, "proc-overlay"), func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(filepath.Join(dir, "proc-overlay"), p)
				dst := filepath.Join(dir, "proc", rel)
				os.MkdirAll(filepath.Dir(dst), 0o755)
				b, _ := os.ReadFile(p)
				return os.WriteFile(dst, b, 0o644)
			}))
			snap.CPU, err = tr.Sample(ctx)
			must(err)
			snap.CPU.Window = 0
			ps, err = sampler.Sample(ctx, ps)
			must(err)
			// Fixture directories list in file-system order; /proc lists ascending.
			slices.SortFunc(ps, func(a, b Process) int { return int(a.PID - b.PID) })
			for _, p := range ps {
				// The owner of the fixture's files (whoever checked them out)
				// and the stat openings (numbered in the order the file
				// system lists the tree) are no part of the tree.
				p.UID, p.StatOpened = 0, 0
				snap.Processes = append(snap.Processes, goldenProcess{Process: p, State: string(p.State)})
			}

			snap.Host, err = fsys.Host()
			must(err)
			snap.Stat, err = fsys.Stat()
			must(err)
			snap.Meminfo, err = fsys.Meminfo()
			must(err)
			snap.MemUsed, snap.SwapUsed = snap.Meminfo.Used(), snap.Meminfo.SwapUsed()
			snap.LoadAvg, err = fsys.LoadAvg()
			must(err)
			snap.Uptime, err = fsys.Uptime()
			must(err)
			snap.NetDev, err = fsys.NetDev()
			must(err)
			snap.Disks, err = fsys.Disks(nil)
			must(err)
			snap.Temps, err = fsys.Temperatures()
			must(err)
			if v, ok := CPUTemperature(snap.Temps); ok {
				snap.CPUTempC = &v
			}
			snap.GPUs = fsys.GPUs(ctx)
			detailPID := map[string]int{"x86-server": 812, "rpi4": 512, "container": 7}[name]
			snap.ProcessInfo, err = fsys.ProcessDetail(detailPID)
			must(err)

			got, err := json.MarshalIndent(snap, "", "  ")
			must(err)
			got = append(got, '\n')
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				must(os.MkdirAll(filepath.Dir(golden), 0o755))
				must(os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			if errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s missing: run go test -run TestGolden -update", golden)
			}
			must(err)
			if !bytes.Equal(got, want) {
				t.Errorf("snapshot differs from %s (run with -update after checking the diff):\n%s", golden, firstDiff(want, got))
			}
		})
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(a, b []byte) string {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y []byte
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if !bytes.Equal(x, y) {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return ""
}
