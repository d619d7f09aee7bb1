package sockdiag

import (
	"encoding/binary"
	"strconv"

	"golang.org/x/sys/unix"
)

// inetDiagReqLen is struct inet_diag_req, the request of TCPDIAG_GETSOCK.
const inetDiagReqLen = 60

// String names a dump in errors: "tcp4", "udp6", or "tcp" for both families.
func (d dumpSpec) String() string {
	if d.family == 0 {
		return d.proto.String()
	}
	return d.proto.String() + strconv.Itoa(int(d.family))
}

// appendTCPRequest appends one NLM_F_DUMP TCPDIAG_GETSOCK request
// (nlmsghdr + inet_diag_req) for the TCP sockets of both address families
// in the state mask, asking for tcp_info.
func appendTCPRequest(b []byte, seq uint32, states uint32) []byte {
	ne := binary.NativeEndian
	b = appendNlHeader(b, inetDiagReqLen, tcpDiagGetSock, nlmFRequest|nlmFDump, seq)
	// family (ignored by dumps of this request: both), src_len, dst_len,
	// extensions; then struct inet_diag_sockid (all zero: no filter).
	b = append(b, afInet, 0, 0, 1<<(inetDiagInfo-1))
	b = append(b, make([]byte, 48)...)
	b = ne.AppendUint32(b, states)
	return ne.AppendUint32(b, 0) // idiag_dbs
}

// CollectTCP is Collect for TCP alone (opts.TCP and opts.UDP are ignored),
// asking the kernel for both address families in one walk of its socket
// tables instead of one walk per family: on a machine with a large table
// (its size grows with memory) the walk, not the sockets, is most of a
// dump's cost. A kernel that refuses the combined request is asked per
// family, as by Collect.
func (c *Collector) CollectTCP(dst []Socket, opts Options) ([]Socket, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	opts.TCP, opts.UDP = true, false
	fd, err := c.openDiag()
	if err != nil {
		return c.collect(dst, opts)
	}
	defer unix.Close(fd)
	n0 := len(dst)
	c.seq++
	c.req = appendTCPRequest(c.req[:0], c.seq, opts.states())
	if dst, err = c.exchange(fd, dumpSpec{proto: TCP}, dst); err != nil {
		return c.collect(dst[:n0], opts)
	}
	c.stats = Stats{Netlink: true, Sockets: len(dst) - n0}
	return dst, c.owners(fd, dst[n0:], opts)
}
