package proctest

import (
	"bytes"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Floor is the cost floor of any process list, as procfs's BenchmarkFloor
// measures it: readdir of /proc, then open+read+close of every
// /proc/<pid>/stat, nothing else. Benchmarks elsewhere (the history, the
// agent's recorder) measure themselves against it.
type Floor struct {
	dents, buf, path []byte
}

// NewFloor makes a floor scan with its buffers.
func NewFloor() *Floor {
	return &Floor{dents: make([]byte, 32<<10), buf: make([]byte, 1024), path: make([]byte, 0, 32)}
}

// Scan reads every process's stat once and returns how many it read.
func (f *Floor) Scan() int {
	dir, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	defer unix.Close(dir)
	procs := 0
	for {
		n, err := unix.Getdents(dir, f.dents)
		if n <= 0 || err != nil {
			return procs
		}
		for b := f.dents[:n]; len(b) > 19; {
			reclen := int(b[16]) | int(b[17])<<8
			name := b[19:reclen]
			name = name[:bytes.IndexByte(name, 0)]
			b = b[reclen:]
			if len(name) == 0 || name[0] < '1' || name[0] > '9' {
				continue
			}
			// openat(dir, "<pid>/stat") with a reused path buffer, as the
			// sampler opens it: no allocation per process.
			f.path = append(append(f.path[:0], name...), "/stat\x00"...)
			fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dir), uintptr(unsafe.Pointer(&f.path[0])), uintptr(unix.O_RDONLY|unix.O_CLOEXEC), 0, 0, 0)
			if e != 0 {
				continue
			}
			if n, _ := unix.Read(int(fd), f.buf); n > 0 {
				procs++
			}
			unix.Close(int(fd))
		}
	}
}

// ThreadCPU is the calling thread's CPU time (lock the goroutine to its
// thread to measure with it).
func ThreadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// Step is one measured step of a Ratios benchmark.
type Step struct {
	Name string
	Fn   func()
}

// Named is the step name running fn.
func Named(name string, fn func()) Step { return Step{Name: name, Fn: fn} }

// Ratios runs the steps one after the other in every iteration on one
// locked OS thread and reports each step's thread CPU time per op
// (name-µs) and its ratio to the first step, the baseline (x-name), in
// thread CPU time, which a shared machine disturbs less than wall time.
// Groups sum steps: a named total reported against the baseline too.
func Ratios(b *testing.B, steps []Step, groups map[string][]string) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := make([]time.Duration, len(steps))
	for b.Loop() {
		for i, s := range steps {
			c0 := ThreadCPU()
			s.Fn()
			cpu[i] += ThreadCPU() - c0
		}
	}
	byName := map[string]time.Duration{}
	for i, s := range steps {
		byName[s.Name] = cpu[i]
		b.ReportMetric(float64(cpu[i].Microseconds())/float64(b.N), s.Name+"-µs")
		if i > 0 {
			b.ReportMetric(float64(cpu[i])/float64(cpu[0]), "x-"+s.Name)
		}
	}
	for g, names := range groups {
		var sum time.Duration
		for _, n := range names {
			sum += byName[n]
		}
		b.ReportMetric(float64(sum)/float64(cpu[0]), "x-"+g)
	}
	b.ReportMetric(0, "ns/op")
}
