package proctraffic

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/socktop/socktop/procfs/sockdiag"
)

// tcp is an established TCP socket with counters held by pid (0: no owner
// resolved).
func tcp(cookie uint64, pid int, rx, tx uint64) sockdiag.Socket {
	return sockdiag.Socket{Proto: sockdiag.TCP, State: sockdiag.Established, Cookie: cookie, Inode: 1000 + cookie,
		PID: pid, CountersAvailable: true, Have: sockdiag.HaveBasic | sockdiag.HaveBytes, BytesReceived: rx, BytesAcked: tx}
}

// orphan is a socket closed by its process but still draining its queue:
// no file (inode 0), so no owner.
func orphan(cookie uint64, rx, tx uint64) sockdiag.Socket {
	s := tcp(cookie, 0, rx, tx)
	s.Inode = 0
	return s
}

func proc(pid int32, start uint64) Proc { return Proc{PID: pid, Start: start, Visible: true} }

func known(rx, tx uint64) Totals { return Totals{Rx: rx, Tx: tx, Known: true} }

var unknown = Totals{}

// step is one sample and the totals wanted for its processes.
type step struct {
	procs    []Proc
	socks    []sockdiag.Socket
	partial  bool // not a complete dump
	want     []Totals
	describe string
}

func run(t *testing.T, lim Limits, steps []step) {
	t.Helper()
	a := NewAccumulator(lim)
	var got []Totals
	for i, s := range steps {
		got = a.Update(s.procs, s.socks, !s.partial, got)
		if len(got) != len(s.procs) {
			t.Fatalf("step %d (%s): %d totals for %d processes", i, s.describe, len(got), len(s.procs))
		}
		for j := range got {
			if got[j] != s.want[j] {
				t.Errorf("step %d (%s): pid %d = %+v, want %+v", i, s.describe, s.procs[j].PID, got[j], s.want[j])
			}
		}
	}
}

func TestAccumulator(t *testing.T) {
	p10, p11, p12 := proc(10, 500), proc(11, 600), proc(12, 700)
	for _, tc := range []struct {
		name  string
		lim   Limits
		steps []step
	}{
		{name: "counters follow the socket; a closed socket keeps its bytes in the total", steps: []step{
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(1, 10, 100, 50)}, want: []Totals{known(100, 50), known(0, 0)}, describe: "first sight: the socket's whole history"},
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(1, 10, 300, 60), tcp(2, 11, 7, 8)}, want: []Totals{known(300, 60), known(7, 8)}},
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(2, 11, 9, 8)}, want: []Totals{known(300, 60), known(9, 8)}, describe: "socket 1 closed"},
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(3, 10, 1, 1)}, want: []Totals{known(301, 61), known(9, 8)}, describe: "a new socket adds to what closed ones left"},
		}},
		{name: "a process that exits is dropped; its reused pid starts from zero", steps: []step{
			{procs: []Proc{p10}, socks: []sockdiag.Socket{tcp(1, 10, 100, 50)}, want: []Totals{known(100, 50)}},
			{procs: []Proc{p11}, socks: nil, want: []Totals{known(0, 0)}, describe: "10 exited"},
			{procs: []Proc{proc(10, 999)}, socks: []sockdiag.Socket{tcp(4, 10, 5, 5)}, want: []Totals{known(5, 5)}, describe: "pid 10 reused"},
			{procs: []Proc{proc(10, 1234)}, socks: []sockdiag.Socket{tcp(4, 10, 6, 6)}, want: []Totals{known(1, 1)}, describe: "reused again while its socket lives (inherited): only growth"},
		}},
		{name: "a shared socket is counted once; when its owner changes, credited bytes stay", steps: []step{
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(1, 10, 100, 10)}, want: []Totals{known(100, 10), known(0, 0)}},
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(1, 11, 150, 30)}, want: []Totals{known(100, 10), known(50, 20)}, describe: "resolver now names 11 (10 handed it over)"},
			{procs: []Proc{p11}, socks: []sockdiag.Socket{tcp(1, 11, 160, 30)}, want: []Totals{known(60, 20)}, describe: "10 exited; 11 keeps only its share"},
		}},
		{name: "a closed socket still draining (inode 0) is credited to its last owner", steps: []step{
			{procs: []Proc{p10}, socks: []sockdiag.Socket{tcp(1, 10, 0, 1000)}, want: []Totals{known(0, 1000)}},
			{procs: []Proc{p10}, socks: []sockdiag.Socket{orphan(1, 0, 5000)}, want: []Totals{known(0, 5000)}},
			{procs: []Proc{proc(10, 501)}, socks: []sockdiag.Socket{orphan(1, 0, 6000)}, want: []Totals{known(0, 0)}, describe: "the owner's pid was reused: not the new process's bytes"},
		}},
		{name: "an orphan never seen with an owner is nobody's", steps: []step{
			{procs: []Proc{p10}, socks: []sockdiag.Socket{orphan(1, 10, 10)}, want: []Totals{known(0, 0)}},
		}},
		{name: "an owner resolved late gets the socket's whole history", steps: []step{
			{procs: []Proc{p10}, socks: []sockdiag.Socket{tcp(1, 0, 100, 100)}, want: []Totals{known(0, 0)}, describe: "owner not yet resolved"},
			{procs: []Proc{p10}, socks: []sockdiag.Socket{tcp(1, 10, 200, 200)}, want: []Totals{known(200, 200)}},
			{procs: []Proc{p10}, socks: []sockdiag.Socket{tcp(1, 0, 250, 250)}, want: []Totals{known(200, 200)}, describe: "owner lost for a sample"},
			{procs: []Proc{p10, p12}, socks: []sockdiag.Socket{tcp(1, 12, 300, 300)}, want: []Totals{known(200, 200), known(100, 100)}, describe: "growth while ownerless goes to the next owner"},
		}},
		{name: "an owner not in the process list (started after the scan) is credited next time", steps: []step{
			{procs: []Proc{p10}, socks: []sockdiag.Socket{tcp(1, 11, 100, 1)}, want: []Totals{known(0, 0)}},
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(1, 11, 120, 1)}, want: []Totals{known(0, 0), known(120, 1)}},
		}},
		{name: "an incomplete sample makes everything unknown and changes nothing", steps: []step{
			{procs: []Proc{p10}, socks: []sockdiag.Socket{tcp(1, 10, 100, 100)}, want: []Totals{known(100, 100)}},
			{procs: []Proc{p10}, socks: nil, partial: true, want: []Totals{unknown}, describe: "netlink refused"},
			{procs: []Proc{p10}, socks: []sockdiag.Socket{tcp(1, 0, 900, 900)}, partial: true, want: []Totals{unknown}, describe: "owner lookup failed"},
			{procs: []Proc{p10}, socks: []sockdiag.Socket{tcp(1, 10, 150, 100)}, want: []Totals{known(150, 100)}, describe: "back: no double count"},
		}},
		{name: "a socket missing from one dump is not counted twice when it reappears", steps: []step{
			{procs: []Proc{p10}, socks: []sockdiag.Socket{tcp(1, 10, 100, 100)}, want: []Totals{known(100, 100)}},
			{procs: []Proc{p10}, socks: nil, want: []Totals{known(100, 100)}},
			{procs: []Proc{p10}, socks: nil, want: []Totals{known(100, 100)}},
			{procs: []Proc{p10}, socks: []sockdiag.Socket{tcp(1, 10, 110, 100)}, want: []Totals{known(110, 100)}},
		}},
		{name: "invisible processes are unknown, not zero", steps: []step{
			{procs: []Proc{p10, {PID: 11, Start: 600}}, socks: []sockdiag.Socket{tcp(1, 10, 1, 1)}, want: []Totals{known(1, 1), unknown}},
		}},
		{name: "UDP, sockets without counters or cookie are not counted", steps: []step{
			{procs: []Proc{p10}, socks: func() []sockdiag.Socket {
				udp, noCounters, noCookie := tcp(1, 10, 5, 5), tcp(2, 10, 6, 6), tcp(0, 10, 7, 7)
				udp.Proto = sockdiag.UDP
				noCounters.CountersAvailable = false
				return []sockdiag.Socket{udp, noCounters, noCookie, tcp(3, 10, 1, 2)}
			}(), want: []Totals{known(1, 2)}},
		}},
		{name: "a hostile pid is nobody's", steps: []step{
			{procs: []Proc{p10}, socks: []sockdiag.Socket{tcp(1, -10, 1, 1), tcp(2, math.MaxInt, 1, 1)}, want: []Totals{known(0, 0)}},
		}},
		{name: "processes in any order", steps: []step{
			{procs: []Proc{p12, p10, p11}, socks: []sockdiag.Socket{tcp(1, 10, 1, 0), tcp(2, 11, 2, 0), tcp(3, 12, 3, 0)}, want: []Totals{known(3, 0), known(1, 0), known(2, 0)}},
		}},
		{name: "past the socket limit the owner is unknown", lim: Limits{Sockets: 1}, steps: []step{
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(1, 10, 1, 1), tcp(2, 11, 2, 2)}, want: []Totals{known(1, 1), unknown}},
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(1, 10, 2, 2), tcp(2, 11, 3, 3)}, want: []Totals{known(2, 2), unknown}, describe: "socket 1 still open"},
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(2, 11, 4, 4)}, want: []Totals{known(2, 2), unknown}, describe: "socket 1 closed, kept in case the dump missed it"},
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(2, 11, 5, 5)}, want: []Totals{known(2, 2), unknown}},
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(2, 11, 6, 6)}, want: []Totals{known(2, 2), unknown}, describe: "missing from 3 dumps: forgotten after this sample"},
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(2, 11, 7, 7)}, want: []Totals{known(2, 2), known(7, 7)}, describe: "room"},
		}},
		{name: "past the process limit the process is unknown", lim: Limits{Procs: 1}, steps: []step{
			{procs: []Proc{p10, p11}, socks: []sockdiag.Socket{tcp(1, 10, 1, 1), tcp(2, 11, 2, 2)}, want: []Totals{known(1, 1), unknown}},
			{procs: []Proc{p11}, socks: []sockdiag.Socket{tcp(2, 11, 5, 5)}, want: []Totals{known(5, 5)}, describe: "10 exited: room"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.lim, tc.steps) })
	}
}

func TestAccumulatorBounded(t *testing.T) {
	a := NewAccumulator(Limits{Sockets: 1000, Procs: 10})
	procs := make([]Proc, 50)
	for i := range procs {
		procs[i] = proc(int32(i+1), 1)
	}
	var got []Totals
	for round := range 20 {
		// 200 new sockets per round: with those of the last rounds, kept in
		// case a dump missed them, they fit in 1,000.
		socks := make([]sockdiag.Socket, 0, 200)
		for i := range 200 {
			socks = append(socks, tcp(uint64(round*1000+i+1), i%50+1, 1, 1))
		}
		got = a.Update(procs, socks, true, got)
		if s, p := a.Tracked(); s > 1000 || p > 10 {
			t.Fatalf("round %d: %d sockets, %d processes tracked", round, s, p)
		}
	}
	n := 0
	for _, g := range got {
		if g.Known {
			n++
		}
	}
	if n != 10 {
		t.Errorf("%d processes known, want the 10 that fit", n)
	}
	for i, g := range got[:10] {
		if !g.Known || g.Rx != 80 || g.Tx != 80 { // 20 rounds of 4 new sockets with 1 byte each way
			t.Errorf("pid %d: %+v, want 80 bytes each way", procs[i].PID, g)
		}
	}
}

// FuzzAccumulator drives random samples (sockets appearing, growing,
// changing owner, vanishing; processes exiting and pids reused) and checks
// that a live process's totals never go backwards and that no byte is
// credited twice: the sum of all totals never exceeds the sum of the
// highest counters of every socket ever listed.
func FuzzAccumulator(f *testing.F) {
	f.Add([]byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12"))
	f.Add([]byte("\xff\x00\xff\x00\x81\x42\x13\x37\x00\x00\x99\x01\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a := NewAccumulator(Limits{Sockets: 8, Procs: 4})
		start := map[int32]uint64{1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
		counters := map[uint64][2]uint64{}       // highest counters per cookie
		cookie := [7]uint64{0, 1, 2, 3, 4, 5, 6} // each slot's current socket
		var missed [7]int
		type life struct {
			pid   int32
			start uint64
		}
		prev := map[life]Totals{}
		var got []Totals
		for len(b) >= 3 {
			op, x, y := b[0], b[1], b[2]
			b = b[3:]
			if op&0x80 != 0 { // pid reuse: a new process
				start[int32(x%5+1)]++
			}
			var procs []Proc
			for pid := int32(1); pid <= 5; pid++ {
				if op&(1<<(pid-1)) == 0 {
					procs = append(procs, Proc{PID: pid, Start: start[pid], Visible: y&1 == 0 || pid != 3})
				} else {
					start[pid]++ // exited: whatever runs under this pid later is another process
				}
			}
			var socks []sockdiag.Socket
			for slot := uint64(1); slot <= 6; slot++ {
				if (uint64(x)>>slot)&1 == 1 {
					// Missing from this dump. A live socket is not missed
					// keepMissing times in a row: that one closed, and the
					// slot's next socket is a new one.
					if missed[slot]++; missed[slot] >= keepMissing {
						cookie[slot] += 8
						missed[slot] = 0
					}
					continue
				}
				missed[slot] = 0
				c := cookie[slot]
				cnt := counters[c]
				cnt[0] += uint64(y) * c
				cnt[1] += uint64(x) + c
				counters[c] = cnt
				owner := int(binary.LittleEndian.Uint16([]byte{y, x}))%7 - 1 // -1..5
				s := tcp(c, max(owner, 0), cnt[0], cnt[1])
				if owner < 0 {
					s.Inode = 0
				}
				socks = append(socks, s)
			}
			got = a.Update(procs, socks, op&0x40 == 0, got)
			var sumRx, sumTx, maxRx, maxTx uint64
			cur := map[life]Totals{}
			for i, p := range procs {
				g := got[i]
				if !g.Known {
					continue
				}
				sumRx, sumTx = sumRx+g.Rx, sumTx+g.Tx
				key := life{p.PID, p.Start}
				if old, ok := prev[key]; ok && (g.Rx < old.Rx || g.Tx < old.Tx) {
					t.Fatalf("pid %d went backwards: %+v after %+v", p.PID, g, old)
				}
				cur[key] = g
			}
			for k, v := range cur {
				prev[k] = v
			}
			for _, c := range counters {
				maxRx, maxTx = maxRx+c[0], maxTx+c[1]
			}
			if sumRx > maxRx || sumTx > maxTx {
				t.Fatalf("credited %d/%d bytes, sockets carried at most %d/%d", sumRx, sumTx, maxRx, maxTx)
			}
			if s, p := a.Tracked(); s > 8 || p > 4 {
				t.Fatalf("%d sockets, %d processes tracked", s, p)
			}
		}
	})
}
