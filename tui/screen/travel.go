package screen

import (
	"strconv"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/shell"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// Travelling in time: the time cursor and the zoom over the agent's
// history (keys, a click on a graph), what the header says of the moment
// shown, the graphs drawn over a zoomed span, and a replay's controls.

// timeKeys are the time cursor's and the zoom's keys, where the agent
// keeps a history.
func (d *dash) timeKeys() []shell.Binding {
	hist := func() bool { return d.h.Has(wire.CapHistory) }
	past := func() bool { return d.h.CursorAt != 0 }
	const histText, pastText = "agent keeps history (socktop agent --history)", "a past moment is shown"
	step := func(n int) func() {
		return func() {
			d.h.StepCursor(n, d.sh.Now())
			d.traveled()
		}
	}
	return []shell.Binding{
		{Keys: shell.Runes('['), Label: "[", Hint: "past", HintLabel: "[ ]",
			Desc: "back in time: the previous recorded moment, with its top processes (mouse: click a graph)",
			When: hist, WhenText: histText, Do: step(-1)},
		{Keys: shell.Runes(']'), Label: "]", Desc: "forward in time; past the newest moment, live again", When: past, WhenText: pastText, Do: step(1)},
		{Keys: shell.Runes('{'), Label: "{", Desc: "back ten moments", When: hist, WhenText: histText, Do: step(-10)},
		{Keys: shell.Runes('}'), Label: "}", Desc: "forward ten moments", When: past, WhenText: pastText, Do: step(10)},
		{Keys: shell.Runes('z'), Label: "z", Hint: "zoom", Desc: "the graphs span: live, then the last 5 min, 1 h, 24 h of the agent's history",
			When: hist, WhenText: histText, Do: func() { d.h.Zoom = d.h.Zoom.Next(); d.traveled() }},
	}
}

// traveled follows a move of the cursor or the zoom: the table shows
// another moment's processes, the watcher fetches another span.
func (d *dash) traveled() {
	d.procs.dirty = true
	d.view.claim()
}

// backToLive is Esc's step through time: from a past moment to live, from
// a zoom to the live graphs. It reports whether there was a step to take.
func (d *dash) backToLive() bool {
	switch {
	case d.h.CursorAt != 0:
		d.h.CursorAt = 0
	case d.h.Zoom != model.ZoomLive:
		d.h.Zoom = model.ZoomLive
	default:
		return false
	}
	d.traveled()
	return true
}

// replayKeys control a replay: pause, speed and seek.
func (d *dash) replayKeys() []shell.Binding {
	r := d.replay
	seek := func(by time.Duration) func() {
		return func() {
			r.Seek(by)
			// What the graphs held is no longer just before what comes:
			// they start again from the recording before the new position.
			d.h.ResetGraphs()
			d.w.Refill()
		}
	}
	return []shell.Binding{
		{Keys: shell.Runes(' '), Label: "Space", Hint: "pause", Desc: "pause or play the recording (at its end: from the start)", Do: r.TogglePause},
		{Keys: shell.Runes('+', '='), Label: "+", Hint: "speed", HintLabel: "+/-", Desc: "play twice as fast (up to 64×)", Do: r.Faster},
		{Keys: shell.Runes('-'), Label: "-", Desc: "play half as fast (down to ¼×)", Do: r.Slower},
		{Keys: shell.Runes(','), Label: ",", Hint: "seek", HintLabel: ",/.", Desc: "back 10 s in the recording", Do: seek(-10 * time.Second)},
		{Keys: shell.Runes('.'), Label: ".", Desc: "forward 10 s in the recording", Do: seek(10 * time.Second)},
		{Keys: shell.Runes(';'), Label: ";", Desc: "back 1 min in the recording", Do: seek(-time.Minute)},
		{Keys: shell.Runes('\''), Label: "'", Desc: "forward 1 min in the recording", Do: seek(time.Minute)},
	}
}

// momentClock is a moment as the header shows it: "14:02:10", with the date
// when it is not the day of now.
func momentClock(at, now uint64) string {
	t, n := time.UnixMilli(int64(at)), time.UnixMilli(int64(now))
	if t.YearDay() != n.YearDay() || t.Year() != n.Year() {
		return t.Format("Jan 2 15:04:05")
	}
	return t.Format("15:04:05")
}

// putReplay is the header's account of a replay, in place of the
// connection's: playing, paused or ended, where, how fast.
func (d *dash) putReplay(line *widget.Line) {
	t := d.th
	at, first, last, speed, paused, ended := d.replay.State()
	switch {
	case ended:
		line.Put("■ end of recording", t.Warn)
	case paused:
		line.Put("❚❚ paused", t.Warn)
	default:
		line.Put("▶ replay", t.Good)
	}
	line.Put(" "+momentClock(at, at), t.Value)
	pos := time.Duration(at-first) * time.Millisecond
	line.Put(" ("+widget.Duration(pos)+" of "+widget.Duration(time.Duration(last-first)*time.Millisecond)+")", t.Dim)
	line.Put("  ×"+strconv.FormatFloat(speed, 'g', 3, 64), t.Value)
}

// putTravel is what the header says of time: the moment the cursor is on
// and how to come back to live, the zoom, a recording being written.
func (d *dash) putTravel(line *widget.Line) {
	t, h := d.th, d.h
	now := h.AgentNow(d.sh.Now())
	if h.CursorAt != 0 {
		if m := h.Moment(); m != nil {
			line.Put("  ◷ history "+momentClock(m.SampledAtMs, now), t.Warn)
			line.Put(" ("+widget.Duration(time.Duration(now-min(now, m.SampledAtMs))*time.Millisecond)+" ago)", t.Value)
		} else {
			line.Put("  ◷ history: asking the agent…", t.Warn)
		}
		line.Put("  [ ] move · Esc live", t.Dim)
	}
	if z := h.ViewZoom(d.sh.Now()); z != model.ZoomLive {
		line.Put("  zoom "+z.String(), t.Label)
	}
	if d.rec != nil {
		path, n, err := d.rec.Status()
		if err != nil {
			line.Put("  rec failing: "+errText(err), t.Bad)
		} else {
			line.Put("  ● rec "+strconv.Itoa(n)+" → "+path, t.Bad)
		}
	}
}

// graphArea is where a pane last drew its graph, for a click to find the
// moment under the mouse.
type graphArea struct {
	x, y, w, h int
	perCell    int
	tl         *model.Timeline // the zoomed span drawn; nil: a live ring
	n          int             // a live ring's length
}

// series is what a graph w cells wide draws: live (a ring) or, zoomed,
// values (one per sample of the timeline) laid over its slots.
func (d *dash) series(live *model.Ring, values func(*model.Timeline) []float64, w int) interface {
	widget.Series
	Max(n int) float64
} {
	tl := d.h.ZoomedTimeline(d.sh.Now())
	if tl == nil {
		return live
	}
	return tl.Resample(values(tl), w*d.perCell())
}

func (d *dash) perCell() int {
	if d.th.ASCII {
		return 1
	}
	return 2
}

// moment is the zoomed timeline and the index of the moment the cursor is
// on in it (-1 when live, or without a zoomed timeline).
func (d *dash) moment() (*model.Timeline, int) {
	tl := d.h.ZoomedTimeline(d.sh.Now())
	if tl == nil || d.h.CursorAt == 0 {
		return tl, -1
	}
	return tl, tl.Nearest(d.h.CursorAt)
}

// graphDrawn marks the time cursor's column on a graph just drawn at x, y
// (w×h) and remembers the graph for clicks.
func (d *dash) graphDrawn(s tcell.Screen, a *graphArea, x, y, w, h int, live *model.Ring) {
	tl, i := d.moment()
	*a = graphArea{x: x, y: y, w: w, h: h, perCell: d.perCell(), tl: tl, n: live.Len()}
	if i >= 0 && w > 0 {
		widget.MarkColumn(s, x+tl.Slot(tl.Samples[i].SampledAtMs, w*a.perCell)/a.perCell, y, h)
	}
}

// clickGraph puts the time cursor on the moment under a click at x, y of
// a graph.
func (d *dash) clickGraph(a *graphArea, x, y int) {
	if x < a.x || x >= a.x+a.w || y < a.y || y >= a.y+a.h {
		return
	}
	if !d.h.Has(wire.CapHistory) {
		d.sh.Flash("this agent keeps no history (socktop agent --history 24h)")
		return
	}
	col := x - a.x
	var at uint64
	if a.tl != nil {
		at = a.tl.SlotTime(col, a.w)
	} else {
		slots := a.w * a.perCell
		i := a.n - slots + col*a.perCell + a.perCell - 1
		if i < 0 {
			return // left of the oldest sample
		}
		at = d.h.SampleTime(a.n-1-i, d.every.Metrics)
	}
	d.h.TravelTo(at, d.sh.Now())
	d.traveled()
}
