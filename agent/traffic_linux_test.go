package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/procfs/proctest"
	"github.com/socktop/socktop/wire"
)

// What the traffic helpers move: over loopback TCP, and to a file.
const (
	trafficSend  = 8 << 20
	trafficWrite = 16 << 20
)

// runTraffic is a helper process that moves bytes: tcprecv listens (its
// address is its second line), reads trafficSend bytes and answers one;
// tcpsend connects to $SOCKTOP_TEST_ADDR, sends them and waits for the
// answer; both close their connection on SIGUSR1 and say "closed". fsync
// writes trafficWrite bytes to $SOCKTOP_TEST_DIR/data with fsync. Each
// then lives until killed.
func runTraffic(mode string) {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	fail := func(err error) {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	var c net.Conn
	switch mode {
	case "tcprecv":
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			fail(err)
		}
		fmt.Println("ready")
		fmt.Println(ln.Addr())
		if c, err = ln.Accept(); err != nil {
			fail(err)
		}
		ln.Close()
		if _, err := io.CopyN(io.Discard, c, trafficSend); err != nil {
			fail(err)
		}
		if _, err := c.Write([]byte{1}); err != nil {
			fail(err)
		}
		fmt.Println("received")
	case "tcpsend":
		var err error
		if c, err = net.Dial("tcp4", os.Getenv("SOCKTOP_TEST_ADDR")); err != nil {
			fail(err)
		}
		fmt.Println("ready")
		if _, err := c.Write(make([]byte, trafficSend)); err != nil {
			fail(err)
		}
		// The answer comes once every byte was read, so all were acked.
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			fail(err)
		}
		fmt.Println("sent")
	case "fsync":
		fmt.Println("ready")
		f, err := os.Create(filepath.Join(os.Getenv("SOCKTOP_TEST_DIR"), "data"))
		if err != nil {
			fail(err)
		}
		if _, err := f.Write(make([]byte, trafficWrite)); err != nil {
			fail(err)
		}
		if err := f.Sync(); err != nil {
			fail(err)
		}
		f.Close()
		fmt.Println("written")
	}
	if c != nil {
		<-usr1
		c.Close()
		fmt.Println("closed")
	}
	select {}
}

// trafficOf is a row's four extras, -1 for each one absent.
type trafficOf struct{ rx, tx, rd, wr int64 }

func trafficRow(p *wire.ProcessInfo) trafficOf {
	if p == nil {
		return trafficOf{-1, -1, -1, -1}
	}
	opt := func(v *uint64) int64 {
		if v == nil {
			return -1
		}
		return int64(*v)
	}
	return trafficOf{opt(p.NetRxBytes), opt(p.NetTxBytes), opt(p.IoReadBytes), opt(p.IoWriteBytes)}
}

// TestProcessTraffic: through the real agent over v2 (decoded with
// protobuf's validating decoder), a child that sends 8 MiB over loopback
// TCP and the child that receives them show those bytes in their own rows,
// a child that writes 16 MiB with fsync shows them as written, nobody else
// gets them, and the two keep their totals once their sockets closed;
// `socktop snapshot processes` carries the four fields too. A process in
// another network namespace has no net fields (unknown), only io. The
// agent reuses a socket dump for a while (netRefresh, shortened here):
// each list says when its net totals were read, and the checks wait for
// totals read after the helpers were done.
func TestProcessTraffic(t *testing.T) {
	needSockDiag(t)
	cfg := testConfig()
	cfg.ProcessesTTL = 100 * time.Millisecond
	a, srv := startAgent(t, cfg)
	a.coll.traffic.mu.Lock()
	a.coll.traffic.netEvery = time.Second
	a.coll.traffic.mu.Unlock()
	c := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	all := &wire.ProcessExtras{Net: true, Io: true}
	before, _ := processesOver(t, c, 1, all)
	if st := a.coll.traffic.stats(); st == nil || st.NetErr != nil {
		t.Fatalf("traffic sampler after a request with extras: %+v", st)
	}
	id := uint32(1)
	// netAfter is the first list whose net totals were read after ms.
	netAfter := func(ms int64) *wire.Processes {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			id++
			ps, _ := processesOver(t, c, id, all)
			if at := int64(ps.NetSampledAtMs); at < int64(ps.SampledAtMs)-2000 || at > time.Now().UnixMilli() {
				t.Fatalf("net_sampled_at_ms %d, sampled_at_ms %d: want a recent dump's time", at, ps.SampledAtMs)
			} else if at > ms {
				return ps
			}
			if time.Now().After(deadline) {
				t.Fatalf("no list with net totals read after %d (last %d)", ms, ps.NetSampledAtMs)
			}
			time.Sleep(cfg.ProcessesTTL)
		}
	}

	dir := proctest.DiskDir(t)
	recv := startHelper(t, "tcprecv", "", nil)
	addr := recv.next(t)
	send := startHelper(t, "tcpsend", "", func(cmd *exec.Cmd) { cmd.Env = append(cmd.Env, "SOCKTOP_TEST_ADDR="+addr) })
	write := startHelper(t, "fsync", "", func(cmd *exec.Cmd) { cmd.Env = append(cmd.Env, "SOCKTOP_TEST_DIR="+dir) })
	otherNet := proctest.StartSleeper(t, &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET})
	for h, want := range map[*helper]string{send: "sent", recv: "received", write: "written"} {
		if got := h.next(t); got != want {
			t.Fatalf("helper %d said %q, want %q", h.pid(), got, want)
		}
	}
	// This process is checked before the snapshot's `go build` and its
	// binary ran: a reaped child's io counts in its parent's, as the
	// kernel accounts it.
	mine := map[int]bool{os.Getpid(): true}

	check := func(when string, ps *wire.Processes) {
		t.Helper()
		s, r, w := trafficRow(rowOf(ps, send.pid())), trafficRow(rowOf(ps, recv.pid())), trafficRow(rowOf(ps, write.pid()))
		t.Logf("%s: sender %+v, receiver %+v, writer %+v", when, s, r, w)
		if s.tx < trafficSend || s.tx > trafficSend+64<<10 || s.rx < 1 || s.rx > 64<<10 {
			t.Errorf("%s: sender %+v, want tx %d (+ the SYN), rx the answer", when, s, trafficSend)
		}
		if r.rx < trafficSend || r.rx > trafficSend+64<<10 || r.tx < 1 || r.tx > 64<<10 {
			t.Errorf("%s: receiver %+v, want rx %d, tx the answer", when, r, trafficSend)
		}
		if w.wr < trafficWrite || w.rx != 0 || w.tx != 0 {
			t.Errorf("%s: writer %+v, want %d written, no traffic", when, w, trafficWrite)
		}
		if s.wr < 0 || s.wr >= trafficWrite || r.wr < 0 || r.wr >= trafficWrite {
			t.Errorf("%s: the sockets' ends wrote %d and %d bytes, want their own io known and small", when, s.wr, r.wr)
		}
		if o := trafficRow(rowOf(ps, otherNet.Process.Pid)); o.rx != -1 || o.tx != -1 || o.wr < 0 {
			t.Errorf("%s: a process in another network namespace %+v, want no net fields (unknown), io known", when, o)
		}
		// Nobody else got the sent bytes (nor, in this test's own tree,
		// the written ones).
		for _, p := range ps.Processes {
			if p.Pid == uint32(send.pid()) || p.Pid == uint32(recv.pid()) || p.Pid == uint32(write.pid()) {
				continue
			}
			now, was := trafficRow(p), trafficRow(rowOf(before, int(p.Pid)))
			if was.rx < 0 || was.tx < 0 { // not listed before, or unknown then
				was = trafficOf{}
			}
			if now.rx-was.rx >= trafficSend || now.tx-was.tx >= trafficSend {
				t.Errorf("%s: pid %d (%s) got the traffic too: %+v, before %+v", when, p.Pid, p.Name, now, was)
			}
			if mine[int(p.Pid)] && now.wr-max(was.wr, 0) >= trafficWrite {
				t.Errorf("%s: pid %d (%s) wrote the file too: %+v", when, p.Pid, p.Name, now)
			}
		}
	}
	open := netAfter(time.Now().UnixMilli())
	check("open", open)

	// `socktop snapshot processes` asks for every extra: a fresh agent's
	// first sample sees the open sockets' whole history.
	out, err := exec.Command(buildSocktop(t), "snapshot", "processes").Output()
	if err != nil {
		t.Fatalf("snapshot processes: %v", err)
	}
	var snap struct {
		Processes []struct {
			Pid          int    `json:"pid"`
			NetRxBytes   *int64 `json:"net_rx_bytes"`
			NetTxBytes   *int64 `json:"net_tx_bytes"`
			IoReadBytes  *int64 `json:"io_read_bytes"`
			IoWriteBytes *int64 `json:"io_write_bytes"`
		} `json:"processes"`
	}
	if err := json.Unmarshal(out, &snap); err != nil {
		t.Fatalf("snapshot JSON: %v", err)
	}
	found := 0
	for _, p := range snap.Processes {
		switch p.Pid {
		case send.pid():
			found++
			if p.NetTxBytes == nil || *p.NetTxBytes < trafficSend || p.IoWriteBytes == nil {
				t.Errorf("snapshot: sender net_tx_bytes %v io_write_bytes %v", p.NetTxBytes, p.IoWriteBytes)
			}
		case recv.pid():
			found++
			if p.NetRxBytes == nil || *p.NetRxBytes < trafficSend {
				t.Errorf("snapshot: receiver net_rx_bytes %v", p.NetRxBytes)
			}
		case write.pid():
			found++
			if p.IoWriteBytes == nil || *p.IoWriteBytes < trafficWrite || p.IoReadBytes == nil || p.NetTxBytes == nil || *p.NetTxBytes != 0 {
				t.Errorf("snapshot: writer io_write_bytes %v io_read_bytes %v net_tx_bytes %v", p.IoWriteBytes, p.IoReadBytes, p.NetTxBytes)
			}
		}
	}
	if found != 3 {
		t.Errorf("snapshot lists %d of the 3 helpers", found)
	}

	for _, h := range []*helper{send, recv} {
		h.cmd.Process.Signal(syscall.SIGUSR1)
		if got := h.next(t); got != "closed" {
			t.Fatalf("helper %d said %q, want closed", h.pid(), got)
		}
	}
	delete(mine, os.Getpid())
	closed := netAfter(time.Now().UnixMilli())
	if closed.SampledAtMs == open.SampledAtMs {
		t.Fatal("no new sample after the sockets closed")
	}
	check("closed", closed)
}

// TestProcessTrafficOnlyWhenAsked: a client that asks for no extras (or
// only command lines) costs no socket dump and no io read — no sampler
// is made — and gets no traffic fields; a subscription that asks for net
// is told so and its pushes carry them; once nobody wants them the io
// files are let go of, and once nobody is connected the sampler is gone.
func TestProcessTrafficOnlyWhenAsked(t *testing.T) {
	needSockDiag(t)
	cfg := testConfig()
	cfg.ProcessesTTL = 50 * time.Millisecond
	a, srv := startAgent(t, cfg)
	c := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	for i, x := range []*wire.ProcessExtras{nil, {Command: true}, {}} {
		ps, _ := processesOver(t, c, uint32(i+1), x)
		for _, p := range ps.Processes {
			if p.NetRxBytes != nil || p.NetTxBytes != nil || p.IoReadBytes != nil || p.IoWriteBytes != nil {
				t.Fatalf("extras %v: pid %d carries traffic fields", x, p.Pid)
			}
		}
		if ps.NetSampledAtMs != 0 {
			t.Fatalf("extras %v: net_sampled_at_ms %d without net", x, ps.NetSampledAtMs)
		}
		if st := a.coll.traffic.stats(); st != nil {
			t.Fatalf("extras %v: a traffic sampler exists (%+v)", x, st)
		}
		time.Sleep(cfg.ProcessesTTL)
	}
	c.Close(websocket.StatusNormalClosure, "")

	wc := dialClient(t, wsURL(srv))
	sub, err := wc.Subscribe(context.Background(), wire.Cadence{Processes: 200 * time.Millisecond, Extras: &wire.ProcessExtras{Net: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !sub.Extras.GetNet() || sub.Extras.GetIo() || sub.Extras.GetCommand() {
		t.Errorf("asked net: the subscription keeps %v", sub.Extras)
	}
	p := <-wc.Pushes()
	self := rowOf(p.Processes, os.Getpid())
	if self == nil || self.NetRxBytes == nil || self.NetTxBytes == nil || self.IoReadBytes != nil {
		t.Errorf("pushed own row with net asked: %v", self)
	}
	if at := p.Processes.NetSampledAtMs; at == 0 || at > uint64(time.Now().UnixMilli()) {
		t.Errorf("pushed list with net asked: net_sampled_at_ms %d", at)
	}
	if a.coll.traffic.stats() == nil {
		t.Fatal("no traffic sampler while a subscription asks for net")
	}
	if _, err := wc.Subscribe(context.Background(), wire.Cadence{Processes: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	// Nobody asked for trafficRecently: the next sample closes the io files.
	a.coll.traffic.net.Store(0)
	a.coll.traffic.io.Store(0)
	deadline := time.Now().Add(5 * time.Second)
	for {
		<-wc.Pushes()
		a.coll.traffic.mu.Lock()
		closed := a.coll.traffic.closed
		a.coll.traffic.mu.Unlock()
		if closed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the traffic sampler was not closed once nobody wanted it")
		}
	}
	wc.Close()
	for a.coll.traffic.stats() != nil {
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatal("the traffic sampler outlived the last client")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestProcessTrafficReusedDump: within netRefresh of a socket dump, a new
// list (new sampled_at_ms) carries that dump's totals and its
// net_sampled_at_ms; a process started since has io but no net fields
// (unknown, not 0) until the next dump.
func TestProcessTrafficReusedDump(t *testing.T) {
	needSockDiag(t)
	cfg := testConfig()
	cfg.ProcessesTTL = 50 * time.Millisecond
	_, srv := startAgent(t, cfg)
	c := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	all := &wire.ProcessExtras{Net: true, Io: true}
	first, _ := processesOver(t, c, 1, all)
	late := proctest.StartSleeper(t, nil)
	time.Sleep(2 * cfg.ProcessesTTL)
	again, _ := processesOver(t, c, 2, all)
	if again.SampledAtMs == first.SampledAtMs {
		t.Fatal("no new list")
	}
	if time.Since(time.UnixMilli(int64(first.NetSampledAtMs))) >= netRefresh {
		t.Skip("the machine is too slow to ask twice within netRefresh")
	}
	if first.NetSampledAtMs == 0 || again.NetSampledAtMs != first.NetSampledAtMs {
		t.Errorf("net_sampled_at_ms %d then %d, want the first dump's time again", first.NetSampledAtMs, again.NetSampledAtMs)
	}
	if r := trafficRow(rowOf(again, late.Process.Pid)); r.rx != -1 || r.tx != -1 || r.wr < 0 {
		t.Errorf("process started after the dump: %+v, want no net fields (unknown), io known", r)
	}
	self, was := trafficRow(rowOf(again, os.Getpid())), trafficRow(rowOf(first, os.Getpid()))
	if self.rx != was.rx || self.tx != was.tx || self.rx < 0 {
		t.Errorf("this process's net totals %+v, then %+v with the dump reused: want the same", was, self)
	}
}
