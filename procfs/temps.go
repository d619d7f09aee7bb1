package procfs

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Temp is one temperature sensor.
type Temp struct {
	// Chip is the hwmon name (k10temp, coretemp, cpu_thermal, nvme, amdgpu, …)
	// or the thermal zone type (x86_pkg_temp, cpu-thermal, acpitz, …).
	Chip string `json:"chip"`
	// Label is the sensor label (Tctl, Package id 0, Composite, …); sensors
	// without one are named after their file (temp1) or zone (thermal_zone0).
	Label   string  `json:"label"`
	Celsius float64 `json:"celsius"`
	Source  string  `json:"source"` // "hwmon" or "thermal"
	// Device is the hwmon/thermal directory name (hwmon2, thermal_zone0),
	// telling apart two chips of the same name.
	Device string `json:"device"`
}

// tempSensor is a discovered sensor file; discovery is cached because the set
// of sensors is fixed for the life of a machine (hot-plug aside).
type tempSensor struct {
	path                        string
	chip, label, source, device string
}

type tempCache struct {
	mu      sync.Mutex
	sensors []tempSensor
	at      time.Time
	done    bool
}

const tempRediscover = time.Minute

// Temperatures reads every hwmon temperature (labels kept), or, when hwmon has
// none, the thermal zones. No sensors is not an error: the result is empty.
// Sensor discovery is cached for a minute; the values are read every call.
func (fs *FS) Temperatures() ([]Temp, error) {
	c := &fs.temps
	c.mu.Lock()
	if !c.done || time.Since(c.at) > tempRediscover {
		c.sensors = fs.discoverTemps()
		c.at, c.done = time.Now(), true
	}
	sensors := c.sensors
	c.mu.Unlock()
	out := make([]Temp, 0, len(sensors))
	for _, s := range sensors {
		v, ok := fs.readMilli(s.path)
		if !ok {
			continue
		}
		out = append(out, Temp{Chip: s.chip, Label: s.label, Celsius: v, Source: s.source, Device: s.device})
	}
	return out, nil
}

func (fs *FS) discoverTemps() []tempSensor {
	var out []tempSensor
	hw := fs.sysPath("class", "hwmon")
	ents, _ := os.ReadDir(hw)
	for _, e := range ents {
		dir := filepath.Join(hw, e.Name())
		// Old kernels keep name and sensors in device/.
		for _, d := range []string{dir, filepath.Join(dir, "device")} {
			name, err := readSmall(filepath.Join(d, "name"))
			if err != nil {
				continue
			}
			files, _ := os.ReadDir(d)
			var found []tempSensor
			for _, f := range files {
				n := f.Name()
				if !strings.HasPrefix(n, "temp") || !strings.HasSuffix(n, "_input") {
					continue
				}
				sensor := strings.TrimSuffix(n, "_input")
				label, err := readSmall(filepath.Join(d, sensor+"_label"))
				if err != nil || label == "" {
					label = sensor
				}
				found = append(found, tempSensor{path: filepath.Join(d, n), chip: name, label: label, source: "hwmon", device: e.Name()})
			}
			sort.Slice(found, func(i, j int) bool { return sensorNum(found[i].path) < sensorNum(found[j].path) })
			out = append(out, found...)
			break
		}
	}
	if len(out) > 0 {
		return out
	}
	th := fs.sysPath("class", "thermal")
	ents, _ = os.ReadDir(th)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "thermal_zone") {
			continue
		}
		dir := filepath.Join(th, e.Name())
		typ, err := readSmall(filepath.Join(dir, "type"))
		if err != nil {
			continue
		}
		out = append(out, tempSensor{path: filepath.Join(dir, "temp"), chip: typ, label: e.Name(), source: "thermal", device: e.Name()})
	}
	return out
}

// sensorNum orders temp2 before temp10.
func sensorNum(path string) int {
	n := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "temp"), "_input")
	v, _ := strconv.Atoi(n)
	return v
}

// CPUTemperature picks the CPU temperature from temps by this rule, first
// match wins:
//
//  1. AMD k10temp/zenpower: Tdie (the real die temperature), else Tctl
//     (the control value, offset on some Ryzen parts);
//  2. Intel coretemp: the hottest "Package id N";
//  3. SoC sensors: hwmon cpu_thermal / cpu-thermal / soc_thermal (Raspberry
//     Pi and most ARM boards);
//  4. other CPU hwmon chips (k8temp, via_cputemp, coretemp cores): their hottest sensor;
//  5. thermal zones: x86_pkg_temp, then a zone whose type names the cpu or
//     the soc, then acpitz.
//
// It reports false when none applies (containers, VMs).
func CPUTemperature(temps []Temp) (float64, bool) {
	find := func(match func(t *Temp) bool) (float64, bool) {
		best, ok := 0.0, false
		for i := range temps {
			if match(&temps[i]) && (!ok || temps[i].Celsius > best) {
				best, ok = temps[i].Celsius, true
			}
		}
		return best, ok
	}
	hw := func(t *Temp) bool { return t.Source == "hwmon" }
	amd := func(t *Temp) bool { return hw(t) && (t.Chip == "k10temp" || t.Chip == "zenpower") }
	steps := []func(t *Temp) bool{
		func(t *Temp) bool { return amd(t) && t.Label == "Tdie" },
		func(t *Temp) bool { return amd(t) && t.Label == "Tctl" },
		func(t *Temp) bool {
			return hw(t) && t.Chip == "coretemp" && strings.HasPrefix(t.Label, "Package id")
		},
		func(t *Temp) bool {
			return hw(t) && (t.Chip == "cpu_thermal" || t.Chip == "cpu-thermal" || t.Chip == "soc_thermal" || t.Chip == "soc-thermal")
		},
		func(t *Temp) bool {
			return hw(t) && (t.Chip == "k8temp" || t.Chip == "via_cputemp" || t.Chip == "coretemp")
		},
		func(t *Temp) bool { return t.Source == "thermal" && t.Chip == "x86_pkg_temp" },
		func(t *Temp) bool {
			c := strings.ToLower(t.Chip)
			return t.Source == "thermal" && (strings.Contains(c, "cpu") || strings.Contains(c, "soc"))
		},
		func(t *Temp) bool { return t.Source == "thermal" && t.Chip == "acpitz" },
	}
	for _, s := range steps {
		if v, ok := find(s); ok {
			return v, true
		}
	}
	return 0, false
}
