package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/procfs/sockdiag"
	"github.com/socktop/socktop/wire"
)

// runSnapshot is `socktop snapshot KIND`: one sample as JSON (the v2
// schema's field names), for scripts.
func runSnapshot(args []string) int {
	fs := flag.NewFlagSet("socktop snapshot", flag.ContinueOnError)
	procRoot := fs.String("proc-root", "/proc", "where procfs is mounted")
	sysRoot := fs.String("sys-root", "/sys", "where sysfs is mounted")
	watch := fs.Duration("watch", 0, "with connections: print new, changed and CLOSED connections every `interval` until interrupted")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: socktop snapshot [flags] metrics|disks|processes|connections
       socktop snapshot --watch 2s connections

Prints one sample of this machine as JSON, with the field names of the
socktop.v2 schema (64-bit counters are JSON strings, as protobuf's JSON
mapping has them). CPU shares are measured over a short window.

Examples:
  socktop snapshot metrics | jq .cpu_total
  socktop snapshot processes | jq '.processes | length'
  socktop snapshot --watch 1s connections      # one line per new, changed or CLOSED connection

Flags:
`)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "socktop snapshot: name one kind: metrics, disks, processes or connections")
		return exitUsage
	}
	cfg := agent.DefaultConfig()
	cfg.Version, cfg.ProcRoot, cfg.SysRoot = version, *procRoot, *sysRoot
	cfg.Logger = newLogger("text", io.Discard)
	a, err := agent.New(cfg)
	if err != nil {
		return failure("snapshot", err)
	}
	if *watch > 0 {
		if fs.Arg(0) != "connections" {
			fmt.Fprintln(os.Stderr, "socktop snapshot: --watch works with connections only")
			return exitUsage
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		if err := watchConnections(ctx, a, os.Stdout, max(*watch, 100*time.Millisecond)); err != nil {
			return failure("snapshot", err)
		}
		return exitOK
	}
	msg, err := a.Snapshot(context.Background(), fs.Arg(0))
	if err != nil {
		code := failure("snapshot", err)
		if errors.Is(err, agent.ErrUnknownKind) {
			code = exitUsage
		}
		return code
	}
	os.Stdout.Write(append(agent.SnapshotJSON(msg, "  "), '\n'))
	return exitOK
}

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
func watchConnections(ctx context.Context, a *agent.Agent, w io.Writer, every time.Duration) error {
	prev := map[connKey]*wire.Connection{}
	var prevAt uint64
	tick := time.NewTicker(every)
	defer tick.Stop()
	fmt.Fprintf(w, "%-8s %-7s %-5s %-47s %-11s %-22s %11s %11s %10s %10s %8s\n",
		"TIME", "EVENT", "PROTO", "LOCAL -> REMOTE", "STATE", "PID/PROCESS", "IN", "OUT", "IN/s", "OUT/s", "RTT")
	for {
		m, err := a.Snapshot(ctx, "connections")
		if err != nil {
			return err
		}
		s := m.(*wire.Connections)
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

func tcpStateLabel(s uint32) string { return sockdiag.State(s).String() }

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
