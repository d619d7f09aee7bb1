package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/socktop/socktop/agent"
	"github.com/socktop/socktop/procfs/sockdiag"
	"github.com/socktop/socktop/tui/widget"
	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/proto"
)

// minWatch is the shortest --watch interval (metrics and processes lines
// come at least procfs.DefaultWindow, 150 ms, apart whatever is asked).
const minWatch = 100 * time.Millisecond

// runSnapshot is `socktop snapshot KIND`: one sample as JSON, or one JSON
// line per interval with --watch, for scripts.
func runSnapshot(args []string) int {
	return snapshotCommand(context.Background(), args, os.Stdout, os.Stderr)
}

func snapshotCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("socktop snapshot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	procRoot := fs.String("proc-root", "/proc", "where procfs is mounted")
	sysRoot := fs.String("sys-root", "/sys", "where sysfs is mounted")
	watch := fs.Duration("watch", 0, "print one fresh sample every `interval` (JSON lines) until interrupted")
	format := fs.String("format", "json", "json, or with --watch connections: text, one line per new, changed or closed connection")
	var hf historyFlags
	hf.add(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: socktop snapshot [flags] metrics|disks|processes|connections|containers
       socktop snapshot --watch 1s KIND
       socktop snapshot --watch 2s --format text connections
       socktop snapshot history [--since 1h] [--max-points N] NAME|HOST[:PORT]|URL

Prints one sample of this machine as JSON, with the field names of the
socktop.v2 schema: numbers as numbers (64-bit counters too), floats rounded
to two decimals, enums and socket states by name, addresses as text. CPU
shares are measured over a short window (~150 ms). With --watch it prints
one sample a line, each collected afresh, every interval: CPU shares then
cover the interval. connections lists TIME-WAIT sockets too, as ss does.
containers lists the cgroups that are containers, pods' containers, LXC
guests, systemd services and user sessions, with CPU (share of the machine),
memory and its limit, pids, I/O, throttling and pressure; processes name
theirs in "container".

--format text with --watch connections streams the changes, as tcptop does:
PARTIAL for each connection already open when the watch began (its counters
include earlier traffic), then NEW, CHANGED (counters or state moved; with
rates over the interval) and CLOSED, in the dashboard's units and ss's state
names.

history asks a running agent (one started with --history) for what it
recorded, since history lives in the agent: NAME is a profile (its token
and pin are used), HOST[:PORT] or URL an agent, as socktop connect takes
them. It prints the JSON dialect's history reply (PROTOCOL.md §5): the
interval, then each sample's time, CPU total and per core, memory, swap,
load, network and disk counters and its top processes. --since counts
back from now on this machine's clock; --max-points averages longer spans
into that many buckets, each keeping its busiest processes.

Examples:
  socktop snapshot metrics | jq '.mem_used / .mem_total'
  socktop snapshot processes | jq '.processes | length'
  socktop snapshot containers | jq -r '.containers[] | "\(.name) \(.cpu_percent)"'
  socktop snapshot --watch 1s metrics | jq .cpu_total
  socktop snapshot --watch 2s --format text connections
  socktop snapshot history --since 1h pi-kitchen | jq '.samples[] | [.sampled_at_ms, .cpu_total]'
  socktop snapshot history --since 24h --max-points 96 ws://10.0.0.5:3000/ws

Flags:
`)
		fs.PrintDefaults()
	}
	pos, code, done := parseInterspersed(fs, args)
	if done {
		return code
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "socktop snapshot: "+format+"\n", a...)
		return exitUsage
	}
	if len(pos) > 0 && pos[0] == "history" {
		if len(pos) != 2 || *watch != 0 || *format != "json" {
			return usage("history asks one agent: socktop snapshot history [--since 1h] NAME|HOST|URL (no --watch, no --format)")
		}
		return snapshotHistory(ctx, pos[1], hf, stdout, stderr)
	}
	if hf.given(fs) {
		return usage("--since, --max-points, --token, --pin and --tls-ca are for snapshot history")
	}
	switch {
	case len(pos) != 1:
		return usage("name one kind: metrics, disks, processes, connections or containers (or history NAME|URL)")
	case *format != "json" && *format != "text":
		return usage("--format %q: want json or text", *format)
	case *format == "text" && (*watch <= 0 || pos[0] != "connections"):
		return usage("--format text is the stream of --watch connections (e.g. --watch 2s --format text connections)")
	case *watch < 0:
		return usage("--watch %v: want an interval such as 1s", *watch)
	}
	every := max(*watch, minWatch)
	cfg := agent.DefaultConfig()
	cfg.Version, cfg.ProcRoot, cfg.SysRoot = version, *procRoot, *sysRoot
	cfg.Logger = newLogger("text", io.Discard)
	if *watch > 0 {
		// Each line is collected afresh (no cache serves it twice), and
		// its CPU shares are measured since the line before.
		cfg.MetricsTTL, cfg.ProcessesTTL, cfg.DisksTTL, cfg.ConnectionsTTL, cfg.ContainersTTL = 0, 0, 0, 0, 0
		cfg.StaleAfter = max(cfg.StaleAfter, 2*every)
	}
	a, err := agent.New(cfg)
	if err != nil {
		return failure("snapshot", err)
	}
	kind := pos[0]
	if !slices.Contains(a.SnapshotKinds(), kind) {
		return usage("unknown kind %q (want %s)", kind, strings.Join(a.SnapshotKinds(), ", "))
	}
	if *watch == 0 {
		m, err := a.Snapshot(ctx, kind)
		if err != nil {
			return failure("snapshot", err)
		}
		stdout.Write(append(agent.SnapshotJSON(m, "  "), '\n'))
		return exitOK
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	w := bufio.NewWriter(stdout)
	line := func(m proto.Message) error {
		w.Write(agent.SnapshotJSON(m, ""))
		w.WriteByte('\n')
		return w.Flush()
	}
	if *format == "text" {
		line = connectionStream(w)
	}
	if err := watchKind(ctx, a, kind, every, line); err != nil && !errors.Is(err, context.Canceled) {
		return failure("snapshot", err)
	}
	return exitOK
}

// watchKind hands out a fresh sample of kind now and then every interval
// (on a ticker, so the time collecting takes does not add up), until ctx
// ends or out fails (the reader went away).
func watchKind(ctx context.Context, a *agent.Agent, kind string, every time.Duration, out func(proto.Message) error) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		m, err := a.Snapshot(ctx, kind)
		if err != nil {
			return err
		}
		if err := out(m); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// connKey identifies a socket across samples: its addresses, and for a
// listening or unconnected one (no remote port) its inode too, so that two
// listeners on one port stay apart while a connection keeps its key when
// it goes to TIME-WAIT (where it has no inode).
type connKey struct {
	transport     wire.Transport
	local, remote netip.AddrPort
	inode         uint64
}

func keyOf(c *wire.Connection) connKey {
	k := connKey{transport: c.Transport, local: addrPort(c.LocalAddr, c.LocalPort), remote: addrPort(c.RemoteAddr, c.RemotePort)}
	if c.RemotePort == 0 {
		k.inode = c.Inode
	}
	return k
}

func addrPort(b []byte, port uint32) netip.AddrPort {
	a, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(a.Unmap(), uint16(port))
}

const streamFormat = "%-8s %-7s %-5s %-47s %-11s %-22s %7s %7s %9s %9s %7s\n"

// connectionStream is the text stream of --watch --format text
// connections: a header, then for each sample one line per connection
// that is new, changed (counters or state moved) or gone, as tcptop's
// streaming output. The first sample's connections are PARTIAL: their
// counters include what they carried before the watch began.
func connectionStream(w *bufio.Writer) func(proto.Message) error {
	var prev map[connKey]*wire.Connection
	var prevAt uint64
	return func(m proto.Message) error {
		s := m.(*wire.Connections)
		if prev == nil {
			fmt.Fprintf(w, streamFormat, "TIME", "EVENT", "PROTO", "LOCAL -> REMOTE", "STATE", "PID/PROCESS", "IN", "OUT", "IN/s", "OUT/s", "RTT")
		}
		now := time.UnixMilli(int64(s.SampledAtMs)).Format(time.TimeOnly)
		dt := float64(s.SampledAtMs-prevAt) / 1000
		cur := make(map[connKey]*wire.Connection, len(s.Connections))
		var lines []string
		for _, c := range s.Connections {
			k := keyOf(c)
			cur[k] = c
			p, seen := prev[k]
			switch {
			case prev == nil:
				lines = append(lines, streamLine(now, "PARTIAL", c, nil, 0))
			case !seen:
				lines = append(lines, streamLine(now, "NEW", c, nil, 0))
			case p.State != c.State || p.BytesAcked != c.BytesAcked || p.BytesReceived != c.BytesReceived:
				lines = append(lines, streamLine(now, "CHANGED", c, p, dt))
			}
		}
		for k, p := range prev {
			if _, ok := cur[k]; !ok {
				lines = append(lines, streamLine(now, "CLOSED", p, nil, 0))
			}
		}
		slices.Sort(lines)
		for _, l := range lines {
			w.WriteString(l)
		}
		prev, prevAt = cur, s.SampledAtMs
		return w.Flush()
	}
}

// streamLine is one line of the stream, in the dashboard's units (binary
// sizes, "38.2M") and ss's state names ("ESTAB"); what a socket has no
// counters for (UDP, a listener, the /proc/net fallback) is "-".
func streamLine(now, event string, c, prev *wire.Connection, dt float64) string {
	proto, state := "tcp", sockdiag.State(c.State).String()
	if c.Transport == wire.Transport_TRANSPORT_UDP {
		proto = "udp"
	}
	if event == "CLOSED" {
		state = "CLOSED"
	}
	owner := "-"
	if c.Pid != 0 {
		owner = fmt.Sprintf("%d/%s", c.Pid, c.ProcessName)
	}
	in, out, rin, rout, rtt := "-", "-", "", "", "-"
	if c.CountersAvailable && sockdiag.State(c.State) != sockdiag.Listen {
		in, out, rtt = widget.Bytes(c.BytesReceived), widget.Bytes(c.BytesAcked), widget.Micros(c.RttUs)
		if prev != nil && dt > 0 && c.BytesReceived >= prev.BytesReceived && c.BytesAcked >= prev.BytesAcked {
			rin = widget.Rate(float64(c.BytesReceived-prev.BytesReceived) / dt)
			rout = widget.Rate(float64(c.BytesAcked-prev.BytesAcked) / dt)
		}
	}
	k := keyOf(c)
	return fmt.Sprintf(streamFormat, now, event, proto, k.local.String()+" -> "+k.remote.String(), state, owner, in, out, rin, rout, rtt)
}
