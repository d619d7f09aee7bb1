package agent

import (
	"errors"
	"os"
	"strings"
	"syscall"

	"github.com/socktop/socktop/wire"
)

// allowedSignals are the only signals a client may send, and only with
// --allow-signals.
var allowedSignals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL, "INT": syscall.SIGINT,
	"HUP": syscall.SIGHUP, "STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT,
}

func (a *Agent) signal(req *wire.SignalRequest) (*wire.SignalResult, error) {
	if !a.cfg.AllowSignals {
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_NOT_SUPPORTED, "signals are off on this agent (start it with --allow-signals)")
	}
	name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(req.GetSignal())), "SIG")
	sig, ok := allowedSignals[name]
	if !ok {
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "signal %q is not allowed (TERM, KILL, INT, HUP, STOP or CONT)", clip(req.GetSignal(), 16))
	}
	pid := int(req.GetPid())
	if pid <= 1 || pid == os.Getpid() {
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_NOT_PERMITTED, "refusing to signal pid %d", pid)
	}
	err := syscall.Kill(pid, sig)
	a.log.Info("signal", "pid", pid, "signal", name, "err", err)
	switch {
	case errors.Is(err, syscall.ESRCH):
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_UNKNOWN_PID, "Process %d not found", pid)
	case errors.Is(err, syscall.EPERM):
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_NOT_PERMITTED, "the agent's user may not signal pid %d", pid)
	case err != nil:
		return nil, err
	}
	return &wire.SignalResult{Pid: uint32(pid), Signal: "SIG" + name}, nil
}

// clip shortens client-supplied text before it is echoed.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
