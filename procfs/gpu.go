package procfs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// GPU is one graphics adapter. Pointer fields are nil when the source does
// not offer the value.
type GPU struct {
	Name     string
	Vendor   string   // amd, nvidia, intel, broadcom, or the driver name
	Source   string   // "sysfs" or "nvidia-smi"
	Device   string   // card0, or the nvidia-smi index
	Usage    *float64 // busy percent 0..100
	MemUsed  *uint64
	MemTotal *uint64
	TempC    *float64
}

// GPUCard is a DRM card DiscoverGPUs found, with what reading it must
// remember between readings (the v3d driver's previous gpu_stats). Its
// owner reads it with ReadGPU, one reading at a time.
type GPUCard struct {
	dir, name, vendor, device string
	v3d                       bool
	prev                      V3DStats // last gpu_stats of a v3d card
}

// GPUs discovers the DRM cards and reads each once (DiscoverGPUs, then
// ReadGPU). NVIDIA cards are nvidia-smi's (NvidiaSMIArgs, ParseNvidiaSMI),
// which the caller runs. An empty result means no such card.
func (fs *FS) GPUs(ctx context.Context) []GPU {
	cards := fs.DiscoverGPUs()
	out := make([]GPU, 0, len(cards))
	for i := range cards {
		out = append(out, fs.ReadGPU(ctx, &cards[i]))
	}
	return out
}

var vendorNames = map[string]string{"amd": "AMD", "nvidia": "NVIDIA", "intel": "Intel", "broadcom": "Broadcom"}

var pciVendors = map[string]string{"0x1002": "amd", "0x10de": "nvidia", "0x8086": "intel", "0x14e4": "broadcom"}

// DiscoverGPUs finds the DRM cards in /sys/class/drm: cardN directories,
// not connectors like card0-HDMI-A-1 (AMD usage, VRAM and temperature from
// amdgpu's files; other drivers where sysfs offers gpu_busy_percent; the
// Raspberry Pi's v3d from its gpu_stats). NVIDIA cards are left to
// nvidia-smi, which knows more than sysfs.
func (fs *FS) DiscoverGPUs() []GPUCard {
	base := fs.sysPath("class", "drm")
	ents, _ := os.ReadDir(base)
	var out []GPUCard
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, "card") || strings.Contains(n, "-") {
			continue
		}
		dir := filepath.Join(base, n, "device")
		vendor := ""
		if v, err := readSmall(filepath.Join(dir, "vendor")); err == nil {
			vendor = pciVendors[v]
		}
		driver := ""
		if l, err := os.Readlink(filepath.Join(dir, "driver")); err == nil {
			driver = filepath.Base(l)
		} else if u, err := os.ReadFile(filepath.Join(dir, "uevent")); err == nil {
			driver = ueventValue(u, "DRIVER")
		}
		if vendor == "" {
			switch driver {
			case "v3d", "vc4", "vc4-drm":
				vendor = "broadcom"
			case "amdgpu", "radeon":
				vendor = "amd"
			case "i915", "xe":
				vendor = "intel"
			default:
				vendor = driver
			}
		}
		if vendor == "nvidia" || vendor == "" {
			continue
		}
		if driver == "vc4" || driver == "vc4-drm" {
			continue // the display controller; the GPU is the v3d card
		}
		name := ""
		if p, err := readSmall(filepath.Join(dir, "product_name")); err == nil && p != "" {
			name = p
		} else if u, err := os.ReadFile(filepath.Join(dir, "uevent")); err == nil {
			if id := ueventValue(u, "PCI_ID"); id != "" {
				name = fmt.Sprintf("%s GPU %s", vendorNames[vendor], id)
			}
		}
		if name == "" {
			name = map[string]string{"broadcom": "Broadcom VideoCore", "intel": "Intel Graphics", "amd": "AMD Radeon"}[vendor]
			if vendor == "broadcom" && driver == "v3d" {
				name = "Broadcom VideoCore (v3d)"
			}
			if name == "" {
				name = driver
			}
		}
		out = append(out, GPUCard{dir: dir, name: name, vendor: vendor, device: n, v3d: driver == "v3d"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].device < out[j].device })
	return out
}

func ueventValue(b []byte, key string) string {
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if v, ok := bytes.CutPrefix(line, []byte(key+"=")); ok {
			return string(v)
		}
	}
	return ""
}

// ReadGPU reads one card's usage, memory and temperature. A v3d card
// without a recent earlier reading measures a short window (v3dWindow).
func (fs *FS) ReadGPU(ctx context.Context, c *GPUCard) GPU {
	g := GPU{Name: c.name, Vendor: c.vendor, Source: "sysfs", Device: c.device}
	if c.v3d {
		g.Usage = fs.v3dUsage(ctx, c)
	}
	if s, err := readSmall(filepath.Join(c.dir, "gpu_busy_percent")); err == nil {
		if v, err := strconv.ParseFloat(s, 64); err == nil && v >= 0 && v <= 100 {
			g.Usage = &v
		}
	}
	for _, f := range []struct {
		name string
		dst  **uint64
	}{{"mem_info_vram_used", &g.MemUsed}, {"mem_info_vram_total", &g.MemTotal}} {
		if s, err := readSmall(filepath.Join(c.dir, f.name)); err == nil {
			if v, err := strconv.ParseUint(s, 10, 64); err == nil {
				*f.dst = &v
			}
		}
	}
	matches, _ := filepath.Glob(filepath.Join(c.dir, "hwmon", "hwmon*", "temp1_input"))
	for _, m := range matches {
		if v, ok := fs.readMilli(m); ok {
			g.TempC = &v
			break
		}
	}
	return g
}

// v3dWindow is how long a first (or stale) v3d reading measures.
const v3dWindow = 100 * time.Millisecond

// v3dUsage turns two readings of the v3d driver's gpu_stats (Linux 6.8+,
// Raspberry Pi 4/5) into a busy percentage: the busiest queue's share of the
// time between them. Without an earlier reading younger than
// DefaultStaleAfter it measures a short window.
func (fs *FS) v3dUsage(ctx context.Context, c *GPUCard) *float64 {
	read := func() (V3DStats, bool) {
		b, err := os.ReadFile(filepath.Join(c.dir, "gpu_stats"))
		if err != nil {
			return V3DStats{}, false
		}
		s, err := ParseV3DStats(b)
		return s, err == nil
	}
	cur, ok := read()
	if !ok {
		return nil
	}
	prev := c.prev
	fresh := prev.Timestamp == 0 || cur.Timestamp < prev.Timestamp ||
		time.Duration(cur.Timestamp-prev.Timestamp) > DefaultStaleAfter
	if fresh {
		if sleepCtx(ctx, v3dWindow) != nil {
			return nil
		}
		prev = cur
		if cur, ok = read(); !ok {
			return nil
		}
	}
	c.prev = cur
	if cur.Timestamp <= prev.Timestamp {
		return nil
	}
	span := float64(cur.Timestamp - prev.Timestamp)
	best := 0.0
	for q, rt := range cur.Runtime {
		if p, ok := prev.Runtime[q]; ok && rt >= p {
			best = max(best, float64(rt-p)/span*100)
		}
	}
	best = min(best, 100)
	return &best
}

// V3DStats is the v3d driver's gpu_stats: a timestamp (ns) and each queue's
// cumulative busy time (ns).
type V3DStats struct {
	Timestamp uint64
	Runtime   map[string]uint64
}

// ParseV3DStats parses "queue\ttimestamp\tjobs\truntime" lines.
func ParseV3DStats(b []byte) (V3DStats, error) {
	s := V3DStats{Runtime: map[string]uint64{}}
	line, b := nextLine(b)
	if f, _ := nextField(line); string(f) != "queue" {
		return V3DStats{}, malformed("gpu_stats", "no header")
	}
	for len(b) > 0 {
		line, b = nextLine(b)
		if len(trimSpace(line)) == 0 {
			continue
		}
		q, rest := nextField(line)
		ts, rest := nextField(rest)
		_, rest = nextField(rest)
		rt, _ := nextField(rest)
		t, ok1 := parseUint(ts)
		r, ok2 := parseUint(rt)
		if len(q) == 0 || !ok1 || !ok2 {
			return V3DStats{}, malformed("gpu_stats", "bad queue line")
		}
		s.Timestamp = max(s.Timestamp, t)
		s.Runtime[string(q)] = r
	}
	if len(s.Runtime) == 0 {
		return V3DStats{}, malformed("gpu_stats", "no queues")
	}
	return s, nil
}

// NvidiaSMIArgs are the arguments to run nvidia-smi with, for the output
// ParseNvidiaSMI reads.
func NvidiaSMIArgs() []string {
	return []string{"--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu", "--format=csv,noheader,nounits"}
}

// ParseNvidiaSMI parses the output of nvidia-smi run with NvidiaSMIArgs: "index, name, util %,
// mem used MiB, mem total MiB, temp °C" per line. "[N/A]" and similar give
// absent values.
func ParseNvidiaSMI(b []byte) ([]GPU, error) {
	var out []GPU
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if len(trimSpace(line)) == 0 {
			continue
		}
		f := bytes.Split(line, []byte(","))
		if len(f) != 6 {
			return nil, malformed("nvidia-smi", "want 6 columns")
		}
		for i := range f {
			f[i] = trimSpace(f[i])
		}
		if _, ok := parseUint(f[0]); !ok || len(f[1]) == 0 {
			return nil, malformed("nvidia-smi", "bad index or name")
		}
		g := GPU{Name: string(f[1]), Vendor: "nvidia", Source: "nvidia-smi", Device: string(f[0])}
		if v, ok := parseFixed(f[2]); ok && v <= 100 {
			g.Usage = &v
		}
		if v, ok := parseUint(f[3]); ok && v < 1<<40 {
			v <<= 20
			g.MemUsed = &v
		}
		if v, ok := parseUint(f[4]); ok && v < 1<<40 {
			v <<= 20
			g.MemTotal = &v
		}
		if v, ok := parseFixed(f[5]); ok {
			g.TempC = &v
		}
		out = append(out, g)
	}
	return out, nil
}
