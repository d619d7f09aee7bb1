package sockdiag

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and captured fixtures under testdata/")

// littleEndianHost reports whether fixtures captured on x86/arm (host byte
// order little-endian) can be read as they are.
func littleEndianHost() bool { return binary.NativeEndian.Uint16([]byte{1, 0}) == 1 }

// nlMsg builds one netlink message of type typ with payload.
func nlMsg(seq uint32, typ uint16, payload []byte) []byte {
	ne := binary.NativeEndian
	var b []byte
	b = ne.AppendUint32(b, uint32(nlmsgHdrLen+len(payload)))
	b = ne.AppendUint16(b, typ)
	b = ne.AppendUint16(b, 2) // NLM_F_MULTI
	b = ne.AppendUint32(b, seq)
	b = ne.AppendUint32(b, 0)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// diagMsg builds an inet_diag_msg payload with an optional INET_DIAG_INFO
// attribute (info == nil: none) and an unrelated attribute before it.
func diagMsg(state State, local, remote netip.AddrPort, inode, uid uint32, info []byte) []byte {
	ne := binary.NativeEndian
	b := make([]byte, inetDiagMsgLen)
	b[0] = afInet
	if local.Addr().Is6() {
		b[0] = afInet6
	}
	b[1] = byte(state)
	binary.BigEndian.PutUint16(b[4:], local.Port())
	binary.BigEndian.PutUint16(b[6:], remote.Port())
	la, ra := local.Addr().AsSlice(), remote.Addr().AsSlice()
	copy(b[8:24], la)
	copy(b[24:40], ra)
	ne.PutUint32(b[44:], 0xc0ffee)
	ne.PutUint32(b[56:], 7) // rqueue
	ne.PutUint32(b[60:], 9) // wqueue
	ne.PutUint32(b[64:], uid)
	ne.PutUint32(b[68:], inode)
	// INET_DIAG_SHUTDOWN (8), one byte, padded: must be skipped.
	b = ne.AppendUint16(b, 5)
	b = ne.AppendUint16(b, 8)
	b = append(b, 0, 0, 0, 0)
	if info != nil {
		b = ne.AppendUint16(b, uint16(rtaHdrLen+len(info)))
		b = ne.AppendUint16(b, inetDiagInfo)
		b = append(b, info...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

// fullTCPInfo returns a 300-byte tcp_info (longer than any kernel's so
// far) with distinct values in the fields the parser reads.
func fullTCPInfo() []byte {
	ne := binary.NativeEndian
	b := make([]byte, 300)
	b[tiState] = byte(Established)
	ne.PutUint32(b[tiRTT:], 1500)
	ne.PutUint32(b[tiRTTVar:], 250)
	ne.PutUint32(b[tiSndCwnd:], 10)
	ne.PutUint32(b[tiTotalRetrans:], 3)
	ne.PutUint64(b[tiBytesAcked:], 3<<20+1)
	ne.PutUint64(b[tiBytesReceived:], 1<<20)
	ne.PutUint32(b[tiSegsOut:], 90)
	ne.PutUint32(b[tiSegsIn:], 50)
	ne.PutUint32(b[tiMinRTT:], 20)
	ne.PutUint64(b[tiBytesSent:], 3<<20+4096)
	ne.PutUint64(b[tiBytesRetrans:], 4096)
	return b
}

func TestParseTCPInfoLengths(t *testing.T) {
	full := fullTCPInfo()
	for _, tc := range []struct {
		n        int
		have     Fields
		counters bool
	}{
		{0, 0, false},
		{92, 0, false}, // shorter than any real kernel sent: nothing trusted
		{104, HaveBasic, false},
		{135, HaveBasic, false},
		{136, HaveBasic | HaveBytes, true},
		{144, HaveBasic | HaveBytes | HaveSegs, true},
		{152, HaveBasic | HaveBytes | HaveSegs | HaveMinRTT, true},
		{216, HaveBasic | HaveBytes | HaveSegs | HaveMinRTT | HaveBytesSent, true},
		{248, HaveBasic | HaveBytes | HaveSegs | HaveMinRTT | HaveBytesSent, true},
		{300, HaveBasic | HaveBytes | HaveSegs | HaveMinRTT | HaveBytesSent, true},
	} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			var s Socket
			parseTCPInfo(full[:tc.n], &s)
			if s.Have != tc.have || s.CountersAvailable != tc.counters {
				t.Fatalf("Have=%05b counters=%v, want %05b %v", s.Have, s.CountersAvailable, tc.have, tc.counters)
			}
			check := func(name string, got, want uint64, group Fields) {
				t.Helper()
				if tc.have&group == 0 {
					want = 0 // not sent: left unset
				}
				if got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
			}
			check("RTT", uint64(s.RTTMicros), 1500, HaveBasic)
			check("RTTVar", uint64(s.RTTVarMicros), 250, HaveBasic)
			check("Cwnd", uint64(s.Cwnd), 10, HaveBasic)
			check("Retrans", uint64(s.Retrans), 3, HaveBasic)
			check("BytesAcked", s.BytesAcked, 3<<20+1, HaveBytes)
			check("BytesReceived", s.BytesReceived, 1<<20, HaveBytes)
			check("SegsOut", s.SegsOut, 90, HaveSegs)
			check("SegsIn", s.SegsIn, 50, HaveSegs)
			check("MinRTT", uint64(s.MinRTTMicros), 20, HaveMinRTT)
			check("BytesSent", s.BytesSent, 3<<20+4096, HaveBytesSent)
			check("BytesRetrans", s.BytesRetrans, 4096, HaveBytesSent)
		})
	}
}

func TestParseDump(t *testing.T) {
	l4 := netip.MustParseAddrPort("127.0.0.1:8080")
	r4 := netip.MustParseAddrPort("10.1.2.3:50000")
	l6 := netip.MustParseAddrPort("[2001:db8::1]:443")
	r6 := netip.MustParseAddrPort("[::1]:40000")
	var b []byte
	b = append(b, nlMsg(5, sockDiagByFamily, diagMsg(Established, l4, r4, 1234, 1000, fullTCPInfo()[:144]))...)
	b = append(b, nlMsg(4, sockDiagByFamily, diagMsg(Listen, l4, r4, 999, 0, nil))...) // other request: skipped
	b = append(b, nlMsg(5, nlmsgNoop, nil)...)
	b = append(b, nlMsg(5, 99, []byte{1, 2, 3})...) // unknown type: skipped
	b = append(b, nlMsg(5, sockDiagByFamily, diagMsg(TimeWait, l6, r6, 0, 0, nil))...)

	socks, done, err := parseDump(b, 5, TCP, nil)
	if err != nil || done || len(socks) != 2 {
		t.Fatalf("parseDump = %d sockets, done=%v, err=%v; want 2, false, nil", len(socks), done, err)
	}
	s := socks[0]
	want := Socket{Proto: TCP, Family: 4, Local: l4, Remote: r4, State: Established, Inode: 1234, Cookie: 0xc0ffee,
		UID: 1000, RxQueue: 7, TxQueue: 9, CountersAvailable: true, Have: HaveBasic | HaveBytes | HaveSegs,
		BytesAcked: 3<<20 + 1, BytesReceived: 1 << 20, SegsIn: 50, SegsOut: 90, RTTMicros: 1500, RTTVarMicros: 250, Retrans: 3, Cwnd: 10}
	if s != want {
		t.Errorf("socket 0:\n got %+v\nwant %+v", s, want)
	}
	if s6 := socks[1]; s6.Family != 6 || s6.Local != l6 || s6.Remote != r6 || s6.State != TimeWait || s6.CountersAvailable {
		t.Errorf("socket 1: %+v", s6)
	}

	// UDP: an INET_DIAG_INFO attribute is not tcp_info; ignore it.
	u, _, err := parseDump(nlMsg(1, sockDiagByFamily, diagMsg(Close, l4, r4, 1, 0, fullTCPInfo())), 1, UDP, nil)
	if err != nil || len(u) != 1 || u[0].CountersAvailable || u[0].Proto != UDP {
		t.Errorf("UDP: %+v %v", u, err)
	}

	done4 := binary.NativeEndian.AppendUint32(nil, 0)
	_, done, err = parseDump(nlMsg(5, nlmsgDone, done4), 5, TCP, nil)
	if err != nil || !done {
		t.Errorf("NLMSG_DONE: done=%v err=%v", done, err)
	}
}

func TestParseDumpErrors(t *testing.T) {
	ne := binary.NativeEndian
	errMsg := func(errno int32) []byte {
		p := ne.AppendUint32(nil, uint32(errno))
		return nlMsg(1, nlmsgError, append(p, make([]byte, 16)...))
	}
	good := nlMsg(1, sockDiagByFamily, diagMsg(Established, netip.MustParseAddrPort("1.2.3.4:5"), netip.MustParseAddrPort("5.6.7.8:9"), 1, 0, nil))
	badFamily := bytes.Clone(good)
	badFamily[nlmsgHdrLen] = 1 // AF_UNIX
	badAttr := bytes.Clone(good)
	ne.PutUint16(badAttr[nlmsgHdrLen+inetDiagMsgLen:], 200) // attribute past the end
	shortMsg := nlMsg(1, sockDiagByFamily, make([]byte, 40))
	hugeLen := bytes.Clone(good)
	ne.PutUint32(hugeLen, 1<<20)
	for _, tc := range []struct {
		name  string
		in    []byte
		errno syscall.Errno // 0: want ErrMalformed
	}{
		{"EPERM", errMsg(int32(negErrno(syscall.EPERM))), syscall.EPERM},
		{"ENOENT done", nlMsg(1, nlmsgDone, ne.AppendUint32(nil, negErrno(syscall.ENOENT))), syscall.ENOENT},
		{"positive error", errMsg(5), 0},
		{"short error", nlMsg(1, nlmsgError, []byte{1}), 0},
		{"truncated header", good[:10], 0},
		{"length past end", hugeLen, 0},
		{"length below header", append(ne.AppendUint32(nil, 8), make([]byte, 12)...), 0},
		{"short inet_diag_msg", shortMsg, 0},
		{"bad family", badFamily, 0},
		{"bad attribute", badAttr, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := []Socket{{Inode: 42}}
			in := append(bytes.Clone(good), tc.in...) // a good message first: must not leak out
			out, _, err := parseDump(in, 1, TCP, prev)
			if err == nil {
				t.Fatalf("no error")
			}
			if tc.errno != 0 && !errors.Is(err, tc.errno) {
				t.Errorf("err = %v, want %v", err, tc.errno)
			}
			if tc.errno == 0 && !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
			if len(out) != 1 || out[0].Inode != 42 {
				t.Errorf("on error dst changed: %+v", out)
			}
		})
	}
}

func TestAppendDiagRequest(t *testing.T) {
	b := appendDiagRequest(nil, 77, afInet6, TCP, Options{}.states())
	ne := binary.NativeEndian
	if len(b) != nlmsgHdrLen+inetDiagReqV2Len || ne.Uint32(b) != uint32(len(b)) {
		t.Fatalf("request length %d / header %d", len(b), ne.Uint32(b))
	}
	if ne.Uint16(b[4:]) != sockDiagByFamily || ne.Uint16(b[6:]) != nlmFRequest|nlmFDump || ne.Uint32(b[8:]) != 77 {
		t.Errorf("header % x", b[:16])
	}
	r := b[nlmsgHdrLen:]
	if r[0] != afInet6 || r[1] != 6 || r[2] != 1<<(inetDiagInfo-1) {
		t.Errorf("req family/proto/ext % x", r[:4])
	}
	st := ne.Uint32(r[4:])
	if st&(1<<Established) == 0 || st&(1<<Listen) != 0 || st&(1<<TimeWait) != 0 || st&1 != 0 {
		t.Errorf("default states mask %b", st)
	}
	if u := appendDiagRequest(nil, 1, afInet, UDP, 0); u[nlmsgHdrLen+2] != 0 {
		t.Errorf("UDP request asks for tcp_info")
	}
}

// TestParseDumpGolden parses netlink replies captured from a real kernel
// (testdata/netlink/*.bin, refreshed by `go test -run Capture -update` on
// Linux) and compares them with their golden text.
func TestParseDumpGolden(t *testing.T) {
	if !littleEndianHost() {
		t.Skip("fixtures were captured on a little-endian host")
	}
	files, _ := filepath.Glob("testdata/netlink/*.bin")
	if len(files) == 0 {
		t.Fatal("no captured dumps under testdata/netlink")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			proto := TCP
			if strings.HasPrefix(filepath.Base(f), "udp") {
				proto = UDP
			}
			socks, done, err := parseCaptured(raw, proto)
			if err != nil || !done {
				t.Fatalf("done=%v err=%v", done, err)
			}
			got := formatSockets(socks)
			golden := strings.TrimSuffix(f, ".bin") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("parsed %s differs from %s:\n%s", f, golden, got)
			}
		})
	}
}

// parseCaptured parses a capture: the concatenated reads of one dump, each
// prefixed with its 4-byte length, with the request's sequence number taken
// from the first message.
func parseCaptured(raw []byte, proto Proto) ([]Socket, bool, error) {
	var socks []Socket
	for len(raw) >= 4 {
		n := int(binary.NativeEndian.Uint32(raw))
		raw = raw[4:]
		if n > len(raw) {
			return nil, false, ErrMalformed
		}
		chunk := raw[:n]
		raw = raw[n:]
		var seq uint32
		if len(chunk) >= 12 {
			seq = binary.NativeEndian.Uint32(chunk[8:])
		}
		var done bool
		var err error
		socks, done, err = parseDump(chunk, seq, proto, socks)
		if err != nil || done {
			return socks, done, err
		}
	}
	return socks, false, nil
}

// formatSockets renders sockets one per line for golden files.
func formatSockets(socks []Socket) string {
	var sb strings.Builder
	for _, s := range socks {
		fmt.Fprintf(&sb, "%s%d %s %s %s inode=%d uid=%d pid=%d proc=%q rq=%d tq=%d",
			s.Proto, s.Family, s.State, s.Local, s.Remote, s.Inode, s.UID, s.PID, s.Process, s.RxQueue, s.TxQueue)
		if s.CountersAvailable {
			fmt.Fprintf(&sb, " acked=%d rcvd=%d segs=%d/%d rtt=%d/%d retrans=%d cwnd=%d have=%05b",
				s.BytesAcked, s.BytesReceived, s.SegsIn, s.SegsOut, s.RTTMicros, s.RTTVarMicros, s.Retrans, s.Cwnd, s.Have)
		} else {
			sb.WriteString(" counters=n/a")
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// FuzzParseDump feeds arbitrary bytes to the netlink reply parser: it must
// never panic, and on error must leave dst as it was.
func FuzzParseDump(f *testing.F) {
	l := netip.MustParseAddrPort("127.0.0.1:1")
	r := netip.MustParseAddrPort("[::1]:2")
	f.Add(nlMsg(1, sockDiagByFamily, diagMsg(Established, l, l, 1, 2, fullTCPInfo()[:232])), uint8(6))
	f.Add(nlMsg(1, sockDiagByFamily, diagMsg(Listen, r, r, 1, 2, fullTCPInfo()[:104])), uint8(6))
	f.Add(nlMsg(1, nlmsgDone, []byte{0, 0, 0, 0}), uint8(17))
	f.Add(nlMsg(1, nlmsgError, []byte{0xff, 0xff, 0xff, 0xff}), uint8(6))
	f.Fuzz(func(t *testing.T, b []byte, proto uint8) {
		var seq uint32
		if len(b) >= 12 {
			seq = binary.NativeEndian.Uint32(b[8:])
		}
		prev := []Socket{{Inode: 7}}
		out, _, err := parseDump(b, seq, Proto(proto), prev)
		if err != nil {
			if len(out) != 1 || out[0].Inode != 7 {
				t.Fatalf("error %v but dst changed to %d sockets", err, len(out))
			}
			return
		}
		for _, s := range out[1:] {
			if s.Family != 4 && s.Family != 6 {
				t.Fatalf("family %d", s.Family)
			}
			if (s.Family == 4) != s.Local.Addr().Is4() {
				t.Fatalf("family %d with address %v", s.Family, s.Local)
			}
			if s.CountersAvailable && (Proto(proto) != TCP || s.Have&HaveBytes == 0) {
				t.Fatalf("counters on %v without bytes: %+v", Proto(proto), s)
			}
		}
	})
}

// negErrno is -errno as the kernel puts it in a u32 status field.
func negErrno(e syscall.Errno) uint32 { return uint32(-int32(e)) }
