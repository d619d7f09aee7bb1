package procfs

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Temp is one temperature sensor's reading (see TempSensor for the names).
type Temp struct {
	Chip, Label string
	Celsius     float64
	Source      string
	Device      string
}

// TempSensor is one temperature sensor file, as DiscoverTemps finds it.
type TempSensor struct {
	// Path is the file holding the reading, in millidegrees.
	Path string
	// Chip is the hwmon name (k10temp, coretemp, cpu_thermal, nvme, amdgpu, …)
	// or the thermal zone type (x86_pkg_temp, cpu-thermal, acpitz, …).
	Chip string
	// Label is the sensor label (Tctl, Package id 0, Composite, …); sensors
	// without one are named after their file (temp1) or zone (thermal_zone0).
	Label  string
	Source string // "hwmon" or "thermal"
	// Device is the hwmon/thermal directory name (hwmon2, thermal_zone0),
	// telling apart two chips of the same name.
	Device string
}

// Temperatures discovers the sensors and reads them once (DiscoverTemps,
// then ReadTemps). No sensors is not an error: the result is empty.
func (fs *FS) Temperatures() ([]Temp, error) { return fs.ReadTemps(fs.DiscoverTemps()), nil }

// ReadTemps reads the sensors DiscoverTemps found; one that cannot be read
// (unplugged) is left out. Discovery lists directories, so callers that
// read often keep its result and rediscover now and then.
func (fs *FS) ReadTemps(sensors []TempSensor) []Temp {
	out := make([]Temp, 0, len(sensors))
	for _, s := range sensors {
		v, ok := fs.readMilli(s.Path)
		if !ok {
			continue
		}
		out = append(out, Temp{Chip: s.Chip, Label: s.Label, Celsius: v, Source: s.Source, Device: s.Device})
	}
	return out
}

// DiscoverTemps finds every hwmon temperature sensor (labels kept), or,
// when hwmon has none, the thermal zones.
func (fs *FS) DiscoverTemps() []TempSensor {
	var out []TempSensor
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
			var found []TempSensor
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
				found = append(found, TempSensor{Path: filepath.Join(d, n), Chip: name, Label: label, Source: "hwmon", Device: e.Name()})
			}
			sort.Slice(found, func(i, j int) bool { return sensorNum(found[i].Path) < sensorNum(found[j].Path) })
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
		out = append(out, TempSensor{Path: filepath.Join(dir, "temp"), Chip: typ, Label: e.Name(), Source: "thermal", Device: e.Name()})
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
