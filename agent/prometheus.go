package agent

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
)

// The exposition is written by hand rather than with client_golang: that
// library pulls in prometheus/procfs (a monitoring library, which this
// project reads /proc without) and several MiB; the text format is small and
// `promtool check metrics` checks ours in CI.

// promWriter writes the Prometheus text exposition format, one family at a time.
type promWriter struct {
	w *bufio.Writer
}

func (p *promWriter) family(name, typ, help string) {
	p.w.WriteString("# HELP ")
	p.w.WriteString(name)
	p.w.WriteByte(' ')
	p.w.WriteString(help)
	p.w.WriteString("\n# TYPE ")
	p.w.WriteString(name)
	p.w.WriteByte(' ')
	p.w.WriteString(typ)
	p.w.WriteByte('\n')
}

// sample writes `name{k="v",…} value`; labels alternate key, value.
func (p *promWriter) sample(name string, v float64, labels ...string) {
	p.w.WriteString(name)
	if len(labels) > 0 {
		p.w.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				p.w.WriteByte(',')
			}
			p.w.WriteString(labels[i])
			p.w.WriteString(`="`)
			p.w.WriteString(escapeLabel(labels[i+1]))
			p.w.WriteByte('"')
		}
		p.w.WriteByte('}')
	}
	p.w.WriteByte(' ')
	p.w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	p.w.WriteByte('\n')
}

func (p *promWriter) gauge(name, help string, v float64, labels ...string) {
	p.family(name, "gauge", help)
	p.sample(name, v, labels...)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(s string) string {
	s = validText(s) // the exposition format is UTF-8 too
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return labelEscaper.Replace(s)
}

// serveMetrics collects on scrape, from the same caches the WebSocket
// clients share; nothing is collected between scrapes.
func (a *Agent) serveMetrics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	bw := bufio.NewWriterSize(w, 16<<10)
	defer bw.Flush()
	p := &promWriter{w: bw}

	if s, err := a.metricsC.Get(ctx); err == nil {
		writeMachineMetrics(p, s.msg)
	} else {
		a.limits.scrape.Log("err", err)
	}
	if s, err := a.disks(ctx); err == nil {
		writeDiskMetrics(p, s.msg)
	}
	if s, err := a.connections(ctx); err == nil {
		writeConnectionMetrics(p, s.msg)
	}
	a.writeAgentMetrics(p)
	if a.clients.Load() == 0 {
		// Scrapes come seconds apart: between them, with no WebSocket
		// client, hold no /proc files (as after the last client leaves).
		a.coll.procs.Close()
	}
}

func writeMachineMetrics(p *promWriter, m *wire.Metrics) {
	p.family("socktop_cpu_busy_percent", "gauge", "CPU busy share (all − idle − iowait) over the latest sample window, 0..100.")
	p.sample("socktop_cpu_busy_percent", float64(m.CpuTotal), "cpu", "all")
	for i, v := range m.CpuPerCore {
		p.sample("socktop_cpu_busy_percent", float64(v), "cpu", strconv.Itoa(i))
	}
	p.gauge("socktop_memory_total_bytes", "MemTotal.", float64(m.MemTotal))
	p.gauge("socktop_memory_used_bytes", "MemTotal − MemAvailable.", float64(m.MemUsed))
	p.gauge("socktop_memory_available_bytes", "MemAvailable.", float64(m.MemAvailable))
	p.gauge("socktop_swap_total_bytes", "SwapTotal.", float64(m.SwapTotal))
	p.gauge("socktop_swap_used_bytes", "SwapTotal − SwapFree.", float64(m.SwapUsed))
	p.family("socktop_load_average", "gauge", "Load average over the window.")
	p.sample("socktop_load_average", m.Load1, "window", "1m")
	p.sample("socktop_load_average", m.Load5, "window", "5m")
	p.sample("socktop_load_average", m.Load15, "window", "15m")
	p.gauge("socktop_uptime_seconds", "Seconds since boot.", m.UptimeS)
	p.gauge("socktop_processes", "Processes (not threads) in the latest process sample.", float64(m.ProcessCount))

	counters := []struct {
		name, help string
		get        func(*wire.Network) uint64
	}{
		{"socktop_network_receive_bytes_total", "Bytes received by the interface.", (*wire.Network).GetRxBytes},
		{"socktop_network_transmit_bytes_total", "Bytes sent by the interface.", (*wire.Network).GetTxBytes},
		{"socktop_network_receive_packets_total", "Packets received by the interface.", (*wire.Network).GetRxPackets},
		{"socktop_network_transmit_packets_total", "Packets sent by the interface.", (*wire.Network).GetTxPackets},
		{"socktop_network_receive_errors_total", "Receive errors of the interface.", (*wire.Network).GetRxErrors},
		{"socktop_network_transmit_errors_total", "Transmit errors of the interface.", (*wire.Network).GetTxErrors},
		{"socktop_network_receive_drops_total", "Received packets dropped.", (*wire.Network).GetRxDrops},
		{"socktop_network_transmit_drops_total", "Transmitted packets dropped.", (*wire.Network).GetTxDrops},
	}
	if len(m.Networks) > 0 {
		for _, c := range counters {
			p.family(c.name, "counter", c.help)
			for _, n := range m.Networks {
				p.sample(c.name, float64(c.get(n)), "interface", n.Name)
			}
		}
	}
	if len(m.Temperatures) > 0 {
		p.family("socktop_temperature_celsius", "gauge", "Temperature sensor reading.")
		for _, t := range m.Temperatures {
			p.sample("socktop_temperature_celsius", float64(t.ValueC), "sensor", t.Sensor, "label", t.Label)
		}
	}
	if m.CpuTempC != nil {
		p.gauge("socktop_cpu_temperature_celsius", "The CPU temperature socktop shows (see README for the rule).", float64(*m.CpuTempC))
	}
	if len(m.Gpus) > 0 {
		p.family("socktop_gpu_busy_percent", "gauge", "GPU busy share, 0..100.")
		for i, g := range m.Gpus {
			p.sample("socktop_gpu_busy_percent", float64(g.Usage), "gpu", strconv.Itoa(i), "name", g.Name)
		}
		p.family("socktop_gpu_memory_used_bytes", "gauge", "GPU memory in use.")
		for i, g := range m.Gpus {
			p.sample("socktop_gpu_memory_used_bytes", float64(g.MemUsed), "gpu", strconv.Itoa(i), "name", g.Name)
		}
		p.family("socktop_gpu_memory_total_bytes", "gauge", "GPU memory.")
		for i, g := range m.Gpus {
			p.sample("socktop_gpu_memory_total_bytes", float64(g.MemTotal), "gpu", strconv.Itoa(i), "name", g.Name)
		}
	}
}

func writeDiskMetrics(p *promWriter, d *wire.Disks) {
	var fsys, devs []*wire.Disk
	for _, x := range d.Disks {
		if x.MountPoint != "" {
			fsys = append(fsys, x)
		}
		if !x.IsPartition {
			devs = append(devs, x)
		}
	}
	if len(fsys) > 0 {
		p.family("socktop_filesystem_size_bytes", "gauge", "Filesystem size.")
		for _, x := range fsys {
			p.sample("socktop_filesystem_size_bytes", float64(x.Total), "device", x.Name, "mountpoint", x.MountPoint, "fstype", x.FsType)
		}
		p.family("socktop_filesystem_avail_bytes", "gauge", "Filesystem space available to unprivileged users.")
		for _, x := range fsys {
			p.sample("socktop_filesystem_avail_bytes", float64(x.Available), "device", x.Name, "mountpoint", x.MountPoint, "fstype", x.FsType)
		}
	}
	if len(devs) > 0 {
		p.family("socktop_disk_read_bytes_total", "counter", "Bytes read from the disk.")
		for _, x := range devs {
			p.sample("socktop_disk_read_bytes_total", float64(x.ReadBytes), "device", x.Name)
		}
		p.family("socktop_disk_written_bytes_total", "counter", "Bytes written to the disk.")
		for _, x := range devs {
			p.sample("socktop_disk_written_bytes_total", float64(x.WriteBytes), "device", x.Name)
		}
	}
}

var tcpStateNames = [...]string{1: "established", 2: "syn_sent", 3: "syn_recv", 4: "fin_wait1", 5: "fin_wait2",
	6: "time_wait", 7: "close", 8: "close_wait", 9: "last_ack", 10: "listen", 11: "closing", 12: "new_syn_recv"}

func writeConnectionMetrics(p *promWriter, cs *wire.Connections) {
	var counts [len(tcpStateNames)]int
	for _, c := range cs.Connections {
		if c.Transport == wire.Transport_TRANSPORT_TCP && int(c.State) < len(counts) {
			counts[c.State]++
		}
	}
	p.family("socktop_tcp_connections", "gauge", "TCP sockets by state.")
	for st, name := range tcpStateNames {
		if name != "" {
			p.sample("socktop_tcp_connections", float64(counts[st]), "state", name)
		}
	}
}

func (a *Agent) writeAgentMetrics(p *promWriter) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		p.family("socktop_agent_cpu_seconds_total", "counter", "CPU time the agent has used.")
		p.sample("socktop_agent_cpu_seconds_total", cpu)
	}
	if rss, err := selfRSS(a.fs.PageSize()); err == nil {
		p.gauge("socktop_agent_resident_memory_bytes", "The agent's resident set size.", float64(rss))
	}
	p.gauge("socktop_agent_clients", "Connected WebSocket clients.", float64(a.Clients()))
	p.gauge("socktop_agent_connections", "TCP connections the agent holds (HTTP and WebSocket).", float64(a.connLimit.openConns()))
	p.family("socktop_agent_requests_total", "counter", "WebSocket requests received.")
	p.sample("socktop_agent_requests_total", float64(a.requests.Load()))
	p.gauge("socktop_agent_subscribers", "Connections with a live subscription (pushed samples).", float64(a.Subscribers()))
	p.family("socktop_agent_pushes_dropped_total", "counter", "Pushes not sent because the subscriber read too slowly.")
	p.sample("socktop_agent_pushes_dropped_total", float64(a.pushesDropped.Load()))
	p.gauge("socktop_agent_goroutines", "Goroutines in the agent.", float64(runtime.NumGoroutine()))
	p.family("socktop_agent_info", "gauge", "The agent's version.")
	p.sample("socktop_agent_info", 1, "version", a.cfg.Version)
}

// selfRSS is the agent's own resident set, from its own /proc/self/stat
// (always the real /proc: --proc-root may point at another namespace).
func selfRSS(pageSize uint64) (uint64, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	st, err := procfs.ParseProcStat(b)
	if err != nil {
		return 0, err
	}
	return st.RSSPages * pageSize, nil
}
