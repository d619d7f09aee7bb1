package agent

import (
	"context"
	"errors"
	"math"
	"strings"
	"syscall"

	"github.com/socktop/socktop/wire"
)

// signalKind sends a client's signal to one process (v2 only, with
// --allow-signals).
var signalKind = &kind{
	name: "signal", capability: wire.CapSignals,
	served:   func(a *Agent) bool { return a.cfg.AllowSignals },
	unserved: "signals are off on this agent (start it with --allow-signals)",
	v2:       &wire.Request{Body: &wire.Request_Signal{Signal: &wire.SignalRequest{}}},
	v2Query:  func(r *wire.Request) query { return query{pid: r.GetSignal().GetPid(), v2: r} },
	open: uncached(func(a *Agent, _ context.Context, q query) (*wire.SignalResult, error) {
		return a.signal(q.v2.GetSignal())
	}),
}

// allowedSignals are the only signals a client may send, and only with
// --allow-signals.
var allowedSignals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL, "INT": syscall.SIGINT,
	"HUP": syscall.SIGHUP, "STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT,
}

// signal sends a client's signal to one process, and only to the process
// the client meant: a pid in range (a larger one is a process group, or
// every process, to kill(2)), not init, not the agent, not a thread (a
// thread id signals its whole process), and only while the process at
// that pid is the one that started at the request's start time.
func (a *Agent) signal(req *wire.SignalRequest) (*wire.SignalResult, error) {
	name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(req.GetSignal())), "SIG")
	sig, ok := allowedSignals[name]
	if !ok {
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "signal %q is not allowed (TERM, KILL, INT, HUP, STOP or CONT)", quoted(req.GetSignal()))
	}
	raw := req.GetPid()
	switch {
	case raw == 0 || raw > math.MaxInt32:
		// To kill(2), 0 is the caller's process group and, read as a 32-bit
		// pid_t, 2^32−1 is −1 (every process) and 2^31 up process groups.
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "pid %d is out of range: a process id is 2 to 2147483647", raw)
	case raw == 1:
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_NOT_PERMITTED, "refusing to signal pid 1 (init)")
	case req.GetStartTime() == 0:
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST,
			"signal request for pid %d has no start_time: a pid alone may name a reused process; send the process's start_time from the process list", raw)
	}
	pid := int(raw)
	err := a.sendSignal(pid, req.GetStartTime(), sig)
	a.log.Info("signal", "pid", pid, "signal", name, "err", err)
	var we *wire.Error
	switch {
	case errors.As(err, &we):
		return nil, we
	case errors.Is(err, syscall.ESRCH):
		return nil, wire.UnknownPIDError(raw)
	case errors.Is(err, syscall.EPERM):
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_NOT_PERMITTED, "the agent's user may not signal pid %d", pid)
	case err != nil:
		return nil, err
	}
	return &wire.SignalResult{Pid: raw, Signal: "SIG" + name}, nil
}

// quoted is client-supplied text cut short (clipText) to be echoed.
func quoted(s string) string {
	s, _ = clipText(s, 24)
	return s
}
