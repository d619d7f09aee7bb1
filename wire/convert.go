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

// FromProcessList converts an upstream process list to the native one; the
// fields upstream does not send stay zero.
func FromProcessList(pl *ProcessList) *Processes {
	rows := pl.GetProcesses()
	out := &Processes{Processes: make([]*ProcessInfo, len(rows))}
	backing := make([]ProcessInfo, len(rows))
	for i, r := range rows {
		backing[i] = ProcessInfo{Pid: r.GetPid(), Name: r.GetName(), CpuPercent: r.GetCpuUsage(), RssBytes: r.GetMemBytes()}
		out.Processes[i] = &backing[i]
	}
	return out
}
