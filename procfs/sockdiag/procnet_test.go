package sockdiag

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
)

const tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

func TestParseProcNet(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("fixture addresses are in little-endian host order")
	}
	all := Options{Listening: true, Closed: true}.states()
	in := tcpHeader +
		"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0\n" +
		"   1: 0100007F:0050 0100007F:D431 01 0000001A:0000002B 00:00000000 00000000    33        0 1002 1 0000000000000000 20 4 30 10 -1\n" +
		"\n" +
		"   2: 0100007F:D432 0100007F:0050 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000"
	socks, err := parseProcNet([]byte(in), TCP, 4, all, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Socket{
		{Proto: TCP, Family: 4, Local: netip.MustParseAddrPort("0.0.0.0:80"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), State: Listen, Inode: 1001},
		{Proto: TCP, Family: 4, Local: netip.MustParseAddrPort("127.0.0.1:80"), Remote: netip.MustParseAddrPort("127.0.0.1:54321"), State: Established, Inode: 1002, UID: 33, TxQueue: 0x1a, RxQueue: 0x2b},
		{Proto: TCP, Family: 4, Local: netip.MustParseAddrPort("127.0.0.1:54322"), Remote: netip.MustParseAddrPort("127.0.0.1:80"), State: TimeWait},
	}
	if len(socks) != len(want) {
		t.Fatalf("got %d sockets, want %d: %+v", len(socks), len(want), socks)
	}
	for i := range want {
		if socks[i] != want[i] {
			t.Errorf("socket %d:\n got %+v\nwant %+v", i, socks[i], want[i])
		}
	}
	// The default options drop LISTEN and TIME-WAIT.
	if socks, _ := parseProcNet([]byte(in), TCP, 4, Options{}.states(), nil); len(socks) != 1 || socks[0].State != Established {
		t.Errorf("state filter: %+v", socks)
	}

	v6 := "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   1: B80D0120000000000000000001000000:1F90 0000000000000000FFFF00000100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2003 1 0000000000000000 20 4 30 10 -1\n"
	socks, err = parseProcNet([]byte(v6), TCP, 6, all, nil)
	if err != nil || len(socks) != 1 {
		t.Fatalf("v6: %+v %v", socks, err)
	}
	if l, r := socks[0].Local.String(), socks[0].Remote.String(); l != "[2001:db8::1]:8080" || r != "[::ffff:127.0.0.1]:50000" {
		t.Errorf("v6 addresses %s %s", l, r)
	}
}

func TestParseProcNetErrors(t *testing.T) {
	line := "   0: 0100007F:0050 0100007F:D431 01 00000010:00000020 00:00000000 00000000    33        0 1002 1 0 20 4 30 10 -1\n"
	for _, tc := range []struct{ name, in string }{
		{"no header", line},
		{"short line", tcpHeader + "   0: 0100007F:0050 0100007F:D431 01\n"},
		{"bad address", tcpHeader + strings.Replace(line, "0100007F:0050", "0100007G:0050", 1)},
		{"v6 address in v4 file", tcpHeader + strings.Replace(line, "0100007F:0050", "00000000000000000000000001000000:0050", 1)},
		{"bad port", tcpHeader + strings.Replace(line, ":0050", ":00500", 1)},
		{"bad state", tcpHeader + strings.Replace(line, " 01 ", " 0x ", 1)},
		{"zero state", tcpHeader + strings.Replace(line, " 01 ", " 00 ", 1)},
		{"bad queues", tcpHeader + strings.Replace(line, "00000010:00000020", "0000001000000020", 1)},
		{"bad uid", tcpHeader + strings.Replace(line, "    33 ", "   -33 ", 1)},
		{"bad inode", tcpHeader + strings.Replace(line, " 1002 ", " 10x2 ", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := []Socket{{Inode: 9}}
			out, err := parseProcNet([]byte(tc.in), TCP, 4, ^uint32(0), prev)
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
			if len(out) != 1 || out[0].Inode != 9 {
				t.Errorf("dst changed on error: %+v", out)
			}
		})
	}
}

// FuzzParseProcNet: no panics; errors leave dst alone; what parses has a
// state in the mask and an address of the file's family.
func FuzzParseProcNet(f *testing.F) {
	for _, p := range []string{"testdata/proc/net/tcp", "testdata/proc/net/tcp6", "testdata/proc/net/udp"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, strings.HasSuffix(p, "6"))
		}
	}
	f.Add([]byte(tcpHeader+"0: 0:0 0:0 1 0:0 0 0 0 0 0\n"), false)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		fam := uint8(4)
		if v6 {
			fam = 6
		}
		mask := Options{}.states()
		prev := []Socket{{Inode: 9}}
		out, err := parseProcNet(b, TCP, fam, mask, prev)
		if err != nil {
			if len(out) != 1 {
				t.Fatalf("error %v changed dst", err)
			}
			return
		}
		for _, s := range out[1:] {
			if mask&(1<<s.State) == 0 {
				t.Fatalf("state %v outside the mask", s.State)
			}
			if s.Local.Addr().Is6() != v6 || s.Remote.Addr().Is6() != v6 {
				t.Fatalf("family %d but %v %v", fam, s.Local, s.Remote)
			}
		}
	})
}
