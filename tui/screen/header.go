package screen

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// staleAge returns the age of the host's data when it is stale, else 0
// (a replay is never: paused, it sends nothing new on purpose).
func (d *dash) staleAge(now time.Time) time.Duration {
	if d.replay != nil {
		return 0
	}
	return d.h.StaleAge(now, d.every.StaleAfter())
}

// frame draws a pane border whose info side says "stale Ns" when the data
// is stale.
func (d *dash) frame(s tcell.Screen, x, y, w, h int, title, info string) (int, int, int, int) {
	if age := d.staleAge(d.sh.Now()); age > 0 {
		info = "stale " + widget.Duration(age)
	}
	return widget.Frame(s, x, y, w, h, d.th.Frame, d.th.Border, d.th.Title, title, info)
}

// paintHeader is the dashboard's two header lines: who the agent is, and
// how the connection is.
func (d *dash) paintHeader(s tcell.Screen, x, y, w, h int) {
	t, hs, now := d.th, d.h, d.sh.Now()
	m := hs.Metrics
	line := widget.NewLine(s, x, y, w)
	put := line.Put
	put("socktop ", t.Title)
	put(hs.Hostname(), t.HeaderHost)
	if d.demo {
		put(" demo", t.Warn)
	}
	if v := hs.Hello.GetAgentVersion(); v != "" {
		put("  agent ", t.Label)
		put(v, t.Value)
	}
	if hs.Status.Dialect != "" {
		put(" ("+hs.Status.Dialect+")", t.Dim)
	}
	if m != nil {
		if up := widget.Seconds(hs.Uptime(now)); up > 0 {
			put("  up ", t.Label)
			put(widget.Duration(up), t.Value)
		}
		if m.GetLoad1() > 0 || m.GetLoad5() > 0 {
			put("  load ", t.Label)
			put(widget.Number(m.GetLoad1(), 2)+" "+widget.Number(m.GetLoad5(), 2)+" "+widget.Number(m.GetLoad15(), 2), t.Value)
		}
		if n := m.GetProcessCount(); n > 0 {
			put("  procs ", t.Label)
			put(strconv.FormatUint(uint64(n), 10), t.Value)
		}
	}
	if hl := hs.Hello; hl.GetArch() != "" {
		put("  "+hl.GetArch(), t.Dim)
		if c := hl.GetCores(); c > 0 {
			put("×"+strconv.FormatUint(uint64(c), 10), t.Dim)
		}
		if os := hl.GetOs(); os != "" && line.Room() > widget.Width(os)+2 {
			put("  "+os, t.Dim)
		}
	}
	if h < 2 {
		return
	}
	status := widget.NewLine(s, x, y+1, w)
	put = status.Put
	if d.replay != nil {
		d.putReplay(status)
		d.putTravel(status)
		return
	}
	st := hs.Status
	switch st.Phase {
	case model.PhaseConnecting:
		put("◌ connecting to "+hs.URL+"…", t.Warn)
	case model.PhaseConnected:
		if d.staleAge(now) > 0 {
			// The connection is up but answers stopped (an agent stopped
			// with SIGSTOP, a frozen machine): say so long before the
			// request timeout rebuilds the connection.
			put(t.Dot+" not responding", t.Warn)
		} else {
			put(t.Dot+" connected", t.Good)
		}
	case model.PhaseWaiting:
		put(t.Dot+" reconnecting in "+retryIn(st, now)+" (attempt "+strconv.Itoa(st.Attempt)+")", t.Warn)
	case model.PhaseAuth:
		put("✗ "+statusText(st), t.Bad)
	case model.PhasePin:
		put("✗ pin mismatch", t.Bad)
	case model.PhaseFailed:
		put("✗ "+statusText(st), t.Bad)
	}
	// the data's age, once, and only when it is stale: a fresh age would
	// only tick (and redraw the header) every frame
	if age := d.staleAge(now); age > 0 {
		text := widget.Duration(age)
		if age < time.Minute {
			text = widget.Number(age.Seconds(), 1) + "s"
		}
		put("  STALE "+text, t.Bad)
	}
	d.putTravel(status)
	d.al.putFiring(status, hs, now)
	if st.Phase == model.PhaseConnected && st.RTT > 0 {
		put("  rtt ", t.Label)
		put(widget.Latency(st.RTT), t.Value)
	}
	put("  CPU% "+d.procs.cpuMode(), t.Label)
	put("  ", t.Base)
	switch {
	case !d.target.TLS():
		put("no TLS", t.Dim)
	case d.target.Pin != "":
		put("TLS pinned", t.Good)
	case d.target.TLSCA != "":
		put("TLS ca-file", t.Good)
	default:
		put("TLS unpinned", t.Warn)
	}
	if d.target.HasToken() {
		put("  token set", t.Dim)
	} else {
		put("  no token", t.Dim)
	}
	if st.Phase == model.PhaseWaiting && st.Err != nil {
		put("  ("+statusText(st)+")", t.Dim)
	}
}

// retryIn is the countdown to the next attempt: "4 s".
func retryIn(st model.Status, now time.Time) string {
	return strconv.Itoa(int(math.Ceil(max(st.RetryAt.Sub(now), 0).Seconds()))) + " s"
}

// errText is err's first line.
func errText(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if i := strings.Index(s, wire.ErrImplausible.Error()); i > 0 && errors.Is(err, wire.ErrImplausible) {
		s = s[i:] // "agent sent an implausible sample: 1000000 cores …", not the decoder's path to it
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// statusText is the connection's last failure in one line, the refusals
// without the URL the header already shows.
func statusText(st model.Status) string {
	var pe *wire.PinMismatchError
	if errors.As(st.Err, &pe) {
		return pe.Error()
	}
	return errText(st.Err)
}
