package procfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Sentinel errors callers may branch on (always wrapped with context).
var (
	// ErrMalformed reports input a parser does not understand.
	ErrMalformed = errors.New("malformed input")
	// ErrNotFound reports a process or object that does not exist (any more).
	ErrNotFound = errors.New("not found")
	// ErrNotSupported reports a reader that is unavailable on this platform.
	ErrNotSupported = errors.New("not supported on this platform")
)

// StatfsResult is the part of statfs(2) that Disks needs, in bytes.
type StatfsResult struct {
	Total, Free, Available uint64
}

// FS reads one proc and one sys tree. Create it with NewFS or DefaultFS.
// It remembers nothing of what it reads: what is worth keeping between
// readings (discovered sensors and cards, block devices, user names, the
// previous CPU counters) is a value its caller keeps, with the lifetime the
// caller chooses. Its methods are safe for concurrent use.
type FS struct {
	proc, sys string

	clockTicks uint64 // USER_HZ, jiffies per second
	pageSize   uint64
	passwd     string
	statfs     func(path string) (StatfsResult, error)
	rootFS     string

	bufs  *sync.Pool // *readBuf, shared with the views of Holding
	paths struct{ stat, meminfo, loadavg, uptime, netdev string }
	// held, in a view made by Holding, keeps the files its readers read
	// open between reads.
	held *HeldFiles
}

// Option configures an FS.
type Option func(*FS)

// WithClockTicks sets USER_HZ (jiffies per second) instead of asking sysconf;
// fixture tests use it to be independent of the machine.
func WithClockTicks(hz uint64) Option { return func(fs *FS) { fs.clockTicks = hz } }

// WithPageSize sets the page size used to turn RSS pages into bytes.
func WithPageSize(n uint64) Option { return func(fs *FS) { fs.pageSize = n } }

// WithPasswd sets the passwd file Users reads (default /etc/passwd, or
// <rootfs>/etc/passwd with WithRootFS).
func WithPasswd(path string) Option { return func(fs *FS) { fs.passwd = path } }

// WithStatfs replaces statfs(2) for Disks; fixture tests use it because the
// mount points of a fixture tree do not exist on the test machine.
func WithStatfs(f func(path string) (StatfsResult, error)) Option {
	return func(fs *FS) { fs.statfs = f }
}

// WithRootFS prefixes mount points with dir before calling statfs, for an agent
// in a container that sees the host's root file system at dir (like
// node_exporter's --path.rootfs); the host's mounts are then read from
// <proc>/1/mountinfo and user names from <dir>/etc/passwd.
func WithRootFS(dir string) Option { return func(fs *FS) { fs.rootFS = dir } }

// NewFS returns an FS reading procRoot (usually /proc) and sysRoot (usually
// /sys). procRoot must be a directory; sysRoot may be missing (its readers then
// return absent values).
func NewFS(procRoot, sysRoot string, opts ...Option) (*FS, error) {
	st, err := os.Stat(procRoot)
	if err != nil {
		return nil, fmt.Errorf("proc root: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("proc root %s: not a directory", procRoot)
	}
	fs := &FS{
		proc:   filepath.Clean(procRoot),
		sys:    filepath.Clean(sysRoot),
		statfs: statfs,
	}
	for _, o := range opts {
		o(fs)
	}
	if fs.passwd == "" {
		fs.passwd = filepath.Join(cmpOr(fs.rootFS, "/"), "etc", "passwd")
	}
	if fs.clockTicks == 0 {
		fs.clockTicks = clockTicks()
	}
	if fs.pageSize == 0 {
		fs.pageSize = pageSize()
	}
	fs.paths.stat, fs.paths.meminfo = fs.procPath("stat"), fs.procPath("meminfo")
	fs.paths.loadavg, fs.paths.uptime = fs.procPath("loadavg"), fs.procPath("uptime")
	fs.paths.netdev = fs.procPath("net", "dev")
	fs.bufs = &sync.Pool{New: func() any { return &readBuf{data: make([]byte, 0, 8192), path: make([]byte, 0, 128)} }}
	return fs, nil
}

// DefaultFS returns an FS for /proc and /sys.
func DefaultFS(opts ...Option) (*FS, error) { return NewFS("/proc", "/sys", opts...) }

// ProcRoot and SysRoot return the roots the FS reads.
func (fs *FS) ProcRoot() string { return fs.proc }

// SysRoot returns the sys root the FS reads.
func (fs *FS) SysRoot() string { return fs.sys }

// ClockTicks is USER_HZ: the jiffies per second of /proc/stat and /proc/<pid>/stat.
func (fs *FS) ClockTicks() uint64 { return fs.clockTicks }

// PageSize is the page size used for RSS.
func (fs *FS) PageSize() uint64 { return fs.pageSize }

func (fs *FS) procPath(elem ...string) string {
	return filepath.Join(append([]string{fs.proc}, elem...)...)
}

func (fs *FS) sysPath(elem ...string) string {
	return filepath.Join(append([]string{fs.sys}, elem...)...)
}

// readBuf is a pooled read buffer with room for a NUL-terminated path, so
// reading a file allocates nothing.
type readBuf struct {
	data, path []byte
}

// readWith reads path into a pooled buffer and calls parse on the bytes; the
// bytes are only valid during parse.
func (fs *FS) readWith(path string, parse func([]byte) error) error {
	if fs.held != nil {
		return fs.held.read(path, parse)
	}
	rb := fs.bufs.Get().(*readBuf)
	defer fs.bufs.Put(rb)
	b, err := readInto(path, rb)
	rb.data = b[:0]
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return parse(b)
}

// Holding returns a view of fs whose readers keep the files they read open
// in h between reads (see HeldFiles): for the files a caller re-reads every
// sample (/proc/stat, meminfo, loadavg, net/dev, /proc/diskstats, the
// temperature sensors). The view shares everything else with fs; h is the
// caller's, and so is its lifetime.
func (fs *FS) Holding(h *HeldFiles) *FS {
	v := *fs
	v.held = h
	return &v
}

// readSmall reads a small sysfs/proc file and returns it trimmed of trailing
// white space.
func readSmall(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return string(trimSpace(b)), nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
