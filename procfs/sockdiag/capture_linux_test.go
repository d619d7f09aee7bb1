//go:build linux

package sockdiag

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestTCPInfoOffsets checks the parser's offsets against x/sys/unix's
// struct tcp_info.
func TestTCPInfoOffsets(t *testing.T) {
	var ti unix.TCPInfo
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"rtt", tiRTT, unsafe.Offsetof(ti.Rtt)},
		{"rttvar", tiRTTVar, unsafe.Offsetof(ti.Rttvar)},
		{"snd_cwnd", tiSndCwnd, unsafe.Offsetof(ti.Snd_cwnd)},
		{"total_retrans", tiTotalRetrans, unsafe.Offsetof(ti.Total_retrans)},
		{"bytes_acked", tiBytesAcked, unsafe.Offsetof(ti.Bytes_acked)},
		{"bytes_received", tiBytesReceived, unsafe.Offsetof(ti.Bytes_received)},
		{"segs_out", tiSegsOut, unsafe.Offsetof(ti.Segs_out)},
		{"segs_in", tiSegsIn, unsafe.Offsetof(ti.Segs_in)},
		{"min_rtt", tiMinRTT, unsafe.Offsetof(ti.Min_rtt)},
		{"bytes_sent", tiBytesSent, unsafe.Offsetof(ti.Bytes_sent)},
		{"bytes_retrans", tiBytesRetrans, unsafe.Offsetof(ti.Bytes_retrans)},
	} {
		if c.got != c.want {
			t.Errorf("tcp_info.%s at %d, x/sys/unix says %d", c.name, c.got, c.want)
		}
	}
}

// rawDump runs one dump and returns its reads, each prefixed with its
// length (the format parseCaptured reads).
func rawDump(t *testing.T, afam uint8, proto Proto) []byte {
	t.Helper()
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		t.Skipf("netlink unavailable: %v", err)
	}
	defer unix.Close(fd)
	req := appendDiagRequest(nil, 1, afam, proto, Options{Listening: true}.states())
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, recvBufSize)
	for {
		n, err := unix.Read(fd, buf)
		if err != nil {
			t.Fatal(err)
		}
		out = binary.NativeEndian.AppendUint32(out, uint32(n))
		out = append(out, buf[:n]...)
		if _, done, err := parseDump(buf[:n], 1, proto, nil); done || err != nil {
			return out
		}
	}
}

// TestCaptureDumps refreshes testdata/netlink/*.bin and the netlink fuzz
// seeds from this kernel, with a loopback connection carrying known traffic
// in the dump. Run: go test -run CaptureDumps -update
func TestCaptureDumps(t *testing.T) {
	if !*update {
		t.Skip("only with -update")
	}
	for _, nw := range []string{"tcp4", "tcp6"} {
		ln, err := net.Listen(nw, map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[nw])
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err == nil {
				io.Copy(c, io.LimitReader(c, 100000))
			}
		}()
		c, err := net.Dial(nw, ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write(make([]byte, 100000))
		io.ReadFull(c, make([]byte, 100000))
	}
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if err := os.MkdirAll("testdata/netlink", 0o755); err != nil {
		t.Fatal(err)
	}
	seeds := filepath.Join("testdata", "fuzz", "FuzzParseDump")
	if err := os.MkdirAll(seeds, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range dumpSpecs {
		raw := rawDump(t, d.afam, d.proto)
		name := fmt.Sprintf("%s%d", d.proto, d.family)
		if err := os.WriteFile(filepath.Join("testdata/netlink", name+".bin"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		// Seed: the first read of the dump, without the length prefix.
		first := raw[4 : 4+binary.NativeEndian.Uint32(raw)]
		seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbyte(%d)\n", first, byte(d.proto))
		if err := os.WriteFile(filepath.Join(seeds, "kernel-"+name), []byte(seed), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
