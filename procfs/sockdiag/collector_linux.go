//go:build linux

package sockdiag

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// recvBufSize is larger than the 32 KiB the kernel caps a dump batch at,
// so a read never truncates a batch.
const recvBufSize = 64 << 10

// dumpSpec is one of the four dumps, with its /proc/net fallback file.
type dumpSpec struct {
	proto   Proto
	family  uint8 // 4 or 6
	afam    uint8 // AF_INET / AF_INET6
	netFile string
}

var dumpSpecs = [...]dumpSpec{
	{TCP, 4, afInet, "tcp"},
	{TCP, 6, afInet6, "tcp6"},
	{UDP, 4, afInet, "udp"},
	{UDP, 6, afInet6, "udp6"},
}

// errNotProcfs is why netlink is not asked for a proc root that is no procfs.
var errNotProcfs = errors.New("the proc root is not a procfs, so this kernel's sockets are not its own")

func (c *Collector) collect(dst []Socket, opts Options) ([]Socket, error) {
	c.stats = Stats{Netlink: true}
	wantTCP, wantUDP := opts.protos()
	states := opts.states()
	n0 := len(dst)

	fd, sockErr := c.openDiag()
	if sockErr == nil {
		defer unix.Close(fd)
	}

	for _, d := range dumpSpecs {
		if (d.proto == TCP && !wantTCP) || (d.proto == UDP && !wantUDP) {
			continue
		}
		err := sockErr
		if err == nil {
			before := len(dst)
			dst, err = c.dump(fd, d, states, dst)
			if err != nil {
				dst = dst[:before]
			}
		}
		if err != nil {
			// Netlink refused or failed for this dump: read /proc/net
			// instead, which has no counters.
			if c.stats.NetlinkErr == nil {
				c.stats.NetlinkErr = err
			}
			c.stats.Netlink = false
			var ferr error
			dst, ferr = readProcNet(c.procRoot, d.netFile, d.proto, d.family, states, dst)
			if ferr != nil {
				return dst[:n0], errors.Join(err, ferr)
			}
		}
	}
	c.stats.Sockets = len(dst) - n0
	if sockErr != nil {
		fd = -1
	}
	return dst, c.owners(fd, dst[n0:], opts)
}

// owners fills the owning processes of socks when opts ask for them; fd,
// when not -1, is a netlink socket to ask whether a socket is still held.
func (c *Collector) owners(fd int, socks []Socket, opts Options) error {
	if !opts.Processes {
		return nil
	}
	maxAge := c.RescanAfter
	if maxAge <= 0 {
		maxAge = DefaultRescanAfter
	}
	if fd >= 0 {
		c.res.held = func(s *Socket) bool { return c.stillHeld(fd, s) }
		defer func() { c.res.held = nil }()
	}
	if err := c.res.resolve(c.procRoot, socks, time.Now(), maxAge, &c.stats); err != nil {
		return fmt.Errorf("resolve socket owners: %w", err)
	}
	return nil
}

// openDiag opens a NETLINK_SOCK_DIAG socket.
func (c *Collector) openDiag() (int, error) {
	if !c.rootChecked {
		c.rootChecked = true
		var st unix.Statfs_t
		if c.noNetlink == nil && (unix.Statfs(c.procRoot, &st) != nil || st.Type != unix.PROC_SUPER_MAGIC) {
			c.noNetlink = errNotProcfs
		}
	}
	if c.noNetlink != nil {
		return -1, fmt.Errorf("netlink sock_diag socket: %w", c.noNetlink)
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return -1, fmt.Errorf("netlink sock_diag socket: %w", err)
	}
	// Never hang on a kernel (or emulator) that accepts the request but
	// does not answer.
	tv := unix.Timeval{Sec: 5}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	return fd, nil
}

// dump runs one SOCK_DIAG_BY_FAMILY dump on fd and appends its sockets.
func (c *Collector) dump(fd int, d dumpSpec, states uint32, dst []Socket) ([]Socket, error) {
	c.seq++
	c.req = appendDiagRequest(c.req[:0], c.seq, d.afam, d.proto, states)
	return c.exchange(fd, d, dst)
}

// exchange sends the request in c.req (sequence c.seq) on fd and appends
// the sockets of the dump it starts; d names the dump in errors.
func (c *Collector) exchange(fd int, d dumpSpec, dst []Socket) ([]Socket, error) {
	if c.buf == nil {
		c.buf = make([]byte, recvBufSize)
	}
	if err := unix.Sendto(fd, c.req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return dst, fmt.Errorf("netlink %v dump request: %w", d, err)
	}
	for {
		n, err := unix.Read(fd, c.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return dst, fmt.Errorf("netlink %v dump: %w", d, err)
		}
		if n >= len(c.buf) {
			return dst, fmt.Errorf("netlink %v dump: %w: reply larger than %d bytes", d, ErrMalformed, len(c.buf))
		}
		var done bool
		dst, done, err = parseDump(c.buf[:n], c.seq, d.proto, dst)
		if err != nil {
			return dst, fmt.Errorf("netlink %v dump: %w", d, err)
		}
		if done {
			return dst, nil
		}
		if n == 0 {
			return dst, fmt.Errorf("netlink %v dump: %w: empty read before NLMSG_DONE", d, ErrMalformed)
		}
	}
}
