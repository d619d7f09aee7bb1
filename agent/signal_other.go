//go:build !linux

package agent

import (
	"syscall"

	"github.com/socktop/socktop/wire"
)

// sendSignal needs /proc and pidfds to tell which process a pid is now.
func (a *Agent) sendSignal(int, uint64, syscall.Signal) error {
	return wire.NewError(wire.ErrorCode_ERROR_CODE_NOT_SUPPORTED, "signals are only served by agents on Linux")
}
