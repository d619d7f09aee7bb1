//go:build !linux

package cgroup

import "fmt"

// Stats is only implemented on Linux.
func (l Layout) Stats(path string) (Stats, error) {
	return Stats{}, fmt.Errorf("cgroup stats: %w", ErrNotSupported)
}

// Groups is only implemented on Linux.
func (l Layout) Groups() ([]Group, error) {
	return nil, fmt.Errorf("cgroup groups: %w", ErrNotSupported)
}

// Sample is only implemented on Linux.
func (l Layout) Sample(dst []Sample) ([]Sample, error) {
	return dst, fmt.Errorf("cgroup sample: %w", ErrNotSupported)
}

// ProcessCgroup is only implemented on Linux.
func (fs FS) ProcessCgroup(pid int) (string, error) {
	return "", fmt.Errorf("process cgroup: %w", ErrNotSupported)
}
