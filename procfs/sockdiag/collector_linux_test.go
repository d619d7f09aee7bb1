//go:build linux

package sockdiag

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// needNetlink skips when the kernel (or qemu-user, which does not forward
// NETLINK_SOCK_DIAG) refuses the dump.
func needNetlink(t testing.TB, c *Collector) {
	t.Helper()
	if _, err := c.Collect(nil, Options{TCP: true}); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if st := c.Stats(); !st.Netlink {
		t.Skipf("netlink sock_diag unavailable here (%v): counters are not testable", st.NetlinkErr)
	}
}

// connInode returns the socket inode behind a net.Conn or net.Listener.
func connInode(t testing.TB, c any) uint64 {
	t.Helper()
	var raw interface{ Control(func(fd uintptr)) error }
	var err error
	switch v := c.(type) {
	case *net.TCPConn:
		raw, err = v.SyscallConn()
	case *net.TCPListener:
		raw, err = v.SyscallConn()
	case *net.UDPConn:
		raw, err = v.SyscallConn()
	default:
		t.Fatalf("connInode: %T", c)
	}
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil || serr != nil {
		t.Fatalf("fstat socket: %v %v", err, serr)
	}
	return st.Ino
}

func selfComm(t testing.TB) string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSpace(b))
}

func find(socks []Socket, p Proto, local, remote netip.AddrPort) *Socket {
	for i := range socks {
		s := &socks[i]
		if s.Proto == p && s.Local == local && s.Remote == remote {
			return s
		}
	}
	return nil
}

func addrPort(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.TCPAddr:
		return v.AddrPort()
	case *net.UDPAddr:
		return v.AddrPort()
	}
	panic("addrPort")
}

// TestLoopbackTraffic sends exactly 3 MiB one way and 1 MiB back over a real
// loopback TCP connection and checks both ends' counters, owners, the
// listener, and that the connection is gone after close.
func TestLoopbackTraffic(t *testing.T) {
	for _, tc := range []struct{ name, network, addr string }{
		{"ipv4", "tcp4", "127.0.0.1:0"},
		{"ipv6", "tcp6", "[::1]:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollector("/proc")
			needNetlink(t, c)
			ln, err := net.Listen(tc.network, tc.addr)
			if err != nil {
				t.Skipf("%s loopback unavailable: %v", tc.addr, err)
			}
			defer ln.Close()
			const up, down = 3 << 20, 1 << 20
			accepted := make(chan net.Conn, 1)
			srvErr := make(chan error, 1)
			go func() {
				s, err := ln.Accept()
				if err != nil {
					srvErr <- err
					return
				}
				accepted <- s
				if _, err := io.ReadFull(s, make([]byte, up)); err != nil {
					srvErr <- err
					return
				}
				_, err = s.Write(make([]byte, down))
				srvErr <- err
			}()
			cl, err := net.Dial(tc.network, ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			srv := <-accepted
			defer srv.Close()
			if _, err := cl.Write(make([]byte, up)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(cl, make([]byte, down)); err != nil {
				t.Fatal(err)
			}
			if err := <-srvErr; err != nil {
				t.Fatal(err)
			}

			clLocal, srvLocal := addrPort(cl.LocalAddr()), addrPort(srv.LocalAddr())
			opts := Options{TCP: true, Listening: true, Processes: true}
			var socks []Socket
			var cs, ss *Socket
			// The last ACK may still be delayed: wait (bounded) until the
			// counters settle; the assertions below are on values, not time.
			for deadline := time.Now().Add(5 * time.Second); ; {
				socks, err = c.Collect(socks[:0], opts)
				if err != nil {
					t.Fatal(err)
				}
				cs, ss = find(socks, TCP, clLocal, srvLocal), find(socks, TCP, srvLocal, clLocal)
				settled := cs != nil && ss != nil && cs.BytesAcked >= up && ss.BytesAcked >= down
				if settled || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if cs == nil || ss == nil {
				t.Fatalf("connection %v <-> %v not listed (client %v, server %v) among %d sockets", clLocal, srvLocal, cs, ss, len(socks))
			}
			pid, comm := os.Getpid(), selfComm(t)
			for _, e := range []struct {
				name       string
				s          *Socket
				sent, rcvd uint64
				inode      uint64
				wantFamily uint8
			}{
				{"client", cs, up, down, connInode(t, cl), map[string]uint8{"ipv4": 4, "ipv6": 6}[tc.name]},
				{"server", ss, down, up, connInode(t, srv), map[string]uint8{"ipv4": 4, "ipv6": 6}[tc.name]},
			} {
				s := e.s
				t.Logf("%s: %+v", e.name, *s)
				if !s.CountersAvailable || s.Have&(HaveBytes|HaveSegs) != HaveBytes|HaveSegs {
					t.Errorf("%s: counters not available (Have=%b)", e.name, s.Have)
				}
				// bytes_acked also counts the SYN's sequence number on the
				// side that sent the first SYN, so allow exactly one extra.
				if s.BytesAcked < e.sent || s.BytesAcked > e.sent+1 {
					t.Errorf("%s: BytesAcked = %d, want %d (+1 for SYN)", e.name, s.BytesAcked, e.sent)
				}
				if s.BytesReceived != e.rcvd {
					t.Errorf("%s: BytesReceived = %d, want %d", e.name, s.BytesReceived, e.rcvd)
				}
				// Loopback MSS is below 64 KiB, so a transfer takes at
				// least size/64Ki data segments.
				if s.SegsOut < e.sent>>16 || s.SegsIn < e.rcvd>>16 {
					t.Errorf("%s: SegsOut=%d SegsIn=%d, too few for %d/%d bytes", e.name, s.SegsOut, s.SegsIn, e.sent, e.rcvd)
				}
				if s.State != Established || s.Family != e.wantFamily {
					t.Errorf("%s: state %v family %d", e.name, s.State, s.Family)
				}
				if s.Inode != e.inode {
					t.Errorf("%s: Inode = %d, fstat says %d", e.name, s.Inode, e.inode)
				}
				if s.PID != pid || s.Process != comm {
					t.Errorf("%s: owner %d %q, want %d %q", e.name, s.PID, s.Process, pid, comm)
				}
				if s.UID != uint32(os.Geteuid()) {
					t.Errorf("%s: UID = %d, want %d", e.name, s.UID, os.Geteuid())
				}
				if s.Cwnd == 0 || s.RTTMicros == 0 {
					t.Errorf("%s: Cwnd=%d RTT=%dµs, want both > 0 after traffic", e.name, s.Cwnd, s.RTTMicros)
				}
			}

			lnAddr := addrPort(ln.Addr())
			lsock := find(socks, TCP, lnAddr, netip.AddrPortFrom(zeroAddr(lnAddr.Addr()), 0))
			if lsock == nil || lsock.State != Listen || lsock.PID != pid || lsock.Inode != connInode(t, ln) {
				t.Errorf("listener %v: got %+v", lnAddr, lsock)
			}
			noListen, err := c.Collect(nil, Options{TCP: true})
			if err != nil {
				t.Fatal(err)
			}
			if s := find(noListen, TCP, lnAddr, netip.AddrPortFrom(zeroAddr(lnAddr.Addr()), 0)); s != nil {
				t.Errorf("Listening=false still lists the listener: %+v", s)
			}
			if find(noListen, TCP, clLocal, srvLocal) == nil {
				t.Errorf("Listening=false dropped the established connection")
			}

			gone := []uint64{cs.Inode, ss.Inode}
			cl.Close()
			srv.Close()
			socks, err = c.Collect(socks[:0], Options{TCP: true, Listening: true, Closed: true, Processes: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range socks {
				if slices.Contains(gone, s.Inode) {
					t.Errorf("closed socket still listed with its inode: %+v", s)
				}
				if (s.Local == clLocal && s.Remote == srvLocal) || (s.Local == srvLocal && s.Remote == clLocal) {
					// The kernel may keep the 4-tuple in TIME-WAIT or
					// FIN-WAIT for a while: no file, no owner, not ESTAB.
					if s.Inode != 0 || s.PID != 0 || s.State == Established {
						t.Errorf("closed connection still looks open: %+v", s)
					}
				}
			}
		})
	}
}

func zeroAddr(a netip.Addr) netip.Addr {
	if a.Is4() {
		return netip.IPv4Unspecified()
	}
	return netip.IPv6Unspecified()
}

// TestUDP checks UDP sockets are listed with owner and without counters, and
// that unconnected ones are listed only with Listening.
func TestUDP(t *testing.T) {
	c := NewCollector("/proc")
	needNetlink(t, c)
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cl, err := net.DialUDP("udp4", nil, srv.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	socks, err := c.Collect(nil, Options{UDP: true, Listening: true, Processes: true})
	if err != nil {
		t.Fatal(err)
	}
	srvAP, clAP := addrPort(srv.LocalAddr()), addrPort(cl.LocalAddr())
	us := find(socks, UDP, srvAP, netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
	uc := find(socks, UDP, clAP, srvAP)
	if us == nil || uc == nil {
		t.Fatalf("UDP sockets not listed: unconnected %v connected %v", us, uc)
	}
	if us.State != Close || uc.State != Established || us.State.String() != "UNCONN" {
		t.Errorf("states: %v %v", us.State, uc.State)
	}
	for _, s := range []*Socket{us, uc} {
		if s.CountersAvailable || s.PID != os.Getpid() || s.Proto.String() != "udp" {
			t.Errorf("UDP socket %+v: want no counters, our pid", *s)
		}
	}
	if s := find(socks, TCP, srvAP, netip.AddrPort{}); s != nil {
		t.Errorf("UDP-only collect returned TCP %+v", s)
	}
	socks, err = c.Collect(socks[:0], Options{UDP: true})
	if err != nil {
		t.Fatal(err)
	}
	if find(socks, UDP, srvAP, netip.AddrPortFrom(netip.IPv4Unspecified(), 0)) != nil || find(socks, UDP, clAP, srvAP) == nil {
		t.Errorf("Listening=false: want only the connected UDP socket")
	}
}

// TestFallbackLive forces the /proc/net fallback on the live machine and
// checks it lists the same connection, with the same inode and owner, and
// says counters are unavailable.
func TestFallbackLive(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cl, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	c := NewCollector("/proc")
	c.noNetlink = unix.EPERM
	socks, err := c.Collect(nil, Options{Listening: true, Processes: true})
	if err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Netlink || !errors.Is(st.NetlinkErr, unix.EPERM) {
		t.Errorf("Stats = %+v, want fallback with EPERM", st)
	}
	s := find(socks, TCP, addrPort(cl.LocalAddr()), addrPort(ln.Addr()))
	if s == nil {
		t.Fatalf("fallback did not list the connection")
	}
	if s.CountersAvailable || s.BytesAcked != 0 || s.State != Established || s.Inode != connInode(t, cl) || s.PID != os.Getpid() {
		t.Errorf("fallback socket %+v", *s)
	}
	if l := find(socks, TCP, addrPort(ln.Addr()), netip.AddrPortFrom(netip.IPv4Unspecified(), 0)); l == nil || l.State != Listen {
		t.Errorf("fallback did not list the listener: %+v", l)
	}
}
