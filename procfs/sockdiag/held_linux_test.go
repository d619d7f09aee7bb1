package sockdiag

import (
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// listed returns the listed socket with inode ino.
func listed(t *testing.T, socks []Socket, ino uint64) Socket {
	t.Helper()
	for _, s := range socks {
		if s.Inode == ino {
			return s
		}
	}
	t.Fatalf("socket %d not listed", ino)
	return Socket{}
}

// diagCollector returns a collector and a netlink socket of its own,
// closed when the test ends.
func diagCollector(t *testing.T) (*Collector, int) {
	t.Helper()
	c := NewCollector("/proc")
	needNetlink(t, c)
	fd, err := c.openDiag()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return c, fd
}

// The exact lookup tells a socket still held from one closed since the
// dump, for both families, and never mistakes another socket for it.
func TestStillHeld(t *testing.T) {
	c, fd := diagCollector(t)
	for _, tc := range []struct{ network, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
		t.Run(tc.network, func(t *testing.T) {
			_, cl, sv := pair(t, tc.network, tc.addr, 100)
			socks, err := c.CollectTCP(nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			client, server := listed(t, socks, connInode(t, cl)), listed(t, socks, connInode(t, sv))
			if !c.stillHeld(fd, &client) || !c.stillHeld(fd, &server) {
				t.Fatalf("open sockets not held")
			}
			forged := client
			forged.Cookie ^= 1 << 40
			if c.stillHeld(fd, &forged) {
				t.Errorf("a socket with another cookie counted as held")
			}
			cl.Close()
			if c.stillHeld(fd, &client) {
				t.Errorf("closed client still held")
			}
			if !c.stillHeld(fd, &server) {
				t.Errorf("open server end not held after the client closed")
			}
		})
	}
}

// A socket closed between the dump and the owner lookup does not make the
// lookup read every process's fds; without the exact lookup it does.
func TestResolverSkipsClosed(t *testing.T) {
	c, fd := diagCollector(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, withLookup := range []bool{true, false} {
		cl, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		sv, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		socks, err := c.CollectTCP(nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		gone := []Socket{listed(t, socks, connInode(t, cl)), listed(t, socks, connInode(t, sv))}
		cl.Close()
		sv.Close()
		var r resolver
		now := time.Now()
		var st Stats
		if err := r.resolve("/proc", nil, now, time.Hour, &st); err != nil { // first: full
			t.Fatal(err)
		}
		if withLookup {
			r.held = func(s *Socket) bool { return c.stillHeld(fd, s) }
		}
		st = Stats{}
		if err := r.resolve("/proc", gone, now, time.Hour, &st); err != nil {
			t.Fatal(err)
		}
		if withLookup && (st.FullScan || gone[0].PID != 0 || gone[1].PID != 0) {
			t.Errorf("closed sockets searched in every process: %+v", st)
		}
		if !withLookup && !st.FullScan {
			t.Errorf("without the lookup, a closed socket should cost a full walk (the case this avoids): %+v", st)
		}
		t.Logf("lookup %v: %+v (pid %d)", withLookup, st, os.Getpid())
	}
}
