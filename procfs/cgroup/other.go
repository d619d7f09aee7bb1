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

// Sampler is only implemented on Linux.
type Sampler struct{ layout Layout }

// NewSampler returns a Sampler whose reads fail: only Linux has cgroups.
func (l Layout) NewSampler() *Sampler { return &Sampler{layout: l} }

// Layout returns the hierarchies the Sampler reads.
func (s *Sampler) Layout() Layout { return s.layout }

// Stats is only implemented on Linux.
func (s *Sampler) Stats(path string) (Stats, error) { return s.layout.Stats(path) }

// Sample is only implemented on Linux.
func (s *Sampler) Sample(dst []Sample) ([]Sample, error) { return s.layout.Sample(dst) }

// Close does nothing.
func (s *Sampler) Close() {}
