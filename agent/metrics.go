package agent

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
)

// metricsKind is the whole-machine sample: CPU, memory, load, network,
// sensors, and the busiest process.
var metricsKind = &kind{
	name: "metrics", capability: wire.CapMetrics, features: (*Agent).sensorFeatures,
	v2:            &wire.Request{Body: &wire.Request_Metrics{Metrics: &wire.MetricsRequest{}}},
	text:          dialect.Route{JSON: "metrics", Command: "get_metrics"},
	encode:        textOf(dialect.ReplyMetrics),
	v2Query:       func(*wire.Request) query { return query{top: true} },
	open:          openMetrics,
	snapshot:      true,
	snapshotQuery: query{top: true},
	push: &pushSpec{floor: 100 * time.Millisecond, asked: (*wire.SubscribeRequest).GetMetricsMs,
		query: func(*wire.SubscribeRequest) query { return query{top: true} },
		kept:  func(s *wire.Subscription, ms uint32, _ query) { s.MetricsMs = ms }},
	prom: func(p *promWriter, r reply) { writeMachineMetrics(p, r.message().(*wire.Metrics)) },
}

// sensorFeatures are the capabilities this machine's sensors add.
func (a *Agent) sensorFeatures() []string {
	a.coll.sensors.probe(context.Background())
	var caps []string
	if a.coll.sensors.haveTemps {
		caps = append(caps, wire.CapTemps)
	}
	if a.coll.sensors.haveGPU {
		caps = append(caps, wire.CapGPU)
	}
	return caps
}

// metricsSource is the metrics sample every client shares, made for each
// way of asking with only what that way gets:
//   - the text dialects and history get the machine sample (CPU, memory,
//     load, network, sensors, the process count);
//   - v2 requests, pushes and snapshots (query.top) get it with the
//     busiest process too, made from it once per sample: taking it from a
//     process sample costs a process scan when none is recent, which
//     nobody else asked for;
//   - a /metrics scrape (query.scrape) takes the clients' machine sample
//     while it is fresh, else collects its own, with CPU shares since the
//     previous sample (scrapeStaleAfter) rather than a fresh window.
type metricsSource struct {
	cachedSource
	a      *Agent
	scrape *cache[reply]
	ttl    time.Duration

	mu            sync.Mutex
	base, withTop reply     // the sample withTop was made from, and it
	count         uint32    // the latest process count of a listing of /proc
	countAt       time.Time // and when it was counted
}

func openMetrics(a *Agent) source {
	s := &metricsSource{a: a, ttl: a.cfg.MetricsTTL}
	s.cachedSource = cachedOf(a.cfg.MetricsTTL, s.collect(a.cfg.StaleAfter))
	s.scrape = cachedOf(a.cfg.MetricsTTL, s.collect(max(a.cfg.StaleAfter, scrapeStaleAfter))).c
	return s
}

// release lets go of the files the metrics, process and disk samples keep
// open (collector.held) while nobody watches.
func (s *metricsSource) release() { s.a.coll.held.Close() }

func (s *metricsSource) get(ctx context.Context, q query) (reply, error) {
	if q.scrape {
		if r, ok := s.c.PeekWithin(s.ttl); ok {
			return r, nil
		}
		return s.scrape.Get(ctx)
	}
	if q.top {
		// The process sample the busiest process comes from first: a scan
		// (after an idle spell, two 150 ms apart) must not age the machine
		// sample, whose TTL runs from its collection.
		s.a.recentProcesses(ctx)
	}
	r, err := s.c.Get(ctx)
	if err != nil || !q.top {
		return r, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base != r {
		// A copy through its encoding (the generated code has no Clone, and
		// proto.Clone would bring reflection in).
		b, err := r.v2Body()
		m := &wire.Metrics{}
		if err == nil {
			err = m.UnmarshalVT(b)
		}
		if err != nil {
			return nil, err
		}
		if m.TopProcess = s.a.topProcess(ctx); m.TopProcess != nil {
			s.a.coll.mu.Lock()
			m.ProcessCount = s.a.coll.lastN // of the sample the busiest came from
			s.a.coll.mu.Unlock()
		}
		s.base, s.withTop = r, newSample(m)
	}
	return s.withTop, nil
}

// recentProcesses makes sure a process sample at most topProcessMaxAge
// old exists, scanning when none does.
func (a *Agent) recentProcesses(ctx context.Context) {
	if c := a.processes(); c != nil {
		if _, ok := c.PeekWithin(topProcessMaxAge); !ok {
			c.Get(ctx)
		}
	}
}

// scrapeStaleAfter is how old the previous /proc/stat reading may be for a
// scrape's CPU shares to be measured since it: they cover the time since
// the previous sample, a scrape's or a client's (Prometheus scrapes every
// 15–60 s), as a rate over the scrape interval would, rather than a fresh
// 150 ms window at each scrape, which costs a wait and a second reading.
const scrapeStaleAfter = 5 * time.Minute

// collect makes the machine sample, with CPU shares since the previous
// sample when it is at most staleAfter old.
func (s *metricsSource) collect(staleAfter time.Duration) func(context.Context) (*sample[*wire.Metrics], error) {
	return func(ctx context.Context) (*sample[*wire.Metrics], error) {
		m, err := s.a.coll.machine(ctx, staleAfter)
		if err != nil {
			return nil, err
		}
		m.ProcessCount = s.processCount()
		return newSample(m), nil
	}
}

// processCount is the process count of a process sample at most
// topProcessMaxAge old, else one counted from a listing of /proc (which
// opens no file) at most that old.
func (s *metricsSource) processCount() uint32 {
	a := s.a
	if c := a.processes(); c != nil {
		if _, ok := c.PeekWithin(topProcessMaxAge); ok {
			a.coll.mu.Lock()
			defer a.coll.mu.Unlock()
			return a.coll.lastN
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := time.Now(); now.Sub(s.countAt) >= topProcessMaxAge {
		if n, err := a.fs.CountProcesses(); err == nil {
			s.count, s.countAt = uint32(n), now
		}
	}
	return s.count
}

// machine is a metrics sample without the busiest process and the process
// count, which come from the process samples, with the CPU shares since
// the previous sample when it is at most staleAfter old.
func (c *collector) machine(ctx context.Context, staleAfter time.Duration) (*wire.Metrics, error) {
	usage, err := c.cpu.SampleWithin(ctx, staleAfter)
	if err != nil {
		return nil, err
	}
	m := &wire.Metrics{SampledAtMs: nowMS(), CpuTotal: float32(usage.Total)}
	if sh := usage.Shares; sh != (procfs.CPUShares{}) {
		m.CpuBreakdown = &wire.CpuBreakdown{User: float32(sh.User), Nice: float32(sh.Nice), System: float32(sh.System),
			Idle: float32(sh.Idle), Iowait: float32(sh.IOWait), Irq: float32(sh.IRQ), Softirq: float32(sh.SoftIRQ), Steal: float32(sh.Steal)}
	}
	cores := usage.PerCore[:min(len(usage.PerCore), wire.MaxCores)]
	m.CpuPerCore = make([]float32, len(cores))
	for i, v := range cores {
		m.CpuPerCore[i] = float32(v)
	}
	if mi, err := c.sys.Meminfo(); err == nil {
		m.MemTotal, m.MemUsed, m.MemAvailable = mi.Total, mi.Used(), mi.Available
		m.MemBuffers, m.MemCached = mi.Buffers, mi.Cached
		m.SwapTotal, m.SwapUsed = mi.SwapTotal, mi.SwapUsed()
	} else {
		return nil, err
	}
	if la, err := c.sys.LoadAvg(); err == nil {
		m.Load1, m.Load5, m.Load15 = la.One, la.Five, la.Fifteen
	}
	// Uptime from the boot time the CPU sample already read (btime of
	// /proc/stat), sparing a read of /proc/uptime per sample.
	if bt := usage.Stat.BootTime; bt > 0 {
		m.UptimeS = max(float64(time.Now().UnixMilli())/1000-float64(bt), 0)
	}
	m.Hostname = c.hostInfo().Hostname
	if nd, err := c.sys.NetDev(); err == nil {
		nd = nd[:min(len(nd), wire.MaxInterfaces)] // what a client believes (wire/plausible.go)
		m.Networks = make([]*wire.Network, len(nd))
		for i, n := range nd {
			m.Networks[i] = &wire.Network{Name: validText(n.Name), RxBytes: n.RxBytes, TxBytes: n.TxBytes,
				RxPackets: n.RxPackets, TxPackets: n.TxPackets, RxErrors: n.RxErrors, TxErrors: n.TxErrors,
				RxDrops: n.RxDrop, TxDrops: n.TxDrop}
		}
	}
	c.sensors.add(ctx, m)
	return m, nil
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
	p.gauge("socktop_processes", "Processes (not threads): of a process sample at most 4 s old, else counted in a listing of /proc.", float64(m.ProcessCount))

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
