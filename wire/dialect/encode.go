package dialect

import (
	"bytes"
	"encoding/json"
	"math"
	"time"

	"github.com/socktop/socktop/wire"
)

// The JSON shapes below follow PROTOCOL.md field for field and in order;
// the golden files under testdata/golden pin their bytes.

type jsonNetwork struct {
	Name        string `json:"name"`
	Received    uint64 `json:"received"`
	Transmitted uint64 `json:"transmitted"`
}

// jsonGPU is the documented (JSON dialect) GPU object.
type jsonGPU struct {
	Name        string   `json:"name"`
	Usage       float32  `json:"usage"`
	MemoryTotal uint64   `json:"memory_total"`
	MemoryUsed  uint64   `json:"memory_used"`
	TempC       *float32 `json:"temp_c"`
}

// cmdGPU is upstream 1.60's GPU object (command dialect).
type cmdGPU struct {
	Name              string `json:"name"`
	UtilizationGpuPct uint32 `json:"utilization_gpu_pct"`
	MemUsedBytes      uint64 `json:"mem_used_bytes"`
	MemTotalBytes     uint64 `json:"mem_total_bytes"`
}

// jsonMetrics is the JSON dialect's metrics reply: the documented fields,
// then additive ones.
type jsonMetrics struct {
	CPUTotal     float32       `json:"cpu_total"`
	CPUPerCore   []float32     `json:"cpu_per_core"`
	MemTotal     uint64        `json:"mem_total"`
	MemUsed      uint64        `json:"mem_used"`
	SwapTotal    uint64        `json:"swap_total"`
	SwapUsed     uint64        `json:"swap_used"`
	Hostname     string        `json:"hostname"`
	CPUTempC     *float32      `json:"cpu_temp_c"`
	Networks     []jsonNetwork `json:"networks"`
	GPUs         []jsonGPU     `json:"gpus"`
	SampledAtMs  uint64        `json:"sampled_at_ms"`
	ProcessCount uint32        `json:"process_count"`
	UptimeS      float64       `json:"uptime_s"`
	LoadAvg      [3]float64    `json:"load_avg"`
	MemAvailable uint64        `json:"mem_available"`
}

// cmdMetrics is upstream 1.60's get_metrics reply.
type cmdMetrics struct {
	SampledAtMs  uint64        `json:"sampled_at_ms"`
	CPUTotal     float32       `json:"cpu_total"`
	CPUPerCore   []float32     `json:"cpu_per_core"`
	MemTotal     uint64        `json:"mem_total"`
	MemUsed      uint64        `json:"mem_used"`
	SwapTotal    uint64        `json:"swap_total"`
	SwapUsed     uint64        `json:"swap_used"`
	Hostname     string        `json:"hostname"`
	CPUTempC     *float32      `json:"cpu_temp_c"`
	Disks        []struct{}    `json:"disks"`
	Networks     []jsonNetwork `json:"networks"`
	TopProcesses []struct{}    `json:"top_processes"`
	GPUs         []cmdGPU      `json:"gpus"`
}

type jsonDisk struct {
	Name        string   `json:"name"`
	Total       uint64   `json:"total"`
	Available   uint64   `json:"available"`
	Temperature *float32 `json:"temperature"`
	IsPartition bool     `json:"is_partition"`
	MountPoint  string   `json:"mount_point"`
	FsType      string   `json:"fs_type"`
	Used        uint64   `json:"used"`
	Free        uint64   `json:"free"`
}

type cmdDisk struct {
	Name        string   `json:"name"`
	Total       uint64   `json:"total"`
	Available   uint64   `json:"available"`
	Temperature *float32 `json:"temperature"`
	IsPartition bool     `json:"is_partition"`
}

type jsonThread struct {
	Tid           uint32 `json:"tid"`
	Name          string `json:"name"`
	CPUTimeUser   uint64 `json:"cpu_time_user"`
	CPUTimeSystem uint64 `json:"cpu_time_system"`
	Status        string `json:"status"`
}

type jsonDetail struct {
	Pid              uint32       `json:"pid"`
	Name             string       `json:"name"`
	Command          string       `json:"command"`
	CPUUsage         float32      `json:"cpu_usage"`
	MemBytes         uint64       `json:"mem_bytes"`
	VirtualMemBytes  uint64       `json:"virtual_mem_bytes"`
	SharedMemBytes   *uint64      `json:"shared_mem_bytes"`
	ThreadCount      uint32       `json:"thread_count"`
	FdCount          *uint32      `json:"fd_count"`
	Status           string       `json:"status"`
	ParentPid        *uint32      `json:"parent_pid"`
	UserID           uint32       `json:"user_id"`
	GroupID          uint32       `json:"group_id"`
	StartTime        uint64       `json:"start_time"`
	CPUTimeUser      uint64       `json:"cpu_time_user"`
	CPUTimeSystem    uint64       `json:"cpu_time_system"`
	ReadBytes        *uint64      `json:"read_bytes"`
	WriteBytes       *uint64      `json:"write_bytes"`
	WorkingDirectory *string      `json:"working_directory"`
	ExecutablePath   *string      `json:"executable_path"`
	ChildProcesses   []jsonDetail `json:"child_processes"`
	Threads          []jsonThread `json:"threads"`
	// Additive: what the agent left out to bound the reply.
	ChildrenTotal uint32 `json:"children_total"`
	Truncated     bool   `json:"truncated"`
}

type jsonDetailReply struct {
	Process  jsonDetail `json:"process"`
	CachedAt uint64     `json:"cached_at"`
}

type jsonJournalEntry struct {
	Timestamp   string  `json:"timestamp"`
	TimestampUs uint64  `json:"timestamp_us"`
	Priority    string  `json:"priority"`
	Message     string  `json:"message"`
	Unit        *string `json:"unit"`
	Pid         *uint32 `json:"pid"`
	Comm        *string `json:"comm"`
	UID         *uint32 `json:"uid"`
	GID         *uint32 `json:"gid"`
}

type jsonJournal struct {
	Entries    []jsonJournalEntry `json:"entries"`
	TotalCount uint32             `json:"total_count"`
	Truncated  bool               `json:"truncated"`
	Notice     *string            `json:"notice"`
	CachedAt   uint64             `json:"cached_at"`
}

type jsonError struct {
	Error   string  `json:"error"`
	Request string  `json:"request"`
	Pid     *uint32 `json:"pid,omitempty"`
}

// marshal encodes v without HTML escaping (upstream's serde does not escape
// <, > or &) and without a trailing newline. The shapes above hold only
// finite numbers (see fin), so encoding cannot fail.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Unreachable with the shapes above; keep the reply valid JSON.
		return []byte(`{"error":"internal encoding error","request":""}`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

// fin replaces NaN and ±Inf, which JSON cannot carry, with 0.
func fin(f float32) float32 {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return 0
	}
	return f
}

func fin64(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// optFin maps an optional float to JSON: absent or not finite → null.
func optFin(p *float32) *float32 {
	if p == nil || math.IsNaN(float64(*p)) || math.IsInf(float64(*p), 0) {
		return nil
	}
	v := *p
	return &v
}

func finSlice(in []float32) []float32 {
	out := make([]float32, len(in)) // never nil: an empty list is [] not null
	for i, f := range in {
		out[i] = fin(f)
	}
	return out
}

func jsonNetworks(m *wire.Metrics) []jsonNetwork {
	nets := make([]jsonNetwork, 0, len(m.GetNetworks()))
	for _, n := range m.GetNetworks() {
		nets = append(nets, jsonNetwork{Name: n.GetName(), Received: n.GetRxBytes(), Transmitted: n.GetTxBytes()})
	}
	return nets
}

// EncodeJSONMetrics encodes the JSON dialect's metrics reply: the documented
// fields (gpus is null when there are none) followed by the additive
// sampled_at_ms, process_count, uptime_s, load_avg and mem_available.
func EncodeJSONMetrics(m *wire.Metrics) []byte {
	if m == nil {
		m = &wire.Metrics{}
	}
	out := jsonMetrics{
		CPUTotal: fin(m.GetCpuTotal()), CPUPerCore: finSlice(m.GetCpuPerCore()),
		MemTotal: m.GetMemTotal(), MemUsed: m.GetMemUsed(), SwapTotal: m.GetSwapTotal(), SwapUsed: m.GetSwapUsed(),
		Hostname: m.GetHostname(), CPUTempC: optFin(m.CpuTempC), Networks: jsonNetworks(m),
		SampledAtMs: m.GetSampledAtMs(), ProcessCount: m.GetProcessCount(), UptimeS: fin64(m.GetUptimeS()),
		LoadAvg:      [3]float64{fin64(m.GetLoad1()), fin64(m.GetLoad5()), fin64(m.GetLoad15())},
		MemAvailable: m.GetMemAvailable(),
	}
	for _, g := range m.GetGpus() {
		if g == nil {
			continue
		}
		out.GPUs = append(out.GPUs, jsonGPU{Name: g.GetName(), Usage: fin(g.GetUsage()), MemoryTotal: g.GetMemTotal(), MemoryUsed: g.GetMemUsed(), TempC: optFin(g.TempC)})
	}
	return marshal(out)
}

// EncodeCommandMetrics encodes upstream 1.60's get_metrics reply (before
// framing): disks and top_processes are always empty lists, gpus is null
// when there are none.
func EncodeCommandMetrics(m *wire.Metrics) []byte {
	if m == nil {
		m = &wire.Metrics{}
	}
	out := cmdMetrics{
		SampledAtMs: m.GetSampledAtMs(), CPUTotal: fin(m.GetCpuTotal()), CPUPerCore: finSlice(m.GetCpuPerCore()),
		MemTotal: m.GetMemTotal(), MemUsed: m.GetMemUsed(), SwapTotal: m.GetSwapTotal(), SwapUsed: m.GetSwapUsed(),
		Hostname: m.GetHostname(), CPUTempC: optFin(m.CpuTempC),
		Disks: []struct{}{}, Networks: jsonNetworks(m), TopProcesses: []struct{}{},
	}
	for _, g := range m.GetGpus() {
		if g == nil {
			continue
		}
		out.GPUs = append(out.GPUs, cmdGPU{Name: g.GetName(), UtilizationGpuPct: pct32(g.GetUsage()), MemUsedBytes: g.GetMemUsed(), MemTotalBytes: g.GetMemTotal()})
	}
	return marshal(out)
}

// pct32 rounds a percentage to upstream's integer utilization, clamped to
// 0..100.
func pct32(f float32) uint32 {
	f = fin(f)
	switch {
	case f <= 0:
		return 0
	case f >= 100:
		return 100
	}
	return uint32(math.Round(float64(f)))
}

// EncodeJSONDisks encodes the JSON dialect's disks reply: the documented
// name/total/available plus the additive temperature, is_partition,
// mount_point, fs_type, and df's used and free (protocol minor 2).
func EncodeJSONDisks(d *wire.Disks) []byte {
	out := make([]jsonDisk, 0, len(d.GetDisks()))
	for _, x := range d.GetDisks() {
		if x == nil {
			continue
		}
		out = append(out, jsonDisk{Name: x.GetName(), Total: x.GetTotal(), Available: x.GetAvailable(),
			Temperature: optFin(x.TemperatureC), IsPartition: x.GetIsPartition(), MountPoint: x.GetMountPoint(), FsType: x.GetFsType(),
			Used: x.GetUsed(), Free: x.GetFree()})
	}
	return marshal(out)
}

// EncodeCommandDisks encodes upstream's get_disks reply (before framing).
func EncodeCommandDisks(d *wire.Disks) []byte {
	out := make([]cmdDisk, 0, len(d.GetDisks()))
	for _, x := range d.GetDisks() {
		if x == nil {
			continue
		}
		out = append(out, cmdDisk{Name: x.GetName(), Total: x.GetTotal(), Available: x.GetAvailable(),
			Temperature: optFin(x.TemperatureC), IsPartition: x.GetIsPartition()})
	}
	return marshal(out)
}

// maxDetailDepth bounds child_processes nesting so a cyclic or absurd tree
// cannot recurse without end.
const maxDetailDepth = 64

func toJSONDetail(p *wire.DetailedProcess, depth int) jsonDetail {
	if p == nil {
		p = &wire.DetailedProcess{}
	}
	out := jsonDetail{
		Pid: p.GetPid(), Name: p.GetName(), Command: p.GetCommand(), CPUUsage: fin(p.GetCpuUsage()),
		MemBytes: p.GetMemBytes(), VirtualMemBytes: p.GetVirtualMemBytes(), SharedMemBytes: p.SharedMemBytes,
		ThreadCount: p.GetThreadCount(), FdCount: p.FdCount, Status: p.GetStatus(), ParentPid: p.ParentPid,
		UserID: p.GetUserId(), GroupID: p.GetGroupId(), StartTime: p.GetStartTime(),
		CPUTimeUser: p.GetCpuTimeUser(), CPUTimeSystem: p.GetCpuTimeSystem(), ReadBytes: p.ReadBytes,
		WriteBytes: p.WriteBytes, WorkingDirectory: p.WorkingDirectory, ExecutablePath: p.ExecutablePath,
		ChildProcesses: []jsonDetail{}, Threads: make([]jsonThread, 0, len(p.GetThreads())),
		ChildrenTotal: p.GetChildrenTotal(), Truncated: p.GetTruncated(),
	}
	if depth < maxDetailDepth {
		for _, c := range p.GetChildProcesses() {
			out.ChildProcesses = append(out.ChildProcesses, toJSONDetail(c, depth+1))
		}
	}
	for _, t := range p.GetThreads() {
		out.Threads = append(out.Threads, jsonThread{Tid: t.GetTid(), Name: t.GetName(), CPUTimeUser: t.GetCpuTimeUser(), CPUTimeSystem: t.GetCpuTimeSystem(), Status: t.GetStatus()})
	}
	return out
}

// EncodeProcessDetailJSON encodes the process_metrics reply, the same in the
// JSON and the command dialect: {"process": D, "cached_at": epoch seconds}.
func EncodeProcessDetailJSON(d *wire.ProcessDetail) []byte {
	return marshal(jsonDetailReply{Process: toJSONDetail(d.GetProcess(), 0), CachedAt: d.GetSampledAtMs() / 1000})
}

// FormatJournalTime renders a journal timestamp as upstream's RFC 3339 UTC
// string with microseconds.
func FormatJournalTime(us uint64) string {
	return time.UnixMicro(int64(us)).UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// EncodeJournalJSON encodes the journal_entries reply, the same in the JSON
// and the command dialect.
func EncodeJournalJSON(j *wire.Journal) []byte {
	if j == nil {
		j = &wire.Journal{}
	}
	out := jsonJournal{Entries: make([]jsonJournalEntry, 0, len(j.GetEntries())), TotalCount: j.GetTotalCount(),
		Truncated: j.GetTruncated(), Notice: j.Notice, CachedAt: j.GetSampledAtMs() / 1000}
	for _, e := range j.GetEntries() {
		if e == nil {
			continue
		}
		out.Entries = append(out.Entries, jsonJournalEntry{Timestamp: FormatJournalTime(e.GetTimestampUs()), TimestampUs: e.GetTimestampUs(),
			Priority: wire.PriorityName(e.GetPriority()), Message: e.GetMessage(), Unit: e.Unit, Pid: e.Pid, Comm: e.Comm, UID: e.Uid, GID: e.Gid})
	}
	return marshal(out)
}

// EncodeErrorJSON encodes the error object of the JSON and command dialects:
// {"error":msg,"request":request} plus "pid" when hasPID.
func EncodeErrorJSON(msg, request string, pid uint32, hasPID bool) []byte {
	e := jsonError{Error: msg, Request: request}
	if hasPID {
		e.Pid = &pid
	}
	return marshal(e)
}

// EncodeProcessList appends the protobuf encoding of pl to buf[:0] and
// returns it; with a buffer of sufficient capacity it does not allocate.
func EncodeProcessList(buf []byte, pl *wire.ProcessList) []byte {
	n := pl.SizeVT()
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := pl.MarshalToSizedBufferVT(buf); err != nil {
		// Only a size mismatch can fail, and SizeVT just measured it.
		panic("wire: ProcessList changed while encoding: " + err.Error())
	}
	return buf
}
