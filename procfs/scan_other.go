//go:build !linux

package procfs

type scanner struct{}

func (sc *scanner) heldBy(*ProcessSampler) {}
func (sc *scanner) close()                 {}

func (sc *scanner) each(fs *FS, dst []Process, fn func(p *Process, ps *ProcStat, name []byte), after func([]Process)) ([]Process, error) {
	return dst, ErrNotSupported
}

func (sc *scanner) readPIDFile(int32, string) []byte { return nil }

// CountProcesses needs Linux's /proc.
func (fs *FS) CountProcesses() (int, error) { return 0, ErrNotSupported }

// ReserveFiles does nothing without Linux's /proc: no files are held.
func ReserveFiles(n int) {}
