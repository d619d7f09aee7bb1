package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The command transport's decoders: the JSON replies of upstream agents
// (and of the JSON dialect, which shares their shapes) into the native
// messages. They are the library's own business, so none is exported;
// PROTOCOL.md §3 and §4 describe the shapes.

// lenient number types: upstream agents of different versions send
// integers, floats and occasionally null for the same field. They accept a
// JSON number, a string holding one, or null (which leaves zero/absent).

type lnum struct {
	v     float64
	u     uint64 // exact value when the text was a non-negative integer
	exact bool
	set   bool
}

func (n *lnum) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %.32s", string(b))
	}
	n.v, n.set = v, true
	// Counters above 2^53 would lose precision as float64.
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		n.u, n.exact = u, true
	}
	return nil
}

func (n lnum) f32() float32 {
	if n.v > math.MaxFloat32 {
		return math.MaxFloat32
	}
	if n.v < -math.MaxFloat32 {
		return -math.MaxFloat32
	}
	return float32(n.v)
}

func (n lnum) u64() uint64 {
	if n.exact {
		return n.u
	}
	switch {
	case n.v != n.v || n.v <= 0: // NaN or not positive
		return 0
	case n.v >= math.MaxUint64:
		return math.MaxUint64
	}
	return uint64(n.v)
}

func (n lnum) u32() uint32 {
	if u := n.u64(); u <= math.MaxUint32 {
		return uint32(u)
	}
	return math.MaxUint32
}

func (n lnum) optF32() *float32 {
	if !n.set {
		return nil
	}
	v := n.f32()
	return &v
}

func (n lnum) optU32() *uint32 {
	if !n.set {
		return nil
	}
	v := n.u32()
	return &v
}

func (n lnum) optU64() *uint64 {
	if !n.set {
		return nil
	}
	v := n.u64()
	return &v
}

// first returns the first alias that was present.
func first(ns ...lnum) lnum {
	for _, n := range ns {
		if n.set {
			return n
		}
	}
	return lnum{}
}

// lstr accepts a JSON string, a number (kept as its text) or null.
type lstr struct {
	v   string
	set bool
}

func (s *lstr) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &s.v); err != nil {
			return err
		}
	default:
		s.v = string(b)
	}
	s.set = true
	return nil
}

func (s lstr) opt() *string {
	if !s.set {
		return nil
	}
	v := s.v
	return &v
}

// unmarshalReply decodes a JSON reply of at most elements array values.
func unmarshalReply(what string, b []byte, v any, elements int) error {
	if err := checkJSON(b, elements); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w: %v", what, ErrMalformed, err)
	}
	return nil
}

// AgentError is an error object ({"error":…,"request":…}) sent by an agent
// in the JSON or command dialect.
type AgentError struct {
	Message string
	Request string
	PID     uint32
	HasPID  bool
}

func (e *AgentError) Error() string {
	if e.HasPID {
		return fmt.Sprintf("agent: %s (request %s, pid %d)", e.Message, e.Request, e.PID)
	}
	return fmt.Sprintf("agent: %s (request %s)", e.Message, e.Request)
}

// decodeErrorJSON returns the error object in b, or nil when b is not one.
func decodeErrorJSON(b []byte) *AgentError {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' || !bytes.Contains(b, []byte(`"error"`)) {
		return nil
	}
	var in struct {
		Error   *lstr `json:"error"`
		Request lstr  `json:"request"`
		Pid     lnum  `json:"pid"`
	}
	if json.Unmarshal(b, &in) != nil || in.Error == nil || !in.Error.set {
		return nil
	}
	return &AgentError{Message: in.Error.v, Request: in.Request.v, PID: in.Pid.u32(), HasPID: in.Pid.set}
}

type inNetwork struct {
	Name        string `json:"name"`
	Received    lnum   `json:"received"`
	Transmitted lnum   `json:"transmitted"`
	RxBytes     lnum   `json:"rx_bytes"`
	TxBytes     lnum   `json:"tx_bytes"`
}

type inGPU struct {
	Name   lstr `json:"name"`
	Vendor lstr `json:"vendor"`
	// Aliases, in the order PROTOCOL.md lists them.
	UtilizationGpuPct lnum `json:"utilization_gpu_pct"`
	GpuUtilPct        lnum `json:"gpu_util_pct"`
	GpuUtilization    lnum `json:"gpu_utilization"`
	Usage             lnum `json:"usage"`
	MemUsedBytes      lnum `json:"mem_used_bytes"`
	VramUsedBytes     lnum `json:"vram_used_bytes"`
	MemoryUsed        lnum `json:"memory_used"`
	MemTotalBytes     lnum `json:"mem_total_bytes"`
	VramTotalBytes    lnum `json:"vram_total_bytes"`
	MemoryTotal       lnum `json:"memory_total"`
	TempC             lnum `json:"temp_c"`
	TemperatureC      lnum `json:"temperature_c"`
}

type inMetrics struct {
	SampledAtMs  lnum        `json:"sampled_at_ms"`
	CPUTotal     lnum        `json:"cpu_total"`
	CPUPerCore   []lnum      `json:"cpu_per_core"`
	MemTotal     lnum        `json:"mem_total"`
	MemUsed      lnum        `json:"mem_used"`
	MemAvailable lnum        `json:"mem_available"`
	SwapTotal    lnum        `json:"swap_total"`
	SwapUsed     lnum        `json:"swap_used"`
	Hostname     lstr        `json:"hostname"`
	CPUTempC     lnum        `json:"cpu_temp_c"`
	Networks     []inNetwork `json:"networks"`
	GPUs         []inGPU     `json:"gpus"`
	ProcessCount lnum        `json:"process_count"`
	UptimeS      lnum        `json:"uptime_s"`
	LoadAvg      []lnum      `json:"load_avg"`
}

// decodeMetricsJSON decodes a metrics reply of either text dialect (upstream
// 1.50–1.60 get_metrics, or the JSON dialect) into a Metrics. GPU field
// aliases are accepted; missing optional fields stay zero or absent. When
// the reply carries no sampled_at_ms (upstream before 1.60) it is left 0.
func decodeMetricsJSON(b []byte) (*Metrics, error) {
	var in inMetrics
	if err := unmarshalReply("metrics", b, &in, jsonMetricsElements); err != nil {
		return nil, err
	}
	if err := errors.Join(tooMany(len(in.CPUPerCore), MaxCores, "cores"), tooMany(len(in.Networks), MaxInterfaces, "network interfaces"),
		tooMany(len(in.GPUs), MaxGPUs, "GPUs")); err != nil {
		return nil, fmt.Errorf("decode metrics: %w", err)
	}
	m := &Metrics{
		SampledAtMs: in.SampledAtMs.u64(), CpuTotal: in.CPUTotal.f32(),
		MemTotal: in.MemTotal.u64(), MemUsed: in.MemUsed.u64(), MemAvailable: in.MemAvailable.u64(),
		SwapTotal: in.SwapTotal.u64(), SwapUsed: in.SwapUsed.u64(), Hostname: in.Hostname.v,
		CpuTempC: in.CPUTempC.optF32(), ProcessCount: in.ProcessCount.u32(), UptimeS: in.UptimeS.v,
		CpuPerCore: make([]float32, len(in.CPUPerCore)),
	}
	if !in.MemAvailable.set && m.MemTotal >= m.MemUsed {
		m.MemAvailable = m.MemTotal - m.MemUsed
	}
	for i, c := range in.CPUPerCore {
		m.CpuPerCore[i] = c.f32()
	}
	for i, l := range in.LoadAvg {
		switch i {
		case 0:
			m.Load1 = l.v
		case 1:
			m.Load5 = l.v
		case 2:
			m.Load15 = l.v
		}
	}
	for _, n := range in.Networks {
		m.Networks = append(m.Networks, &Network{Name: n.Name, RxBytes: first(n.Received, n.RxBytes).u64(), TxBytes: first(n.Transmitted, n.TxBytes).u64()})
	}
	for _, g := range in.GPUs {
		m.Gpus = append(m.Gpus, &Gpu{
			Name: g.Name.v, Vendor: g.Vendor.v,
			Usage:    first(g.UtilizationGpuPct, g.GpuUtilPct, g.GpuUtilization, g.Usage).f32(),
			MemUsed:  first(g.MemUsedBytes, g.VramUsedBytes, g.MemoryUsed).u64(),
			MemTotal: first(g.MemTotalBytes, g.VramTotalBytes, g.MemoryTotal).u64(),
			TempC:    first(g.TempC, g.TemperatureC).optF32(),
		})
	}
	return m, nil
}

type inDisk struct {
	Name         string `json:"name"`
	Total        lnum   `json:"total"`
	Available    lnum   `json:"available"`
	Temperature  lnum   `json:"temperature"`
	IsPartition  bool   `json:"is_partition"`
	MountPoint   lstr   `json:"mount_point"`
	FsType       lstr   `json:"fs_type"`
	TemperatureC lnum   `json:"temperature_c"`
}

// decodeDisksJSON decodes a disks reply of either text dialect. A partition's
// parent is the nearest preceding non-partition entry, as upstream lists
// parents before their partitions.
func decodeDisksJSON(b []byte) (*Disks, error) {
	var in []inDisk
	if err := unmarshalReply("disks", b, &in, jsonDisksElements); err != nil {
		return nil, err
	}
	d := &Disks{Disks: make([]*Disk, 0, len(in))}
	parent := ""
	for _, x := range in {
		disk := &Disk{Name: x.Name, Total: x.Total.u64(), Available: x.Available.u64(), IsPartition: x.IsPartition,
			MountPoint: x.MountPoint.v, FsType: x.FsType.v, TemperatureC: first(x.Temperature, x.TemperatureC).optF32()}
		if x.IsPartition {
			disk.Parent = parent
		} else {
			parent = x.Name
		}
		d.Disks = append(d.Disks, disk)
	}
	return d, nil
}

type inThread struct {
	Tid           lnum `json:"tid"`
	Name          lstr `json:"name"`
	CPUTimeUser   lnum `json:"cpu_time_user"`
	CPUTimeSystem lnum `json:"cpu_time_system"`
	Status        lstr `json:"status"`
}

type inDetail struct {
	Pid              lnum       `json:"pid"`
	Name             lstr       `json:"name"`
	Command          lstr       `json:"command"`
	CPUUsage         lnum       `json:"cpu_usage"`
	MemBytes         lnum       `json:"mem_bytes"`
	VirtualMemBytes  lnum       `json:"virtual_mem_bytes"`
	SharedMemBytes   lnum       `json:"shared_mem_bytes"`
	ThreadCount      lnum       `json:"thread_count"`
	FdCount          lnum       `json:"fd_count"`
	Status           lstr       `json:"status"`
	ParentPid        lnum       `json:"parent_pid"`
	UserID           lnum       `json:"user_id"`
	GroupID          lnum       `json:"group_id"`
	StartTime        lnum       `json:"start_time"`
	CPUTimeUser      lnum       `json:"cpu_time_user"`
	CPUTimeSystem    lnum       `json:"cpu_time_system"`
	ReadBytes        lnum       `json:"read_bytes"`
	WriteBytes       lnum       `json:"write_bytes"`
	WorkingDirectory lstr       `json:"working_directory"`
	ExecutablePath   lstr       `json:"executable_path"`
	ChildProcesses   []inDetail `json:"child_processes"`
	Threads          []inThread `json:"threads"`
	ChildrenTotal    lnum       `json:"children_total"`
	Truncated        bool       `json:"truncated"`
}

// plausible checks the children and threads of p and its children.
func (p *inDetail) plausible() error {
	if err := errors.Join(tooMany(len(p.ChildProcesses), MaxChildren, "children of one process"),
		tooMany(len(p.Threads), MaxThreads, "threads of one process")); err != nil {
		return err
	}
	for i := range p.ChildProcesses {
		if err := p.ChildProcesses[i].plausible(); err != nil {
			return err
		}
	}
	return nil
}

func (p *inDetail) toV2(depth int) *DetailedProcess {
	out := &DetailedProcess{
		Pid: p.Pid.u32(), Name: p.Name.v, Command: p.Command.v, CpuUsage: p.CPUUsage.f32(), MemBytes: p.MemBytes.u64(),
		VirtualMemBytes: p.VirtualMemBytes.u64(), SharedMemBytes: p.SharedMemBytes.optU64(), ThreadCount: p.ThreadCount.u32(),
		FdCount: p.FdCount.optU32(), Status: p.Status.v, ParentPid: p.ParentPid.optU32(), UserId: p.UserID.u32(),
		GroupId: p.GroupID.u32(), StartTime: p.StartTime.u64(), CpuTimeUser: p.CPUTimeUser.u64(),
		CpuTimeSystem: p.CPUTimeSystem.u64(), ReadBytes: p.ReadBytes.optU64(), WriteBytes: p.WriteBytes.optU64(),
		WorkingDirectory: p.WorkingDirectory.opt(), ExecutablePath: p.ExecutablePath.opt(),
		ChildrenTotal: p.ChildrenTotal.u32(), Truncated: p.Truncated,
	}
	if depth < maxJSONDepth {
		for i := range p.ChildProcesses {
			out.ChildProcesses = append(out.ChildProcesses, p.ChildProcesses[i].toV2(depth+1))
		}
	}
	for _, t := range p.Threads {
		out.Threads = append(out.Threads, &ThreadInfo{Tid: t.Tid.u32(), Name: t.Name.v, CpuTimeUser: t.CPUTimeUser.u64(), CpuTimeSystem: t.CPUTimeSystem.u64(), Status: t.Status.v})
	}
	return out
}

// decodeProcessDetailJSON decodes a process_metrics reply of either text
// dialect. An error object becomes a *AgentError.
func decodeProcessDetailJSON(b []byte) (*ProcessDetail, error) {
	if e := decodeErrorJSON(b); e != nil {
		return nil, e
	}
	var in struct {
		Process  *inDetail `json:"process"`
		CachedAt lnum      `json:"cached_at"`
	}
	if err := unmarshalReply("process detail", b, &in, jsonDetailElements); err != nil {
		return nil, err
	}
	if in.Process == nil {
		return nil, fmt.Errorf("decode process detail: %w: no \"process\" object", ErrMalformed)
	}
	if err := in.Process.plausible(); err != nil {
		return nil, fmt.Errorf("decode process detail: %w", err)
	}
	return &ProcessDetail{SampledAtMs: in.CachedAt.u64() * 1000, Process: in.Process.toV2(0)}, nil
}

type inJournalEntry struct {
	Timestamp   lstr `json:"timestamp"`
	TimestampUs lnum `json:"timestamp_us"`
	Priority    lstr `json:"priority"`
	Message     lstr `json:"message"`
	Unit        lstr `json:"unit"`
	Pid         lnum `json:"pid"`
	Comm        lstr `json:"comm"`
	UID         lnum `json:"uid"`
	GID         lnum `json:"gid"`
}

// parsePriority maps upstream's priority names (any case, also "err",
// "warn", "crit", "emerg") or a syslog number to a level 0..7; unknown
// text is 6 (info).
func parsePriority(s string) uint32 {
	s = strings.ToLower(strings.TrimSpace(s))
	if n, err := strconv.ParseUint(s, 10, 8); err == nil && n < 8 {
		return uint32(n)
	}
	switch s {
	case "emergency", "emerg", "panic":
		return 0
	case "alert":
		return 1
	case "critical", "crit":
		return 2
	case "error", "err":
		return 3
	case "warning", "warn":
		return 4
	case "notice":
		return 5
	case "debug":
		return 7
	}
	return 6
}

// decodeJournalJSON decodes a journal_entries reply of either text dialect.
// When an entry lacks timestamp_us its RFC 3339 timestamp is parsed.
func decodeJournalJSON(b []byte) (*Journal, error) {
	if e := decodeErrorJSON(b); e != nil {
		return nil, e
	}
	var in struct {
		Entries    []inJournalEntry `json:"entries"`
		TotalCount lnum             `json:"total_count"`
		Truncated  bool             `json:"truncated"`
		Notice     lstr             `json:"notice"`
		CachedAt   lnum             `json:"cached_at"`
	}
	if err := unmarshalReply("journal", b, &in, jsonJournalElements); err != nil {
		return nil, err
	}
	j := &Journal{SampledAtMs: in.CachedAt.u64() * 1000, TotalCount: in.TotalCount.u32(), Truncated: in.Truncated, Notice: in.Notice.opt()}
	if !in.TotalCount.set {
		j.TotalCount = uint32(len(in.Entries))
	}
	for _, e := range in.Entries {
		ts := e.TimestampUs.u64()
		if !e.TimestampUs.set {
			if t, err := time.Parse(time.RFC3339Nano, e.Timestamp.v); err == nil && t.UnixMicro() > 0 {
				ts = uint64(t.UnixMicro())
			}
		}
		j.Entries = append(j.Entries, &JournalEntry{TimestampUs: ts, Priority: parsePriority(e.Priority.v), Message: e.Message.v,
			Unit: e.Unit.opt(), Pid: e.Pid.optU32(), Comm: e.Comm.opt(), Uid: e.UID.optU32(), Gid: e.GID.optU32()})
	}
	return j, nil
}

// decodeProcessList decodes a process-list frame payload (gzip detected by
// its magic bytes) into a ProcessList.
func decodeProcessList(b []byte) (*ProcessList, error) {
	if IsGzip(b) {
		var err error
		if b, err = Gunzip(b); err != nil {
			return nil, fmt.Errorf("decode process list: %w", err)
		}
	}
	if err := checkProcessList(b); err != nil {
		return nil, fmt.Errorf("decode process list: %w", err)
	}
	pl := &ProcessList{}
	if err := pl.UnmarshalVT(b); err != nil {
		return nil, fmt.Errorf("decode process list: %w: %v", ErrMalformed, err)
	}
	return pl, nil
}
