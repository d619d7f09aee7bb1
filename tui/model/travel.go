package model

import (
	"slices"
	"time"

	"github.com/socktop/socktop/wire"
)

// Backfill fills the graphs' free slots before their oldest live sample
// from the agent's history, resampled to the metrics cadence (every, or
// the gap between the last two samples) so their time axis stays even: a
// dashboard that just connected shows what came before. It reports false
// when no live sample has arrived yet to count back from (ask again
// after one), true otherwise, whether or not there was room.
func (h *Host) Backfill(hist *wire.History, every time.Duration) bool {
	if h.firstAt == 0 {
		return false
	}
	ss := ordered(hist.GetSamples())
	ss = ss[max(0, len(ss)-2*HistoryLen):] // what the watcher asks for, whatever an agent sends
	step := uint64(h.cadence(every).Milliseconds())
	if len(ss) == 0 || step == 0 {
		return true
	}
	interval := uint64(hist.GetIntervalMs())
	if n := len(ss); interval == 0 && n > 1 {
		interval = (ss[n-1].SampledAtMs - ss[0].SampledAtMs) / uint64(n-1)
	}
	interval = max(interval, step)
	tl := NewTimeline(ZoomLive, ss[0].SampledAtMs, ss[len(ss)-1].SampledAtMs, &wire.History{IntervalMs: hist.GetIntervalMs(), Samples: ss})
	fill := func(r *Ring, vals []float64) float64 {
		var back []float64
		for k := uint64(1); k <= uint64(r.Cap()-r.Len()) && k*step < h.firstAt; k++ {
			v, ok := valueAt(ss, vals, h.firstAt-k*step, interval)
			if !ok {
				break
			}
			back = append(back, v)
		}
		slices.Reverse(back)
		r.Prepend(back)
		peak := 0.0
		for _, v := range back {
			peak = max(peak, v)
		}
		return peak
	}
	fill(h.CPU, tl.CPU)
	fill(h.Mem, tl.Mem)
	fill(h.Swap, tl.Swap)
	h.NetPeakRx = max(h.NetPeakRx, fill(h.NetRx, tl.NetRx))
	h.NetPeakTx = max(h.NetPeakTx, fill(h.NetTx, tl.NetTx))
	for i, r := range h.Cores {
		if i < len(tl.Cores) {
			fill(r, tl.Cores[i])
		}
	}
	return true
}

// cadence is the time between two live samples: every, unless the gaps
// seen are another (a replay played faster or slower).
func (h *Host) cadence(every time.Duration) time.Duration {
	if h.step > 0 && (h.step < every/2 || h.step > 2*every) {
		return h.step
	}
	return every
}

// ResetGraphs forgets the graphs' samples (a replay that jumped: what they
// held is no longer just before what comes next).
func (h *Host) ResetGraphs() {
	for _, r := range append([]*Ring{h.CPU, h.Mem, h.Swap, h.NetRx, h.NetTx}, h.Cores...) {
		r.Reset()
	}
	for _, is := range h.Ifaces {
		is.Rx.Reset()
		is.Tx.Reset()
		is.seen = false
	}
	h.firstAt, h.lastAt, h.lastNetAt, h.step = 0, 0, 0, 0
	h.prevDisks, h.prevDiskMS = nil, 0
}

// SetTimeline takes a zoomed span of the agent's history.
func (h *Host) SetTimeline(tl *Timeline) { h.Timeline = tl }

// AgentNow is the agent's time as far as the dashboard knows it: its
// newest metrics sample's, else this machine's.
func (h *Host) AgentNow(now time.Time) uint64 {
	if h.lastAt != 0 {
		return h.lastAt
	}
	return uint64(now.UnixMilli())
}

// ViewZoom is the span the graphs show: the zoom asked for, or, with the
// time cursor on a moment, at least one that reaches it.
func (h *Host) ViewZoom(now time.Time) Zoom {
	if h.CursorAt == 0 {
		return h.Zoom
	}
	agent := h.AgentNow(now)
	z := ZoomFor(time.Duration(agent-min(agent, h.CursorAt)) * time.Millisecond)
	return max(h.Zoom, z)
}

// ZoomedTimeline is the timeline the graphs draw (nil: draw the live
// rings): one of the zoom they show.
func (h *Host) ZoomedTimeline(now time.Time) *Timeline {
	z := h.ViewZoom(now)
	if z == ZoomLive || h.Timeline == nil || h.Timeline.Zoom != z {
		return nil
	}
	return h.Timeline
}

// Moment is the recorded sample the time cursor is on, nil when live (or
// before the timeline has arrived).
func (h *Host) Moment() *wire.HistorySample {
	if h.CursorAt == 0 {
		return nil
	}
	if i := h.Timeline.Nearest(h.CursorAt); i >= 0 {
		return h.Timeline.Samples[i]
	}
	return nil
}

// StepCursor moves the time cursor n recorded moments (back when n < 0):
// from live, back goes to the newest; past the newest is live again. With
// no timeline yet, back puts the cursor on now, which becomes the newest
// moment when the timeline arrives.
func (h *Host) StepCursor(n int, now time.Time) {
	tl := h.Timeline
	if tl == nil || len(tl.Samples) == 0 {
		if n < 0 && h.CursorAt == 0 {
			h.CursorAt = h.AgentNow(now)
		}
		return
	}
	var i int
	switch {
	case h.CursorAt != 0:
		i = tl.Nearest(h.CursorAt) + n
	case n >= 0:
		return
	default:
		i = len(tl.Samples) + n
	}
	if i >= len(tl.Samples) {
		h.CursorAt = 0
		return
	}
	h.CursorAt = tl.Samples[max(i, 0)].SampledAtMs
}

// TravelTo puts the time cursor on the moment nearest at (Unix ms on the
// agent's clock); a time at or after the newest sample is live.
func (h *Host) TravelTo(at uint64, now time.Time) {
	if at >= h.AgentNow(now) {
		h.CursorAt = 0
		return
	}
	h.CursorAt = max(at, 1)
}

// SampleTime is the time of the live graphs' sample back samples before
// the newest (every: the cadence when no gap is known yet).
func (h *Host) SampleTime(back int, every time.Duration) uint64 {
	step := uint64(h.cadence(every).Milliseconds())
	return h.lastAt - min(h.lastAt, uint64(back)*step)
}
