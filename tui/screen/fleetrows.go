package screen

import (
	"cmp"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
)

// fleetStateKind is a host's state as the overview counts and sorts it,
// best first.
type fleetStateKind int

const (
	fsLive fleetStateKind = iota
	fsStale
	fsConnecting
	fsReconnecting
	fsAuth
	fsPin
	fsFailed
	numFleetStates
)

var fleetStateNames = [numFleetStates]string{"live", "stale", "connecting", "reconnecting", "auth failed", "pin mismatch", "failed"}

// fleetState is a host's state and its one-line description: "live",
// "stale 12s · retry in 3s", "reconnecting in 4s (attempt 3)", "auth failed".
func fleetState(d *dash, now time.Time) (fleetStateKind, string) {
	st := d.h.Status
	stale := ""
	if age := d.staleAge(now); age > 0 {
		stale = "stale " + widget.Duration(age)
	}
	secs := func() string {
		return strconv.Itoa(int(math.Ceil(max(st.RetryAt.Sub(now), 0).Seconds()))) + "s"
	}
	switch st.Phase {
	case model.PhaseConnected:
		if stale != "" {
			return fsStale, stale
		}
		return fsLive, "live"
	case model.PhaseConnecting:
		if stale != "" {
			return fsConnecting, stale + " · connecting"
		}
		return fsConnecting, "connecting…"
	case model.PhaseWaiting:
		if stale != "" {
			return fsReconnecting, stale + " · retry in " + secs()
		}
		return fsReconnecting, "reconnecting in " + secs() + " (attempt " + strconv.Itoa(st.Attempt) + ")"
	case model.PhaseAuth:
		return fsAuth, "auth failed"
	case model.PhasePin:
		return fsPin, "pin mismatch"
	}
	return fsFailed, "failed"
}

// fleetRow is one host's figures as the tiles and the table show them,
// taken from its host model at draw time.
type fleetRow struct {
	m     *member
	name  string
	kind  fleetStateKind
	state string

	has        bool // a metrics sample has arrived
	cpu, mem   float64
	memUsed    uint64
	memTotal   uint64
	load       [3]float64
	hasNet     bool
	rx, tx     float64
	hasTemp    bool
	temp       float64
	top        string // the busiest process, when a process list is known
	topCPU     float64
	topAge     time.Duration
	procs      uint32
	up         time.Duration
	errText    string
	ident      string // "hostname · arm64×4"
	hasLoad    bool
	ctr        string // the busiest container or service, when the agent lists them
	ctrCPU     float64
	ctrs       bool   // the agent serves containers: the tile has a line for them
	staleValue bool   // figures are from a sample that is no longer fresh
	alerts     int    // firing alerts
	alertText  string // what they are (firingText)
}

// hostName is what a tile is called: the profile name (or what the user
// typed), but a URL as host:port — ws://10.0.0.5:3001/ws is 10.0.0.5:3001,
// and the default port (3000) is left out.
func hostName(t model.Target) string {
	raw := t.URL
	if t.Label != "" {
		if !strings.Contains(t.Label, "://") {
			return t.Label
		}
		raw = t.Label
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	if u.Port() == "3000" {
		return u.Hostname()
	}
	return u.Host
}

func rowOf(m *member, now time.Time, r *fleetRow) {
	d := m.d
	h := d.h
	*r = fleetRow{m: m, name: hostName(d.target)}
	r.kind, r.state = fleetState(d, now)
	r.staleValue = r.kind != fsLive
	if h.Status.Err != nil && r.kind != fsLive {
		r.errText = statusText(h.Status)
	}
	firing := h.Firing()
	r.alerts, r.alertText = len(firing), firingText(firing)
	mt := h.Metrics
	if mt == nil {
		return
	}
	r.has = true
	r.cpu = float64(mt.GetCpuTotal())
	r.memUsed, r.memTotal = mt.GetMemUsed(), mt.GetMemTotal()
	r.mem = 100 * widget.Share(r.memUsed, r.memTotal)
	r.load = [3]float64{mt.GetLoad1(), mt.GetLoad5(), mt.GetLoad15()}
	r.hasLoad = r.load != [3]float64{}
	if h.NetRx.Len() > 0 {
		r.hasNet, r.rx, r.tx = true, h.NetRx.Last(), h.NetTx.Last()
	}
	r.temp, r.hasTemp = hottest(h)
	r.procs = mt.GetProcessCount()
	r.ident = h.Hostname()
	if hl := h.Hello; hl.GetArch() != "" {
		r.ident += " · " + hl.GetArch()
		if c := hl.GetCores(); c > 0 {
			r.ident += "×" + strconv.FormatUint(uint64(c), 10)
		}
	}
	// The overview asks for metrics only: our agents name the busiest
	// process in every metrics sample; for an upstream agent it is known
	// once this host's dashboard fetched a process list.
	if tp := mt.GetTopProcess(); tp != nil {
		r.top, r.topCPU = tp.GetName(), float64(tp.GetCpuPercent())
		r.topAge = 0 // as fresh as the metrics sample
	} else if h.Procs != nil {
		for i := range h.Rows {
			p := &h.Rows[i]
			if r.top == "" || p.CPU > r.topCPU {
				r.top, r.topCPU = p.Name, p.CPU
			}
		}
		r.topAge = now.Sub(h.ProcsAt)
	}
	r.up = widget.Seconds(h.Uptime(now))
	if r.ctrs = h.Has(wire.CapContainers); r.ctrs {
		if b, ok := h.Containers.Busiest(); ok {
			r.ctr, r.ctrCPU = b.Name, b.CPU
		}
	}
}

// hottest is the highest temperature the agent reports: sensors, the CPU
// package, GPUs.
func hottest(h *model.Host) (float64, bool) {
	m := h.Metrics
	best, ok := 0.0, false
	take := func(v float64) {
		if !widget.Valid(v) {
			return // a sensor that reads nonsense is not the hottest
		}
		if !ok || v > best {
			best, ok = v, true
		}
	}
	if c := m.CpuTempC; c != nil {
		take(float64(*c))
	}
	for _, t := range m.GetTemperatures() {
		take(float64(t.GetValueC()))
	}
	for _, g := range m.GetGpus() {
		if g.TempC != nil {
			take(float64(*g.TempC))
		}
	}
	return best, ok
}

// fleetColumn is a column of the table; tiles follow the same order.
type fleetColumn int

const (
	fcName fleetColumn = iota
	fcState
	fcAlert // firing alerts; hidden when no host has rules
	fcCPU
	fcHist // the CPU history, a sparkline
	fcMem
	fcLoad
	fcRx
	fcTx
	fcTemp
	fcTop
	fcUp
	numFleetColumns
)

// fleetCols are the table's columns. NAME and TOP share what the fixed
// columns leave; at narrow widths TOP, UP, TEMP, TX, the CPU history and
// LOAD go, in that order.
var fleetCols = [numFleetColumns]widget.Column{
	fcName:  {Name: "NAME", Min: 14, Max: 24},
	fcState: {Name: "STATE", Width: 26, Desc: true},
	fcAlert: {Name: "ALERT", Min: 10, Max: 30, Desc: true},
	fcCPU:   {Name: "CPU%", Width: 6, Align: widget.AlignRight, Desc: true},
	fcHist:  {Width: 12, NoSort: true, Priority: 5},
	fcMem:   {Name: "MEM%", Width: 6, Align: widget.AlignRight, Desc: true},
	fcLoad:  {Name: "LOAD", Width: 6, Align: widget.AlignRight, Desc: true, Priority: 6},
	fcRx:    {Name: "RX/s", Width: 9, Align: widget.AlignRight, Desc: true, Priority: 7},
	fcTx:    {Name: "TX/s", Width: 9, Align: widget.AlignRight, Desc: true, Priority: 4},
	fcTemp:  {Name: "TEMP", Width: 5, Align: widget.AlignRight, Desc: true, Priority: 3},
	fcTop:   {Name: "TOP", Min: 11, Priority: 1},
	fcUp:    {Name: "UP", Width: 8, Align: widget.AlignRight, Desc: true, Priority: 2},
}

func compareFleet(a, b *fleetRow, c fleetColumn) int {
	num := func(ok bool, v float64) float64 {
		if !ok {
			return -1
		}
		return v
	}
	var r int
	switch c {
	case fcName:
		r = naturalCompare(a.name, b.name)
	case fcState:
		r = cmp.Compare(a.kind, b.kind)
	case fcAlert:
		r = cmp.Compare(a.alerts, b.alerts)
	case fcCPU:
		r = cmp.Compare(num(a.has, a.cpu), num(b.has, b.cpu))
	case fcMem:
		r = cmp.Compare(num(a.has, a.mem), num(b.has, b.mem))
	case fcLoad:
		r = cmp.Compare(num(a.has, a.load[0]), num(b.has, b.load[0]))
	case fcRx:
		r = cmp.Compare(num(a.hasNet, a.rx), num(b.hasNet, b.rx))
	case fcTx:
		r = cmp.Compare(num(a.hasNet, a.tx), num(b.hasNet, b.tx))
	case fcTemp:
		r = cmp.Compare(num(a.hasTemp, a.temp), num(b.hasTemp, b.temp))
	case fcTop:
		r = cmp.Compare(num(a.top != "", a.topCPU), num(b.top != "", b.topCPU))
	case fcUp:
		r = cmp.Compare(a.up, b.up)
	}
	return r
}

// naturalCompare orders "pi-2" before "pi-10": digit runs compare as
// numbers, the rest case-insensitively.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if r := cmp.Compare(len(na), len(nb)); r != 0 {
				return r
			}
			if r := strings.Compare(na, nb); r != 0 {
				return r
			}
			a, b = a[da:], b[db:]
			continue
		}
		ca, cb := lowerByte(a[0]), lowerByte(b[0])
		if ca != cb {
			return cmp.Compare(ca, cb)
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
