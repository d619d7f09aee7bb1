package agent

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
)

// frameHeader is a masked client frame header with FIN set or not.
func frameHeader(fin bool, op byte, n int) []byte {
	h := maskedHeader(op, n)
	if !fin {
		h[0] &^= 0x80
	}
	return h
}

// masked is a client frame carrying payload (masked with maskedHeader's key).
func masked(fin bool, op byte, payload []byte) []byte {
	key := []byte{0x11, 0x22, 0x33, 0x44}
	f := frameHeader(fin, op, len(payload))
	for i, b := range payload {
		f = append(f, b^key[i%4])
	}
	return f
}

// floodResult is what one flood cost the agent process.
type floodResult struct {
	sent, replies int64
	cpu           float64 // share of one core
	p50, worst    time.Duration
}

// flood sends one frame over and over on a raw WebSocket for d, counts the
// frames the agent sends back, and measures the agent's CPU (from
// /proc/<pid>/stat) and a calm client's latency meanwhile.
func flood(t *testing.T, pid int, addr string, calm *wire.Client, prefix, frame []byte, d time.Duration) floodResult {
	t.Helper()
	c := rawUpgrade(t, addr, false)
	defer c.Close()
	var r floodResult
	var replyBytes atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		n, _ := io.Copy(io.Discard, c)
		replyBytes.Store(n)
	})
	batch := append([]byte(nil), prefix...)
	for len(batch) < 64<<10 {
		batch = append(batch, frame...)
	}
	fs, err := procfs.NewFS("/proc", "/sys")
	if err != nil {
		t.Fatal(err)
	}
	hz := float64(fs.ClockTicks())
	before, start := cpuTicks(t, pid), time.Now()
	var writeErr error
	var writer sync.WaitGroup
	writer.Go(func() {
		c.SetWriteDeadline(start.Add(d))
		b := batch
		for {
			n, err := c.Write(b)
			r.sent += int64(n / len(frame))
			if err != nil {
				writeErr = err
				return
			}
			b = batch[len(prefix):]
		}
	})
	r.p50, r.worst, _, _ = latencies(t, calm, d)
	elapsed := time.Since(start)
	r.cpu = float64(cpuTicks(t, pid)-before) / hz / elapsed.Seconds()
	writer.Wait() // its write deadline has passed
	if writeErr != nil && !isTimeout(writeErr) {
		t.Logf("the agent ended the flooding connection: %v", writeErr)
	}
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	c.Close()
	wg.Wait()
	r.replies = replyBytes.Load()
	return r
}

// TestFrameFloods is issue 13's control-frame and continuation floods
// against the built binary: a ping flood is throttled to frameRate (its
// pongs counted), a flood of empty continuation frames ends its
// connection after maxFragments, and neither holds a core while a calm
// client is served.
func TestFrameFloods(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built binary")
	}
	ap := startAgentProcess(t, buildSocktop(t), nil)
	pid := ap.cmd.Process.Pid
	addr := strings.TrimSuffix(strings.TrimPrefix(ap.url, "ws://"), "/ws")
	calm := dialClient(t, ap.url)
	p50, worst, _, _ := latencies(t, calm, time.Second)
	t.Logf("calm client before: p50 %v, worst %v", p50, worst)

	const d = 5 * time.Second
	ping := masked(true, 0x9, nil) // 6 bytes; each pong is 2
	r := flood(t, pid, addr, calm, nil, ping, d)
	pongs := r.replies / 2
	t.Logf("ping flood, %v: %d pings sent, %d pongs (throttle: %d + %d/s), agent CPU %.1f%% of a core, calm client p50 %v, worst %v",
		d, r.sent, pongs, frameBurst, frameRate, 100*r.cpu, r.p50, r.worst)
	if limit := int64(frameBurst + frameRate*(d.Seconds()+1)); pongs > limit {
		t.Errorf("%d pongs in %v, want ≤ %d: pings are not throttled", pongs, d, limit)
	}
	if pongs < frameBurst/2 {
		t.Errorf("only %d pongs: pings are not answered", pongs)
	}
	if r.cpu > 0.25 {
		t.Errorf("a ping flood took %.0f%% of a core, want ≤ 25%%", 100*r.cpu)
	}

	pong := masked(true, 0xA, []byte("unsolicited"))
	r = flood(t, pid, addr, calm, nil, pong, d)
	t.Logf("pong flood, %v: %d pongs sent, agent CPU %.1f%% of a core, calm client p50 %v, worst %v",
		d, r.sent, 100*r.cpu, r.p50, r.worst)
	if r.cpu > 0.25 {
		t.Errorf("a pong flood took %.0f%% of a core, want ≤ 25%%", 100*r.cpu)
	}

	// Empty continuation frames after the first frame of a text message:
	// the agent must end the connection once it has more than
	// maxFragments frames.
	c := rawUpgrade(t, addr, false)
	defer c.Close()
	c.Write(masked(false, 0x1, []byte(`{"type":`)))
	empty := masked(false, 0x0, nil)
	sent := 0
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for ; sent < 1_000_000; sent++ {
		if _, err := c.Write(empty); err != nil {
			break
		}
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	t.Logf("empty continuation flood: connection ended after %d frames sent (%v)", sent, err)
	if isTimeout(err) {
		t.Errorf("a fragmented message of %d empty frames is still open", sent)
	}
	if sent >= 1_000_000 {
		t.Errorf("the agent took %d empty continuation frames without ending the connection", sent)
	}
	checkCalm(t, calm)
}

func checkCalm(t *testing.T, c *wire.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Metrics(ctx); err != nil {
		t.Fatalf("calm client after the floods: %v", err)
	}
}

// TestFragmentedMessages: a request in a few fragments (and pings between
// them) is answered; one of more than maxFragments frames, or one left
// unfinished past fragmentTime, ends the connection, without disturbing
// another client.
func TestFragmentedMessages(t *testing.T) {
	a, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	a.fragmentTime = 500 * time.Millisecond
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveListener(t, a, ln)
	addr := ln.Addr().String()
	other := dialClient(t, "ws://"+addr+"/ws")

	read := func(c net.Conn) ([]byte, error) {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var hdr [2]byte
		for {
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return nil, err
			}
			n := int(hdr[1] & 0x7f)
			if n == 126 {
				var ext [2]byte
				io.ReadFull(c, ext[:])
				n = int(ext[0])<<8 | int(ext[1])
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(c, b); err != nil {
				return nil, err
			}
			if hdr[0]&0x0f == 0x1 || hdr[0]&0x0f == 0x2 {
				return b, nil
			}
		}
	}

	c := rawUpgrade(t, addr, false)
	defer c.Close()
	msg := []byte(`{"type":"metrics"}`)
	var req []byte
	for i, part := range [][]byte{msg[:5], msg[5:9], msg[9:]} {
		op := byte(0x1)
		if i > 0 {
			op = 0
		}
		req = append(req, masked(i == 2, op, part)...)
		req = append(req, masked(true, 0x9, []byte("between"))...)
	}
	c.Write(req)
	b, err := read(c)
	if err != nil || !bytes.Contains(b, []byte(`"mem_total"`)) {
		t.Fatalf("fragmented request: %v %.100q, want the metrics reply", err, b)
	}

	for _, tc := range []struct {
		name   string
		frames func() []byte
	}{
		{"65 fragments", func() []byte {
			f := masked(false, 0x1, []byte("{"))
			for range maxFragments {
				f = append(f, masked(false, 0, []byte(" "))...)
			}
			return f
		}},
		{"unfinished past fragmentTime", func() []byte { return masked(false, 0x1, []byte(`{"type":`)) }},
	} {
		c := rawUpgrade(t, addr, false)
		defer c.Close()
		c.Write(tc.frames())
		start := time.Now()
		_, err := read(c)
		if err == nil || isTimeout(err) {
			t.Errorf("%s: %v, want the connection ended", tc.name, err)
		}
		t.Logf("%s: connection ended after %v (%v)", tc.name, time.Since(start).Round(time.Millisecond), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := other.Metrics(ctx); err != nil {
		t.Errorf("the other client: %v", err)
	}
}

// TestFramesBeforeThe101: frames a client sends right behind its upgrade
// request, without waiting for the 101 (they are in the server's buffer
// when the connection is hijacked), are followed by the guard too.
func TestFramesBeforeThe101(t *testing.T) {
	_, addr := serveAgent(t, testConfig())
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\n" + strings.Join(upgradeHeaders(), "") + "\r\n"
	f := masked(false, 0x1, []byte("{"))
	for range maxFragments {
		f = append(f, masked(false, 0, []byte(" "))...)
	}
	c.Write(append([]byte(req), f...))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if isTimeout(err) {
		t.Fatalf("65 fragments sent with the upgrade request: the connection is still open (%q)", b)
	}
	if !bytes.Contains(b, []byte(" 101 ")) {
		t.Errorf("no 101 before the end: %q", b)
	}
}
