//go:build !linux

package procfs

import (
	"errors"
	iofs "io/fs"
)

// ioHeld holds nothing outside Linux: every Read opens every file.
type ioHeld struct{}

func newIOHeld() *ioHeld { return &ioHeld{} }

func (h *ioHeld) closeAll() {}

func (h *ioHeld) read(fs *FS, procs []Process, need []bool, dst []IOResult) []IOResult {
	for k, p := range procs {
		if k < len(need) && !need[k] {
			dst = append(dst, IOResult{Err: ErrSkipped})
			continue
		}
		io, err := fs.ProcessIO(p.PID)
		switch {
		case err == nil:
		case errors.Is(err, ErrNotFound):
			err = ErrNotFound
		case errors.Is(err, iofs.ErrPermission):
			err = iofs.ErrPermission
		case errors.Is(err, ErrMalformed):
			err = ErrMalformed
		}
		dst = append(dst, IOResult{IO: io, Err: err})
	}
	return dst
}

func (h *ioHeld) count() int { return 0 }
