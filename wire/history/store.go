package history

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/socktop/socktop/wire"
)

// ErrOutOfOrder is returned by Append for a sample that is not newer than
// the newest one kept (timestamps must strictly increase).
var ErrOutOfOrder = errors.New("history: sample is not newer than the newest kept")

// Options bound a Store. The zero value keeps samples of any age, up to
// HardMaxSamples and DefaultMaxBytes.
type Options struct {
	// Retention is how long samples are kept, counted back from the newest
	// sample's time; 0 keeps them whatever their age (a recording).
	Retention time.Duration
	// Interval is the recording interval, the interval_ms of answers that
	// are not downsampled (0: the answer's mean gap between samples).
	Interval time.Duration
	// MaxSamples bounds the samples kept (0: Retention/Interval with 1/8
	// to spare for jitter when both are set, else HardMaxSamples).
	MaxSamples int
	// MaxBytes bounds the encoded samples in memory (0: DefaultMaxBytes);
	// past it the oldest blocks of samples go first.
	MaxBytes int
}

func (o Options) normalized() Options {
	if o.Retention < 0 {
		o.Retention = 0
	}
	if o.MaxSamples <= 0 {
		o.MaxSamples = HardMaxSamples
		if o.Retention > 0 && o.Interval > 0 {
			n := int64(o.Retention / o.Interval)
			o.MaxSamples = int(min(n+n/8+2, HardMaxSamples))
		}
	}
	o.MaxSamples = min(o.MaxSamples, HardMaxSamples)
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	return o
}

// block is one chain of at most samplesPerBlock records, each a uvarint
// length and the payload. Only the last block grows; the others are
// immutable, which lets a query read them outside the lock.
type block struct {
	first, last uint64 // sample times, Unix ms
	n           int
	payload     int // sum of the payload lengths (the file's share)
	data        []byte
}

// Store is a bounded, compact history of samples. It is safe for
// concurrent use: one goroutine appends while others query.
type Store struct {
	mu      sync.Mutex
	opt     Options
	blocks  []*block
	enc     chain
	scratch []byte
	count   int    // records in blocks
	skip    int    // leading records of blocks[0] no longer kept
	bytes   int    // len(data) summed over blocks
	newest  uint64 // time of the newest sample
	fresh   bool   // the next Append starts a new block
	// headTimes are the sample times of headFor (= blocks[0]), so trimming
	// does not decode the head block on every Append.
	headFor   *block
	headTimes []uint64

	file *logFile // nil: memory only
}

// New returns an empty in-memory store.
func New(opt Options) *Store {
	return &Store{opt: opt.normalized()}
}

// Options returns the store's bounds, with defaults filled in.
func (s *Store) Options() Options { return s.opt }

// Append adds hs, the newest sample, clamping its values and bounding its
// lists as FORMAT.md says, drops the samples the bounds no longer allow,
// and writes the record to the store's file when it has one. The sample is
// kept in memory even when writing the file fails (the error says why).
func (s *Store) Append(hs *wire.HistorySample) error {
	if hs == nil {
		return errors.New("history: nil sample")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count > 0 && hs.GetSampledAtMs() <= s.newest {
		return fmt.Errorf("%w (%d ms, newest %d ms)", ErrOutOfOrder, hs.GetSampledAtMs(), s.newest)
	}
	rec := s.appendMem(hs)
	s.trim()
	if s.file == nil {
		return nil
	}
	return s.file.append(s, rec)
}

// appendMem encodes hs into the open block (starting a new one when it is
// full or a fresh chain was asked for) and returns the record's payload.
func (s *Store) appendMem(hs *wire.HistorySample) []byte {
	at := hs.GetSampledAtMs()
	var b *block
	if n := len(s.blocks); n > 0 && !s.fresh && s.blocks[n-1].n < samplesPerBlock {
		b = s.blocks[n-1]
	} else {
		s.sealLast()
		s.enc.reset()
		b = &block{first: at}
		s.blocks = append(s.blocks, b)
		s.fresh = false
	}
	s.scratch = s.enc.encode(s.scratch[:0], hs)
	before := len(b.data)
	b.data = binary.AppendUvarint(b.data, uint64(len(s.scratch)))
	b.data = append(b.data, s.scratch...)
	b.n++
	b.last = at
	b.payload += len(s.scratch)
	s.bytes += len(b.data) - before
	s.count++
	s.newest = at
	if b == s.headFor {
		s.headTimes = append(s.headTimes, at)
	}
	return s.scratch
}

// sealLast trims the spare capacity of the block that stops growing.
func (s *Store) sealLast() {
	if n := len(s.blocks); n > 0 {
		b := s.blocks[n-1]
		if cap(b.data) > len(b.data) {
			b.data = slices.Clone(b.data)
		}
	}
}

// trim drops what the bounds no longer allow: whole blocks, then leading
// samples of the first block (skipped, freed with their block).
func (s *Store) trim() {
	var cutoff uint64
	if ms := uint64(s.opt.Retention.Milliseconds()); ms > 0 && s.newest > ms {
		cutoff = s.newest - ms
	}
	for len(s.blocks) > 1 {
		b := s.blocks[0]
		if b.last >= cutoff && s.bytes <= s.opt.MaxBytes && s.count-b.n < s.opt.MaxSamples {
			break
		}
		s.blocks[0] = nil
		s.blocks = s.blocks[1:]
		s.count -= b.n
		s.bytes -= len(b.data)
		s.skip = 0
	}
	if len(s.blocks) == 0 {
		return
	}
	b := s.blocks[0]
	if b.first >= cutoff && s.count-s.skip <= s.opt.MaxSamples {
		return
	}
	if s.headFor != b {
		s.headFor, s.headTimes = b, blockTimes(b, s.headTimes[:0])
	}
	for s.skip < b.n-1 && (s.headTimes[s.skip] < cutoff || s.count-s.skip > s.opt.MaxSamples) {
		s.skip++
	}
}

// blockTimes appends the sample times of b's records, reading only the
// head of each payload.
func blockTimes(b *block, dst []uint64) []uint64 {
	var at uint64
	for p := range records(b.data) {
		r := &reader{b: p[1:]}
		r.uvarint("flags")
		d := r.uvarint("time")
		if p[0] == kindKey {
			at = d
		} else {
			at += d
		}
		dst = append(dst, at)
	}
	return dst
}

// records iterates the payloads of an in-memory block.
func records(data []byte) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(data) > 0 {
			n, k := binary.Uvarint(data)
			if k <= 0 || n > uint64(len(data)-k) {
				return // cannot happen: the store wrote it
			}
			if !yield(data[k : k+int(n)]) {
				return
			}
			data = data[k+int(n):]
		}
	}
}

// Len is the number of samples kept.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count - s.skip
}

// Span returns the times of the oldest and newest samples kept (Unix ms);
// ok is false when the store is empty.
func (s *Store) Span() (oldest, newest uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count == 0 {
		return 0, 0, false
	}
	if s.headFor != s.blocks[0] {
		s.headFor, s.headTimes = s.blocks[0], blockTimes(s.blocks[0], s.headTimes[:0])
	}
	return s.headTimes[s.skip], s.newest, true
}

// Bytes is the memory the encoded samples take (excluding the small
// per-block bookkeeping).
func (s *Store) Bytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// view is what a query reads of one block, copied under the lock.
type view struct {
	first, last uint64
	n, skip     int
	data        []byte
}

func (s *Store) views(since, until uint64) []view {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []view
	for i, b := range s.blocks {
		if b.last < since || b.first > until {
			continue
		}
		v := view{first: b.first, last: b.last, n: b.n, data: b.data[:len(b.data):len(b.data)]}
		if i == 0 {
			v.skip = s.skip
		}
		out = append(out, v)
	}
	return out
}

// each decodes the samples of vs in [since, until], oldest first. With
// scratch, every sample is decoded into that one (fn must not keep it).
func each(vs []view, since, until uint64, scratch *wire.HistorySample, fn func(*wire.HistorySample)) {
	var c chain
	for _, v := range vs {
		i := 0
		for p := range records(v.data) {
			hs := scratch
			if hs == nil {
				hs = &wire.HistorySample{}
			}
			if c.decodeInto(p, hs) != nil {
				break // cannot happen: the store wrote it
			}
			if i >= v.skip && hs.SampledAtMs >= since && hs.SampledAtMs <= until {
				fn(hs)
			}
			i++
			if hs.SampledAtMs > until {
				return
			}
		}
	}
}

// span counts the samples of vs in [since, until] and finds their times.
func span(vs []view, since, until uint64) (n int, first, last uint64) {
	var times []uint64
	for _, v := range vs {
		b := &block{data: v.data}
		times = blockTimes(b, times[:0])
		for _, t := range times[v.skip:] {
			if t >= since && t <= until {
				if n == 0 {
					first = t
				}
				n, last = n+1, t
			}
		}
	}
	return n, first, last
}

// Query returns the samples taken in [since, until] (Unix ms, inclusive),
// oldest first. When maxPoints > 0 and more samples match, they are
// averaged into at most maxPoints time buckets (see Downsample rules in
// FORMAT.md). The result shares nothing with the store.
func (s *Store) Query(since, until uint64, maxPoints int) *wire.History {
	h := &wire.History{}
	if since > until {
		return h
	}
	vs := s.views(since, until)
	n, first, last := span(vs, since, until)
	if n == 0 {
		return h
	}
	if maxPoints <= 0 || n <= maxPoints {
		h.Samples = make([]*wire.HistorySample, 0, n)
		each(vs, since, until, nil, func(hs *wire.HistorySample) { h.Samples = append(h.Samples, hs) })
		h.IntervalMs = clampU32(uint64(s.opt.Interval.Milliseconds()))
		if h.IntervalMs == 0 && n > 1 {
			h.IntervalMs = clampU32((last - first) / uint64(n-1))
		}
		return h
	}
	d := newDownsampler(first, last, maxPoints)
	each(vs, since, until, &wire.HistorySample{}, d.add)
	h.Samples = d.finish()
	h.IntervalMs = clampU32(d.width)
	return h
}

// Answer serves a HistoryRequest: since_ms 0 is the oldest sample,
// until_ms 0 the newest, max_points 0 DefaultMaxPoints, and max_points is
// bounded by MaxPoints.
func (s *Store) Answer(req *wire.HistoryRequest) *wire.History {
	until := req.GetUntilMs()
	if until == 0 {
		until = math.MaxUint64
	}
	mp := int(min(req.GetMaxPoints(), MaxPoints))
	if mp == 0 {
		mp = DefaultMaxPoints
	}
	return s.Query(req.GetSinceMs(), until, mp)
}

func clampU32(v uint64) uint32 { return uint32(min(v, math.MaxUint32)) }
