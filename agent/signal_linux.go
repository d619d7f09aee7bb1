package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
	"golang.org/x/sys/unix"
)

// pidfdOpen is pidfd_open(2), or ENOSYS while a.noPidfd is set (the tests
// of the kill(2) path act as on a kernel without it).
func (a *Agent) pidfdOpen(pid int) (int, error) {
	if a.noPidfd.Load() {
		return -1, unix.ENOSYS
	}
	return unix.PidfdOpen(pid, 0)
}

// sendSignal checks that pid is the process that started at start (Unix
// seconds) and signals it. With a pidfd (Linux 5.3+) the check and the
// signal are one: the descriptor is opened first and names that process
// only, so if it exits and its pid is reused after the check, the signal
// fails with ESRCH instead of reaching the newcomer. Only where the kernel
// lacks pidfd_open does it fall back to check-then-kill(2).
func (a *Agent) sendSignal(pid int, start uint64, sig syscall.Signal) error {
	if err := a.ownProcRoot(); err != nil {
		return err
	}
	fd, err := a.pidfdOpen(pid)
	switch {
	case err == nil:
		defer unix.Close(fd)
		if err := a.checkTarget(pid, start); err != nil {
			return err
		}
		return unix.PidfdSendSignal(fd, sig, nil, 0)
	case errors.Is(err, unix.ENOSYS):
		if err := a.checkTarget(pid, start); err != nil {
			return err
		}
		return unix.Kill(pid, sig)
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
		// pidfd_open refuses a thread id (EINVAL, ENOENT since Linux 6.9);
		// say why in checkTarget's words.
		if err := a.checkTarget(pid, start); err != nil {
			return err
		}
	}
	return err
}

// checkTarget refuses anything but the one process the client meant.
func (a *Agent) checkTarget(pid int, start uint64) error {
	id, err := a.fs.Identity(pid)
	if errors.Is(err, procfs.ErrNotFound) {
		return wire.UnknownPIDError(uint32(pid))
	}
	if err != nil {
		return err
	}
	self := int32(os.Getpid())
	switch {
	case id.TGID == self:
		return wire.NewError(wire.ErrorCode_ERROR_CODE_NOT_PERMITTED, "refusing to signal pid %d: it is the agent itself", pid)
	case id.TGID != int32(pid):
		// kill(2) on a thread id signals the whole thread group.
		return wire.NewError(wire.ErrorCode_ERROR_CODE_NOT_PERMITTED, "refusing to signal pid %d: it is a thread of process %d, not a process", pid, id.TGID)
	case uint64(max(id.StartUnix, 0)) != start:
		return wire.NewError(wire.ErrorCode_ERROR_CODE_UNKNOWN_PID,
			"Process %d not found: the process at pid %d started at %d, not %d (the pid was reused); refresh and try again", pid, pid, id.StartUnix, start)
	}
	return nil
}

// ownProcRoot refuses signals when --proc-root is not this agent's own
// /proc (another pid namespace's, or a fixture): the pids the clients see
// there are not the ones kill(2) and pidfd_open(2) would reach.
func (a *Agent) ownProcRoot() error {
	link, err := os.Readlink(filepath.Join(a.fs.ProcRoot(), "self"))
	if err != nil || link != strconv.Itoa(os.Getpid()) {
		return wire.NewError(wire.ErrorCode_ERROR_CODE_NOT_SUPPORTED,
			"signals need the agent's own /proc; --proc-root %s is another pid namespace's", a.fs.ProcRoot())
	}
	return nil
}
