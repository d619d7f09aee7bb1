package proctraffic

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/procfs/proctest"
	"github.com/socktop/socktop/procfs/sockdiag"
	"golang.org/x/sys/unix"
)

// The acceptance load: 1,000 processes (sleepers top the machine's up to
// that) and 2,000 TCP sockets.
const (
	benchProcs = 1000
	benchPairs = 1000 // loopback connections: two sockets each
)

// ratio runs base and subject alternately on one locked OS thread and
// reports subject ÷ base in wall and thread CPU time: alternating in one
// run cancels the drift of a shared machine's load.
func ratio(b *testing.B, base, subject func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := func() time.Duration {
		var ts unix.Timespec
		unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
		return time.Duration(ts.Nano())
	}
	var wall, thread [2]time.Duration
	for b.Loop() {
		t0, c0 := time.Now(), cpu()
		base()
		t1, c1 := time.Now(), cpu()
		subject()
		t2, c2 := time.Now(), cpu()
		wall[0], wall[1] = wall[0]+t1.Sub(t0), wall[1]+t2.Sub(t1)
		thread[0], thread[1] = thread[0]+c1-c0, thread[1]+c2-c1
	}
	n := time.Duration(max(b.N, 1))
	b.ReportMetric(float64(wall[1])/float64(wall[0]), "x-wall")
	b.ReportMetric(float64(thread[1])/float64(thread[0]), "x-cpu")
	b.ReportMetric(float64(thread[0]/n), "base-cpu-ns/op")
	b.ReportMetric(float64(thread[1]/n), "cpu-ns/op")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkExtrasVsScan: a process sample with the extras ÷ the same
// process sample without (procfs's ProcessSampler, as the agent and
// procfs's BenchmarkProcessesVsFloor use it), over 1,000 processes and
// 2,000 TCP sockets. Sub-benchmarks: both extras, each alone, with every
// io file read every sample (IORefresh 1) instead of idle processes'
// every 4th, and with the socket owner map rebuilt on every sample (the
// once-a-minute full /proc/*/fd walk, paid every time: the worst case).
func BenchmarkExtrasVsScan(b *testing.B) {
	fs, err := procfs.DefaultFS()
	if err != nil {
		b.Skip(err)
	}
	proctest.TopUpProcesses(b, benchProcs)
	proctest.OpenTCPPairs(b, benchPairs, benchProcs+512)
	ctx := context.Background()
	for _, bc := range []struct {
		name      string
		want      Want
		ioRefresh int
		rescan    time.Duration
	}{
		{"net+io", Net | IO, 0, 0},
		{"net+io/every-io-every-sample", Net | IO, 1, 0},
		{"net", Net, 0, 0},
		{"io", IO, 0, 0},
		{"io/every-io-every-sample", IO, 1, 0},
		{"net+io/full-fd-walk-every-sample", Net | IO, 0, time.Nanosecond},
		{"net+io/churn", Net | IO, 0, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if strings.HasSuffix(bc.name, "/churn") {
				// Another process opens and closes a connection every ~2 ms:
				// sockets in the dump are often gone by the owner lookup.
				h := startHelper(b, "churn")
				h.expect(b, "churning")
			}
			base, with := fs.NewProcessSampler(), fs.NewProcessSampler()
			base.Window, with.Window = 0, 0
			defer base.Close()
			defer with.Close()
			sd := sockdiag.NewCollector(fs.ProcRoot())
			if bc.rescan > 0 {
				sd.RescanAfter = bc.rescan
			}
			s := NewSampler(fs, sd, Limits{})
			s.IORefresh = bc.ioRefresh
			defer s.Close()
			var bp, wp []procfs.Process
			var ex []Extras
			sample := func(ps *procfs.ProcessSampler, dst []procfs.Process) []procfs.Process {
				dst, err := ps.Sample(ctx, dst)
				if err != nil {
					b.Fatal(err)
				}
				return dst
			}
			bp, wp = sample(base, bp), sample(with, wp)
			ex = s.Sample(wp, bc.want, ex) // warm: the first owner map is a full walk
			if bc.want&Net != 0 && !sd.Stats().Netlink {
				b.Skipf("no netlink sock_diag: %v", sd.Stats().NetlinkErr)
			}
			fds := 0
			ratio(b, func() { bp = sample(base, bp) }, func() {
				wp = sample(with, wp)
				ex = s.Sample(wp, bc.want, ex)
				fds += sd.Stats().FDsRead
			})
			st := s.Stats()
			b.ReportMetric(float64(len(wp)), "procs")
			b.ReportMetric(float64(st.Sockets), "sockets")
			b.ReportMetric(float64(fds)/float64(max(b.N, 1)), "fds-read/op")
			b.ReportMetric(float64(st.IORead), "io-read/op")
			if st.NetErr != nil {
				b.Fatal(st.NetErr)
			}
		})
	}
}
