package agent

import (
	"context"
	"sync"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/encoding/protowire"
)

// sample is one collected message shared by every client, with its
// encodings made at most once each: a hundred clients asking for the same
// sample cost one collection and one encoding per dialect.
type sample[M any] struct {
	msg M

	jsonOnce, cmdOnce, v2Once sync.Once
	jsonFrame, cmdFrame       wire.Frame
	v2Body                    []byte
	v2Err                     error
}

func newSample[M any](m M) *sample[M] { return &sample[M]{msg: m} }

// frame returns the JSON- or command-dialect reply, encoding it once.
func (s *sample[M]) frame(d wire.Dialect, enc func(wire.Dialect, M) wire.Frame) wire.Frame {
	if d == wire.DialectCommand {
		s.cmdOnce.Do(func() { s.cmdFrame = enc(d, s.msg) })
		return s.cmdFrame
	}
	s.jsonOnce.Do(func() { s.jsonFrame = enc(d, s.msg) })
	return s.jsonFrame
}

// v2Response returns a complete v2 Response frame for request id, whose body
// (field number field) is the sample's message. The body is marshalled once;
// only the small envelope is built per request. The bytes are exactly what
// marshalling the Response message would produce.
func (s *sample[M]) v2Response(id uint32, field protowire.Number, marshal func(M) ([]byte, error)) ([]byte, error) {
	body, err := s.v2Bytes(marshal)
	if err != nil {
		return nil, err
	}
	return envelope(id, field, body), nil
}

// v2Bytes returns the sample's message marshalled, marshalling it once.
func (s *sample[M]) v2Bytes(marshal func(M) ([]byte, error)) ([]byte, error) {
	s.v2Once.Do(func() { s.v2Body, s.v2Err = marshal(s.msg) })
	return s.v2Body, s.v2Err
}

// envelope encodes Response{id, body-field: body} by hand.
func envelope(id uint32, field protowire.Number, body []byte) []byte {
	b := make([]byte, 0, len(body)+16)
	if id != 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(id))
	}
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, body)
}

// collector turns procfs readings into wire messages. Each collect method
// is called by one cache at a time (single-flight), which is what the
// stateful CPU tracker and process sampler require.
type collector struct {
	fs      *procfs.FS
	cfg     Config
	cpu     *procfs.CPUTracker
	procs   *procfs.ProcessSampler
	sensors *sensors
	// topProcess names the busiest process for the metrics sample.
	topProcess func(context.Context) *wire.ProcessInfo

	procBuf []procfs.Process // reused between process samples
	host    procfs.Host      // re-read after hostTTL
	hostAt  time.Time
	lastN   uint32     // process count of the latest process sample
	mu      sync.Mutex // guards host and lastN, read by Hello and /metrics
}

func newCollector(fs *procfs.FS, cfg Config) *collector {
	return &collector{fs: fs, cfg: cfg, cpu: fs.NewCPUTracker(), procs: fs.NewProcessSampler(),
		sensors: &sensors{fs: fs, temps: cfg.Temps, gpu: cfg.GPU}}
}

func nowMS() uint64 { return uint64(time.Now().UnixMilli()) }

func (c *collector) metrics(ctx context.Context) (*sample[*wire.Metrics], error) {
	usage, err := c.cpu.Sample(ctx)
	if err != nil {
		return nil, err
	}
	m := &wire.Metrics{SampledAtMs: nowMS(), CpuTotal: float32(usage.Total)}
	cores := usage.PerCore[:min(len(usage.PerCore), wire.MaxCores)]
	m.CpuPerCore = make([]float32, len(cores))
	for i, v := range cores {
		m.CpuPerCore[i] = float32(v)
	}
	if mi, err := c.fs.Meminfo(); err == nil {
		m.MemTotal, m.MemUsed, m.MemAvailable = mi.Total, mi.Used(), mi.Available
		m.MemBuffers, m.MemCached = mi.Buffers, mi.Cached
		m.SwapTotal, m.SwapUsed = mi.SwapTotal, mi.SwapUsed()
	} else {
		return nil, err
	}
	if la, err := c.fs.LoadAvg(); err == nil {
		m.Load1, m.Load5, m.Load15 = la.One, la.Five, la.Fifteen
	}
	// Uptime from the boot time the CPU sample already read (btime of
	// /proc/stat), sparing a read of /proc/uptime per sample.
	if bt := usage.Stat.BootTime; bt > 0 {
		m.UptimeS = max(float64(time.Now().UnixMilli())/1000-float64(bt), 0)
	}
	m.Hostname = c.hostInfo().Hostname
	if nd, err := c.fs.NetDev(); err == nil {
		nd = nd[:min(len(nd), wire.MaxInterfaces)] // what a client believes (wire/plausible.go)
		m.Networks = make([]*wire.Network, len(nd))
		for i, n := range nd {
			m.Networks[i] = &wire.Network{Name: validText(n.Name), RxBytes: n.RxBytes, TxBytes: n.TxBytes,
				RxPackets: n.RxPackets, TxPackets: n.TxPackets, RxErrors: n.RxErrors, TxErrors: n.TxErrors,
				RxDrops: n.RxDrop, TxDrops: n.TxDrop}
		}
	}
	c.sensors.add(ctx, m)
	if c.topProcess != nil {
		m.TopProcess = c.topProcess(ctx)
	}
	c.mu.Lock()
	m.ProcessCount = c.lastN
	c.mu.Unlock()
	return newSample(m), nil
}

func (c *collector) processes(ctx context.Context) (*sample[*wire.Processes], error) {
	ps, err := c.procs.Sample(ctx, c.procBuf)
	if err != nil {
		return nil, err
	}
	c.procBuf = ps
	out := c.processRows(ps)
	c.mu.Lock()
	c.lastN = uint32(len(ps))
	c.mu.Unlock()
	return newSample(out), nil
}

// processRows converts a process sample to the wire list.
func (c *collector) processRows(ps []procfs.Process) *wire.Processes {
	boot := uint64(c.procs.BootTime())
	hz := c.fs.ClockTicks()
	// Lists are cut where a client would refuse them as implausible.
	ps = ps[:min(len(ps), wire.MaxProcesses)]
	// Two allocations for the whole list: the rows and the pointers to them.
	rows := make([]wire.ProcessInfo, len(ps))
	out := &wire.Processes{SampledAtMs: nowMS(), Processes: make([]*wire.ProcessInfo, len(ps)), TicksPerSecond: uint32(hz)}
	for i := range ps {
		p := &ps[i]
		r := &rows[i]
		r.Pid, r.Ppid, r.Name, r.State = uint32(p.PID), uint32(p.PPID), validText(p.Name), stateString(p.State)
		r.Uid, r.User = p.UID, validText(c.fs.UserName(p.UID))
		r.CpuPercent, r.RssBytes, r.VirtualBytes = float32(p.CPU), p.RSS, p.VSize
		r.Threads, r.CpuTicks = uint32(p.Threads), p.UTime+p.STime
		if hz > 0 {
			r.StartTime = boot + p.StartTime/hz
		}
		out.Processes[i] = r
	}
	return out
}

// stateStrings avoids allocating a one-letter string per process.
var stateStrings = func() (t [256]string) {
	for i := range t {
		t[i] = string(rune(i))
	}
	return t
}()

func stateString(b byte) string { return stateStrings[b] }

// hostTTL is how long the host's names are trusted: a hostname changes
// rarely, and re-reading three files per metrics sample is measurable.
const hostTTL = 30 * time.Second

func (c *collector) hostInfo() procfs.Host {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.host.Hostname == "" || time.Since(c.hostAt) > hostTTL {
		if fresh, err := c.fs.Host(); err == nil {
			// sethostname(2) takes any bytes; so could a kernel's release.
			for _, s := range []*string{&fresh.Hostname, &fresh.KernelRelease, &fresh.KernelVersion, &fresh.Arch, &fresh.CPUModel, &fresh.BoardModel} {
				*s = validText(*s)
			}
			c.host, c.hostAt = fresh, time.Now()
		}
	}
	return c.host
}
