package agent

import (
	"context"
	"errors"
	"strings"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
)

// maxDetailChildren bounds how many children a detail reply expands.
const maxDetailChildren = 64

func (a *Agent) processDetail(_ context.Context, pid uint32) (*wire.ProcessDetail, error) {
	if pid == 0 {
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "process detail needs a pid")
	}
	d, err := a.fs.ProcessDetail(int(pid))
	if err != nil {
		if errors.Is(err, procfs.ErrNotFound) {
			return nil, wire.UnknownPIDError(pid)
		}
		return nil, err
	}
	cpu := a.latestCPU()
	out := a.detailed(&d, cpu)
	for i, child := range d.Children {
		if i == maxDetailChildren {
			break
		}
		if cd, err := a.fs.ProcessDetail(int(child)); err == nil {
			cd.Threads = nil // the parent's view lists children, not their threads
			out.ChildProcesses = append(out.ChildProcesses, a.detailed(&cd, cpu))
		}
	}
	return &wire.ProcessDetail{SampledAtMs: nowMS(), Process: out}, nil
}

// latestCPU maps pid → CPU share from the latest process sample, if any; a
// detail request does not trigger a process scan of its own.
func (a *Agent) latestCPU() map[uint32]float32 {
	s, ok := a.procsC.Peek()
	if !ok {
		return nil
	}
	m := make(map[uint32]float32, len(s.msg.Processes))
	for _, p := range s.msg.Processes {
		m[p.Pid] = p.CpuPercent
	}
	return m
}

func (a *Agent) detailed(d *procfs.ProcessDetail, cpu map[uint32]float32) *wire.DetailedProcess {
	cmd := strings.Join(d.Cmdline, " ")
	if cmd == "" {
		cmd = "[" + d.Name + "]" // kernel threads and zombies have no command line
	}
	w := &wire.DetailedProcess{
		Pid: uint32(d.PID), Name: validText(d.Name), Command: validText(cmd), CpuUsage: cpu[uint32(d.PID)],
		MemBytes: d.RSS, VirtualMemBytes: d.VSize, SharedMemBytes: d.Shared,
		ThreadCount: uint32(d.NumThreads), Status: statusWord(d.StateName),
		UserId: d.UID, GroupId: d.GID, User: validText(a.fs.UserName(d.UID)),
		StartTime: uint64(max(d.StartUnix, 0)), CpuTimeUser: d.UTimeMicros, CpuTimeSystem: d.STimeMicros,
		ReadBytes: d.ReadBytes, WriteBytes: d.WriteBytes, WorkingDirectory: validTextPtr(d.Cwd), ExecutablePath: validTextPtr(d.Exe),
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
		w.Threads = append(w.Threads, &wire.ThreadInfo{Tid: uint32(t.TID), Name: validText(t.Name),
			CpuTimeUser: t.UTimeMicros, CpuTimeSystem: t.STimeMicros, Status: statusWord(procfs.StateName(t.State))})
	}
	return w
}

// statusWord capitalises procfs's state name as upstream shows it ("Sleeping").
func statusWord(s string) string {
	if s == "" {
		return "Unknown"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
