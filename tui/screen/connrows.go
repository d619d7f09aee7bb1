package screen

import (
	"net/netip"
	"strconv"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/widget"
)

// The Connections table's rows (widget.Rows).

func (v *connsView) Len() int                { return len(v.view) }
func (v *connsView) Key(i int) model.ConnKey { return v.view[i].Key }
func (v *connsView) Style(i int) tcell.Style {
	if v.view[i].Closed {
		return v.d.th.Dim
	}
	return v.d.th.Base
}

func (v *connsView) Cell(s tcell.Screen, i, col int, c widget.Cell) {
	r, th := v.view[i], v.d.th
	na := c
	if !c.Selected {
		na.Style = th.Dim
	}
	// counted is a traffic figure, or n/a where the kernel keeps none; a
	// TCP listener carries no traffic of its own: "-"
	listener := !r.Group && !r.Key.UDP && r.State == model.TCPListen
	counted := func(text string) {
		switch {
		case listener:
			na.Text(s, "-")
		case !r.Counted:
			na.Text(s, "n/a")
		default:
			c.Text(s, text)
		}
	}
	rate := func(bps float64) {
		if r.Counted && !r.HasRate && !listener {
			na.Text(s, "-") // first seen: a rate needs two samples
			return
		}
		counted(widget.Rate(bps))
	}
	switch model.ConnCol(col) {
	case model.CCProto:
		c.Text(s, r.Proto)
	case model.CCLocal, model.CCRemote:
		c.Text(s, widget.FitHostPort(v.addr(r, model.ConnCol(col) == model.CCLocal), c.W))
	case model.CCState:
		if r.Closed && !c.Selected {
			c.Style = th.Warn
		}
		c.Text(s, r.StateText())
	case model.CCPID:
		pid := "-"
		if r.PID != 0 {
			pid = strconv.FormatUint(uint64(r.PID), 10)
		}
		c.Text(s, pid)
	case model.CCProc:
		c.Text(s, widget.Dash(r.Proc))
	case model.CCIn:
		counted(widget.Bytes(r.In))
	case model.CCOut:
		counted(widget.Bytes(r.Out))
	case model.CCSegsIn:
		counted(widget.Count(r.SegsIn))
	case model.CCSegsOut:
		counted(widget.Count(r.SegsOut))
	case model.CCRateIn:
		rate(r.RateIn)
	case model.CCRateOut:
		rate(r.RateOut)
	case model.CCRTT:
		if !r.Group {
			counted(widget.Micros(r.RTTUs))
		}
	case model.CCRetrans:
		counted(strconv.FormatUint(uint64(r.Retrans), 10))
	}
}

// addr is the LOCAL or REMOTE cell: the address, its reverse DNS name
// when known, or a group's socket and peer counts.
func (v *connsView) addr(r *model.ConnRow, local bool) string {
	if r.Group {
		if local {
			return strconv.Itoa(r.Socks)
		}
		return strconv.Itoa(r.Peers)
	}
	text, ap := r.RemoteText, r.Key.Remote
	if local {
		text, ap = r.LocalText, r.Key.Local
	}
	if n := v.name(ap.Addr(), true); n != "" {
		return n + ":" + portText(ap)
	}
	return text
}

func portText(ap netip.AddrPort) string {
	if ap.Port() == 0 {
		return "*"
	}
	return strconv.Itoa(int(ap.Port()))
}
