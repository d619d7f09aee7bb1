package procfs

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary act as a helper process (a spinner or a
// sleeper) instead of running tests.
const childEnv = "SOCKTOP_PROCFS_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "spin":
		deadline := time.Now().Add(time.Minute) // never outlive a crashed test
		for x := 0; time.Now().Before(deadline); x++ {
			for i := 0; i < 1e6; i++ {
				x ^= i
			}
		}
		os.Exit(0)
	case "sleep":
		time.Sleep(time.Minute)
		os.Exit(0)
	case "drop-root", "drop-root-undumpable":
		// A daemon dropping root once it is up: nobody after 300 ms.
		// The kernel makes it undumpable then (its /proc files show
		// root) unless it says otherwise, as the first one does.
		time.Sleep(300 * time.Millisecond)
		if err := syscall.Setuid(65534); err != nil {
			os.Exit(3)
		}
		if os.Getenv(childEnv) == "drop-root" {
			if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 1, 0); e != 0 {
				os.Exit(4)
			}
		}
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}
