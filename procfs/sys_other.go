//go:build !linux

package procfs

import (
	"os"
	"runtime"
)

func clockTicks() uint64 { return 100 }

func pageSize() uint64 { return uint64(os.Getpagesize()) }

func unameMachine() string { return runtime.GOARCH }

func statfs(path string) (StatfsResult, error) { return StatfsResult{}, ErrNotSupported }
