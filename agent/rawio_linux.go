//go:build linux && !race

package agent

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawIOConn is an accepted TCP connection whose reads and writes are raw
// system calls made through the runtime's poller (syscall.RawConn: a read
// or write that would block waits in the poller as before, deadlines and
// Close included). An ordinary call's bookkeeping wakes the runtime's
// monitor thread (sysmon) when it sleeps, and it then polls every 20 µs
// for as long as any goroutine runs: every request read, and every push
// written, made it poll through the work that followed — a fifth of the
// agent's CPU at a dashboard's cadence. A socket read or write that would
// block returns EAGAIN at once, so the raw call never holds its thread.
//
// Not under the race detector: it sees a socket's traffic as a
// synchronisation only through the ordinary calls' annotations, so a test
// that changes a setting and then sends a request would read as a race.
type rawIOConn struct {
	*net.TCPConn
	rc syscall.RawConn
}

// rawIO makes c a rawIOConn when it is a TCP connection.
func rawIO(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &rawIOConn{TCPConn: tc, rc: rc}
}

func (c *rawIOConn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var n int
	var errno unix.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			switch e {
			case 0:
				n = int(r)
				return true
			case unix.EINTR:
			case unix.EAGAIN:
				return false // wait in the poller
			default:
				errno = e
				return true
			}
		}
	})
	if err == nil && errno != 0 {
		err = os.NewSyscallError("read", errno)
	}
	if err != nil {
		return 0, c.opError("read", err)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (c *rawIOConn) Write(b []byte) (int, error) {
	var n int
	var errno unix.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			r, _, e := unix.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[n])), uintptr(len(b)-n))
			switch {
			case e == 0 && r == 0:
				errno = unix.EIO // no progress: never spin
				return true
			case e == 0:
				n += int(r)
			case e == unix.EINTR:
			case e == unix.EAGAIN:
				return false // wait in the poller for room
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err == nil && errno != 0 {
		err = os.NewSyscallError("write", errno)
	}
	if err != nil {
		return n, c.opError("write", err)
	}
	return n, nil
}

// opError wraps err as net's own conns do, so that callers' checks (a
// timeout, net.ErrClosed) see the same errors.
func (c *rawIOConn) opError(op string, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		err = oe.Err // RawConn's own "raw-read" wrapping
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// rawIOListener hands out rawIOConns.
type rawIOListener struct{ net.Listener }

func (l rawIOListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return rawIO(c), nil
}
