package sockdiag

// FDReadable reports whether Collect (with Options.Processes) can know which
// sockets pid holds, so that a process holding none is told apart from one
// whose sockets are unknown. uid is the owner of /proc/<pid>.
//
// It is false when the latest scan of pid could not read its fd directory
// or its links (another user's process without CAP_SYS_PTRACE, or one even
// root may not trace), when pid was not scanned but belongs to another user
// whose processes could not be read, and before the first Collect that
// resolved owners. A process that appeared since the last scan and was not
// scanned holds no socket that Collect did not find in another process
// (an unknown socket inode makes Collect scan new processes first), so it is
// readable.
func (c *Collector) FDReadable(pid int, uid uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &c.res
	if r.owners == nil {
		return false
	}
	if p := r.procs[pid]; p != nil && p.denied {
		return false
	}
	if _, ok := r.deniedUIDs[uid]; ok && uid != r.euid {
		return false
	}
	return true
}
