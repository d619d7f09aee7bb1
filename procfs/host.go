package procfs

import (
	"bytes"
	"fmt"
)

// Host describes the machine: names, kernel, architecture, CPU.
type Host struct {
	Hostname      string
	KernelRelease string // e.g. "6.1.0-18-amd64"
	KernelVersion string // the build string, e.g. "#1 SMP PREEMPT_DYNAMIC …"
	Arch          string // uname -m style: x86_64, aarch64, armv7l, …
	CPUModel      string // "AMD EPYC 7302 16-Core Processor", "Cortex-A72", …
	BoardModel    string // device tree model, e.g. "Raspberry Pi 4 Model B Rev 1.4"
	CPUs          int    // processors listed in /proc/cpuinfo
}

// Host reads the machine's names (HostNames) and hardware: /proc/cpuinfo
// and the device tree's model. The architecture is inferred from cpuinfo;
// when that is inconclusive the running kernel's uname machine is used.
// The hardware does not change while a program runs, and cpuinfo is 100 KB
// on a big server: callers that re-read the names keep the rest.
func (fs *FS) Host() (Host, error) {
	h, err := fs.HostNames()
	if err != nil {
		return h, err
	}
	_ = fs.readWith(fs.procPath("cpuinfo"), func(b []byte) error { // unreadable: the hardware stays unknown
		ci := ParseCPUInfo(b)
		h.Arch, h.CPUModel, h.BoardModel, h.CPUs = ci.Arch, ci.ModelName, ci.Model, ci.Processors
		return nil
	})
	if h.BoardModel == "" {
		if m, err := readSmall(fs.procPath("device-tree", "model")); err == nil {
			h.BoardModel = string(bytes.TrimRight([]byte(m), "\x00"))
		}
	}
	if h.Arch == "" {
		h.Arch = unameMachine()
	}
	return h, nil
}

// HostNames reads only the names of Host: /proc/sys/kernel/{hostname,
// osrelease,version}.
func (fs *FS) HostNames() (Host, error) {
	var h Host
	var err error
	if h.Hostname, err = readSmall(fs.procPath("sys", "kernel", "hostname")); err != nil {
		return h, fmt.Errorf("read hostname: %w", err)
	}
	if h.KernelRelease, err = readSmall(fs.procPath("sys", "kernel", "osrelease")); err != nil {
		return h, fmt.Errorf("read kernel release: %w", err)
	}
	h.KernelVersion, _ = readSmall(fs.procPath("sys", "kernel", "version"))
	return h, nil
}

// CPUInfo is what socktop takes from /proc/cpuinfo.
type CPUInfo struct {
	Processors int
	ModelName  string // first "model name" (x86, armv7) or a name from "CPU part" (arm64)
	Hardware   string // "Hardware" (older ARM kernels, e.g. "BCM2835")
	Model      string // "Model" (Raspberry Pi kernels)
	Arch       string // inferred; "" when inconclusive
}

// armParts names common ARM cores by their "CPU part" for arm64 kernels,
// whose cpuinfo has no model name.
var armParts = map[string]string{
	"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55",
	"0xd07": "Cortex-A57", "0xd08": "Cortex-A72", "0xd09": "Cortex-A73",
	"0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76", "0xd0c": "Neoverse-N1",
	"0xd40": "Neoverse-V1", "0xd49": "Neoverse-N2", "0xc07": "Cortex-A7",
	"0xc0f": "Cortex-A15", "0xb76": "ARM1176",
}

// ParseCPUInfo parses /proc/cpuinfo. It never fails: unknown layouts give
// empty fields.
func ParseCPUInfo(b []byte) CPUInfo {
	var ci CPUInfo
	var flags, cpuArch, part, isa string
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		key := string(trimSpace(line[:i]))
		val := trimSpace(line[i+1:])
		switch key {
		case "processor":
			ci.Processors++
		case "model name", "cpu model":
			if ci.ModelName == "" {
				ci.ModelName = string(val)
			}
		case "Hardware":
			ci.Hardware = string(val)
		case "Model":
			ci.Model = string(val)
		case "flags":
			if flags == "" {
				flags = " " + string(val) + " "
			}
		case "CPU architecture":
			if cpuArch == "" {
				cpuArch = string(val)
			}
		case "CPU part":
			if part == "" {
				part = string(val)
			}
		case "isa":
			if isa == "" {
				isa = string(val)
			}
		}
	}
	switch {
	case flags != "":
		if bytes.Contains([]byte(flags), []byte(" lm ")) {
			ci.Arch = "x86_64"
		} else {
			ci.Arch = "i686"
		}
	case cpuArch == "8" || cpuArch == "AArch64":
		ci.Arch = "aarch64"
	case cpuArch != "" && armSuffix(ci.ModelName) != "":
		ci.Arch = "arm" + armSuffix(ci.ModelName) // "ARMv6-compatible processor rev 7 (v6l)"
	case cpuArch == "7":
		ci.Arch = "armv7l"
	case cpuArch != "":
		ci.Arch = "armv" + cpuArch + "l"
	case len(isa) >= 4 && isa[:4] == "rv64":
		ci.Arch = "riscv64"
	}
	if ci.ModelName == "" && part != "" {
		ci.ModelName = armParts[part]
	}
	return ci
}

// armSuffix returns "v6l" from a model name ending in "(v6l)".
func armSuffix(model string) string {
	n := len(model)
	if n >= 5 && model[n-1] == ')' && model[n-5] == '(' && model[n-4] == 'v' {
		return model[n-4 : n-1]
	}
	return ""
}
