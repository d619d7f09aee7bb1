// Command loadtest drives a running socktop agent with N clients for a
// while, at a cadence and in a dialect, and reports what it cost the agent:
// CPU (from /proc/<pid>/stat), RSS and fds (from /proc/<pid>), goroutines
// (from the agent's /metrics), and the latency of each request kind.
//
//	go run ./scripts/loadtest -url ws://127.0.0.1:3000/ws -pid $(pgrep -f 'socktop agent') -clients 100 -duration 60s
//
// Only loopback or test-namespace agents are valid targets: the run is
// bounded by -duration and stops by itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/procfs/proctest"
	"github.com/socktop/socktop/wire"
)

type stats struct {
	mu      sync.Mutex
	lat     map[string][]time.Duration
	errs    map[string]int
	lastErr string
}

func (s *stats) add(kind string, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs[kind]++
		s.lastErr = err.Error()
		return
	}
	s.lat[kind] = append(s.lat[kind], d)
}

// requester makes one request of a kind and waits for its reply.
type requester func(ctx context.Context, kind string) error

func main() {
	url := flag.String("url", "ws://127.0.0.1:3000/ws", "agent WebSocket URL (loopback or a test namespace only)")
	pid := flag.Int("pid", 0, "the agent's pid, to read its CPU, RSS and fds from /proc")
	clients := flag.Int("clients", 1, "concurrent clients")
	duration := flag.Duration("duration", 30*time.Second, "how long to run")
	dialect := flag.String("dialect", "v2", "v2, command or json")
	metricsEvery := flag.Duration("metrics", 500*time.Millisecond, "metrics request interval per client (0 = never)")
	procsEvery := flag.Duration("processes", 2*time.Second, "process list interval per client (0 = never)")
	disksEvery := flag.Duration("disks", 5*time.Second, "disks interval per client (0 = never)")
	back2back := flag.String("flood", "", "instead of a cadence, request this kind back to back (e.g. processes)")
	token := flag.String("token", "", "agent token")
	subscribe := flag.Bool("subscribe", false, "v2 only: subscribe once at the cadence and count pushes (latency = age of the sample on arrival)")
	floorScans := flag.Int("floor", 0, "instead of a load, run this many Floor scans (readdir of /proc and open+read+close of every /proc/<pid>/stat) and print floor-ms, the CPU of one")
	floorEvery := flag.Duration("floor-every", 150*time.Millisecond, "with -floor: the pause between scans (the agent's scans come at least 150 ms apart; 0: back to back, with warm caches)")
	sources := flag.Int("sources", 1, "spread the clients over this many loopback source addresses, 127.0.0.1 up (an agent keeps a share of its clients per address)")
	flag.Parse()
	if *duration <= 0 || *duration > 2*time.Hour || *clients < 1 || *clients > 1000 || *sources < 1 || *sources > 254 {
		fmt.Fprintln(os.Stderr, "loadtest: -duration must be in (0, 2h], -clients in [1, 1000] and -sources in [1, 254]")
		os.Exit(2)
	}
	srcs = *sources
	if *floorScans > 0 {
		floorMS(*floorScans, *floorEvery)
		return
	}

	st := &stats{lat: map[string][]time.Duration{}, errs: map[string]int{}}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()

	if *subscribe {
		if *dialect != "v2" || *back2back != "" {
			fmt.Fprintln(os.Stderr, "loadtest: -subscribe needs -dialect v2 and no -flood")
			os.Exit(2)
		}
		runSubscribers(ctx, st, *url, *token, *pid, *clients, wire.Cadence{Metrics: *metricsEvery, Processes: *procsEvery, Disks: *disksEvery})
		return
	}
	var conns []requester
	for i := range *clients {
		r, err := connect(ctx, *url, *dialect, *token, i)
		if err != nil {
			st.refused(err)
			continue
		}
		conns = append(conns, r)
	}
	before := sampleAgent(*pid)
	start := time.Now()
	var wg sync.WaitGroup
	for i, r := range conns {
		if *back2back != "" {
			wg.Go(func() {
				for ctx.Err() == nil {
					t := time.Now()
					err := r(ctx, *back2back)
					if ctx.Err() == nil {
						st.add(*back2back, time.Since(t), err)
					}
				}
			})
			continue
		}
		// Stagger clients across the first interval, as real dashboards
		// started at different moments are.
		offset := time.Duration(i) * *metricsEvery / time.Duration(*clients)
		for kind, every := range map[string]time.Duration{"metrics": *metricsEvery, "processes": *procsEvery, "disks": *disksEvery} {
			if every <= 0 {
				continue
			}
			wg.Go(func() {
				select {
				case <-time.After(offset):
				case <-ctx.Done():
					return
				}
				tick := time.NewTicker(every)
				defer tick.Stop()
				for {
					t := time.Now()
					err := r(ctx, kind)
					if ctx.Err() != nil {
						return
					}
					st.add(kind, time.Since(t), err)
					select {
					case <-tick.C:
					case <-ctx.Done():
						return
					}
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	after := sampleAgent(*pid)
	after.goroutines = agentGoroutines(*url, *token)
	report(os.Stdout, st, before, after, elapsed, *clients, *dialect, *url)
}

// runSubscribers connects n v2 clients that each subscribe once at cad and
// then only read pushes, and reports like the request-driven run.
func runSubscribers(ctx context.Context, st *stats, url, token string, pid, n int, cad wire.Cadence) {
	var cs []*wire.Client
	for i := range n {
		c, err := wire.Dial(ctx, url, &wire.Options{Token: token, ClientName: "loadtest", Dialect: wire.DialectV2, DialContext: sourceDialer(i)})
		if err == nil && !c.CanSubscribe() {
			fmt.Fprintf(os.Stderr, "loadtest: the agent at %s does not offer %q\n", url, wire.CapSubscribe)
			os.Exit(1)
		}
		if err != nil {
			st.refused(err)
			continue
		}
		defer c.Close()
		cs = append(cs, c)
	}
	before := sampleAgent(pid)
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			if _, err := c.Subscribe(ctx, cad); err != nil {
				st.add("metrics", 0, err)
				return
			}
			for {
				select {
				case p := <-c.Pushes():
					kind, at := "metrics", p.Metrics.GetSampledAtMs()
					if p.Processes != nil {
						kind, at = "processes", p.Processes.GetSampledAtMs()
					} else if p.Disks != nil {
						kind, at = "disks", p.Disks.GetSampledAtMs()
					}
					st.add(kind, time.Since(time.UnixMilli(int64(at))), nil)
				case <-c.Done():
					if ctx.Err() == nil {
						st.add("metrics", 0, c.Err())
					}
					return
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	after := sampleAgent(pid)
	after.goroutines = agentGoroutines(url, token)
	report(os.Stdout, st, before, after, elapsed, n, "v2-subscribe", url)
}

// floorMS prints the thread CPU time of one Floor scan, the median of n
// on one locked thread, every so often, and the processes it read; and,
// as process-ms, the whole process's CPU per scan over the run (its runtime's
// threads and wake-ups included, measured as the agent's is): what a program
// that does nothing but the Floor at that interval costs.
func floorMS(n int, every time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f := proctest.NewFloor()
	ms := make([]float64, n)
	procs := 0
	self := os.Getpid()
	start := threadsNS(self)
	for i := range ms {
		time.Sleep(every)
		t := proctest.ThreadCPU()
		procs = f.Scan()
		ms[i] = float64(proctest.ThreadCPU()-t) / 1e6
	}
	whole := float64(threadsNS(self)-start) / 1e6 / float64(n)
	slices.Sort(ms)
	fmt.Printf("floor-ms=%.3f procs=%d process-ms=%.3f\n", ms[n/2], procs, whole)
}

// srcs is -sources: client i connects from 127.0.0.(1 + i mod srcs).
var srcs = 1

// sourceDialer dials from client i's loopback source address.
func sourceDialer(i int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%srcs))}}
	return d.DialContext
}

// refused counts a client the agent did not take (or could not be reached).
func (s *stats) refused(err error) { s.add("connect", 0, err) }

func connect(ctx context.Context, url, dialect, token string, i int) (requester, error) {
	switch dialect {
	case "v2", "command":
		opts := &wire.Options{Token: token, ClientName: "loadtest", Dialect: wire.DialectV2, DialContext: sourceDialer(i)}
		if dialect == "command" {
			opts.Dialect = wire.DialectCommand
		}
		c, err := wire.Dial(ctx, url, opts)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, kind string) error {
			var err error
			switch kind {
			case "metrics":
				_, err = c.Metrics(ctx)
			case "processes":
				_, err = c.Processes(ctx)
			case "disks":
				_, err = c.Disks(ctx)
			case "connections":
				_, err = c.Connections(ctx)
			default:
				err = fmt.Errorf("unknown kind %q", kind)
			}
			return err
		}, nil
	case "json":
		h := http.Header{}
		if token != "" {
			h.Set("Authorization", "Bearer "+token)
		}
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h,
			HTTPClient: &http.Client{Transport: &http.Transport{DialContext: sourceDialer(i)}}})
		if err != nil {
			return nil, err
		}
		c.SetReadLimit(64 << 20)
		var mu sync.Mutex // one request at a time per connection, replies in order
		return func(ctx context.Context, kind string) error {
			mu.Lock()
			defer mu.Unlock()
			if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"`+kind+`"}`)); err != nil {
				return err
			}
			_, b, err := c.Read(ctx)
			if err == nil && strings.HasPrefix(string(b), `{"error"`) {
				err = fmt.Errorf("%s", b)
			}
			return err
		}, nil
	}
	return nil, fmt.Errorf("unknown dialect %q (v2, command or json)", dialect)
}

type agentSample struct {
	ticks, rss, fds uint64
	// cpuNS is the CPU time of the agent's live threads, to the
	// nanosecond (schedstat), when every thread's could be read.
	cpuNS      uint64
	goroutines float64
	ok         bool
}

func sampleAgent(pid int) agentSample {
	if pid <= 0 {
		return agentSample{}
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return agentSample{}
	}
	ps, err := procfs.ParseProcStat(b)
	if err != nil {
		return agentSample{}
	}
	fds, _ := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	return agentSample{ticks: ps.UTime + ps.STime, rss: ps.RSSPages * uint64(os.Getpagesize()), fds: uint64(len(fds)), ok: true, cpuNS: threadsNS(pid)}
}

// threadsNS sums the agent's threads' CPU time from their schedstat (0 when
// one cannot be read). Go's threads live as long as the process, so the
// difference of two sums is the CPU time in between, finer than the clock
// ticks of /proc/<pid>/stat.
func threadsNS(pid int) uint64 {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "task")
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var sum uint64
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		f := strings.Fields(string(b))
		if err != nil || len(f) == 0 {
			return 0
		}
		ns, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0
		}
		sum += ns
	}
	return sum
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))]
}

func report(w io.Writer, st *stats, before, after agentSample, elapsed time.Duration, clients int, dialect, url string) {
	fmt.Fprintf(w, "clients=%d dialect=%s duration=%v url=%s\n", clients, dialect, elapsed.Round(time.Millisecond), url)
	total := 0
	if n := st.errs["connect"]; n > 0 {
		fmt.Fprintf(w, "  refused=%d of %d clients (last: %s)\n", n, clients, st.lastErr)
	} else {
		fmt.Fprintf(w, "  refused=0 of %d clients\n", clients)
	}
	for _, kind := range []string{"metrics", "processes", "disks", "connections"} {
		l := st.lat[kind]
		if len(l)+st.errs[kind] == 0 {
			continue
		}
		total += len(l)
		fmt.Fprintf(w, "  %-11s n=%-7d p50=%-10v p99=%-10v errors=%d\n", kind, len(l),
			percentile(l, 0.5).Round(time.Microsecond), percentile(l, 0.99).Round(time.Microsecond), st.errs[kind])
	}
	if st.lastErr != "" {
		fmt.Fprintf(w, "  last error: %s\n", st.lastErr)
	}
	if before.ok && after.ok {
		hz := 100.0
		if fs, err := procfs.DefaultFS(); err == nil {
			hz = float64(fs.ClockTicks())
		}
		cpu := float64(after.ticks-before.ticks) / hz
		// schedstat is finer; ticks still count the time of threads that
		// exited meanwhile, which schedstat no longer shows.
		if ns := float64(after.cpuNS-before.cpuNS) / 1e9; before.cpuNS > 0 && after.cpuNS >= before.cpuNS && cpu <= ns+2/hz {
			cpu = ns
		}
		fmt.Fprintf(w, "  agent: cpu=%.3fs (%.3f%% of a core) cpu/request=%.3fms rss=%.1fMiB fds=%d goroutines=%.0f\n",
			cpu, 100*cpu/elapsed.Seconds(), 1000*cpu/float64(max(total, 1)), float64(after.rss)/(1<<20), after.fds, after.goroutines)
	}
	fmt.Fprintf(w, "RESULT requests=%d\n", total)
}

// agentGoroutines reads socktop_agent_goroutines from the agent's /metrics
// (while the load's connections are still open).
func agentGoroutines(wsURL, token string) float64 {
	u := strings.Replace(strings.Replace(wsURL, "ws://", "http://", 1), "wss://", "https://", 1)
	u = strings.TrimSuffix(u[:strings.IndexByte(u+"?", '?')], "/ws") + "/metrics"
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return -1
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "socktop_agent_goroutines "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}
