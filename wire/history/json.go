package history

import (
	"encoding/json"
	"math"

	"github.com/socktop/socktop/wire"
)

// The JSON dialect's history reply ({"type":"history","seconds":N}): the
// fields the issue documents first, then additive ones. Networks use the
// metrics reply's names (received, transmitted).
type jsonHistory struct {
	IntervalMs uint32       `json:"interval_ms"`
	Samples    []jsonSample `json:"samples"`
}

type jsonSample struct {
	SampledAtMs  uint64        `json:"sampled_at_ms"`
	CPUTotal     float32       `json:"cpu_total"`
	CPUPerCore   []float32     `json:"cpu_per_core"`
	MemTotal     uint64        `json:"mem_total"`
	MemUsed      uint64        `json:"mem_used"`
	SwapUsed     uint64        `json:"swap_used"`
	Networks     []jsonNetwork `json:"networks"`
	TopProcesses []jsonProcess `json:"top_processes"`
	SwapTotal    uint64        `json:"swap_total"`
	LoadAvg      [3]float64    `json:"load_avg"`
	Disks        []jsonDisk    `json:"disks"`
	HottestTempC *float32      `json:"hottest_temp_c"`
}

type jsonNetwork struct {
	Name        string `json:"name"`
	Received    uint64 `json:"received"`
	Transmitted uint64 `json:"transmitted"`
}

type jsonDisk struct {
	Name       string `json:"name"`
	ReadBytes  uint64 `json:"read_bytes"`
	WriteBytes uint64 `json:"write_bytes"`
}

type jsonProcess struct {
	Pid      uint32  `json:"pid"`
	Name     string  `json:"name"`
	CPUUsage float32 `json:"cpu_usage"`
	MemBytes uint64  `json:"mem_bytes"`
}

// fin and fin64 map NaN and ±Inf, which JSON cannot carry, to 0.
func fin(f float32) float32 { return float32(fin64(float64(f))) }

func fin64(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// EncodeJSON encodes h as the JSON dialect's history reply. Lists are
// never null; names are made valid UTF-8. The agent frames it as the
// command dialect frames JSON (dialect.FrameCommandJSON: text, or gzip in a
// binary frame when large).
func EncodeJSON(h *wire.History) []byte {
	out := jsonHistory{IntervalMs: h.GetIntervalMs(), Samples: make([]jsonSample, 0, len(h.GetSamples()))}
	for _, s := range h.GetSamples() {
		if s == nil {
			continue
		}
		js := jsonSample{
			SampledAtMs: s.SampledAtMs, CPUTotal: fin(s.CpuTotal), CPUPerCore: make([]float32, len(s.CpuPerCore)),
			MemTotal: s.MemTotal, MemUsed: s.MemUsed, SwapUsed: s.SwapUsed, SwapTotal: s.SwapTotal,
			LoadAvg:      [3]float64{fin64(s.Load1), fin64(s.Load5), fin64(s.Load15)},
			Networks:     make([]jsonNetwork, 0, len(s.Networks)),
			Disks:        make([]jsonDisk, 0, len(s.Disks)),
			TopProcesses: make([]jsonProcess, 0, len(s.TopProcesses)),
		}
		for i, v := range s.CpuPerCore {
			js.CPUPerCore[i] = fin(v)
		}
		if t := s.HottestTempC; t != nil && finite(*t) {
			js.HottestTempC = t
		}
		for _, n := range s.Networks {
			if n != nil {
				js.Networks = append(js.Networks, jsonNetwork{CleanName(n.Name), n.RxBytes, n.TxBytes})
			}
		}
		for _, d := range s.Disks {
			if d != nil {
				js.Disks = append(js.Disks, jsonDisk{CleanName(d.Name), d.ReadBytes, d.WriteBytes})
			}
		}
		for _, p := range s.TopProcesses {
			if p != nil {
				js.TopProcesses = append(js.TopProcesses, jsonProcess{p.Pid, CleanName(p.Name), fin(p.CpuUsage), p.MemBytes})
			}
		}
		out.Samples = append(out.Samples, js)
	}
	b, err := json.Marshal(out)
	if err != nil { // cannot happen: every value above is encodable
		return []byte(`{"interval_ms":0,"samples":[]}`)
	}
	return b
}
