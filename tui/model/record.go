package model

import (
	"fmt"
	"sync"

	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/history"
)

// Recording writes what a dashboard receives to a history file (socktop
// connect --record FILE), in the format of the agent's flight recorder
// (wire/history/FORMAT.md): one sample per metrics sample, with the
// newest disks and process list received before it. socktop replay plays
// it back. Its methods are safe on a nil Recording (not recording) and
// from any goroutine.
type Recording struct {
	path  string
	store *history.Store

	mu     sync.Mutex
	lastP  *wire.Processes
	lastD  *wire.Disks
	lastAt uint64
	n      int
	err    error
}

// MaxRecordingBytes bounds what a recording keeps in memory (the file
// keeps the same; past it the oldest samples go first): days of samples
// at the default cadence.
const MaxRecordingBytes = 64 << 20

// OpenRecording opens (or creates, mode 0600) the history file at path for
// a recording; samples already in it are kept, and new ones follow.
func OpenRecording(path string) (*Recording, error) {
	s, _, err := history.Open(path, history.Options{MaxBytes: MaxRecordingBytes})
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	_, newest, _ := s.Span()
	return &Recording{path: path, store: s, lastAt: newest}, nil
}

func (r *Recording) processes(p *wire.Processes) {
	if r != nil {
		r.mu.Lock()
		r.lastP = p
		r.mu.Unlock()
	}
}

func (r *Recording) disks(d *wire.Disks) {
	if r != nil {
		r.mu.Lock()
		r.lastD = d
		r.mu.Unlock()
	}
}

// metrics records a metrics sample taken at at (Unix ms) with the newest
// disks and processes; a sample not newer than the last one is skipped.
func (r *Recording) metrics(m *wire.Metrics, at uint64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if at <= r.lastAt {
		return
	}
	hs := history.FromSnapshot(m, r.lastD, r.lastP)
	hs.SampledAtMs = at
	if err := r.store.Append(hs); err != nil {
		r.err = err
		return
	}
	r.lastAt, r.n, r.err = at, r.n+1, nil
}

// Status is the file, how many samples this run recorded, and the last
// failure to write (nil once a write succeeds again).
func (r *Recording) Status() (path string, samples int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.path, r.n, r.err
}

// Close syncs and closes the file.
func (r *Recording) Close() error { return r.store.Close() }
