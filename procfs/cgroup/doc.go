// Package cgroup reads control groups straight from the cgroup file system:
// which hierarchies are mounted (v2, v1 or both), what one group uses (CPU,
// throttling, memory, pids, I/O, pressure), which group a process is in, and
// what a group is — a Docker, Podman, Kubernetes, CRI-O or LXC container, a
// systemd service, a user session or a slice — judged from its path alone.
//
// It follows the shape of its parent package procfs: an FS value holds the
// proc and sys roots (so tests point it at a fixture tree and an agent in a
// container at /host/proc and /host/sys), every reader reads a file and hands
// the bytes to a pure parser (ParseMountinfo, ParseProcCgroup, ParseCPUStat,
// …) that never panics and returns ErrMalformed for input it does not
// understand, and the readers keep no state between calls: the hierarchies
// found are an explicit Layout value the caller keeps, and caching or rate
// policy belongs to the caller. The one exception mirrors procfs's
// ProcessSampler: a Sampler keeps the groups' files open between samples,
// because reading a held cgroup file costs a fifth of opening it again.
//
// Use:
//
//	fs := cgroup.NewFS("/proc", "/sys")
//	layout, err := fs.Discover()        // once; ErrNoCgroups without cgroups
//	s := layout.NewSampler()            // while someone watches; s.Close() after
//	samples, err := s.Sample(nil)       // containers, services, sessions + Stats
//	path, err := fs.ProcessCgroup(pid)  // or ProcessPath(bytes of <pid>/cgroup)
//	group := cgroup.Classify(path)      // group.Path is the sample's Path
//
// Missing files give absent values (Stats.Has), not errors: a controller that
// is not enabled for a group, a kernel without memory.peak or PSI, a v1
// hierarchy that is not mounted.
//
// Paths of groups (Group.Path, ProcessCgroup) are as the kernel shows them in
// /proc/<pid>/cgroup: relative to the reader's cgroup namespace and to the
// root of the hierarchy, starting with "/".
package cgroup
