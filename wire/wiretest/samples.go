package wiretest

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/socktop/socktop/wire"
)

func ptr[T any](v T) *T { return &v }

// SampleHello is the Hello of a v2 agent on a 4-core arm64 host.
func SampleHello() *wire.Hello {
	return &wire.Hello{
		AgentVersion: "0.1.0", ProtocolMajor: wire.ProtocolMajor, ProtocolMinor: wire.ProtocolMinor,
		Hostname: "pi-kitchen", Kernel: "6.1.0-18-arm64", Arch: "arm64", Cores: 4,
		BootTime: 1763700000, Os: "Debian GNU/Linux 12 (bookworm)", MemTotal: 4 << 30,
		Capabilities: []string{wire.CapMetrics, wire.CapDisks, wire.CapProcesses, wire.CapProcessDetail, wire.CapJournal, wire.CapConnections, wire.CapSignals, wire.CapTemps},
	}
}

// SampleMetrics is one metrics sample with a GPU, temperatures and two interfaces.
func SampleMetrics() *wire.Metrics {
	return &wire.Metrics{
		SampledAtMs: 1763779200123, CpuTotal: 12.5, CpuPerCore: []float32{10, 15, 12.25, 12.75},
		MemTotal: 8 << 30, MemUsed: 3 << 30, MemAvailable: 5 << 30, MemBuffers: 100 << 20, MemCached: 2 << 30,
		SwapTotal: 1 << 30, SwapUsed: 1 << 20, Load1: 0.5, Load5: 0.25, Load15: 0.125, UptimeS: 86400.5,
		Hostname: "pi-kitchen", CpuTempC: ptr(float32(48.5)),
		Temperatures: []*wire.Temperature{{Label: "cpu_thermal", Sensor: "thermal_zone0", ValueC: 48.5}},
		Networks: []*wire.Network{
			{Name: "eth0", RxBytes: 123456789, TxBytes: 98765432, RxPackets: 1000, TxPackets: 900, RxErrors: 1, TxErrors: 2, RxDrops: 3, TxDrops: 4},
			{Name: "wlan0", RxBytes: 42, TxBytes: 7},
		},
		Gpus:         []*wire.Gpu{{Name: "V3D", Vendor: "broadcom", Usage: 37.5, MemUsed: 64 << 20, MemTotal: 256 << 20, TempC: ptr(float32(51))}},
		ProcessCount: 123,
	}
}

// SampleDisks is an SD card with its two partitions.
func SampleDisks() *wire.Disks {
	return &wire.Disks{SampledAtMs: 1763779200123, Disks: []*wire.Disk{
		{Name: "mmcblk0", Total: 63 << 30, Available: 40 << 30, ReadBytes: 1 << 30, WriteBytes: 2 << 30, ReadOps: 1000, WriteOps: 2000, IoTimeMs: 5000, TemperatureC: ptr(float32(40))},
		{Name: "mmcblk0p1", MountPoint: "/boot/firmware", FsType: "vfat", Total: 512 << 20, Available: 400 << 20, IsPartition: true, Parent: "mmcblk0"},
		{Name: "mmcblk0p2", MountPoint: "/", FsType: "ext4", Total: 62<<30 + 512<<20, Available: 39<<30 + 624<<20, IsPartition: true, Parent: "mmcblk0"},
	}}
}

// SampleProcesses builds n plausible processes (pids 1..n) with varied
// names, users and sizes. Each Sample function returns a fresh copy.
func SampleProcesses(n int) *wire.Processes {
	names := []string{"systemd", "kworker/0:1-events", "sshd", "bash", "socktop", "postgres", "nginx", "containerd-shim-runc-v2", "chromium", "python3"}
	users := []string{"root", "pi", "www-data", "postgres"}
	p := &wire.Processes{SampledAtMs: 1763779200123, TotalTicks: 987654321, TicksPerSecond: 100}
	for i := 0; i < n; i++ {
		p.Processes = append(p.Processes, &wire.ProcessInfo{
			Pid: uint32(i + 1), Ppid: uint32(i / 3), Name: fmt.Sprintf("%s-%d", names[i%len(names)], i),
			State: "S", Uid: uint32(i % 4 * 1000), User: users[i%len(users)],
			CpuPercent: float32(i%17) * 0.37, RssBytes: uint64(i%50+1) * 1 << 20, VirtualBytes: uint64(i%50+10) * 10 << 20,
			Threads: uint32(i%8 + 1), StartTime: 1763700000 + uint64(i), CpuTicks: uint64(i * 31),
		})
	}
	return p
}

// SampleDetail is nginx (pid 4242) with one worker child; the agents serve it
// for pid 4242 and answer other pids "Process N not found".
func SampleDetail() *wire.ProcessDetail {
	return &wire.ProcessDetail{SampledAtMs: 1763779200123, Process: &wire.DetailedProcess{
		Pid: 4242, Name: "nginx", Command: "nginx: master process /usr/sbin/nginx -g daemon on;", CpuUsage: 1.5,
		MemBytes: 12 << 20, VirtualMemBytes: 80 << 20, SharedMemBytes: ptr(uint64(4 << 20)), ThreadCount: 1,
		FdCount: ptr(uint32(12)), Status: "Sleeping", ParentPid: ptr(uint32(1)), UserId: 0, GroupId: 0,
		StartTime: 1763700000, CpuTimeUser: 1500000, CpuTimeSystem: 250000, ReadBytes: ptr(uint64(4096)),
		WriteBytes: ptr(uint64(8192)), WorkingDirectory: ptr("/"), ExecutablePath: ptr("/usr/sbin/nginx"), User: "root",
		ChildProcesses: []*wire.DetailedProcess{{
			Pid: 4243, Name: "nginx", Command: "nginx: worker process", CpuUsage: 0.5, MemBytes: 8 << 20,
			VirtualMemBytes: 81 << 20, ThreadCount: 1, Status: "Sleeping", ParentPid: ptr(uint32(4242)),
			UserId: 33, GroupId: 33, StartTime: 1763700001, CpuTimeUser: 10000, CpuTimeSystem: 2000, User: "www-data",
			Threads: []*wire.ThreadInfo{{Tid: 4243, Name: "nginx", CpuTimeUser: 10000, CpuTimeSystem: 2000, Status: "Sleeping"}},
		}},
		Threads: []*wire.ThreadInfo{{Tid: 4242, Name: "nginx", CpuTimeUser: 1500000, CpuTimeSystem: 250000, Status: "Sleeping"}},
	}}
}

// SampleJournal is two journal entries of pid 4242.
func SampleJournal() *wire.Journal {
	return &wire.Journal{SampledAtMs: 1763779200123, TotalCount: 2, Entries: []*wire.JournalEntry{
		{TimestampUs: 1763779100123456, Priority: 6, Message: "Started nginx.service", Unit: ptr("nginx.service"), Pid: ptr(uint32(4242)), Comm: ptr("nginx"), Uid: ptr(uint32(0)), Gid: ptr(uint32(0))},
		{TimestampUs: 1763779000000000, Priority: 3, Message: "bind() to 0.0.0.0:80 failed (98: Address \"already\" in use)"},
	}}
}

// SampleConnections is an ssh TCP connection and a UDP socket.
func SampleConnections() *wire.Connections {
	return &wire.Connections{SampledAtMs: 1763779200123, Connections: []*wire.Connection{
		{Transport: wire.Transport_TRANSPORT_TCP, Family: wire.AddressFamily_ADDRESS_FAMILY_INET, LocalAddr: []byte{192, 168, 1, 10}, LocalPort: 22,
			RemoteAddr: []byte{192, 168, 1, 20}, RemotePort: 51234, State: 1, Inode: 123456, Uid: 0, Pid: 800, ProcessName: "sshd",
			BytesAcked: 100000, BytesReceived: 20000, SegsIn: 300, SegsOut: 400, RttUs: 1500, RttvarUs: 300, Retrans: 1, Cwnd: 10, CountersAvailable: true},
		{Transport: wire.Transport_TRANSPORT_UDP, Family: wire.AddressFamily_ADDRESS_FAMILY_INET6, LocalAddr: make([]byte, 16), LocalPort: 5353, RemoteAddr: make([]byte, 16), State: 7, Inode: 777},
	}}
}

// HeapPeak samples runtime.MemStats.HeapInuse every 2 ms until the
// returned function is called, which returns the highest value seen: the
// heap a hostile input drove a decoder to.
func HeapPeak() func() uint64 {
	var mu sync.Mutex
	var peak uint64
	stop, done := make(chan struct{}), make(chan struct{})
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		mu.Lock()
		peak = max(peak, m.HeapInuse)
		mu.Unlock()
	}
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				sample()
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		sample()
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
