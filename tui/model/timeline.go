package model

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/socktop/socktop/wire"
)

// Zoom is the span of time the graphs show: ZoomLive is the newest
// HistoryLen samples at the metrics cadence (what the dashboard always
// showed); the others a span of the agent's history.
type Zoom uint8

const (
	ZoomLive Zoom = iota
	Zoom5m
	Zoom1h
	Zoom24h
	numZooms
)

// Span is how far back the zoom reaches (0 for ZoomLive).
func (z Zoom) Span() time.Duration {
	switch z {
	case Zoom5m:
		return 5 * time.Minute
	case Zoom1h:
		return time.Hour
	case Zoom24h:
		return 24 * time.Hour
	}
	return 0
}

func (z Zoom) String() string {
	return [...]string{"live", "5 min", "1 h", "24 h"}[min(z, numZooms-1)]
}

// Next is the zoom after z, round to ZoomLive.
func (z Zoom) Next() Zoom { return (z + 1) % numZooms }

// ZoomFor is the narrowest zoom reaching back age.
func ZoomFor(age time.Duration) Zoom {
	for z := Zoom5m; z < numZooms; z++ {
		if age <= z.Span() {
			return z
		}
	}
	return Zoom24h
}

// TimelinePoints is how many samples a zoomed timeline asks for: enough
// for a 240-column braille graph. Longer spans arrive averaged (each
// bucket keeps its busiest processes).
const TimelinePoints = 480

// Timeline is a span of the agent's history for a zoomed graph and the
// time cursor: its samples and the series the graphs draw, derived once.
type Timeline struct {
	Zoom     Zoom
	From, To uint64 // the span, Unix ms on the agent's clock
	Interval time.Duration
	Samples  []*wire.HistorySample // oldest first
	// Per sample: CPU %, memory and swap % (NaN when unknown), network
	// rates of every interface but lo (NaN for the first sample), cores.
	CPU, Mem, Swap, NetRx, NetTx []float64
	Cores                        [][]float64
}

// maxTimelineSamples bounds what a timeline keeps of an answer, whatever
// an agent sends: more than any request asks.
const maxTimelineSamples = 2 * TimelinePoints

// NewTimeline derives a zoomed timeline from an answer covering [from, to]:
// its newest maxTimelineSamples samples, in time order (an agent that sends
// them in another order or twice cannot confuse the cursor).
func NewTimeline(z Zoom, from, to uint64, h *wire.History) *Timeline {
	ss := ordered(h.GetSamples())
	ss = ss[max(0, len(ss)-maxTimelineSamples):]
	tl := &Timeline{Zoom: z, From: from, To: max(to, from+1), Interval: time.Duration(h.GetIntervalMs()) * time.Millisecond, Samples: ss}
	n := len(ss)
	tl.CPU, tl.Mem, tl.Swap = make([]float64, n), make([]float64, n), make([]float64, n)
	tl.NetRx, tl.NetTx = make([]float64, n), make([]float64, n)
	for i, s := range ss {
		tl.CPU[i] = float64(s.CpuTotal)
		tl.Mem[i], tl.Swap[i] = share(s.MemUsed, s.MemTotal), share(s.SwapUsed, s.SwapTotal)
		tl.NetRx[i], tl.NetTx[i] = nan, nan
		if i > 0 {
			tl.NetRx[i], tl.NetTx[i] = netRates(ss[i-1], s)
		}
		for c, v := range s.CpuPerCore[:min(len(s.CpuPerCore), MaxCores)] {
			for len(tl.Cores) <= c {
				tl.Cores = append(tl.Cores, filled(n, nan))
			}
			tl.Cores[c][i] = float64(v)
		}
	}
	return tl
}

// ordered is samples without nils, sorted by time, one per time.
func ordered(samples []*wire.HistorySample) []*wire.HistorySample {
	ss := slices.DeleteFunc(slices.Clone(samples), func(s *wire.HistorySample) bool { return s == nil })
	slices.SortStableFunc(ss, func(a, b *wire.HistorySample) int { return cmp.Compare(a.SampledAtMs, b.SampledAtMs) })
	return slices.CompactFunc(ss, func(a, b *wire.HistorySample) bool { return a.SampledAtMs == b.SampledAtMs })
}

func filled(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// share is 100·used/total, NaN when total is 0.
func share(used, total uint64) float64 {
	if total == 0 {
		return nan
	}
	return 100 * float64(used) / float64(total)
}

// netRates are the receive and transmit rates between two samples over
// every interface but lo (NaN when no time passed between them); an
// interface whose counters went back (a reboot, a driver reloaded) counts
// for nothing in that interval.
func netRates(prev, cur *wire.HistorySample) (rx, tx float64) {
	dt := float64(int64(cur.SampledAtMs)-int64(prev.SampledAtMs)) / 1000
	if dt <= 0 {
		return nan, nan
	}
	old := map[string]*wire.Network{}
	for _, n := range prev.Networks {
		old[n.GetName()] = n
	}
	for _, n := range cur.Networks {
		p, ok := old[n.GetName()]
		if !ok || n.GetName() == "lo" {
			continue
		}
		if n.RxBytes < p.RxBytes || n.TxBytes < p.TxBytes {
			continue
		}
		rx += float64(n.RxBytes - p.RxBytes)
		tx += float64(n.TxBytes - p.TxBytes)
	}
	return rx / dt, tx / dt
}

// Nearest is the index of the sample closest to at, -1 when there is none.
func (tl *Timeline) Nearest(at uint64) int {
	if tl == nil || len(tl.Samples) == 0 {
		return -1
	}
	i := sort.Search(len(tl.Samples), func(i int) bool { return tl.Samples[i].SampledAtMs >= at })
	switch {
	case i == len(tl.Samples):
		return i - 1
	case i > 0 && at-tl.Samples[i-1].SampledAtMs < tl.Samples[i].SampledAtMs-at:
		return i - 1
	}
	return i
}

// SlotTime is the time at the middle of slot k of slots across the span.
func (tl *Timeline) SlotTime(k, slots int) uint64 {
	span := float64(tl.To - tl.From)
	return tl.From + uint64((float64(k)+0.5)*span/float64(max(slots, 1)))
}

// Slot is the slot of slots across the span that holds time at (clamped).
func (tl *Timeline) Slot(at uint64, slots int) int {
	if at <= tl.From {
		return 0
	}
	k := int(float64(at-tl.From) * float64(slots) / float64(tl.To-tl.From))
	return min(k, slots-1)
}

// Resample lays values (one per sample) over slots across the span, so a
// graph of any width has a time axis: each slot shows the newest sample at
// or before its end, unless that one is older than a gap (two intervals
// and a slot), where the graph stays empty.
func (tl *Timeline) Resample(values []float64, slots int) Resampled {
	r := Resampled{vals: values, idx: make([]int32, max(slots, 0))}
	span := float64(tl.To - tl.From)
	gap := uint64(2*tl.Interval/time.Millisecond) + uint64(span/float64(max(slots, 1)))
	j := -1
	for k := range r.idx {
		end := tl.From + uint64(float64(k+1)*span/float64(slots))
		for j+1 < len(tl.Samples) && tl.Samples[j+1].SampledAtMs <= end {
			j++
		}
		r.idx[k] = -1
		if j >= 0 && j < len(values) && end-tl.Samples[j].SampledAtMs <= gap {
			r.idx[k] = int32(j)
		}
	}
	return r
}

// Resampled is a timeline's values laid over a graph's slots (a
// widget.Series); an empty slot is NaN, which graphs leave blank.
type Resampled struct {
	vals []float64
	idx  []int32
}

func (r Resampled) Len() int { return len(r.idx) }

func (r Resampled) At(i int) float64 {
	if j := r.idx[i]; j >= 0 {
		return r.vals[j]
	}
	return nan
}

// Max is the largest of the newest n values shown (all when n <= 0; 0
// when none), as Ring.Max.
func (r Resampled) Max(n int) float64 {
	if n <= 0 || n > len(r.idx) {
		n = len(r.idx)
	}
	m := 0.0
	for i := len(r.idx) - n; i < len(r.idx); i++ {
		if v := r.At(i); v > m {
			m = v
		}
	}
	return m
}

// MomentRows are the process table's rows of a recorded moment: its top
// processes, with what a recording keeps of them (pid, name, CPU, memory).
func MomentRows(dst []ProcRow, s *wire.HistorySample) []ProcRow {
	dst = dst[:0]
	for _, p := range s.GetTopProcesses() {
		if p == nil {
			continue
		}
		r := ProcRow{PID: p.Pid, Name: p.Name, CPU: float64(p.CpuUsage), RSS: p.MemBytes, MemPct: nan}
		if s.MemTotal > 0 {
			r.MemPct = memShare(r.RSS, s.MemTotal)
		}
		dst = append(dst, r)
	}
	return dst
}

// valueAt is the value of the sample covering time t for backfilling a
// ring: the first sample at or after t, or the newest when t is after it.
// A short gap between two samples (an agent's restart: up to three
// intervals, or 10 s) is bridged with the later one's value; ok is false
// in a longer one, and before the first sample's interval.
func valueAt(ss []*wire.HistorySample, vals []float64, t, interval uint64) (float64, bool) {
	reach := max(3*interval, 10_000)
	i := sort.Search(len(ss), func(i int) bool { return ss[i].SampledAtMs >= t })
	switch {
	case i == 0 && len(ss) > 0 && ss[0].SampledAtMs-t <= interval:
	case i > 0 && i < len(ss) && ss[i].SampledAtMs-t <= reach:
	case i == len(ss) && i > 0 && t-ss[i-1].SampledAtMs <= reach:
		i--
	default:
		return 0, false
	}
	v := vals[i]
	return v, !math.IsNaN(v)
}
