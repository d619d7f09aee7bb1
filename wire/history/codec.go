package history

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/socktop/socktop/wire"
)

// ErrCorrupt reports a record that does not decode (always wrapped with
// what was wrong).
var ErrCorrupt = errors.New("corrupt history record")

// Record kinds (FORMAT.md, "Sample encoding").
const (
	kindKey   = 1 // the chain restarts: no names, no previous values
	kindDelta = 2 // relative to the chain's previous record
	// Kinds from kindSkippable up carry no sample and may be skipped by a
	// reader that does not know them; kinds below it that a reader does not
	// know are damage.
	kindSkippable = 16
)

const flagTemp = 1 << 0

// Bounds of a chain and of the values in it. A writer starts a new chain
// every samplesPerBlock records; a reader accepts up to maxChainSamples.
const (
	samplesPerBlock = 64
	maxChainSamples = 1024
	maxChainNames   = 1 << 16
	maxRecordLen    = 64 << 10
	maxBytesValue   = 1<<62 - 1 // memory in bytes; more is clamped
	maxCenti        = 100_00    // 100.00 %
	maxLoadCenti    = 1_000_000_00
	minTempDeci     = -273_0
	maxTempDeci     = 10_000_0
)

type rowRef struct {
	pid, name uint32
	mem       uint64
}

// counterPrev is the previous value of the counters named by one name id.
type counterPrev struct{ net, disk [2]uint64 }

// chain is the state consecutive records share. The encoder and the
// decoder keep identical chains, so one type serves both directions.
type chain struct {
	n        int // records in the chain so far
	names    []string
	ids      map[string]uint32 // encoder side only
	at       uint64
	mem      [4]uint64 // mem_total, mem_used, swap_total, swap_used
	counters []counterPrev
	rows     []rowRef // the previous record's processes
	next     []rowRef // scratch for the current record's
}

func (c *chain) reset() {
	c.n, c.at, c.mem = 0, 0, [4]uint64{}
	c.names, c.counters, c.rows = c.names[:0], c.counters[:0], c.rows[:0]
	clear(c.ids)
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// ---------------------------------------------------------------------------
// Quantization (FORMAT.md, "Precision").

func centi(f float32) uint64 {
	switch {
	case !(f > 0): // also NaN
		return 0
	case f >= 100:
		return maxCenti
	}
	return uint64(math.Round(float64(f) * 100))
}

func fromCenti(u uint64) float32 { return float32(float64(u) / 100) }

func loadCenti(f float64) uint64 {
	switch {
	case !(f > 0):
		return 0
	case f*100 >= maxLoadCenti:
		return maxLoadCenti
	}
	return uint64(math.Round(f * 100))
}

func tempDeci(f float32) int64 {
	return int64(math.Round(math.Min(math.Max(float64(f), minTempDeci/10), maxTempDeci/10) * 10))
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

func clampBytes(v uint64) uint64 { return min(v, maxBytesValue) }

func zigzag(d int64) uint64   { return uint64(d<<1) ^ uint64(d>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// Byte quantities are nearly always whole KiB (meminfo, pages): such a value
// is stored in KiB with the low bit 0, any other exactly with the low bit 1.
func kibAbs(v uint64) uint64 {
	if v%1024 == 0 {
		return v / 1024 << 1
	}
	return v<<1 | 1
}

func kibDelta(v, prev uint64) uint64 {
	d := int64(v - prev)
	if d%1024 == 0 {
		return zigzag(d/1024) << 1
	}
	return zigzag(d)<<1 | 1
}

// ---------------------------------------------------------------------------
// Encoding.

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// name appends the reference to s (defining it on first use in the chain).
func (c *chain) name(b []byte, s string) ([]byte, uint32) {
	s = CleanName(s)
	if id, ok := c.ids[s]; ok {
		return appendUvarint(b, uint64(id)), id
	}
	id := uint32(len(c.names))
	b = appendUvarint(b, uint64(id))
	b = appendUvarint(b, uint64(len(s)))
	b = append(b, s...)
	if c.ids == nil {
		c.ids = make(map[string]uint32)
	}
	c.names = append(c.names, s)
	c.ids[s] = id
	c.counters = append(c.counters, counterPrev{})
	return b, id
}

// encode appends the payload of one record for hs (whose time the caller
// has checked is after the chain's) and advances the chain. Values are
// clamped and lists bounded as FORMAT.md says.
func (c *chain) encode(b []byte, hs *wire.HistorySample) []byte {
	key := c.n == 0
	if key {
		b = append(b, kindKey)
	} else {
		b = append(b, kindDelta)
	}
	var flags uint64
	if t := hs.HottestTempC; t != nil && finite(*t) {
		flags |= flagTemp
	}
	b = appendUvarint(b, flags)
	if key {
		b = appendUvarint(b, hs.GetSampledAtMs())
	} else {
		b = appendUvarint(b, hs.GetSampledAtMs()-c.at)
	}
	c.at = hs.GetSampledAtMs()
	b = appendUvarint(b, centi(hs.GetCpuTotal()))
	cores := hs.GetCpuPerCore()[:min(len(hs.GetCpuPerCore()), MaxCores)]
	b = appendUvarint(b, uint64(len(cores)))
	for _, v := range cores {
		b = appendUvarint(b, centi(v))
	}
	for i, v := range [4]uint64{hs.GetMemTotal(), hs.GetMemUsed(), hs.GetSwapTotal(), hs.GetSwapUsed()} {
		v = clampBytes(v)
		if key {
			b = appendUvarint(b, kibAbs(v))
		} else {
			b = appendUvarint(b, kibDelta(v, c.mem[i]))
		}
		c.mem[i] = v
	}
	for _, v := range [3]float64{hs.GetLoad1(), hs.GetLoad5(), hs.GetLoad15()} {
		b = appendUvarint(b, loadCenti(v))
	}
	if flags&flagTemp != 0 {
		b = appendUvarint(b, zigzag(tempDeci(*hs.HottestTempC)))
	}

	b = appendCounters(c, b, hs.GetNetworks(), MaxNetworks, false, func(n *wire.Network) (string, [2]uint64) {
		return n.Name, [2]uint64{n.RxBytes, n.TxBytes}
	})
	b = appendCounters(c, b, hs.GetDisks(), MaxDisks, true, func(d *wire.Disk) (string, [2]uint64) {
		return d.Name, [2]uint64{d.ReadBytes, d.WriteBytes}
	})

	procs := hs.GetTopProcesses()
	b = appendUvarint(b, uint64(countNonNil(procs, MaxTopProcesses)))
	c.next = c.next[:0]
	for _, p := range procs {
		if p == nil || len(c.next) == MaxTopProcesses {
			continue
		}
		mem := clampBytes(p.MemBytes)
		ref := -1
		if id, ok := c.ids[CleanName(p.Name)]; ok {
			for k, r := range c.rows {
				if r.pid == p.Pid && r.name == id {
					ref = k
					break
				}
			}
		}
		var id uint32
		if ref >= 0 {
			r := c.rows[ref]
			id = r.name
			b = appendUvarint(b, uint64(ref)+1)
			b = appendUvarint(b, centi(p.CpuUsage))
			b = appendUvarint(b, kibDelta(mem, r.mem))
		} else {
			b = appendUvarint(b, 0)
			b = appendUvarint(b, uint64(p.Pid))
			b, id = c.name(b, p.Name)
			b = appendUvarint(b, centi(p.CpuUsage))
			b = appendUvarint(b, kibAbs(mem))
		}
		c.next = append(c.next, rowRef{pid: p.Pid, name: id, mem: mem})
	}
	c.rows, c.next = c.next, c.rows
	c.n++
	return b
}

// appendCounters appends a list of named counter pairs (networks or disks),
// each as deltas against the previous value of its name in the chain.
func appendCounters[T any](c *chain, b []byte, list []*T, limit int, disk bool, get func(*T) (string, [2]uint64)) []byte {
	b = appendUvarint(b, uint64(countNonNil(list, limit)))
	kept := 0
	for _, e := range list {
		if e == nil || kept == limit {
			continue
		}
		kept++
		name, v := get(e)
		var id uint32
		b, id = c.name(b, name)
		p := c.counter(id, disk)
		b = appendUvarint(b, zigzag(int64(v[0]-p[0])))
		b = appendUvarint(b, zigzag(int64(v[1]-p[1])))
		*p = v
	}
	return b
}

// counter is the previous value of the network or disk counters of name id.
func (c *chain) counter(id uint32, disk bool) *[2]uint64 {
	if disk {
		return &c.counters[id].disk
	}
	return &c.counters[id].net
}

func countNonNil[T any](s []*T, limit int) int {
	n := 0
	for _, v := range s {
		if v != nil {
			n++
		}
	}
	return min(n, limit)
}

// ---------------------------------------------------------------------------
// Decoding.

// reader walks one payload; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) > 0 && r.b[0] < 0x80 { // most fields fit one byte
		v := uint64(r.b[0])
		r.b = r.b[1:]
		return v
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = corrupt("bad varint (%s)", what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bounded reads a uvarint that must not exceed limit.
func (r *reader) bounded(what string, limit uint64) uint64 {
	v := r.uvarint(what)
	if v > limit && r.err == nil {
		r.err = corrupt("%s %d exceeds %d", what, v, limit)
	}
	return v
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = corrupt(format, args...)
	}
}

func (c *chain) readName(r *reader) (string, uint32) {
	id := r.uvarint("name")
	if r.err != nil {
		return "", 0
	}
	if id < uint64(len(c.names)) {
		return c.names[id], uint32(id)
	}
	if id > uint64(len(c.names)) || len(c.names) >= maxChainNames {
		r.fail("name %d out of range (%d defined)", id, len(c.names))
		return "", 0
	}
	n := r.bounded("name length", MaxNameLen)
	if r.err == nil && n > uint64(len(r.b)) {
		r.fail("name runs past the record")
	}
	if r.err != nil {
		return "", 0
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	if !utf8.ValidString(s) {
		r.fail("name %d is not UTF-8", id)
		return "", 0
	}
	c.names = append(c.names, s)
	c.counters = append(c.counters, counterPrev{})
	return s, uint32(id)
}

func (r *reader) kibAbs(what string) uint64 {
	u := r.uvarint(what)
	v := u >> 1
	if u&1 == 0 {
		if v > maxBytesValue/1024 {
			r.fail("%s out of range", what)
			return 0
		}
		v *= 1024
	}
	if v > maxBytesValue {
		r.fail("%s out of range", what)
		return 0
	}
	return v
}

func (r *reader) kibDelta(what string, prev uint64) uint64 {
	u := r.uvarint(what)
	d := unzigzag(u >> 1)
	if u&1 == 0 {
		if d > maxBytesValue/1024 || d < -maxBytesValue/1024 {
			r.fail("%s out of range", what)
			return 0
		}
		d *= 1024
	}
	v := prev + uint64(d)
	if v > maxBytesValue {
		r.fail("%s out of range", what)
		return 0
	}
	return v
}

// decode reads one sample payload (kindKey or kindDelta) into a new
// HistorySample and advances the chain. On error the chain is unusable
// until the next key record.
func (c *chain) decode(p []byte) (*wire.HistorySample, error) {
	hs := &wire.HistorySample{}
	if err := c.decodeInto(p, hs); err != nil {
		return nil, err
	}
	return hs, nil
}

// decodeInto is decode into hs, reusing the memory of its lists (a
// scratch sample for callers that only read it before the next call).
func (c *chain) decodeInto(p []byte, hs *wire.HistorySample) error {
	if len(p) == 0 {
		return corrupt("empty record")
	}
	switch p[0] {
	case kindKey:
		c.reset()
	case kindDelta:
		if c.n == 0 {
			return corrupt("delta record without a key record")
		}
		if c.n >= maxChainSamples {
			return corrupt("chain longer than %d records", maxChainSamples)
		}
	default:
		return corrupt("unknown record kind %d", p[0])
	}
	key := p[0] == kindKey
	r := &reader{b: p[1:]}
	flags := r.uvarint("flags")
	if flags&^flagTemp != 0 {
		r.fail("unknown flags %#x", flags)
	}
	if key {
		hs.SampledAtMs = r.uvarint("time")
	} else {
		d := r.uvarint("time delta")
		if r.err == nil && (d == 0 || c.at+d < c.at) {
			r.fail("time delta %d does not move forward", d)
		}
		hs.SampledAtMs = c.at + d
	}
	hs.CpuTotal = fromCenti(r.bounded("cpu_total", maxCenti))
	hs.CpuPerCore = hs.CpuPerCore[:0]
	if n := r.bounded("cores", MaxCores); r.err == nil && n > 0 {
		if n > uint64(len(r.b)) {
			r.fail("cores run past the record")
		} else {
			hs.CpuPerCore = slices.Grow(hs.CpuPerCore, int(n))
			for range n {
				hs.CpuPerCore = append(hs.CpuPerCore, fromCenti(r.bounded("core", maxCenti)))
			}
		}
	}
	if len(hs.CpuPerCore) == 0 {
		hs.CpuPerCore = nil
	}
	var mem [4]uint64
	for i := range mem {
		if key {
			mem[i] = r.kibAbs("memory")
		} else {
			mem[i] = r.kibDelta("memory", c.mem[i])
		}
	}
	hs.MemTotal, hs.MemUsed, hs.SwapTotal, hs.SwapUsed = mem[0], mem[1], mem[2], mem[3]
	hs.Load1 = float64(r.bounded("load", maxLoadCenti)) / 100
	hs.Load5 = float64(r.bounded("load", maxLoadCenti)) / 100
	hs.Load15 = float64(r.bounded("load", maxLoadCenti)) / 100
	if flags&flagTemp != 0 {
		d := unzigzag(r.uvarint("temperature"))
		if d < minTempDeci || d > maxTempDeci {
			r.fail("temperature %d out of range", d)
		}
		if hs.HottestTempC == nil {
			hs.HottestTempC = new(float32)
		}
		*hs.HottestTempC = float32(float64(d) / 10)
	} else {
		hs.HottestTempC = nil
	}
	if r.err != nil {
		return r.err
	}
	hs.Networks = readCounters(c, r, hs.Networks, MaxNetworks, "networks", func(n *wire.Network, name string, v [2]uint64) {
		*n = wire.Network{Name: name, RxBytes: v[0], TxBytes: v[1]}
	}, false)
	hs.Disks = readCounters(c, r, hs.Disks, MaxDisks, "disks", func(d *wire.Disk, name string, v [2]uint64) {
		*d = wire.Disk{Name: name, ReadBytes: v[0], WriteBytes: v[1]}
	}, true)
	c.readProcesses(r, hs)
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return corrupt("%d bytes after the sample", len(r.b))
	}
	c.at, c.mem = hs.SampledAtMs, mem
	c.n++
	return nil
}

// fillPtrs returns dst resized to n non-nil elements, reusing what dst
// holds and allocating the missing ones in one backing array; nil for 0.
func fillPtrs[T any](dst []*T, n int) []*T {
	if n == 0 {
		return nil
	}
	if cap(dst) < n {
		backing := make([]T, n)
		dst = make([]*T, n)
		for i := range dst {
			dst[i] = &backing[i]
		}
		return dst
	}
	dst = dst[:n]
	for i := range dst {
		if dst[i] == nil {
			dst[i] = new(T)
		}
	}
	return dst
}

type namedCounter struct {
	name string
	v    [2]uint64
}

// readCounters reads a list of named counter pairs (networks, or disks)
// into dst, setting each element with set.
func readCounters[T any](c *chain, r *reader, dst []*T, limit uint64, what string, set func(*T, string, [2]uint64), disk bool) []*T {
	n := r.bounded(what, limit)
	if r.err != nil {
		return nil
	}
	dst = fillPtrs(dst, int(n))
	for _, e := range dst {
		name, id := c.readName(r)
		d0, d1 := unzigzag(r.uvarint(what)), unzigzag(r.uvarint(what))
		if r.err != nil {
			return nil
		}
		p := c.counter(id, disk)
		*p = [2]uint64{p[0] + uint64(d0), p[1] + uint64(d1)}
		set(e, name, *p)
	}
	return dst
}

func (c *chain) readProcesses(r *reader, hs *wire.HistorySample) {
	n := r.bounded("processes", MaxTopProcesses)
	if r.err != nil {
		return
	}
	c.next = c.next[:0]
	hs.TopProcesses = fillPtrs(hs.TopProcesses, int(n))
	for _, p := range hs.TopProcesses {
		tag := r.uvarint("process")
		if r.err != nil {
			return
		}
		var ref rowRef
		var cpu float32
		if tag == 0 {
			pid := r.bounded("pid", math.MaxUint32)
			_, id := c.readName(r)
			ref = rowRef{pid: uint32(pid), name: id}
			cpu = fromCenti(r.bounded("process cpu", maxCenti))
			ref.mem = r.kibAbs("process memory")
		} else {
			if tag > uint64(len(c.rows)) {
				r.fail("process refers to row %d of %d", tag-1, len(c.rows))
				return
			}
			ref = c.rows[tag-1]
			cpu = fromCenti(r.bounded("process cpu", maxCenti))
			ref.mem = r.kibDelta("process memory", ref.mem)
		}
		if r.err != nil {
			return
		}
		*p = wire.Process{Pid: ref.pid, Name: c.names[ref.name], CpuUsage: cpu, MemBytes: ref.mem}
		c.next = append(c.next, ref)
	}
	c.rows, c.next = c.next, c.rows
}
