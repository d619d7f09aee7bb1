package cgroup

import (
	"os"
	"testing"
	"time"
)

// childEnv makes the test binary a CPU burner instead of running tests.
const childEnv = "SOCKTOP_CGROUP_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "spin" {
		deadline := time.Now().Add(time.Minute) // never outlive a crashed test
		for x := 0; time.Now().Before(deadline); x++ {
			for i := 0; i < 1e6; i++ {
				x ^= i
			}
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
