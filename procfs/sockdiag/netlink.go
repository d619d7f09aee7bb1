package sockdiag

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"syscall"
)

// Netlink and inet_diag layout, from include/uapi/linux/{netlink,
// inet_diag,tcp}.h. Defined here rather than taken from x/sys/unix so the
// pure parsers build and fuzz on every OS.
const (
	nlmsgHdrLen = 16 // struct nlmsghdr
	nlmsgNoop   = 1
	nlmsgError  = 2
	nlmsgDone   = 3

	nlmFRequest = 0x1
	nlmFDump    = 0x300 // NLM_F_ROOT | NLM_F_MATCH

	sockDiagByFamily = 20
	// tcpDiagGetSock is the original inet_diag request (struct
	// inet_diag_req): the kernel answers it for both address families in
	// one walk of the socket tables, and replies with the same type.
	tcpDiagGetSock = 18

	afInet  = 2
	afInet6 = 10

	inetDiagReqV2Len = 56 // struct inet_diag_req_v2
	inetDiagMsgLen   = 72 // struct inet_diag_msg
	inetDiagInfo     = 2  // INET_DIAG_INFO attribute: struct tcp_info

	rtaHdrLen = 4
)

// Offsets into struct tcp_info. The kernel has only ever appended fields,
// so a field is present exactly when the struct the kernel sent reaches
// past its end.
const (
	tiState         = 0
	tiRTT           = 68
	tiRTTVar        = 72
	tiSndCwnd       = 80
	tiTotalRetrans  = 100 // end 104: the struct as of Linux 3.x
	tiBytesAcked    = 120
	tiBytesReceived = 128 // end 136: Linux 4.1
	tiSegsOut       = 136
	tiSegsIn        = 140 // end 144: Linux 4.2
	tiMinRTT        = 148 // end 152: Linux 4.6
	tiBytesSent     = 200
	tiBytesRetrans  = 208 // end 216: Linux 4.19
)

// appendDiagRequest appends one NLM_F_DUMP SOCK_DIAG_BY_FAMILY request
// (nlmsghdr + inet_diag_req_v2) for family (afInet/afInet6) and proto,
// matching the state mask, asking for tcp_info when proto is TCP.
func appendDiagRequest(b []byte, seq uint32, family uint8, proto Proto, states uint32) []byte {
	ne := binary.NativeEndian
	b = appendNlHeader(b, inetDiagReqV2Len, sockDiagByFamily, nlmFRequest|nlmFDump, seq)
	var ext uint8
	if proto == TCP {
		ext = 1 << (inetDiagInfo - 1)
	}
	b = append(b, family, uint8(proto), ext, 0)
	b = ne.AppendUint32(b, states)
	// struct inet_diag_sockid: all zero (no address filter), cookie
	// INET_DIAG_NOCOOKIE would also do but zero means "any" for dumps.
	return append(b, make([]byte, 48)...)
}

// appendNlHeader appends a struct nlmsghdr for a request to the kernel
// whose payload is bodyLen bytes.
func appendNlHeader(b []byte, bodyLen uint32, typ, flags uint16, seq uint32) []byte {
	ne := binary.NativeEndian
	b = ne.AppendUint32(b, nlmsgHdrLen+bodyLen)
	b = ne.AppendUint16(b, typ)
	b = ne.AppendUint16(b, flags)
	b = ne.AppendUint32(b, seq)
	return ne.AppendUint32(b, 0) // port id: the kernel
}

// parseDump parses one buffer of a netlink dump reply: zero or more
// messages, each an inet_diag_msg with attributes. Sockets are appended to
// dst; messages whose sequence number is not seq are skipped. done reports
// NLMSG_DONE. A kernel error reply (NLMSG_ERROR, or a negative status in
// NLMSG_DONE) is returned as a syscall.Errno. On error dst is returned
// unchanged in length.
func parseDump(b []byte, seq uint32, proto Proto, dst []Socket) (out []Socket, done bool, err error) {
	ne := binary.NativeEndian
	n0 := len(dst)
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return dst[:n0], false, fmt.Errorf("%w: %d trailing bytes, shorter than a netlink header", ErrMalformed, len(b))
		}
		mlen := ne.Uint32(b[0:4])
		typ := ne.Uint16(b[4:6])
		mseq := ne.Uint32(b[8:12])
		if mlen < nlmsgHdrLen || uint64(mlen) > uint64(len(b)) {
			return dst[:n0], false, fmt.Errorf("%w: netlink message length %d with %d bytes left", ErrMalformed, mlen, len(b))
		}
		body := b[nlmsgHdrLen:mlen]
		// Messages are padded to 4 bytes; the last one may lack its padding.
		adv := min(uint64(len(b)), (uint64(mlen)+3)&^3)
		b = b[adv:]
		if mseq != seq {
			continue
		}
		switch typ {
		case nlmsgNoop:
			continue
		case nlmsgDone:
			if len(body) >= 4 {
				if st := int32(ne.Uint32(body)); st < 0 {
					return dst[:n0], true, syscall.Errno(-st)
				}
			}
			return dst, true, nil
		case nlmsgError:
			if len(body) < 4 {
				return dst[:n0], false, fmt.Errorf("%w: short NLMSG_ERROR", ErrMalformed)
			}
			st := int32(ne.Uint32(body))
			if st == 0 { // an ACK, not an error
				continue
			}
			if st > 0 || st < -4095 {
				return dst[:n0], false, fmt.Errorf("%w: NLMSG_ERROR status %d", ErrMalformed, st)
			}
			return dst[:n0], false, syscall.Errno(-st)
		case sockDiagByFamily, tcpDiagGetSock:
			s, err := parseDiagMsg(body, proto)
			if err != nil {
				return dst[:n0], false, err
			}
			dst = append(dst, s)
		default:
			// Unknown message types are skipped: the kernel may add some.
		}
	}
	return dst, false, nil
}

// parseDiagMsg parses one inet_diag_msg and its attributes.
func parseDiagMsg(b []byte, proto Proto) (Socket, error) {
	var s Socket
	if len(b) < inetDiagMsgLen {
		return s, fmt.Errorf("%w: inet_diag_msg of %d bytes, want %d", ErrMalformed, len(b), inetDiagMsgLen)
	}
	ne := binary.NativeEndian
	be := binary.BigEndian
	s.Proto = proto
	s.State = State(b[1])
	sport, dport := be.Uint16(b[4:6]), be.Uint16(b[6:8])
	src, dst := b[8:24], b[24:40]
	switch b[0] {
	case afInet:
		s.Family = 4
		s.Local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(src[:4])), sport)
		s.Remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(dst[:4])), dport)
	case afInet6:
		s.Family = 6
		s.Local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(src)), sport)
		s.Remote = netip.AddrPortFrom(netip.AddrFrom16([16]byte(dst)), dport)
	default:
		return s, fmt.Errorf("%w: address family %d", ErrMalformed, b[0])
	}
	s.Cookie = uint64(ne.Uint32(b[44:48])) | uint64(ne.Uint32(b[48:52]))<<32
	s.RxQueue = ne.Uint32(b[56:60])
	s.TxQueue = ne.Uint32(b[60:64])
	s.UID = ne.Uint32(b[64:68])
	s.Inode = uint64(ne.Uint32(b[68:72]))

	// Attributes: struct rtattr {u16 len; u16 type} + payload, 4-aligned.
	a := b[inetDiagMsgLen:]
	for len(a) >= rtaHdrLen {
		alen := int(ne.Uint16(a[0:2]))
		atyp := ne.Uint16(a[2:4]) & 0x3fff // drop NLA_F_NESTED / NLA_F_NET_BYTEORDER
		if alen < rtaHdrLen || alen > len(a) {
			return s, fmt.Errorf("%w: attribute length %d with %d bytes left", ErrMalformed, alen, len(a))
		}
		if atyp == inetDiagInfo && proto == TCP {
			parseTCPInfo(a[rtaHdrLen:alen], &s)
		}
		a = a[min(len(a), (alen+3)&^3):]
	}
	return s, nil
}

// parseTCPInfo fills s from a struct tcp_info of any length: fields the
// kernel did not send (an older, shorter struct) stay zero and their group
// is left out of s.Have. CountersAvailable needs at least the byte counters.
func parseTCPInfo(b []byte, s *Socket) {
	ne := binary.NativeEndian
	u32 := func(off int) uint32 { return ne.Uint32(b[off : off+4]) }
	u64 := func(off int) uint64 { return ne.Uint64(b[off : off+8]) }
	if len(b) >= tiTotalRetrans+4 {
		s.Have |= HaveBasic
		s.RTTMicros = u32(tiRTT)
		s.RTTVarMicros = u32(tiRTTVar)
		s.Cwnd = u32(tiSndCwnd)
		s.Retrans = u32(tiTotalRetrans)
	}
	if len(b) >= tiBytesReceived+8 {
		s.Have |= HaveBytes
		s.BytesAcked = u64(tiBytesAcked)
		s.BytesReceived = u64(tiBytesReceived)
	}
	if len(b) >= tiSegsIn+4 {
		s.Have |= HaveSegs
		s.SegsOut = uint64(u32(tiSegsOut))
		s.SegsIn = uint64(u32(tiSegsIn))
	}
	if len(b) >= tiMinRTT+4 {
		s.Have |= HaveMinRTT
		s.MinRTTMicros = u32(tiMinRTT)
	}
	if len(b) >= tiBytesRetrans+8 {
		s.Have |= HaveBytesSent
		s.BytesSent = u64(tiBytesSent)
		s.BytesRetrans = u64(tiBytesRetrans)
	}
	s.CountersAvailable = s.Have&HaveBytes != 0
}
