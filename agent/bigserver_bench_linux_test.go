package agent

import (
	"context"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"

	"github.com/socktop/socktop/procfs/proctest"
	"github.com/socktop/socktop/wire"
)

// BenchmarkBigServer is the agent on a big server: 10,000 processes and
// 20,000 TCP sockets (10,000 loopback connections, both ends held by
// sleeper children), all made here and gone with the benchmark (the
// children are killed at cleanup, or by the kernel when the test process
// dies). Each step collects
// afresh (every TTL is 0) in thread CPU time, against one Floor scan
// (readdir of /proc and open+read+close of every /proc/<pid>/stat),
// measured alternately in one run:
//   - processes: the process list's collection; v2 and text add its
//     encodings (x-v2, x-text: a whole request of that dialect ÷ Floor);
//   - connections: every socket with its owner, as the connections
//     screen asks;
//   - metrics: the machine sample;
//   - scrape: a /metrics scrape while a dashboard is connected (the
//     process sampler's files stay held).
//
// It reports the heap the agent holds (heap-MiB) and skips where the
// machine cannot hold that many processes or files.
//
//	go test ./agent -run '^$' -bench BigServer -benchtime 10x
func BenchmarkBigServer(b *testing.B) {
	const procs, conns = 10000, 10000
	proctest.TopUpProcesses(b, procs)
	openConnections(b, conns)

	cfg := testConfig()
	cfg.MetricsTTL, cfg.ProcessesTTL, cfg.DisksTTL, cfg.ConnectionsTTL, cfg.ContainersTTL = 0, 0, 0, 0, 0
	a, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	a.coll.procs.Window, a.coll.cpu.Window = 0, 0 // back to back: no 150 ms pause
	ctx := context.Background()
	var ps *sample[*wire.Processes]
	get := func(k *kind, q query) func() {
		i := a.reg.index[k]
		return func() {
			r, err := a.get(ctx, i, q)
			if err != nil {
				b.Fatal(err)
			}
			if p, ok := r.(*sample[*wire.Processes]); ok {
				ps = p
			}
		}
	}
	// A dashboard is connected: the scrape keeps the held files.
	a.clients.Add(1)
	defer a.clients.Add(-1)
	get(processesKind, query{})()
	get(connectionsKind, query{})()
	floor := proctest.NewFloor()
	heap0, _ := heapInUse()
	proctest.Ratios(b, []proctest.Step{
		proctest.Named("floor", func() { floor.Scan() }),
		proctest.Named("processes", get(processesKind, query{})),
		proctest.Named("v2-encode", func() { ps.v2Body() }),
		proctest.Named("text-encode", func() { ps.frame(wire.DialectCommand, processesKind.encode) }),
		proctest.Named("connections", get(connectionsKind, query{})),
		proctest.Named("metrics", get(metricsKind, query{})),
		proctest.Named("scrape", func() { a.serveMetrics(httptest.NewRecorder(), httptest.NewRequest("GET", "/metrics", nil)) }),
	}, map[string][]string{"v2": {"processes", "v2-encode"}, "text": {"processes", "text-encode"}})
	heap1, _ := heapInUse()
	b.ReportMetric(float64(len(ps.msg.Processes)), "procs")
	b.ReportMetric(float64(max(heap0, heap1))/(1<<20), "heap-MiB")
}

// openConnections opens n loopback TCP connections whose both ends are
// held by sleeper children (inherited descriptors), heldBy at a time, so
// that this process's own file limit does not bound n; the children are
// killed at cleanup, or by the kernel should the test die first.
func openConnections(b *testing.B, n int) {
	b.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		b.Skip("no sleep binary")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	const heldBy = 2500 // connections per child: 5,000 descriptors
	for done := 0; done < n; {
		var files []*os.File
		for ; done < n && len(files) < 2*heldBy; done++ {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Skipf("cannot open %d loopback connections (got %d): %v", n, done, err)
			}
			s, err := ln.Accept()
			if err != nil {
				b.Fatal(err)
			}
			for _, conn := range []net.Conn{c, s} {
				f, err := conn.(*net.TCPConn).File()
				conn.Close()
				if err != nil {
					b.Fatal(err)
				}
				files = append(files, f)
			}
		}
		cmd := proctest.Command(sleep, "3600")
		cmd.ExtraFiles = files
		err := proctest.Start(cmd)
		for _, f := range files {
			f.Close()
		}
		if err != nil {
			b.Skipf("cannot start a child holding %d sockets: %v", len(files), err)
		}
		b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	}
}
