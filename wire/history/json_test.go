package history

import (
	"encoding/json"
	"math"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/socktop/socktop/wire"
)

func TestEncodeJSON(t *testing.T) {
	s := New(Options{Interval: 10 * time.Second})
	for i := range 3 {
		hs := &wire.HistorySample{SampledAtMs: uint64(i+1) * 10_000, CpuTotal: 12.5, CpuPerCore: []float32{10, 15}, MemTotal: 4 << 30, MemUsed: 1 << 30, SwapUsed: 5 << 20,
			Load1: 0.5, Networks: []*wire.Network{{Name: "eth0", RxBytes: 100 * uint64(i), TxBytes: 7}},
			TopProcesses: []*wire.Process{{Pid: 42, Name: "bad\xffname", CpuUsage: 99, MemBytes: 1 << 20}}}
		if i == 2 {
			hs.TopProcesses, hs.Networks = nil, nil
		}
		if err := s.Append(hs); err != nil {
			t.Fatal(err)
		}
	}
	b := EncodeJSON(s.Answer(&wire.HistoryRequest{}))
	if !utf8.Valid(b) {
		t.Fatalf("invalid UTF-8: %q", b)
	}
	var got struct {
		IntervalMs *uint32 `json:"interval_ms"`
		Samples    []map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &got); err != nil || got.IntervalMs == nil || *got.IntervalMs != 10_000 || len(got.Samples) != 3 {
		t.Fatalf("reply %s: %v", b, err)
	}
	for _, key := range []string{"sampled_at_ms", "cpu_total", "cpu_per_core", "mem_total", "mem_used", "swap_used", "networks", "top_processes"} {
		if _, ok := got.Samples[0][key]; !ok {
			t.Fatalf("sample lacks %q: %s", key, b)
		}
	}
	var procs []struct {
		Pid      uint32  `json:"pid"`
		Name     string  `json:"name"`
		CPUUsage float32 `json:"cpu_usage"`
		MemBytes uint64  `json:"mem_bytes"`
	}
	json.Unmarshal(got.Samples[0]["top_processes"], &procs)
	if len(procs) != 1 || procs[0].Pid != 42 || procs[0].Name != "bad\uFFFDname" || procs[0].CPUUsage != 99 || procs[0].MemBytes != 1<<20 {
		t.Fatalf("top_processes %s", got.Samples[0]["top_processes"])
	}
	if string(got.Samples[1]["networks"]) != `[{"name":"eth0","received":100,"transmitted":7}]` {
		t.Fatalf("networks %s", got.Samples[1]["networks"])
	}
	// Empty lists are [], never null (scripts index them).
	if string(got.Samples[2]["top_processes"]) != "[]" || string(got.Samples[2]["networks"]) != "[]" {
		t.Fatalf("empty lists: %s", b)
	}
	// Values JSON cannot carry become 0 rather than breaking the reply.
	nan := float32(math.NaN())
	odd := &wire.History{Samples: []*wire.HistorySample{{CpuTotal: nan, Load1: math.Inf(1), HottestTempC: &nan, CpuPerCore: []float32{nan}}, nil}}
	if err := json.Unmarshal(EncodeJSON(odd), &got); err != nil || len(got.Samples) != 1 || string(got.Samples[0]["hottest_temp_c"]) != "null" {
		t.Fatalf("non-finite values: %s: %v", EncodeJSON(odd), err)
	}
	if string(EncodeJSON(&wire.History{})) != `{"interval_ms":0,"samples":[]}` {
		t.Fatalf("empty history: %s", EncodeJSON(&wire.History{}))
	}
}
