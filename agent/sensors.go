package agent

import (
	"context"
	"sync"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
)

// sensors reads temperatures and GPUs for the metrics sample. procfs caches
// what it discovered (an agent without a GPU never probes again), so this
// costs the reads of the sensor files only.
type sensors struct {
	fs         *procfs.FS
	temps, gpu bool
	once       sync.Once
	haveTemps  bool
	haveGPU    bool
}

// probe finds out once whether this machine has temperature sensors and
// GPUs, for Hello's capabilities. It runs at the first request, not at start.
func (s *sensors) probe(ctx context.Context) {
	s.once.Do(func() {
		if s.temps {
			t, err := s.fs.Temperatures()
			s.haveTemps = err == nil && len(t) > 0
		}
		if s.gpu {
			g, err := s.fs.GPUs(ctx)
			s.haveGPU = err == nil && len(g) > 0
		}
	})
}

func (s *sensors) add(ctx context.Context, m *wire.Metrics) {
	s.probe(ctx)
	if s.haveTemps {
		if ts, err := s.fs.Temperatures(); err == nil {
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
	}
	if s.haveGPU {
		if gs, err := s.fs.GPUs(ctx); err == nil {
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
