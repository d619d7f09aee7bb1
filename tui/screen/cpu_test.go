package screen

import (
	"fmt"
	"github.com/socktop/socktop/tui/model"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// TestDashboardCPU measures the dashboard's own CPU use at the default
// cadence against a real agent running as a separate process, so the
// agent's work is not counted. It needs a built binary and takes a while:
//
//	go build -o /tmp/socktop . && SOCKTOP_BIN=/tmp/socktop SOCKTOP_CPU_SECONDS=30 go test ./tui -run DashboardCPU -v
func TestDashboardCPU(t *testing.T) {
	bin, secs := os.Getenv("SOCKTOP_BIN"), os.Getenv("SOCKTOP_CPU_SECONDS")
	if bin == "" || secs == "" {
		t.Skip("set SOCKTOP_BIN and SOCKTOP_CPU_SECONDS to measure the dashboard's CPU")
	}
	n, err := strconv.Atoi(secs)
	if err != nil || n <= 0 {
		t.Fatalf("SOCKTOP_CPU_SECONDS=%q", secs)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	agent := exec.Command(bin, "agent", "--listen", addr)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { agent.Process.Kill(); agent.Wait() }()
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 100 {
			t.Fatalf("agent did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	hs := startApp(t, Options{Target: model.Target{URL: "ws://" + addr + "/ws"}}, 120, 40)
	hs.waitFor("● connected", "─ processes ")
	hs.waitUntil("a process list", func(s string) bool { _, rows := tableRows(s); return len(rows) > 0 })
	c0, w0 := processCPU(), time.Now()
	reqs0 := hs.d.w.Requests()
	time.Sleep(time.Duration(n) * time.Second)
	cpu, wall := processCPU()-c0, time.Since(w0)
	reqs := hs.d.w.Requests() - reqs0
	pct := 100 * cpu.Seconds() / wall.Seconds()
	msg := fmt.Sprintf("dashboard CPU at the default cadence (120×40, real agent in another process): %v over %v = %.2f%% of one core, %d requests", cpu, wall.Round(time.Millisecond), pct, reqs)
	t.Log(msg)
	if pct > 2 {
		t.Errorf("%s: over the 2%% budget", msg)
	}
}
