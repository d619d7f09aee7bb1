package agent

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
)

// sensors reads temperatures and GPUs for the metrics sample. It keeps
// what discovery found (an agent without a GPU never probes again; the
// temperature sensors are looked for again each tempRediscover), so a
// sample costs the reads of the sensor files only, plus nvidia-smi where
// NVIDIA cards are.
type sensors struct {
	fs         *procfs.FS
	temps, gpu bool

	once      sync.Once
	haveTemps bool
	haveGPU   bool

	mu          sync.Mutex // the metrics collection and the probe
	tempSensors []procfs.TempSensor
	tempsAt     time.Time
	cards       []procfs.GPUCard
	smi         nvidiaSMI
}

// tempRediscover is how long the set of temperature sensors is trusted
// (hot-plug aside, it is fixed for the life of a machine).
const tempRediscover = time.Minute

// nvidiaSMI runs nvidia-smi for the NVIDIA cards, which sysfs knows little
// of: with a timeout, and not again after smiMaxFailures failures in a row.
type nvidiaSMI struct {
	path    string // "" when absent or given up on
	timeout time.Duration
	fails   int
}

const (
	nvidiaSMITimeout = 2 * time.Second
	smiMaxFailures   = 3
)

func (n *nvidiaSMI) read(ctx context.Context) ([]procfs.GPU, error) {
	if n.path == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, n.path, procfs.NvidiaSMIArgs()...).Output()
	switch {
	case ctx.Err() != nil:
		err = fmt.Errorf("nvidia-smi: %w", ctx.Err())
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			err = fmt.Errorf("nvidia-smi: %w: %s", err, firstLines(string(ee.Stderr), 1))
		} else {
			err = fmt.Errorf("nvidia-smi: %w", err)
		}
	}
	var gs []procfs.GPU
	if err == nil {
		gs, err = procfs.ParseNvidiaSMI(out)
	}
	if err != nil {
		if n.fails++; n.fails >= smiMaxFailures {
			n.path = "" // a broken driver: stop paying for it
		}
		return nil, err
	}
	n.fails = 0
	return gs, nil
}

// probe finds out once whether this machine has temperature sensors and
// GPUs, for Hello's capabilities. It runs at the first request, not at start.
func (s *sensors) probe(ctx context.Context) {
	s.once.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.temps {
			s.haveTemps = len(s.readTemps()) > 0
		}
		if s.gpu {
			s.cards = s.fs.DiscoverGPUs()
			s.smi = nvidiaSMI{timeout: nvidiaSMITimeout}
			if p, err := exec.LookPath("nvidia-smi"); err == nil {
				s.smi.path = p
			}
			gs, err := s.readGPUs(ctx)
			s.haveGPU = err == nil && len(gs) > 0
		}
	})
}

// readTemps reads the sensors, looking for them again when due. Called
// with s.mu held.
func (s *sensors) readTemps() []procfs.Temp {
	if now := time.Now(); s.tempsAt.IsZero() || now.Sub(s.tempsAt) > tempRediscover {
		s.tempSensors, s.tempsAt = s.fs.DiscoverTemps(), now
	}
	return s.fs.ReadTemps(s.tempSensors)
}

// readGPUs reads every card found and nvidia-smi's. Called with s.mu held.
func (s *sensors) readGPUs(ctx context.Context) ([]procfs.GPU, error) {
	out := make([]procfs.GPU, 0, len(s.cards))
	for i := range s.cards {
		out = append(out, s.fs.ReadGPU(ctx, &s.cards[i]))
	}
	gs, err := s.smi.read(ctx)
	if err != nil && len(out) == 0 {
		return nil, err
	}
	return append(out, gs...), nil
}

func (s *sensors) add(ctx context.Context, m *wire.Metrics) {
	s.probe(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.haveTemps {
		ts := s.readTemps()
		ts = ts[:min(len(ts), wire.MaxTemperatures)] // what a client believes (wire/plausible.go)
		m.Temperatures = make([]*wire.Temperature, len(ts))
		for i, t := range ts {
			m.Temperatures[i] = &wire.Temperature{Label: validText(t.Label), Sensor: validText(t.Chip), ValueC: float32(t.Celsius)}
		}
		if c, ok := procfs.CPUTemperature(ts); ok {
			v := float32(c)
			m.CpuTempC = &v
		}
	}
	if s.haveGPU {
		if gs, err := s.readGPUs(ctx); err == nil {
			gs = gs[:min(len(gs), wire.MaxGPUs)]
			m.Gpus = make([]*wire.Gpu, len(gs))
			for i, g := range gs {
				w := &wire.Gpu{Name: validText(g.Name), Vendor: validText(g.Vendor)}
				if g.Usage != nil {
					w.Usage = float32(*g.Usage)
				}
				if g.MemUsed != nil {
					w.MemUsed = *g.MemUsed
				}
				if g.MemTotal != nil {
					w.MemTotal = *g.MemTotal
				}
				if g.TempC != nil {
					v := float32(*g.TempC)
					w.TempC = &v
				}
				m.Gpus[i] = w
			}
		}
	}
}
