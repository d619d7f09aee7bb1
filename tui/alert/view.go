package alert

import (
	"slices"
	"time"
)

// view is what the engine holds of one host: the latest of each field of
// its samples, and when each arrived.
type view struct {
	s    Sample
	at   [fieldCount]time.Time
	seen bool // something was observed: Tick evaluates the host
}

// The fields of a Sample that arrive and age apart.
const (
	fieldFilesystems = iota + valueCount
	fieldProcesses
	fieldCount
)

const valueCount = 7

// values are the sample's scalar fields, in a fixed order.
func (s *Sample) values() [valueCount]*Value {
	return [valueCount]*Value{&s.CPU, &s.Mem, &s.Swap, &s.Load1, &s.Temp, &s.NetRx, &s.NetTx}
}

func (v *view) merge(s *Sample, now time.Time) {
	v.seen = true
	if s.Unreachable {
		*v = view{s: Sample{Unreachable: true}, seen: true}
		return
	}
	v.s.Unreachable = false
	dst := v.s.values()
	for i, src := range s.values() {
		if src.OK {
			*dst[i], v.at[i] = *src, now
		}
	}
	if s.FilesystemsKnown {
		v.s.Filesystems, v.s.FilesystemsKnown, v.at[fieldFilesystems] = slices.Clone(s.Filesystems), true, now
	}
	if s.ProcessesKnown {
		v.s.Processes, v.s.ProcessesKnown, v.at[fieldProcesses] = slices.Clone(s.Processes), true, now
	}
}

// expire forgets each field given longer than maxAge before now.
func (v *view) expire(now time.Time, maxAge time.Duration) {
	old := func(i int) bool { return now.Sub(v.at[i]) > maxAge }
	for i, p := range v.s.values() {
		if p.OK && old(i) {
			*p = Value{}
		}
	}
	if v.s.FilesystemsKnown && old(fieldFilesystems) {
		v.s.Filesystems, v.s.FilesystemsKnown = nil, false
	}
	if v.s.ProcessesKnown && old(fieldProcesses) {
		v.s.Processes, v.s.ProcessesKnown = nil, false
	}
}
