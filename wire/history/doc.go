// Package history is socktop's memory of past samples: the agent's flight
// recorder (socktop agent --history) and the dashboard's recordings
// (socktop connect --record, socktop replay) share it.
//
// A Store keeps wire.HistorySample values in a compact encoding (deltas,
// varints, names interned per block of samples, see FORMAT.md), bounded to
// a duration, a sample count and a byte budget; the oldest samples go
// first. Open attaches an append-only file to a store: every Append writes
// one framed, CRC32C-checked record, the file is rewritten (atomically,
// by rename) when it grows past twice what the kept samples need, and
// loading it skips a torn or corrupt tail instead of refusing to start.
//
// FromSnapshot turns one metrics, disks and process sample into the
// HistorySample to append; Store.Answer serves a wire.HistoryRequest, with
// downsampling by averaging into time buckets; EncodeJSON is the JSON
// dialect's reply.
//
// Every value taken from a peer or a file is bounded here: name length
// (MaxNameLen, valid UTF-8), cores, interfaces, disks and processes per
// sample, names per block, record size. Values outside the protocol's
// ranges are clamped; see FORMAT.md for the precision kept.
package history

// Bounds of one sample. Excess entries are dropped (the first ones are
// kept: FromSnapshot lists the busiest processes first).
const (
	// MaxNameLen bounds an interface, disk or process name in bytes (Linux
	// names are at most 15; longer ones are cut at a rune boundary).
	MaxNameLen = 64
	// MaxCores bounds cpu_per_core.
	MaxCores = 1024
	// MaxNetworks and MaxDisks bound the counters kept per sample.
	MaxNetworks = 64
	MaxDisks    = 64
	// MaxTopProcesses bounds top_processes (FromSnapshot keeps at most
	// TopByCPU + TopByMemory).
	MaxTopProcesses = 32
	// TopByCPU and TopByMemory are how many processes FromSnapshot and the
	// downsampling keep: the busiest by CPU and the largest by memory.
	TopByCPU    = 10
	TopByMemory = 10
)

// Bounds of a store and of a request.
const (
	// DefaultMaxBytes is the default memory budget of a Store's encoded
	// samples (a day at 10 s with 1,000 processes needs about 1.4 MiB).
	DefaultMaxBytes = 64 << 20
	// HardMaxSamples bounds Options.MaxSamples.
	HardMaxSamples = 1 << 21
	// DefaultMaxPoints is what a HistoryRequest with max_points 0 gets.
	DefaultMaxPoints = 1000
	// MaxPoints bounds max_points: a larger request gets this many.
	MaxPoints = 10000
)
