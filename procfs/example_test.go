package procfs_test

import (
	"context"
	"fmt"
	"log"

	"github.com/socktop/socktop/procfs"
)

// The agent keeps one FS, one CPUTracker and one ProcessSampler, and calls
// them from one goroutine at a time; what it keeps between readings
// (sensors found, user names) it keeps itself.
func Example() {
	fs, err := procfs.DefaultFS()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	cpu := fs.NewCPUTracker()
	u, err := cpu.Sample(ctx) // first call measures a 150 ms window
	if err != nil {
		log.Fatal(err)
	}
	mem, _ := fs.Meminfo()
	temps, _ := fs.Temperatures()
	cpuTemp, ok := procfs.CPUTemperature(temps)
	fmt.Printf("cpu %.1f%% over %d cores, mem %d/%d, cpu temp %.1f (%v)\n",
		u.Total, len(u.PerCore), mem.Used(), mem.Total, cpuTemp, ok)

	sampler := fs.NewProcessSampler()
	var procs []procfs.Process
	procs, err = sampler.Sample(ctx, procs[:0]) // pass the last result back in to reuse it
	if err != nil {
		log.Fatal(err)
	}
	users, _ := fs.Users() // kept by the caller, read again when /etc/passwd changes
	for _, p := range procs[:min(3, len(procs))] {
		fmt.Printf("%d %q %s %.1f%% %d bytes\n", p.PID, p.Name, users[p.UID], p.CPU, p.RSS)
	}
}
