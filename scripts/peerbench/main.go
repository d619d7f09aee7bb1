// Command peerbench measures the socktop agent beside other monitors running
// on the same machine and prints the table of scripts/peer-bench.sh: CPU per
// full sample, CPU at each tool's own cadence, idle CPU, RSS and PSS, each as
// a ratio to socktop, and the Floor (readdir of /proc plus one
// open+read+close of every /proc/<pid>/stat).
//
// scripts/peer-bench.sh starts the peers inside a loopback-only network
// namespace and runs this program there with each peer's pid and URL:
//
//	peerbench -peer socktop=1234,http://127.0.0.1:3000 -peer node_exporter=1300,http://127.0.0.1:9100
//
// A peer's CPU is utime+stime+cutime+cstime from /proc/<pid>/stat summed
// over its process tree (netdata's plugins included), so a child that exits
// and is reaped inside the tree still counts. URLs must be loopback; the run
// is bounded by -reps and -duration and stops by itself.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
	"golang.org/x/sys/unix"
)

// kinds lists the peers this program knows, in table order.
var kinds = []string{"socktop", "socktop-polled", "glances", "node_exporter", "process-exporter", "netdata"}

// phaseNames are the phases of a repetition, in the first one's order.
var phaseNames = []string{"samples", "dashboard", "scrape5", "scrape15", "idle"}

// upstream is the cadence of upstream socktop's TUI.
var upstream = wire.Cadence{Metrics: 500 * time.Millisecond, Processes: 2 * time.Second, Disks: 5 * time.Second}

type peer struct {
	kind string
	pid  int
	base string // http://127.0.0.1:port
	// glancesAPI is "3" or "4", found at start-up.
	glancesAPI string
}

// measures of one peer, one value per repetition.
type measures map[string][]float64

func (m measures) add(k string, v float64) { m[k] = append(m[k], v) }

type bench struct {
	peers      []*peer
	results    map[*peer]measures
	floor      []float64 // ms per scan, back to back (like procfs's BenchmarkFloor), one value per repetition
	floorProcs []float64 // stat files the back-to-back scans read
	spaced     []float64 // ms per scan, one scan at a time between the peers' samples, as a tool samples
	floorBuf   [3][]byte // dents, stat buffer, path
	procs      []float64
	loads      []float64
	jiffies    [][2]uint64 // machine-wide busy and total, from /proc/stat
	errs       map[string]int
	lastErr    map[string]string
	hz         float64
	http       *http.Client
	samples    int
	phases     []string // of phaseNames, in order
	duration   time.Duration
	settle     time.Duration
	mu         sync.Mutex
	// Σ of every cpuBetween in ns precision and in clock ticks, as a check.
	checkPrecise, checkTicks float64
}

func main() {
	var peerFlags []string
	flag.Func("peer", "kind=pid,url of a running peer (repeat); kinds: "+strings.Join(kinds, ", "), func(s string) error {
		peerFlags = append(peerFlags, s)
		return nil
	})
	reps := flag.Int("reps", 3, "repetitions; each measures every peer once, in a rotated order")
	duration := flag.Duration("duration", 30*time.Second, "length of each cadence and idle window")
	samples := flag.Int("samples", 6, "full samples per peer and repetition")
	warmup := flag.Duration("warmup", 10*time.Second, "wait after every peer answers, before the first measurement")
	settle := flag.Duration("settle", 3*time.Second, "pause between phases, so caches and held files of the last phase expire")
	versions := flag.String("versions", "", "peer versions, printed under the table")
	phaseList := flag.String("phases", strings.Join(phaseNames, ","), "the phases to run, comma-separated")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: peerbench -peer kind=pid,url [-peer …] [flags]\n\n"+
			"Measures running peers against the socktop agent; scripts/peer-bench.sh starts them.\n\n"+
			"Example:\n  peerbench -peer socktop=1234,http://127.0.0.1:3000 -peer glances=1240,http://127.0.0.1:61208 -reps 1 -duration 10s\n\nFlags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *reps < 1 || *reps > 50 || *duration < time.Second || *duration > time.Hour || *samples < 1 || *samples > 1000 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "peerbench: -reps must be in [1, 50], -duration in [1s, 1h], -samples in [1, 1000], no arguments")
		os.Exit(2)
	}
	b := &bench{
		results: map[*peer]measures{}, errs: map[string]int{}, lastErr: map[string]string{},
		http:    &http.Client{Timeout: 30 * time.Second},
		samples: *samples, duration: *duration, settle: *settle, hz: 100,
	}
	if fs, err := procfs.DefaultFS(); err == nil {
		b.hz = float64(fs.ClockTicks())
	}
	for _, s := range peerFlags {
		p, err := parsePeer(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "peerbench:", err)
			os.Exit(2)
		}
		b.peers = append(b.peers, p)
		b.results[p] = measures{}
	}
	for _, ph := range strings.Split(*phaseList, ",") {
		if !slices.Contains(phaseNames, ph) {
			fmt.Fprintf(os.Stderr, "peerbench: -phases: unknown phase %q (known: %s)\n", ph, strings.Join(phaseNames, ", "))
			os.Exit(2)
		}
		b.phases = append(b.phases, ph)
	}
	if b.peer("socktop") == nil {
		fmt.Fprintln(os.Stderr, "peerbench: a -peer socktop=pid,url is needed: every ratio is to it")
		os.Exit(2)
	}
	slices.SortStableFunc(b.peers, func(x, y *peer) int { return slices.Index(kinds, x.kind) - slices.Index(kinds, y.kind) })
	if err := b.run(*reps, *warmup); err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		os.Exit(1)
	}
	b.print(os.Stdout, *versions)
}

func parsePeer(s string) (*peer, error) {
	kind, rest, ok := strings.Cut(s, "=")
	pidStr, base, ok2 := strings.Cut(rest, ",")
	if !ok || !ok2 || !slices.Contains(kinds, kind) {
		return nil, fmt.Errorf("-peer %q: want kind=pid,url with kind one of %s", s, strings.Join(kinds, ", "))
	}
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 || pid > 1<<22 {
		return nil, fmt.Errorf("-peer %q: bad pid", s)
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Path != "" {
		return nil, fmt.Errorf("-peer %q: the url must be http://host:port", s)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("-peer %q: only loopback addresses (127.0.0.1, ::1): nothing of a benchmark may leave the machine", s)
	}
	return &peer{kind: kind, pid: pid, base: strings.TrimSuffix(base, "/")}, nil
}

func (b *bench) peer(kind string) *peer {
	for _, p := range b.peers {
		if p.kind == kind {
			return p
		}
	}
	return nil
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "# %s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

func (b *bench) run(reps int, warmup time.Duration) error {
	ctx := context.Background()
	if err := b.waitReady(ctx); err != nil {
		return err
	}
	logf("every peer answers; warming up for %v", warmup)
	time.Sleep(warmup)
	type phase struct {
		name string
		run  func(rep int) error
	}
	all := map[string]phase{
		"samples":   {"samples", b.samplePhase},
		"dashboard": {"dashboard", b.dashboardWindow},
		"scrape5":   {"scrape every 5 s", func(int) error { return b.scrapeWindow("s5", 5*time.Second) }},
		"scrape15":  {"scrape every 15 s", func(int) error { return b.scrapeWindow("s15", 15*time.Second) }},
		"idle":      {"idle", func(int) error { return b.idleWindow() }},
	}
	var phases []phase
	for _, name := range b.phases {
		phases = append(phases, all[name])
	}
	for rep := range reps {
		b.recordContext()
		if err := b.floorPhase(); err != nil {
			return err
		}
		// Rotate the phase order each repetition so drift of the machine's
		// other load spreads over every measure.
		for i := range phases {
			ph := phases[(i+rep)%len(phases)]
			logf("rep %d/%d: %s", rep+1, reps, ph.name)
			if err := ph.run(rep); err != nil {
				return fmt.Errorf("rep %d, %s: %w", rep+1, ph.name, err)
			}
			b.recordContext()
			time.Sleep(b.settle)
		}
		if err := b.memory(); err != nil {
			return err
		}
	}
	return nil
}

// waitReady waits until every peer answers its health or metrics path.
func (b *bench) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	for _, p := range b.peers {
		for {
			if _, err := b.snap(p); err != nil {
				return err
			}
			err := b.ready(ctx, p)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s at %s did not answer within 90 s: %v (see its log)", p.kind, p.base, err)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	return nil
}

func (b *bench) ready(ctx context.Context, p *peer) error {
	switch p.kind {
	case "socktop", "socktop-polled":
		return b.get(ctx, p.base+"/healthz")
	case "glances":
		for _, v := range []string{"4", "3"} {
			if b.get(ctx, p.base+"/api/"+v+"/pluginslist") == nil {
				p.glancesAPI = v
				return nil
			}
		}
		return errors.New("no /api/4 or /api/3 pluginslist")
	case "netdata":
		return b.get(ctx, p.base+"/api/v1/info")
	}
	return b.get(ctx, p.base+"/metrics")
}

// get fetches a URL and reads the whole body (bounded), as a scraper does.
func (b *bench) get(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || n == 0 {
		return fmt.Errorf("GET %s: %s, %d bytes", u, resp.Status, n)
	}
	return nil
}

// scrapePath is what a Prometheus-like scraper fetches from each peer.
func scrapePath(kind string) string {
	switch kind {
	case "socktop", "node_exporter", "process-exporter":
		return "/metrics"
	case "netdata":
		return "/api/v1/allmetrics?format=prometheus"
	}
	return ""
}

func (b *bench) fail(what string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs[what]++
	b.lastErr[what] = err.Error()
}

// --- CPU and memory of a process tree ------------------------------------

// procSnap is one process of a peer's tree at one moment.
type procSnap struct {
	ticks   uint64         // utime+stime+cutime+cstime, in clock ticks (exited threads included)
	reaped  uint64         // cutime+cstime: children that exited and were reaped, in ticks
	threads map[int]uint64 // live thread → CPU time in ns (schedstat's sum_exec_runtime)
}

// treeSnap is a peer's process tree (the root and its descendants) at one moment.
type treeSnap map[int]procSnap

// snapTree reads the process tree under root.
func snapTree(root int) (treeSnap, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	children := map[int][]int{}
	seen := false
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		st, err := procfs.ParseProcStat(raw)
		if err != nil {
			continue
		}
		seen = seen || pid == root
		children[int(st.PPID)] = append(children[int(st.PPID)], pid)
	}
	if !seen {
		return nil, fmt.Errorf("pid %d has exited", root)
	}
	out := treeSnap{}
	queue := []int{root}
	for len(queue) > 0 && len(out) < 10000 {
		pid := queue[0]
		queue = queue[1:]
		if _, dup := out[pid]; dup {
			continue
		}
		if ps, ok := snapProc(pid); ok {
			out[pid] = ps
		}
		queue = append(queue, children[pid]...)
	}
	return out, nil
}

func snapProc(pid int) (procSnap, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	raw, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return procSnap{}, false
	}
	st, err := procfs.ParseProcStat(raw)
	if err != nil {
		return procSnap{}, false
	}
	reaped := uint64(max(st.CUTime, 0) + max(st.CSTime, 0))
	ps := procSnap{ticks: st.UTime + st.STime + reaped, reaped: reaped, threads: map[int]uint64{}}
	tasks, _ := os.ReadDir(dir + "/task")
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(dir + "/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(raw))
		if len(f) == 0 {
			continue
		}
		if ns, err := strconv.ParseUint(f[0], 10, 64); err == nil {
			ps.threads[tid] = ns
		}
	}
	return ps, true
}

// cpuBetween is the CPU time, in seconds, a tree spent between two
// snapshots. Live threads count to the nanosecond (schedstat); a process
// that lost a thread meanwhile, whose time schedstat no longer shows, counts
// in clock ticks from /proc/<pid>/stat, which keeps exited threads' time; a
// child that exited moves its time into its parent's cutime+cstime.
func (b *bench) cpuBetween(s0, s1 treeSnap) float64 {
	tick := 1e9 / b.hz
	own := func(p procSnap) float64 {
		var ns float64
		for _, v := range p.threads {
			ns += float64(v)
		}
		return ns + float64(p.reaped)*tick
	}
	var ns float64
	for pid, p1 := range s1 {
		p0, ok := s0[pid]
		if !ok {
			ns += own(p1) // born meanwhile
			continue
		}
		lost := false
		for tid := range p0.threads {
			if _, ok := p1.threads[tid]; !ok {
				lost = true
				break
			}
		}
		if lost {
			ns += (float64(p1.ticks) - float64(p0.ticks)) * tick
		} else {
			ns += own(p1) - own(p0)
		}
	}
	var ticks float64
	for pid, p0 := range s0 {
		if _, ok := s1[pid]; !ok {
			ns -= own(p0) // exited: its time is now in an ancestor's cutime
			ticks -= float64(p0.ticks)
		}
	}
	for pid, p1 := range s1 {
		ticks += float64(p1.ticks) - float64(s0[pid].ticks)
	}
	b.checkPrecise += ns / 1e9
	b.checkTicks += ticks / b.hz
	return ns / 1e9
}

func (b *bench) snap(p *peer) (treeSnap, error) {
	t, err := snapTree(p.pid)
	if err != nil {
		return nil, fmt.Errorf("%s (pid %d) is not running any more: see its log", p.kind, p.pid)
	}
	return t, nil
}

func (b *bench) snapAll() (map[*peer]treeSnap, error) {
	m := map[*peer]treeSnap{}
	for _, p := range b.peers {
		t, err := b.snap(p)
		if err != nil {
			return nil, err
		}
		m[p] = t
	}
	return m, nil
}

// memory records RSS and PSS (MiB) of every peer's tree, from smaps_rollup.
func (b *bench) memory() error {
	for _, p := range b.peers {
		t, err := b.snap(p)
		if err != nil {
			return err
		}
		var rss, pss float64
		for pid := range t {
			raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
			if err != nil {
				continue
			}
			rss += kB(raw, "Rss:")
			pss += kB(raw, "Pss:")
		}
		b.results[p].add("rss", rss/1024)
		b.results[p].add("pss", pss/1024)
	}
	return nil
}

func kB(smaps []byte, key string) float64 {
	for line := range bytes.Lines(smaps) {
		if v, ok := bytes.CutPrefix(line, []byte(key)); ok {
			f, _ := strconv.ParseFloat(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 64)
			return f
		}
	}
	return 0
}

// recordContext notes the process count and the 1-minute load average.
func (b *bench) recordContext() {
	if ents, err := os.ReadDir("/proc"); err == nil {
		n := 0
		for _, e := range ents {
			if _, err := strconv.Atoi(e.Name()); err == nil {
				n++
			}
		}
		b.procs = append(b.procs, float64(n))
	}
	if raw, err := os.ReadFile("/proc/stat"); err == nil {
		if line, _, ok := bytes.Cut(raw, []byte("\n")); ok && bytes.HasPrefix(line, []byte("cpu ")) {
			var busy, total uint64
			for i, f := range strings.Fields(string(line))[1:] {
				v, _ := strconv.ParseUint(f, 10, 64)
				total += v
				if i != 3 && i != 4 { // idle, iowait
					busy += v
				}
			}
			b.jiffies = append(b.jiffies, [2]uint64{busy, total})
		}
	}
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(raw)); len(f) > 0 {
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				b.loads = append(b.loads, v)
			}
		}
	}
}

// --- the Floor ------------------------------------------------------------

// floorPhase measures the CPU of one readdir of /proc plus open+read+close
// of every /proc/<pid>/stat, on this thread only (RUSAGE_THREAD).
func (b *bench) floorPhase() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if _, err := b.floorScan(); err != nil { // warm the dentry cache
		return err
	}
	const scans = 40
	start := threadCPU()
	n := 0
	for range scans {
		var err error
		if n, err = b.floorScan(); err != nil {
			return err
		}
	}
	b.floorProcs = append(b.floorProcs, float64(n))
	b.floor = append(b.floor, float64(threadCPU()-start)/1e6/scans)
	return nil
}

// spacedFloor measures one Floor scan on its own, the way each tool's
// sample comes: seconds after the last one, with caches no longer warm.
func (b *bench) spacedFloor() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	if _, err := b.floorScan(); err == nil {
		b.spaced = append(b.spaced, float64(threadCPU()-start)/1e6)
	}
}

func (b *bench) floorScan() (int, error) {
	if b.floorBuf[0] == nil {
		b.floorBuf = [3][]byte{make([]byte, 32<<10), make([]byte, 1024), make([]byte, 0, 32)}
	}
	return floorScan(b.floorBuf[0], b.floorBuf[1], b.floorBuf[2])
}

func threadCPU() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// floorScan is the least any process list costs: getdents64 of /proc, then
// openat+read+close of each <pid>/stat with reused buffers.
func floorScan(dents, buf, path []byte) (int, error) {
	dirfd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(dirfd)
	procs := 0
	for {
		n, err := unix.Getdents(dirfd, dents)
		if err != nil {
			return procs, err
		}
		if n <= 0 {
			return procs, nil
		}
		for off := 0; off+19 <= n; {
			reclen := int(binary.NativeEndian.Uint16(dents[off+16:]))
			if reclen < 19 || off+reclen > n {
				break
			}
			name := dents[off+19 : off+reclen]
			off += reclen
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if len(name) == 0 || name[0] < '1' || name[0] > '9' {
				continue
			}
			path = append(append(append(path[:0], name...), "/stat"...), 0)
			fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&path[0])),
				uintptr(unix.O_RDONLY|unix.O_CLOEXEC), 0, 0, 0)
			if errno != 0 {
				continue // exited meanwhile
			}
			if r, _ := unix.Read(int(fd), buf); r > 0 {
				procs++
			}
			unix.Close(int(fd))
		}
	}
}

// --- (a) CPU per full sample ---------------------------------------------

// sampler takes one full sample of a peer; gap is how long to wait between
// samples so that the peer's own cache expires and each one is fresh.
type sampler struct {
	take  func(ctx context.Context) error
	close func()
	gap   time.Duration
}

func (b *bench) newSampler(ctx context.Context, p *peer) (*sampler, error) {
	switch p.kind {
	case "socktop":
		c, err := dialSocktop(ctx, p, wire.DialectV2)
		if err != nil {
			return nil, err
		}
		take := func(ctx context.Context) error { _, err := c.Processes(ctx); return err }
		// The agent's process cache lives 1.5 s (SOCKTOP_AGENT_PROCESSES_TTL_MS).
		return &sampler{take: take, close: func() { c.Close() }, gap: 1600 * time.Millisecond}, nil
	case "glances":
		u := p.base + "/api/" + p.glancesAPI + "/processlist"
		// Glances refreshes at most once per --cached-time (1 s by default).
		return &sampler{take: func(ctx context.Context) error { return b.get(ctx, u) }, close: func() {}, gap: 1100 * time.Millisecond}, nil
	case "node_exporter", "process-exporter":
		u := p.base + "/metrics"
		return &sampler{take: func(ctx context.Context) error { return b.get(ctx, u) }, close: func() {}, gap: 100 * time.Millisecond}, nil
	}
	return nil, nil // netdata samples every second by itself; socktop-polled is measured as socktop
}

func (b *bench) samplePhase(rep int) error {
	ctx := context.Background()
	n := len(b.peers)
	for i := range n {
		p := b.peers[(i+rep)%n]
		s, err := b.newSampler(ctx, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p.kind, err)
		}
		if s == nil {
			continue
		}
		// One sample first: connections, caches and held files warm.
		if err := s.take(ctx); err != nil {
			s.close()
			return fmt.Errorf("%s: first sample: %w", p.kind, err)
		}
		s0, err := b.snap(p)
		if err != nil {
			s.close()
			return err
		}
		ok := 0
		for range b.samples {
			// Halfway through each pause, one Floor scan on its own: the
			// peer is idle then, waiting for its next request.
			time.Sleep(s.gap / 2)
			b.spacedFloor()
			time.Sleep(s.gap / 2)
			if err := s.take(ctx); err != nil {
				b.fail(p.kind+" sample", err)
				continue
			}
			ok++
		}
		time.Sleep(100 * time.Millisecond) // let the peer finish after its reply
		s1, err := b.snap(p)
		s.close()
		if err != nil {
			return err
		}
		if ok > 0 {
			b.results[p].add("sample", 1000*b.cpuBetween(s0, s1)/float64(ok))
		}
	}
	return nil
}

// --- (b) windows at each peer's cadence and (c) idle -----------------------

// driver runs one client of a peer until ctx ends, counting operations.
type driver struct {
	p   *peer
	run func(ctx context.Context, ops *atomic.Int64)
}

// every calls fn at offset, offset+interval, … until ctx ends.
func (b *bench) every(ctx context.Context, what string, offset, interval time.Duration, ops *atomic.Int64, fn func(context.Context) error) {
	t := time.NewTimer(offset)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		t.Reset(interval) // a fixed rate, like a Prometheus scrape
		if err := fn(ctx); err != nil {
			if ctx.Err() == nil {
				b.fail(what, err)
			}
			continue
		}
		ops.Add(1)
	}
}

// window runs the drivers for warm+duration and records each driven peer's
// CPU over the last duration as % of a core and, per operation, in ms.
func (b *bench) window(key string, warm time.Duration, drivers []driver) error {
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel, deferred below: the drivers stop first
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ops := make([]atomic.Int64, len(drivers))
	startDrivers := func() {
		for i, d := range drivers {
			wg.Go(func() { d.run(ctx, &ops[i]) })
		}
	}
	if warm > 0 { // drivers run at cadence before the window
		startDrivers()
		time.Sleep(warm)
	}
	before, err := b.snapAll()
	if err != nil {
		return err
	}
	ops0 := make([]int64, len(drivers))
	for i := range ops {
		ops0[i] = ops[i].Load()
	}
	start := time.Now()
	if warm == 0 { // the first request is inside the window
		startDrivers()
	}
	time.Sleep(b.windowLength(key))
	after, err := b.snapAll()
	secs := time.Since(start).Seconds()
	if err != nil {
		return err
	}
	ops1 := make([]int64, len(drivers))
	for i := range ops {
		ops1[i] = ops[i].Load()
	}
	if drivers == nil { // idle: every peer
		for _, p := range b.peers {
			b.results[p].add(key, 100*b.cpuBetween(before[p], after[p])/secs)
		}
		return nil
	}
	for i, d := range drivers {
		cpu := b.cpuBetween(before[d.p], after[d.p])
		b.results[d.p].add(key, 100*cpu/secs)
		if n := ops1[i] - ops0[i]; n > 0 {
			b.results[d.p].add(key+"_ms", 1000*cpu/float64(n))
		}
	}
	return nil
}

// windowLength is -duration, rounded up to whole 15 s for the 15 s scrape.
func (b *bench) windowLength(key string) time.Duration {
	if key == "s15" {
		return max(15*time.Second, (b.duration+15*time.Second-1)/(15*time.Second)*(15*time.Second))
	}
	return b.duration
}

// dashboardWindow drives the dashboards: socktop at upstream's cadence,
// subscribed (what `socktop connect` does) and polled in the command
// dialect (what upstream's TUI does), Glances' REST API every 2 s (what its
// web UI does). A 3 s warm-up at cadence precedes the window, so connection
// set-up is not counted.
func (b *bench) dashboardWindow(int) error {
	var ds []driver
	for _, p := range b.peers {
		switch p.kind {
		case "socktop":
			ds = append(ds, driver{p, func(ctx context.Context, ops *atomic.Int64) { b.subscribed(ctx, p, ops) }})
		case "socktop-polled":
			ds = append(ds, driver{p, func(ctx context.Context, ops *atomic.Int64) { b.polled(ctx, p, ops) }})
		case "glances":
			u := p.base + "/api/" + p.glancesAPI + "/all"
			ds = append(ds, driver{p, func(ctx context.Context, ops *atomic.Int64) {
				b.every(ctx, "glances dashboard", 0, 2*time.Second, ops, func(ctx context.Context) error { return b.get(ctx, u) })
			}})
		}
	}
	return b.window("dash", 3*time.Second, ds)
}

// dialSocktop connects to a socktop agent's WebSocket in a dialect.
func dialSocktop(ctx context.Context, p *peer, d wire.Dialect) (*wire.Client, error) {
	return wire.Dial(ctx, "ws"+strings.TrimPrefix(p.base, "http")+"/ws", &wire.Options{ClientName: "peerbench", Dialect: d})
}

func (b *bench) subscribed(ctx context.Context, p *peer, ops *atomic.Int64) {
	c, err := dialSocktop(ctx, p, wire.DialectV2)
	if err != nil {
		b.fail("socktop dashboard", err)
		return
	}
	defer c.Close()
	if _, err := c.Subscribe(ctx, upstream); err != nil {
		b.fail("socktop dashboard", err)
		return
	}
	for {
		select {
		case <-c.Pushes():
			ops.Add(1)
		case <-c.Done():
			if ctx.Err() == nil {
				b.fail("socktop dashboard", c.Err())
			}
			return
		case <-ctx.Done():
			return
		}
	}
}

func (b *bench) polled(ctx context.Context, p *peer, ops *atomic.Int64) {
	c, err := dialSocktop(ctx, p, wire.DialectCommand)
	if err != nil {
		b.fail("socktop polled dashboard", err)
		return
	}
	defer c.Close()
	var wg sync.WaitGroup
	asks := []struct {
		every time.Duration
		ask   func(context.Context) error
	}{
		{upstream.Metrics, func(ctx context.Context) error { _, err := c.Metrics(ctx); return err }},
		{upstream.Processes, func(ctx context.Context) error { _, err := c.Processes(ctx); return err }},
		{upstream.Disks, func(ctx context.Context) error { _, err := c.Disks(ctx); return err }},
	}
	for _, a := range asks {
		wg.Go(func() { b.every(ctx, "socktop polled dashboard", 0, a.every, ops, a.ask) })
	}
	wg.Wait()
}

// scrapeWindow scrapes every peer that serves Prometheus text every
// interval, with nothing else connected; the peers' scrapes are staggered.
func (b *bench) scrapeWindow(key string, interval time.Duration) error {
	var ds []driver
	for _, p := range b.peers {
		if path := scrapePath(p.kind); path != "" {
			ds = append(ds, driver{p: p})
		}
	}
	for i := range ds {
		p := ds[i].p
		u := p.base + scrapePath(p.kind)
		offset := time.Duration(i) * interval / time.Duration(len(ds))
		ds[i].run = func(ctx context.Context, ops *atomic.Int64) {
			b.every(ctx, p.kind+" scrape", offset, interval, ops, func(ctx context.Context) error { return b.get(ctx, u) })
		}
	}
	return b.window(key, 0, ds)
}

func (b *bench) idleWindow() error { return b.window("idle", 0, nil) }

// --- the table -------------------------------------------------------------

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func span(v []float64, format string) string {
	if len(v) == 0 {
		return "?"
	}
	lo, hi := slices.Min(v), slices.Max(v)
	if fmt.Sprintf(format, lo) == fmt.Sprintf(format, hi) {
		return fmt.Sprintf(format, lo)
	}
	return fmt.Sprintf(format+"–"+format, lo, hi)
}

// times formats a ratio with two significant digits, never in e-notation.
func times(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.2g×", r)
}

var titles = map[string]string{
	"socktop":          "socktop",
	"glances":          "Glances",
	"node_exporter":    "node_exporter",
	"process-exporter": "process-exporter",
	"netdata":          "netdata",
}

func (b *bench) print(w io.Writer, versions string) {
	st := b.results[b.peer("socktop")]
	floor := median(b.spaced)
	var cols []*peer
	for _, p := range b.peers {
		if p.kind != "socktop-polled" {
			cols = append(cols, p)
		}
	}
	cpuModel, cores := "?", runtime.NumCPU()
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(raw)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpuModel = strings.TrimSpace(v)
				break
			}
		}
	}
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	reps := len(b.floor)
	busy := "?"
	if n := len(b.jiffies); n >= 2 && b.jiffies[n-1][1] > b.jiffies[0][1] {
		first, last := b.jiffies[0], b.jiffies[n-1]
		busy = fmt.Sprintf("%.0f %%", 100*float64(last[0]-first[0])/float64(last[1]-first[1]))
	}
	fmt.Fprintf(w, "\n%s · Linux %s · %s · %d cores · %s processes · 1-min load %s, all cores %s busy during the run (this benchmark included) · medians of %d interleaved repetitions\n\n",
		time.Now().UTC().Format("2006-01-02"), unix.ByteSliceToString(uts.Release[:]), cpuModel, cores,
		span(b.procs, "%.0f"), span(b.loads, "%.2f"), busy, reps)

	fmt.Fprint(w, "| measure |")
	for _, p := range cols {
		fmt.Fprintf(w, " %s |", titles[p.kind])
	}
	fmt.Fprint(w, "\n|---|")
	for range cols {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)

	ratio := func(v, base float64) string {
		if base <= 0 || v <= 0 {
			return ""
		}
		return " (" + times(v/base) + ")"
	}
	row := func(label string, cell func(p *peer, m measures) string) {
		fmt.Fprintf(w, "| %s |", label)
		for _, p := range cols {
			fmt.Fprintf(w, " %s |", cell(p, b.results[p]))
		}
		fmt.Fprintln(w)
	}
	// cell is a median with its unit and its ratio to socktop's.
	cell := func(p *peer, key, format string) string {
		v, ok := b.results[p][key]
		if !ok {
			return "—"
		}
		s := fmt.Sprintf(format, median(v))
		if p.kind != "socktop" {
			s += ratio(median(v), median(st[key]))
		}
		return s
	}

	row("CPU per full sample¹", func(p *peer, m measures) string {
		if p.kind == "netdata" {
			v := median(m["idle"]) * 10 // % of a core → ms per 1 s collection
			return fmt.Sprintf("%.1f ms²", v) + ratio(v, median(st["sample"]))
		}
		v, ok := m["sample"]
		if !ok {
			return "—"
		}
		s := fmt.Sprintf("%.1f ms", median(v))
		if p.kind == "socktop" {
			return s + fmt.Sprintf(" = **%.2f× Floor**", median(v)/floor)
		}
		return s + ratio(median(v), median(st["sample"]))
	})
	row("dashboard at its cadence³, % of a core", func(p *peer, m measures) string {
		if p.kind == "socktop" {
			s := fmt.Sprintf("%.2f %% subscribed", median(m["dash"]))
			if pp := b.peer("socktop-polled"); pp != nil {
				s += fmt.Sprintf(", %.2f %% polled", median(b.results[pp]["dash"]))
			}
			return s
		}
		return cell(p, "dash", "%.2f %%")
	})
	for _, s := range []struct{ key, label string }{{"s5", "5 s"}, {"s15", "15 s"}} {
		row("Prometheus scrape every "+s.label+"⁴: ms per scrape; % of a core", func(p *peer, m measures) string {
			if _, ok := m[s.key+"_ms"]; !ok {
				return "—"
			}
			out := cell(p, s.key+"_ms", "%.1f ms")
			return out + fmt.Sprintf("; %.2f %%", median(m[s.key]))
		})
	}
	row("idle, no client, % of a core", func(p *peer, m measures) string {
		return fmt.Sprintf("%.3f %%", median(m["idle"]))
	})
	row("RSS / PSS after warm-up", func(p *peer, m measures) string {
		out := fmt.Sprintf("%.1f / %.1f MiB", median(m["rss"]), median(m["pss"]))
		if p.kind != "socktop" {
			out += " (" + times(median(m["rss"])/median(st["rss"])) + " / " + times(median(m["pss"])/median(st["pss"])) + ")"
		}
		return out
	})

	fmt.Fprintf(w, "\nFloor (getdents of /proc + open/read/close of every /proc/<pid>/stat, %s processes): %.1f ms CPU per scan taken on its own between the samples (median of %d; the × Floor above), %.1f ms back to back (%s per repetition, as procfs's BenchmarkFloor).\n",
		span(b.floorProcs, "%.0f"), floor, len(b.spaced), median(b.floor), span(b.floor, "%.1f"))
	fmt.Fprintln(w, "Ratios in parentheses are to socktop in the same row. CPU is that of each tool's whole process tree: every thread's run time (schedstat), plus reaped children's cutime+cstime.")
	fmt.Fprintln(w, "¹ one fresh full sample, requests spaced past each tool's cache: socktop a v2 process list over WebSocket;",
		"Glances GET /api/N/processlist (a full stats update); node_exporter a /metrics scrape (it lists no processes);",
		"process-exporter a /metrics scrape of every process grouped by name.")
	fmt.Fprintln(w, "² netdata collects every second by itself (apps.plugin lists every process): its idle CPU per second.")
	fmt.Fprintln(w, "³ socktop: metrics 500 ms, processes 2 s, disks 5 s (upstream's cadence), subscribed as `socktop connect` does, or polled in the command dialect as upstream's TUI does; Glances: GET /api/N/all every 2 s, as its web UI.")
	fmt.Fprintln(w, "⁴ staggered scrapes of each tool's Prometheus text with no other client: socktop and the exporters /metrics, netdata /api/v1/allmetrics?format=prometheus; ms per scrape includes the tool's idle CPU over the interval.")
	if versions != "" {
		fmt.Fprintln(w, "Versions:", versions)
	}
	fmt.Fprintln(w, "\nPer repetition:")
	for _, p := range b.peers {
		var keys []string
		for k := range b.results[p] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			var vs []string
			for _, v := range b.results[p][k] {
				vs = append(vs, strconv.FormatFloat(v, 'f', 3, 64))
			}
			parts = append(parts, k+"="+strings.Join(vs, ","))
		}
		fmt.Fprintf(w, "  %s: %s\n", p.kind, strings.Join(parts, " "))
	}
	fmt.Fprintf(w, "  floor_ms: back to back %.3f; spaced %.3f\n", b.floor, b.spaced)
	fmt.Fprintf(w, "  check: all measured CPU %.3f s from schedstat, %.3f s from /proc/<pid>/stat ticks\n", b.checkPrecise, b.checkTicks)
	if len(b.errs) > 0 {
		fmt.Fprintln(w, "\nErrors (these requests are not counted):")
		for what, n := range b.errs {
			fmt.Fprintf(w, "  %s: %d, last: %s\n", what, n, b.lastErr[what])
		}
	}
}
