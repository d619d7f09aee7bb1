package wire

import (
	"fmt"
)

func ptr[T any](v T) *T { return &v }

func sampleHello() *Hello {
	return &Hello{
		AgentVersion: "0.1.0", ProtocolMajor: ProtocolMajor, ProtocolMinor: ProtocolMinor,
		Hostname: "pi-kitchen", Kernel: "6.1.0-18-arm64", Arch: "arm64", Cores: 4,
		BootTime: 1763700000, Os: "Debian GNU/Linux 12 (bookworm)", MemTotal: 4 << 30,
		Capabilities: []string{CapMetrics, CapDisks, CapProcesses, CapProcessDetail, CapJournal, CapConnections, CapSignals, CapTemps},
	}
}

func sampleMetrics() *Metrics {
	return &Metrics{
		SampledAtMs: 1763779200123, CpuTotal: 12.5, CpuPerCore: []float32{10, 15, 12.25, 12.75},
		MemTotal: 8 << 30, MemUsed: 3 << 30, MemAvailable: 5 << 30, MemBuffers: 100 << 20, MemCached: 2 << 30,
		SwapTotal: 1 << 30, SwapUsed: 1 << 20, Load1: 0.5, Load5: 0.25, Load15: 0.125, UptimeS: 86400.5,
		Hostname: "pi-kitchen", CpuTempC: ptr(float32(48.5)),
		Temperatures: []*Temperature{{Label: "cpu_thermal", Sensor: "thermal_zone0", ValueC: 48.5}},
		Networks: []*Network{
			{Name: "eth0", RxBytes: 123456789, TxBytes: 98765432, RxPackets: 1000, TxPackets: 900, RxErrors: 1, TxErrors: 2, RxDrops: 3, TxDrops: 4},
			{Name: "wlan0", RxBytes: 42, TxBytes: 7},
		},
		Gpus:         []*Gpu{{Name: "V3D", Vendor: "broadcom", Usage: 37.5, MemUsed: 64 << 20, MemTotal: 256 << 20, TempC: ptr(float32(51))}},
		ProcessCount: 123,
	}
}

func sampleDisks() *Disks {
	return &Disks{SampledAtMs: 1763779200123, Disks: []*Disk{
		{Name: "mmcblk0", Total: 63 << 30, Available: 40 << 30, ReadBytes: 1 << 30, WriteBytes: 2 << 30, ReadOps: 1000, WriteOps: 2000, IoTimeMs: 5000, TemperatureC: ptr(float32(40))},
		{Name: "mmcblk0p1", MountPoint: "/boot/firmware", FsType: "vfat", Total: 512 << 20, Available: 400 << 20, IsPartition: true, Parent: "mmcblk0"},
		{Name: "mmcblk0p2", MountPoint: "/", FsType: "ext4", Total: 62<<30 + 512<<20, Available: 39<<30 + 624<<20, IsPartition: true, Parent: "mmcblk0"},
	}}
}

// sampleProcesses builds n plausible processes with varied names and sizes.
func sampleProcesses(n int) *Processes {
	names := []string{"systemd", "kworker/0:1-events", "sshd", "bash", "socktop", "postgres", "nginx", "containerd-shim-runc-v2", "chromium", "python3"}
	users := []string{"root", "pi", "www-data", "postgres"}
	p := &Processes{SampledAtMs: 1763779200123, TotalTicks: 987654321, TicksPerSecond: 100}
	for i := 0; i < n; i++ {
		p.Processes = append(p.Processes, &ProcessInfo{
			Pid: uint32(i + 1), Ppid: uint32(i / 3), Name: fmt.Sprintf("%s-%d", names[i%len(names)], i),
			State: "S", Uid: uint32(i % 4 * 1000), User: users[i%len(users)],
			CpuPercent: float32(i%17) * 0.37, RssBytes: uint64(i%50+1) * 1 << 20, VirtualBytes: uint64(i%50+10) * 10 << 20,
			Threads: uint32(i%8 + 1), StartTime: 1763700000 + uint64(i), CpuTicks: uint64(i * 31),
		})
	}
	return p
}

func sampleDetail() *ProcessDetail {
	return &ProcessDetail{SampledAtMs: 1763779200123, Process: &DetailedProcess{
		Pid: 4242, Name: "nginx", Command: "nginx: master process /usr/sbin/nginx -g daemon on;", CpuUsage: 1.5,
		MemBytes: 12 << 20, VirtualMemBytes: 80 << 20, SharedMemBytes: ptr(uint64(4 << 20)), ThreadCount: 1,
		FdCount: ptr(uint32(12)), Status: "Sleeping", ParentPid: ptr(uint32(1)), UserId: 0, GroupId: 0,
		StartTime: 1763700000, CpuTimeUser: 1500000, CpuTimeSystem: 250000, ReadBytes: ptr(uint64(4096)),
		WriteBytes: ptr(uint64(8192)), WorkingDirectory: ptr("/"), ExecutablePath: ptr("/usr/sbin/nginx"), User: "root",
		ChildProcesses: []*DetailedProcess{{
			Pid: 4243, Name: "nginx", Command: "nginx: worker process", CpuUsage: 0.5, MemBytes: 8 << 20,
			VirtualMemBytes: 81 << 20, ThreadCount: 1, Status: "Sleeping", ParentPid: ptr(uint32(4242)),
			UserId: 33, GroupId: 33, StartTime: 1763700001, CpuTimeUser: 10000, CpuTimeSystem: 2000, User: "www-data",
			Threads: []*ThreadInfo{{Tid: 4243, Name: "nginx", CpuTimeUser: 10000, CpuTimeSystem: 2000, Status: "Sleeping"}},
		}},
		Threads: []*ThreadInfo{{Tid: 4242, Name: "nginx", CpuTimeUser: 1500000, CpuTimeSystem: 250000, Status: "Sleeping"}},
	}}
}

func sampleJournal() *Journal {
	return &Journal{SampledAtMs: 1763779200123, TotalCount: 2, Entries: []*JournalEntry{
		{TimestampUs: 1763779100123456, Priority: 6, Message: "Started nginx.service", Unit: ptr("nginx.service"), Pid: ptr(uint32(4242)), Comm: ptr("nginx"), Uid: ptr(uint32(0)), Gid: ptr(uint32(0))},
		{TimestampUs: 1763779000000000, Priority: 3, Message: "bind() to 0.0.0.0:80 failed (98: Address \"already\" in use)"},
	}}
}

func sampleConnections() *Connections {
	return &Connections{SampledAtMs: 1763779200123, Connections: []*Connection{
		{Transport: Transport_TRANSPORT_TCP, Family: AddressFamily_ADDRESS_FAMILY_INET, LocalAddr: []byte{192, 168, 1, 10}, LocalPort: 22,
			RemoteAddr: []byte{192, 168, 1, 20}, RemotePort: 51234, State: 1, Inode: 123456, Uid: 0, Pid: 800, ProcessName: "sshd",
			BytesAcked: 100000, BytesReceived: 20000, SegsIn: 300, SegsOut: 400, RttUs: 1500, RttvarUs: 300, Retrans: 1, Cwnd: 10, CountersAvailable: true},
		{Transport: Transport_TRANSPORT_UDP, Family: AddressFamily_ADDRESS_FAMILY_INET6, LocalAddr: make([]byte, 16), LocalPort: 5353, RemoteAddr: make([]byte, 16), State: 7, Inode: 777},
	}}
}

// sampleRequests and sampleResponses hold one envelope per body.
func sampleRequests() []*Request {
	return []*Request{
		{Id: 1, Body: &Request_Hello{Hello: &HelloRequest{ClientVersion: "0.1.0", ProtocolMajor: 2, ProtocolMinor: 0, ClientName: "test"}}},
		{Id: 2, Body: &Request_Metrics{Metrics: &MetricsRequest{}}},
		{Id: 3, Body: &Request_Disks{Disks: &DisksRequest{}}},
		{Id: 4, Body: &Request_Processes{Processes: &ProcessesRequest{}}},
		{Id: 5, Body: &Request_ProcessDetail{ProcessDetail: &ProcessDetailRequest{Pid: 4242}}},
		{Id: 6, Body: &Request_Journal{Journal: &JournalRequest{Pid: 4242, Lines: 50}}},
		{Id: 7, Body: &Request_Connections{Connections: &ConnectionsRequest{}}},
		{Id: 8, Body: &Request_Signal{Signal: &SignalRequest{Pid: 4242, Signal: "TERM"}}},
		{Id: 9, Body: &Request_Subscribe{Subscribe: &SubscribeRequest{MetricsMs: 500, ProcessesMs: 2000, DisksMs: 5000}}},
	}
}

func sampleResponses() []*Response {
	return []*Response{
		{Id: 1, Body: &Response_Hello{Hello: sampleHello()}},
		{Id: 2, Body: &Response_Metrics{Metrics: sampleMetrics()}},
		{Id: 3, Body: &Response_Disks{Disks: sampleDisks()}},
		{Id: 4, Body: &Response_Processes{Processes: sampleProcesses(20)}},
		{Id: 5, Body: &Response_ProcessDetail{ProcessDetail: sampleDetail()}},
		{Id: 6, Body: &Response_Journal{Journal: sampleJournal()}},
		{Id: 7, Body: &Response_Connections{Connections: sampleConnections()}},
		{Id: 8, Body: &Response_Signal{Signal: &SignalResult{Pid: 4242, Signal: "SIGTERM"}}},
		{Id: 9, Body: &Response_Error{Error: &Error{Code: ErrorCode_ERROR_CODE_UNKNOWN_PID, Message: "process 4242 not found"}}},
		{Id: 10, Body: &Response_Subscription{Subscription: &Subscription{MetricsMs: 500, ProcessesMs: 2000}}},
	}
}
