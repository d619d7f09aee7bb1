package wire

// ToProcessList converts the native process list to the upstream-compatible
// one the JSON and command dialects send: pid, name, CPU share and RSS.
func ToProcessList(p *Processes) *ProcessList {
	rows := p.GetProcesses()
	out := &ProcessList{ProcessCount: uint32(len(rows)), Processes: make([]*Process, len(rows))}
	backing := make([]Process, len(rows)) // one allocation for all rows
	for i, r := range rows {
		backing[i] = Process{Pid: r.GetPid(), Name: r.GetName(), CpuUsage: r.GetCpuPercent(), MemBytes: r.GetRssBytes()}
		out.Processes[i] = &backing[i]
	}
	return out
}
