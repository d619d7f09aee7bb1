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

	for i, k := range a.reg.kinds {
		if k.prom == nil || (k.served != nil && !a.has(k.capability)) {
			continue
		}
		r, err := a.get(ctx, i, query{scrape: true})
		if err != nil {
			a.limits.scrape.Log("kind", k.name, "err", err)
			continue
		}
		k.prom(p, r)
	}
	a.writeAgentMetrics(p)
	if a.clients.Load() == 0 {
		// Scrapes come seconds apart: between them, with no WebSocket
		// client, hold no /proc files (as after the last client leaves).
		a.releaseIdle()
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
