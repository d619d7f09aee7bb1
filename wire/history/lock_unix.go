//go:build unix

package history

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f without waiting, so two
// processes never append to one history file.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
