package sockdiag

import (
	"sync"
	"time"
)

// DefaultRescanAfter is how old the process map may grow before Collect
// rescans every process's file descriptors instead of only the ones that may
// own a socket it has not seen.
const DefaultRescanAfter = time.Minute

// Collector lists sockets. It keeps the socket inode → process map of the
// previous Collect, so repeated calls (one per cache TTL on the agent) only
// read the /proc/<pid>/fd directories that may hold new sockets.
//
// A Collector is safe for concurrent use; calls are serialised.
type Collector struct {
	procRoot string

	// RescanAfter bounds the age of the process map (default
	// DefaultRescanAfter): an older map is rebuilt by a full scan, which
	// catches sockets that moved between processes. Set before first use.
	RescanAfter time.Duration

	mu    sync.Mutex
	buf   []byte // netlink receive buffer
	req   []byte
	seq   uint32
	res   resolver
	stats Stats

	noNetlink error // tests: pretend netlink is refused with this error
	// rootChecked is set once procRoot has been checked to be a procfs;
	// when it is not (a fixture tree), netlink, which describes this
	// kernel, is not asked and noNetlink says why.
	rootChecked bool
}

// NewCollector returns a Collector reading processes and the /proc/net
// fallback under procRoot (normally "/proc"). When procRoot is not a
// procfs (a fixture tree), the sockets are read from its net/ files only:
// netlink would list this kernel's.
func NewCollector(procRoot string) *Collector {
	return &Collector{procRoot: procRoot, RescanAfter: DefaultRescanAfter}
}

// Stats returns what the last Collect did: whether netlink was used (and
// why not), how many fd directories and links it read.
func (c *Collector) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Collect appends the sockets selected by opts to dst and returns the
// extended slice (pass old[:0] to reuse storage). Sockets come from the
// netlink sock_diag dump, or from /proc/net when netlink is refused; see
// Stats for which. With opts.Processes it fills PID and Process, reading
// /proc/<pid>/fd at most once per call. If only the owner lookup fails, the
// sockets are returned together with the error.
func (c *Collector) Collect(dst []Socket, opts Options) ([]Socket, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.collect(dst, opts)
}
