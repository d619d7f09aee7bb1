package agent

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
)

// Bounds of one process detail reply. Each string is cut to its budget in
// bytes as the JSON dialect spells it (a control character costs 6), which
// bounds the protobuf encoding as well, so that one reply of any process
// tree stays under maxDetailBytes in every dialect: 65 processes of at most
// 3 × 4 KiB + 320 bytes of text and ~1 KiB of fields, plus 256 threads of
// at most ~200 bytes, is under 0.9 MiB (TestDetailReplyBoundedForAnyTree
// builds such a tree: 0.77 MiB as JSON).
const (
	maxDetailChildren = 64
	maxDetailThreads  = 256
	maxCommandBytes   = 4096 // a command line, cut with "…"
	maxPathBytes      = 4096 // PATH_MAX: cwd and exe
	maxNameBytes      = 64   // process and thread names (comm is ≤ 64 even for kernel threads)
	maxUserBytes      = 256
	maxDetailBytes    = 1 << 20
)

// maxCachedDetails bounds the per-pid detail cache.
const maxCachedDetails = 16

// detailCost is how many rate-limit tokens a detail request takes: one
// uncached detail reads up to ~1,000 files.
const detailCost = 5

// detailKind is one process in detail: its threads, its first children,
// its command line, files and I/O.
var detailKind = &kind{
	name: "process_detail", capability: wire.CapProcessDetail,
	v2:      &wire.Request{Body: &wire.Request_ProcessDetail{ProcessDetail: &wire.ProcessDetailRequest{}}},
	v2Query: func(r *wire.Request) query { return query{pid: r.GetProcessDetail().GetPid()} },
	text:    dialect.Route{JSON: "process_metrics", Command: "get_process_metrics", PID: true},
	encode:  textOf(dialect.ReplyProcessDetail),
	open: func(a *Agent) source {
		return &detailSource{newKeyedCache(a.cfg.ProcessesTTL, maxCachedDetails, a.collectDetail)}
	},
	cost: detailCost, slow: true,
}

// detailSource serves details from a short per-pid cache shared by every
// client (the process list's TTL).
type detailSource struct {
	c *keyedCache[uint32, *sample[*wire.ProcessDetail]]
}

func (s *detailSource) get(ctx context.Context, q query) (reply, error) {
	pid := q.pid
	switch {
	case pid == 0:
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "process detail needs a pid")
	case pid > 1<<31-1:
		return nil, wire.UnknownPIDError(pid) // beyond pid_t: no process has it (and int(pid) is negative on 32-bit)
	}
	return s.c.Get(ctx, pid)
}

// collectDetail reads one process, its threads and its first children.
func (a *Agent) collectDetail(_ context.Context, pid uint32) (*sample[*wire.ProcessDetail], error) {
	d, err := a.fs.ProcessDetailLimited(int(pid), procfs.DetailLimits{CmdlineBytes: maxCommandBytes, Threads: maxDetailThreads})
	if err != nil {
		if errors.Is(err, procfs.ErrNotFound) {
			return nil, wire.UnknownPIDError(pid)
		}
		return nil, err
	}
	cpu := a.latestCPU()
	out := a.detailed(&d, cpu)
	out.ChildrenTotal = uint32(len(d.Children))
	if len(d.Children) > maxDetailChildren {
		out.Truncated = true
	}
	// A child's entry lists neither its threads nor its own children.
	childLim := procfs.DetailLimits{CmdlineBytes: maxCommandBytes, Threads: -1, NoChildren: true}
	for _, child := range d.Children[:min(len(d.Children), maxDetailChildren)] {
		if cd, err := a.fs.ProcessDetailLimited(int(child), childLim); err == nil {
			out.ChildProcesses = append(out.ChildProcesses, a.detailed(&cd, cpu))
		}
	}
	// The budgets above keep this from happening; should one be wrong, the
	// reply still stays bounded.
	for out.SizeVT() > maxDetailBytes && len(out.ChildProcesses) > 0 {
		out.ChildProcesses, out.Truncated = out.ChildProcesses[:len(out.ChildProcesses)-1], true
	}
	return newSample(&wire.ProcessDetail{SampledAtMs: nowMS(), Process: out}), nil
}

// latestCPU maps pid → CPU share from the latest process sample, if any; a
// detail request does not trigger a process scan of its own.
func (a *Agent) latestCPU() map[uint32]float32 {
	c := a.processes()
	if c == nil {
		return nil
	}
	r, ok := c.Peek()
	if !ok {
		return nil
	}
	ps := r.message().(*wire.Processes).Processes
	m := make(map[uint32]float32, len(ps))
	for _, p := range ps {
		m[p.Pid] = p.CpuPercent
	}
	return m
}

func (a *Agent) detailed(d *procfs.ProcessDetail, cpu map[uint32]float32) *wire.DetailedProcess {
	var cut bool
	text := func(s string, n int) string {
		s, c := clipText(s, n)
		cut = cut || c
		return s
	}
	textPtr := func(p *string, n int) *string {
		if p == nil {
			return nil
		}
		s := text(*p, n)
		return &s
	}
	cmd := strings.Join(d.Cmdline, " ")
	if d.CmdlineTruncated {
		cmd += "…" // clipText keeps it when the cut falls within the budget
	}
	if cmd == "" {
		cmd = "[" + d.Name + "]" // kernel threads and zombies have no command line
	}
	w := &wire.DetailedProcess{
		Pid: uint32(d.PID), Name: text(d.Name, maxNameBytes), Command: text(cmd, maxCommandBytes), CpuUsage: cpu[uint32(d.PID)],
		MemBytes: d.RSS, VirtualMemBytes: d.VSize, SharedMemBytes: d.Shared,
		ThreadCount: uint32(d.NumThreads), Status: statusWord(d.StateName),
		UserId: d.UID, GroupId: d.GID, User: text(a.coll.users.name(d.UID), maxUserBytes),
		StartTime: uint64(max(d.StartUnix, 0)), CpuTimeUser: d.UTimeMicros, CpuTimeSystem: d.STimeMicros,
		ReadBytes: d.ReadBytes, WriteBytes: d.WriteBytes,
		WorkingDirectory: textPtr(d.Cwd, maxPathBytes), ExecutablePath: textPtr(d.Exe, maxPathBytes),
	}
	if d.FDCount != nil {
		n := uint32(*d.FDCount)
		w.FdCount = &n
	}
	if d.PPID > 0 {
		pp := uint32(d.PPID)
		w.ParentPid = &pp
	}
	for _, t := range d.Threads {
		w.Threads = append(w.Threads, &wire.ThreadInfo{Tid: uint32(t.TID), Name: text(t.Name, maxNameBytes),
			CpuTimeUser: t.UTimeMicros, CpuTimeSystem: t.STimeMicros, Status: statusWord(procfs.StateName(t.State))})
	}
	w.Truncated = cut || d.CmdlineTruncated || d.ThreadsTruncated
	return w
}

// statusWord capitalises procfs's state name as upstream shows it ("Sleeping").
func statusWord(s string) string {
	if s == "" {
		return "Unknown"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// clipText makes s valid UTF-8 (validText) and cuts it, on a character
// boundary and ending in "…", to at most n bytes as the JSON dialect
// encodes it, which is at least its protobuf size. It reports whether it
// cut. A string that fits is returned as it is.
func clipText(s string, n int) (string, bool) {
	s = validText(s)
	if len(s)*6 <= n {
		return s, false // fits however it is escaped
	}
	const ellipsis = "…"
	width, keep := 0, -1
	for i, r := range s {
		if keep < 0 && width+jsonWidth(r) > n-len(ellipsis) {
			keep = i // the longest prefix that fits with the ellipsis
		}
		if width += jsonWidth(r); width > n {
			return s[:keep] + ellipsis, true
		}
	}
	return s, false
}

// jsonWidth is how many bytes encoding/json (without HTML escaping) spends
// on r in a string.
func jsonWidth(r rune) int {
	switch {
	case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
		return 2
	case r < 0x20 || r == '\u2028' || r == '\u2029':
		return 6
	}
	return utf8.RuneLen(r)
}

// clip is clipText for log values: client-supplied text, cut and valid.
func clip(s string, n int) string {
	s, _ = clipText(s, n)
	return s
}
