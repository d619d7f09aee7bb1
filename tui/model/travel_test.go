package model

import (
	"math"
	"testing"
	"time"

	"github.com/socktop/socktop/wire"
)

// pastHistory is n samples at 1 s ending at end (Unix ms): CPU i%50·2,
// memory rising, 1 MiB/s received on eth0 (and 9 MiB/s on lo, which the
// totals leave out).
func pastHistory(n int, end uint64) *wire.History {
	h := &wire.History{IntervalMs: 1000}
	for i := range n {
		at := end - uint64(n-1-i)*1000
		h.Samples = append(h.Samples, &wire.HistorySample{SampledAtMs: at, CpuTotal: float32(i%50) * 2, CpuPerCore: []float32{float32(i % 50), 1},
			MemTotal: 1000, MemUsed: uint64(i % 1000), Networks: []*wire.Network{{Name: "eth0", RxBytes: uint64(i) << 20}, {Name: "lo", RxBytes: uint64(i) * 9 << 20}}})
	}
	return h
}

// TestBackfill: the rings' free slots before the first live sample take
// the history resampled to the cadence: each value is the sample covering
// its time, network rates come from counter deltas (lo left out), and
// nothing is invented before the history's start or across a gap.
func TestBackfill(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	h := NewHost("a", "ws://a/ws")
	if h.Backfill(pastHistory(300, uint64(now.UnixMilli())), 500*time.Millisecond) {
		t.Fatal("backfilled with no live sample to count back from")
	}
	live := &wire.Metrics{SampledAtMs: uint64(now.UnixMilli()) + 500, CpuTotal: 3, CpuPerCore: []float32{3, 3}, MemTotal: 1000, MemUsed: 500}
	h.AddMetrics(live, now)
	if !h.Backfill(pastHistory(300, uint64(now.UnixMilli())), 500*time.Millisecond) {
		t.Fatal("no backfill after a live sample")
	}
	if h.CPU.Len() != HistoryLen || h.Cores[0].Len() != HistoryLen || h.Mem.Len() != HistoryLen {
		t.Fatalf("rings hold cpu %d, core %d, mem %d; want %d", h.CPU.Len(), h.Cores[0].Len(), h.Mem.Len(), HistoryLen)
	}
	if h.CPU.Last() != 3 {
		t.Errorf("the live sample is not the newest: %v", h.CPU.Last())
	}
	// slot k before the live one is at end+500-500k: covered by the
	// sample at or just after it
	for k := 1; k < HistoryLen; k++ {
		t0 := uint64(now.UnixMilli()) + 500 - uint64(k)*500
		i := 299 - int((uint64(now.UnixMilli())-t0)/1000) // the sample at or after t0
		want := float64(i%50) * 2
		if got := h.CPU.At(HistoryLen - 1 - k); got != want {
			t.Fatalf("slot %d back: %v, want %v", k, got, want)
		}
	}
	if r := h.NetRx.Last(); h.NetRx.Len() < HistoryLen-3 || math.Abs(r-(1<<20)) > 1 {
		t.Errorf("network: %d samples, newest %v; want the past's 1 MiB/s without lo", h.NetRx.Len(), r)
	}

	// A short history fills only what it covers.
	h2 := NewHost("b", "ws://b/ws")
	h2.AddMetrics(live, now)
	h2.Backfill(pastHistory(10, uint64(now.UnixMilli())), 500*time.Millisecond)
	if n := h2.CPU.Len(); n < 19 || n > 23 {
		t.Errorf("10 s of history at 500 ms filled %d slots, want about 21", n)
	}
	// A history that ends long before the live sample fills nothing.
	h3 := NewHost("c", "ws://c/ws")
	h3.AddMetrics(live, now)
	h3.Backfill(pastHistory(300, uint64(now.Add(-time.Hour).UnixMilli())), 500*time.Millisecond)
	if n := h3.CPU.Len(); n != 1 {
		t.Errorf("a history an hour old filled %d slots across the gap", n-1)
	}
}

// TestTimelineResample: a span's samples laid over a graph's slots: each
// slot shows the newest sample up to its end, a gap stays empty, and
// Slot and SlotTime agree.
func TestTimelineResample(t *testing.T) {
	const from = 1_700_000_000_000
	h := &wire.History{IntervalMs: 10_000}
	for i := range 30 { // 5 min at 10 s, but nothing from 60 s to 120 s
		if at := uint64(i) * 10_000; at < 60_000 || at >= 120_000 {
			h.Samples = append(h.Samples, &wire.HistorySample{SampledAtMs: from + at + 10_000, CpuTotal: float32(i)})
		}
	}
	tl := NewTimeline(Zoom5m, from, from+300_000, h)
	r := tl.Resample(tl.CPU, 60) // 5 s a slot
	if r.Len() != 60 {
		t.Fatalf("%d slots, want 60", r.Len())
	}
	for k := range 60 {
		end := uint64(k+1) * 5_000
		got := r.At(k)
		switch {
		case end < 10_000: // before the first sample
			if !math.IsNaN(got) {
				t.Errorf("slot %d: %v before the first sample", k, got)
			}
		case end > 60_000+3*10_000+5_000 && end < 130_000: // in the gap, past its reach
			if !math.IsNaN(got) {
				t.Errorf("slot %d (%d s): %v inside the gap", k, end/1000, got)
			}
		case end >= 130_000 || end <= 60_000:
			if want := float64((end - 10_000) / 10_000); got != want {
				t.Errorf("slot %d (%d s): %v, want %v", k, end/1000, got, want)
			}
		}
	}
	for _, at := range []uint64{from, from + 12_345, from + 299_999} {
		if k := tl.Slot(at, 60); tl.SlotTime(k, 60) > at+5_000 || tl.SlotTime(k, 60)+5_000 < at {
			t.Errorf("time %d: slot %d, whose middle is %d", at, k, tl.SlotTime(k, 60))
		}
	}
	if i := tl.Nearest(from + 64_000); tl.Samples[i].SampledAtMs != from+60_000 {
		t.Errorf("nearest to 64 s: the sample at %d", tl.Samples[i].SampledAtMs-from)
	}
}

// TestTimeCursor: back from live is the newest moment, steps move one
// moment, past the newest is live; with no timeline yet the cursor waits
// on now, which is the newest moment once it arrives.
func TestTimeCursor(t *testing.T) {
	now := time.UnixMilli(1_700_000_100_000)
	h := NewHost("a", "ws://a/ws")
	h.AddMetrics(&wire.Metrics{SampledAtMs: uint64(now.UnixMilli())}, now)
	h.StepCursor(-1, now)
	if h.CursorAt != uint64(now.UnixMilli()) || h.Moment() != nil {
		t.Fatalf("before the timeline: cursor %d, moment %v", h.CursorAt, h.Moment())
	}
	if h.ViewZoom(now) != Zoom5m {
		t.Errorf("the cursor on a moment zooms to %v, want 5 min", h.ViewZoom(now))
	}
	hist := pastHistory(100, uint64(now.UnixMilli())-1000)
	h.SetTimeline(NewTimeline(Zoom5m, uint64(now.UnixMilli())-300_000, uint64(now.UnixMilli()), hist))
	newest := hist.Samples[99].SampledAtMs
	if m := h.Moment(); m.GetSampledAtMs() != newest {
		t.Fatalf("moment %d, want the newest %d", m.GetSampledAtMs(), newest)
	}
	h.StepCursor(-10, now)
	if m := h.Moment(); m.GetSampledAtMs() != hist.Samples[89].SampledAtMs {
		t.Errorf("ten back: %d, want %d", m.GetSampledAtMs(), hist.Samples[89].SampledAtMs)
	}
	h.StepCursor(-1000, now)
	if m := h.Moment(); m.GetSampledAtMs() != hist.Samples[0].SampledAtMs {
		t.Errorf("far back: %d, want the oldest", m.GetSampledAtMs())
	}
	h.StepCursor(99, now)
	if h.Moment().GetSampledAtMs() != newest {
		t.Errorf("forward to the newest: %d", h.Moment().GetSampledAtMs())
	}
	h.StepCursor(1, now)
	if h.CursorAt != 0 {
		t.Errorf("past the newest the cursor is %d, want live", h.CursorAt)
	}
	h.TravelTo(newest-40_000, now)
	if h.Moment().GetSampledAtMs() != newest-40_000 {
		t.Errorf("travel to 40 s before: %d", h.Moment().GetSampledAtMs())
	}
	h.TravelTo(uint64(now.UnixMilli())+1, now)
	if h.CursorAt != 0 {
		t.Error("travel to now is not live")
	}
	if rows := MomentRows(nil, &wire.HistorySample{MemTotal: 1000, TopProcesses: []*wire.Process{{Pid: 7, Name: "job", CpuUsage: 50, MemBytes: 250}}}); len(rows) != 1 ||
		rows[0].PID != 7 || rows[0].Name != "job" || rows[0].CPU != 50 || rows[0].RSS != 250 || rows[0].MemPct != 25 {
		t.Errorf("moment rows %+v", rows)
	}
}

// TestTimelineFromAHostileAgent: samples out of order, repeated, nil, or
// far more than asked give a bounded timeline in time order.
func TestTimelineFromAHostileAgent(t *testing.T) {
	h := &wire.History{IntervalMs: 1000}
	for i := range 5000 {
		at := uint64(1_700_000_000_000) + uint64((i*7919)%5000)*1000
		h.Samples = append(h.Samples, &wire.HistorySample{SampledAtMs: at}, nil, &wire.HistorySample{SampledAtMs: at})
	}
	tl := NewTimeline(Zoom1h, 1_700_000_000_000, 1_700_000_000_000+5_000_000, h)
	if len(tl.Samples) != maxTimelineSamples {
		t.Fatalf("%d samples kept, want %d", len(tl.Samples), maxTimelineSamples)
	}
	for i := 1; i < len(tl.Samples); i++ {
		if tl.Samples[i].SampledAtMs <= tl.Samples[i-1].SampledAtMs {
			t.Fatalf("sample %d at %d after %d", i, tl.Samples[i].SampledAtMs, tl.Samples[i-1].SampledAtMs)
		}
	}
	if tl.Samples[len(tl.Samples)-1].SampledAtMs != 1_700_000_000_000+4_999_000 {
		t.Error("the newest samples were not the ones kept")
	}
}
