package agent

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/socktop/socktop/wire"
)

// connKey identifies a socket across samples.
type connKey struct {
	transport wire.Transport
	local     netip.AddrPort
	remote    netip.AddrPort
	inode     uint64
}

func keyOf(c *wire.Connection) connKey {
	return connKey{c.Transport, addrPort(c.LocalAddr, c.LocalPort), addrPort(c.RemoteAddr, c.RemotePort), c.Inode}
}

func addrPort(b []byte, port uint32) netip.AddrPort {
	a, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}

// watchConnections prints, every interval, one line per connection that is
// new, changed (its counters or state moved) or gone (CLOSED), like tcptop's
// streaming output. It runs until ctx ends.
func (a *Agent) watchConnections(ctx context.Context, w io.Writer, every time.Duration) error {
	prev := map[connKey]*wire.Connection{}
	var prevAt uint64
	tick := time.NewTicker(every)
	defer tick.Stop()
	fmt.Fprintf(w, "%-8s %-7s %-5s %-47s %-11s %-22s %11s %11s %10s %10s %8s\n",
		"TIME", "EVENT", "PROTO", "LOCAL -> REMOTE", "STATE", "PID/PROCESS", "IN", "OUT", "IN/s", "OUT/s", "RTT")
	for {
		r, err := a.get(ctx, a.reg.index[connectionsKind], query{})
		if err != nil {
			return err
		}
		s := r.message().(*wire.Connections)
		cur := make(map[connKey]*wire.Connection, len(s.Connections))
		var lines []string
		now := time.UnixMilli(int64(s.SampledAtMs)).Format(time.TimeOnly)
		dt := float64(s.SampledAtMs-prevAt) / 1000
		for _, c := range s.Connections {
			k := keyOf(c)
			cur[k] = c
			p, seen := prev[k]
			switch {
			case prevAt == 0 || !seen:
				lines = append(lines, watchLine(now, "NEW", c, nil, 0))
			case p.State != c.State || p.BytesAcked != c.BytesAcked || p.BytesReceived != c.BytesReceived:
				lines = append(lines, watchLine(now, "CHANGED", c, p, dt))
			}
		}
		for k, p := range prev {
			if _, ok := cur[k]; !ok {
				lines = append(lines, watchLine(now, "CLOSED", p, nil, 0))
			}
		}
		sort.Strings(lines)
		for _, l := range lines {
			io.WriteString(w, l)
		}
		prev, prevAt = cur, s.SampledAtMs
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func watchLine(now, event string, c, prev *wire.Connection, dt float64) string {
	proto := "tcp"
	state := tcpStateLabel(c.State)
	if c.Transport == wire.Transport_TRANSPORT_UDP {
		proto, state = "udp", "-"
	}
	if event == "CLOSED" {
		state = "CLOSED"
	}
	owner := "-"
	if c.Pid != 0 {
		owner = fmt.Sprintf("%d/%s", c.Pid, c.ProcessName)
	}
	in, out, rin, rout, rtt := "n/a", "n/a", "", "", ""
	if c.CountersAvailable {
		in, out = humanBytes(float64(c.BytesReceived)), humanBytes(float64(c.BytesAcked))
		rtt = fmt.Sprintf("%.1fms", float64(c.RttUs)/1000)
		if prev != nil && dt > 0 {
			rin = humanBytes(float64(c.BytesReceived-prev.BytesReceived)/dt) + "/s"
			rout = humanBytes(float64(c.BytesAcked-prev.BytesAcked)/dt) + "/s"
		}
	}
	k := keyOf(c)
	return fmt.Sprintf("%-8s %-7s %-5s %-47s %-11s %-22s %11s %11s %10s %10s %8s\n", now, event, proto,
		k.local.String()+" -> "+k.remote.String(), state, owner, in, out, rin, rout, rtt)
}

func tcpStateLabel(s uint32) string {
	if int(s) < len(tcpStateNames) && tcpStateNames[s] != "" {
		return strings.ToUpper(tcpStateNames[s])
	}
	return fmt.Sprint(s)
}

func humanBytes(v float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f%s", v, units[i])
	}
	return fmt.Sprintf("%.1f%s", v, units[i])
}
