package agent

import (
	"sync"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/procfs/sockdiag"
	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// sample is one collected message shared by every client, with its
// encodings made at most once each: a hundred clients asking for the same
// sample cost one collection and one encoding per dialect.
type sample[M message] struct {
	msg M

	// aux is what travels with the sample for its kind's own use (a
	// process sample's stat openings, for the command lines).
	aux any

	jsonOnce, cmdOnce, v2Once sync.Once
	jsonFrame, cmdFrame       wire.Frame
	body                      []byte
	bodyErr                   error
}

func newSample[M message](m M) *sample[M] { return &sample[M]{msg: m} }

func (s *sample[M]) message() proto.Message { return s.msg }

// frame returns the JSON- or command-dialect reply, encoding it once.
func (s *sample[M]) frame(d wire.Dialect, enc func(wire.Dialect, proto.Message) wire.Frame) wire.Frame {
	if d == wire.DialectCommand {
		s.cmdOnce.Do(func() { s.cmdFrame = enc(d, s.msg) })
		return s.cmdFrame
	}
	s.jsonOnce.Do(func() { s.jsonFrame = enc(d, s.msg) })
	return s.jsonFrame
}

// v2Body returns the sample's message marshalled, marshalling it once;
// only the small envelope is built per request (the bytes are exactly
// what marshalling the Response message would produce).
func (s *sample[M]) v2Body() ([]byte, error) {
	s.v2Once.Do(func() { s.body, s.bodyErr = s.msg.MarshalVT() })
	return s.body, s.bodyErr
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
	fs *procfs.FS
	// sys reads the files re-read every sample (/proc/stat, meminfo,
	// loadavg, net/dev, diskstats, mountinfo, the sensors), keeping them
	// open in held between samples; released with the process sampler's
	// files while nobody watches.
	sys     *procfs.FS
	held    *procfs.HeldFiles
	cfg     Config
	cpu     *procfs.CPUTracker
	procs   *procfs.ProcessSampler
	sensors *sensors
	// groups names each process's container (containers.go); nil when
	// the agent does not serve containers.
	groups *groupCollector

	users    *users
	commands *commands // the command lines (commands.go)
	// sockets lists sockets for the connections kind and the traffic
	// extras, so both keep one socket inode → process map.
	sockets *sockdiag.Collector
	traffic *traffic // the net and io extras (traffic.go)
	// diskState is what Disks learnt of block devices, forgotten each
	// blockRecheck (disks.go).
	diskState *procfs.DiskState
	disksAt   time.Time

	procBuf []procfs.Process // reused between process samples
	host    procfs.Host      // names re-read after hostTTL, hardware once
	hostAt  time.Time
	lastN   uint32     // process count of the latest process sample
	mu      sync.Mutex // guards host and lastN, read by Hello and /metrics
}

func newCollector(fs *procfs.FS, cfg Config) *collector {
	held := procfs.NewHeldFiles()
	sys := fs.Holding(held)
	c := &collector{fs: fs, sys: sys, held: held, cfg: cfg, cpu: sys.NewCPUTracker(), procs: sys.NewProcessSampler(),
		sensors: &sensors{fs: sys, temps: cfg.Temps, gpu: cfg.GPU}, users: &users{fs: fs}, commands: newCommands(fs),
		diskState: procfs.NewDiskState(), sockets: sockdiag.NewCollector(cfg.ProcRoot)}
	c.traffic = newTraffic(fs, c.sockets)
	c.cpu.StaleAfter, c.procs.StaleAfter = cfg.StaleAfter, cfg.StaleAfter
	return c
}

func nowMS() uint64 { return uint64(time.Now().UnixMilli()) }

// hostTTL is how long the host's names are trusted: a hostname changes
// rarely, and re-reading three files per metrics sample is measurable. The
// hardware (cpuinfo, 100 KB on a big server) is read once.
const hostTTL = 30 * time.Second

func (c *collector) hostInfo() procfs.Host {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.host.Hostname == "" || time.Since(c.hostAt) > hostTTL {
		read := c.fs.Host
		if c.host.Hostname != "" {
			read = func() (procfs.Host, error) {
				h, err := c.fs.HostNames()
				h.Arch, h.CPUModel, h.BoardModel, h.CPUs = c.host.Arch, c.host.CPUModel, c.host.BoardModel, c.host.CPUs
				return h, err
			}
		}
		if fresh, err := read(); err == nil {
			// sethostname(2) takes any bytes; so could a kernel's release.
			for _, s := range []*string{&fresh.Hostname, &fresh.KernelRelease, &fresh.KernelVersion, &fresh.Arch, &fresh.CPUModel, &fresh.BoardModel} {
				*s = validText(*s)
			}
			c.host, c.hostAt = fresh, time.Now()
		}
	}
	return c.host
}
