// Package sockdiag lists the machine's TCP and UDP sockets with their kernel
// counters and owning processes, the data behind `ss -tuanpi`.
//
// On Linux it asks the kernel through a NETLINK_SOCK_DIAG dump (no netlink
// library, no cgo) for every IPv4 and IPv6 TCP and UDP socket, with struct
// tcp_info for TCP: bytes acked and received, segments, RTT, retransmits,
// congestion window. Where netlink is refused (some containers, qemu-user)
// it falls back to /proc/net/{tcp,tcp6,udp,udp6} and marks the sockets with
// CountersAvailable=false instead of reporting zeros.
//
// Socket inodes are mapped to processes by reading /proc/<pid>/fd. That scan
// is the expensive part (one readlink per open file descriptor on the
// machine), so a Collector keeps the previous map and only rescans processes
// that may own a socket it has not seen before.
//
// The package takes its own proc root (normally "/proc") and does not import
// the parent procfs package.
package sockdiag

import (
	"errors"
	"net/netip"
	"strconv"
)

// Sentinel errors callers can branch on with errors.Is.
var (
	// ErrUnsupported is returned by Collect on systems other than Linux.
	ErrUnsupported = errors.New("sockdiag: socket listing is only supported on Linux")
	// ErrMalformed wraps every parse failure of kernel-provided bytes.
	ErrMalformed = errors.New("sockdiag: malformed input")
)

// Proto is a transport protocol.
type Proto uint8

// Protocols, numbered as IPPROTO_*.
const (
	TCP Proto = 6
	UDP Proto = 17
)

// String returns "tcp" or "udp".
func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// State is a socket state as the kernel numbers it (TCP_ESTABLISHED = 1 …).
// UDP sockets use Established when connected and Close ("UNCONN") otherwise.
type State uint8

// Socket states, numbered as in include/net/tcp_states.h.
const (
	Established State = 1
	SynSent     State = 2
	SynRecv     State = 3
	FinWait1    State = 4
	FinWait2    State = 5
	TimeWait    State = 6
	Close       State = 7
	CloseWait   State = 8
	LastAck     State = 9
	Listen      State = 10
	Closing     State = 11
	NewSynRecv  State = 12
)

// stateNames are the spellings ss(8) prints, so users recognise them.
var stateNames = [...]string{
	"UNKNOWN", "ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
	"TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING",
	"NEW-SYN-RECV",
}

// String returns the state as ss(8) spells it: "ESTAB", "LISTEN", "TIME-WAIT",
// "UNCONN" …
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "STATE(" + strconv.Itoa(int(s)) + ")"
}

// Socket is one TCP or UDP socket.
//
// The TCP counters come from struct tcp_info and are valid only when
// CountersAvailable is true; older kernels send a shorter tcp_info, and the
// Have mask says which groups of fields the kernel actually sent. UDP sockets
// never have counters: Linux keeps no per-socket byte counters for UDP.
type Socket struct {
	Proto  Proto
	Family uint8 // 4 or 6
	Local  netip.AddrPort
	Remote netip.AddrPort
	State  State

	Inode  uint64 // 0 for sockets no file refers to (TIME-WAIT, orphans)
	Cookie uint64 // kernel socket cookie (0 from the /proc/net fallback)
	UID    uint32
	// PID is one process holding the socket (0 = unknown: not asked for,
	// not permitted to look, or no process holds it). When several processes
	// share the socket (e.g. after fork) it is one of them.
	PID     int
	Process string // that process's comm (at most 15 bytes)

	// RxQueue and TxQueue are the receive and send queues in bytes (for a
	// listening TCP socket: the accept queue length and its limit).
	RxQueue, TxQueue uint32

	// CountersAvailable is true when the kernel sent tcp_info with at least
	// the byte counters; otherwise the fields below are zero and mean
	// "unknown", not "no traffic".
	CountersAvailable bool
	Have              Fields // which tcp_info groups were sent

	// BytesAcked is what the peer acknowledged: the payload sent and
	// delivered, plus 1 on the connecting side (its SYN counts as a
	// sequence byte). BytesReceived is the payload received in order.
	BytesAcked    uint64 // tcpi_bytes_acked (Linux ≥ 4.1)
	BytesReceived uint64 // tcpi_bytes_received (Linux ≥ 4.1)
	BytesSent     uint64 // bytes sent including retransmits (Linux ≥ 4.19)
	BytesRetrans  uint64 // bytes retransmitted (Linux ≥ 4.19)
	SegsIn        uint64 // segments received, tcpi_segs_in (Linux ≥ 4.2)
	SegsOut       uint64 // segments sent, tcpi_segs_out (Linux ≥ 4.2)
	RTTMicros     uint32 // smoothed RTT, µs
	RTTVarMicros  uint32 // RTT variance, µs
	MinRTTMicros  uint32 // minimum RTT seen, µs (Linux ≥ 4.6)
	Retrans       uint32 // total retransmitted segments, tcpi_total_retrans
	Cwnd          uint32 // congestion window, segments
}

// Fields is a mask of the tcp_info field groups a kernel sent; an older
// kernel sends a shorter struct and the groups past its end are missing.
type Fields uint8

// Field groups of struct tcp_info, by the kernel version that added them.
const (
	HaveBasic     Fields = 1 << iota // state, rtt, rttvar, cwnd, total_retrans (all kernels)
	HaveBytes                        // bytes_acked, bytes_received (4.1)
	HaveSegs                         // segs_in, segs_out (4.2)
	HaveMinRTT                       // min_rtt (4.6)
	HaveBytesSent                    // bytes_sent, bytes_retrans (4.19)
)

// Options selects what Collect lists.
type Options struct {
	// TCP and UDP select the protocols; when both are false, both are listed.
	TCP, UDP bool
	// Listening includes listening TCP sockets and unconnected UDP sockets.
	Listening bool
	// Closed includes TIME-WAIT and NEW-SYN-RECV entries, which no file
	// refers to (inode 0) and have no counters.
	Closed bool
	// Processes resolves each socket's owning PID and process name (one
	// incremental /proc/*/fd scan per Collect).
	Processes bool
}

// states returns the kernel state bitmask (1<<state) the options select.
func (o Options) states() uint32 {
	all := uint32(1<<(NewSynRecv+1)) - 2 // states 1..12
	m := all
	if !o.Listening {
		m &^= 1<<Listen | 1<<Close
	}
	if !o.Closed {
		m &^= 1<<TimeWait | 1<<NewSynRecv
	}
	return m
}

// protos returns the protocols the options select.
func (o Options) protos() (tcp, udp bool) {
	if !o.TCP && !o.UDP {
		return true, true
	}
	return o.TCP, o.UDP
}

// Stats describes the work the last Collect did, for logs and benchmarks.
type Stats struct {
	Sockets     int   // sockets returned
	Netlink     bool  // the netlink dump was used (false: /proc/net fallback)
	NetlinkErr  error // why netlink was not used, when it was not
	PIDsScanned int   // /proc/<pid>/fd directories read
	FDsRead     int   // readlink calls on /proc/<pid>/fd entries
	FullScan    bool  // every visible process was scanned
	Unresolved  int   // sockets with an inode but no visible owner
}
