//go:build linux

package sockdiag

import (
	"io"
	"net"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPairs opens n loopback TCP connections (2n sockets) plus a listener,
// raising RLIMIT_NOFILE as far as the hard limit allows.
func openPairs(b *testing.B, n int) {
	b.Helper()
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	}
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < uint64(2*n+200) {
		b.Skipf("RLIMIT_NOFILE %d too low for %d sockets", rl.Cur, 2*n)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	conns := make([]net.Conn, 0, 2*n)
	acc := make(chan net.Conn, n)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(acc)
				return
			}
			acc <- c
		}
	}()
	for range n {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			b.Fatalf("dial after %d connections: %v", len(conns)/2, err)
		}
		conns = append(conns, c, <-acc)
	}
	b.Cleanup(func() {
		ln.Close()
		for _, c := range conns {
			c.Close()
		}
	})
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkConnections5000 compares one connections snapshot (TCP and UDP,
// all states, tcp_info, owning processes) with `ss -tuanpi` gathering the
// same, over 5,000 open sockets the benchmark opens itself, in one run.
//
// Metrics: cpu-ns/op is this process's CPU (getrusage) per Collect;
// ss-cpu-ns/op is the CPU (rusage: user+system) of one `ss -tuanpi` run;
// x-ss is their ratio (≤ 1 means cheaper than ss). "warm" reuses one
// Collector (the agent's steady state: the fd map is reused); "cold" uses a
// new Collector each time, so every op includes a full /proc/*/fd scan;
// "fdscan" is that full scan alone.
func BenchmarkConnections5000(b *testing.B) {
	if testing.Short() {
		b.Skip("opens 5,000 sockets")
	}
	ssPath, err := exec.LookPath("ss")
	if err != nil {
		b.Skip("ss(8) not installed: no baseline")
	}
	probe := NewCollector("/proc")
	needNetlink(b, probe)
	openPairs(b, 2500)

	opts := Options{TCP: true, UDP: true, Listening: true, Closed: true, Processes: true}
	socks, err := probe.Collect(nil, opts)
	if err != nil {
		b.Fatal(err)
	}
	if len(socks) < 5000 {
		b.Fatalf("only %d sockets listed, want ≥ 5000", len(socks))
	}

	// Baseline: ss's own CPU, from its rusage, averaged over runs.
	const ssRuns = 20
	var ssCPU time.Duration
	for range ssRuns {
		cmd := exec.Command(ssPath, "-tuanpi")
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			b.Fatalf("ss -tuanpi: %v", err)
		}
		ssCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	ssPerRun := ssCPU / ssRuns

	for _, mode := range []string{"warm", "cold"} {
		b.Run(mode, func(b *testing.B) {
			c := NewCollector("/proc")
			dst, err := c.Collect(nil, opts)
			if err != nil {
				b.Fatal(err)
			}
			ops := 0
			start := cpuTime(b)
			for b.Loop() {
				if mode == "cold" {
					c = NewCollector("/proc")
				}
				if dst, err = c.Collect(dst[:0], opts); err != nil {
					b.Fatal(err)
				}
				ops++
			}
			per := (cpuTime(b) - start) / time.Duration(ops)
			st := c.Stats()
			b.ReportMetric(float64(len(dst)), "sockets")
			b.ReportMetric(float64(st.FDsRead), "fds-read/op")
			b.ReportMetric(float64(per.Nanoseconds()), "cpu-ns/op")
			b.ReportMetric(float64(ssPerRun.Nanoseconds()), "ss-cpu-ns/op")
			b.ReportMetric(float64(per)/float64(ssPerRun), "x-ss")
		})
	}

	// The full /proc/*/fd scan alone: what "cold" pays on top of "warm".
	b.Run("fdscan", func(b *testing.B) {
		var st Stats
		ops := 0
		start := cpuTime(b)
		for b.Loop() {
			var r resolver
			st = Stats{}
			if err := r.resolve("/proc", socks, time.Now(), time.Minute, &st); err != nil {
				b.Fatal(err)
			}
			ops++
		}
		per := (cpuTime(b) - start) / time.Duration(ops)
		b.ReportMetric(float64(st.PIDsScanned), "pids/op")
		b.ReportMetric(float64(st.FDsRead), "fds-read/op")
		b.ReportMetric(float64(per.Nanoseconds()), "cpu-ns/op")
		b.ReportMetric(float64(per.Nanoseconds())/float64(max(1, st.FDsRead)), "cpu-ns/fd")
	})
}
