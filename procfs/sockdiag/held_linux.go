package sockdiag

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// appendExactRequest appends a SOCK_DIAG_BY_FAMILY request for the one
// socket s (by its addresses and cookie, in any state): the kernel finds
// it by hash instead of walking its tables.
func appendExactRequest(b []byte, seq uint32, s *Socket) []byte {
	ne, be := binary.NativeEndian, binary.BigEndian
	b = appendNlHeader(b, inetDiagReqV2Len, sockDiagByFamily, nlmFRequest, seq)
	family := uint8(afInet)
	if s.Family == 6 {
		family = afInet6
	}
	b = append(b, family, uint8(s.Proto), 0, 0)
	b = ne.AppendUint32(b, ^uint32(0)) // any state
	// struct inet_diag_sockid: ports (network order), addresses, if, cookie.
	b = be.AppendUint16(b, s.Local.Port())
	b = be.AppendUint16(b, s.Remote.Port())
	for _, a := range [2][16]byte{s.Local.Addr().As16(), s.Remote.Addr().As16()} {
		if family == afInet {
			b = append(b, a[12:16]...)
			b = append(b, make([]byte, 12)...)
		} else {
			b = append(b, a[:]...)
		}
	}
	b = ne.AppendUint32(b, 0) // interface: any
	b = ne.AppendUint32(b, uint32(s.Cookie))
	return ne.AppendUint32(b, uint32(s.Cookie>>32))
}

// stillHeld reports whether socket s is still held by a file, asking the
// kernel on the netlink socket fd: false when it is gone or closed (inode
// 0: orphaned, TIME-WAIT), true when it is held or the answer is unclear
// (then it is searched for, as without the lookup).
func (c *Collector) stillHeld(fd int, s *Socket) bool {
	if fd < 0 || s.Cookie == 0 {
		return true
	}
	c.seq++
	c.req = appendExactRequest(c.req[:0], c.seq, s)
	if err := unix.Sendto(fd, c.req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return true
	}
	if c.buf == nil {
		c.buf = make([]byte, recvBufSize)
	}
	for {
		n, err := unix.Read(fd, c.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n >= len(c.buf) {
			return true
		}
		var one [1]Socket
		got, _, err := parseDump(c.buf[:n], c.seq, s.Proto, one[:0])
		switch {
		case err == unix.ENOENT:
			return false
		case err != nil:
			return true
		case len(got) == 1:
			return got[0].Inode == s.Inode && got[0].Cookie == s.Cookie
		}
		// Messages of an older request: read on.
	}
}
