package wire

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

func readUpstream(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "upstream", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeUpstreamMetrics(t *testing.T) {
	m, err := decodeMetricsJSON(readUpstream(t, "metrics_1.50.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.SampledAtMs != 0 || m.Hostname != "raspberrypi" || m.CpuTempC != nil || len(m.CpuPerCore) != 2 || m.CpuPerCore[1] != 9.5 {
		t.Errorf("1.50 metrics: %v", m)
	}
	if m.MemAvailable != 4047478784-1203826688 {
		t.Errorf("mem_available derived as %d", m.MemAvailable)
	}
	if len(m.Gpus) != 1 || m.Gpus[0].Usage != 41 || m.Gpus[0].MemUsed != 1048576000 || m.Gpus[0].MemTotal != 12884901888 || m.Gpus[0].GetTempC() != 62 {
		t.Errorf("1.50 gpu aliases: %v", m.Gpus)
	}
	if len(m.Networks) != 2 || m.Networks[0].RxBytes != 5234523 || m.Networks[0].TxBytes != 1234 {
		t.Errorf("networks: %v", m.Networks)
	}

	m, err = decodeMetricsJSON(readUpstream(t, "metrics_1.60.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.SampledAtMs != 1763779200123 || m.GetCpuTempC() != 48.5 || m.Gpus != nil || m.SwapUsed != 1048576 {
		t.Errorf("1.60 metrics: %v", m)
	}

	m, err = decodeMetricsJSON(readUpstream(t, "metrics_aliases.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []*Gpu{
		{Name: "a", Usage: 10, MemUsed: 1, MemTotal: 2},
		{Name: "b", Usage: 20.5, MemUsed: 3, MemTotal: 4, TempC: ptr(float32(55))},
		{Name: "c", Usage: 30, MemUsed: 5, MemTotal: 6},
		{},
	}
	if len(m.Gpus) != len(want) {
		t.Fatalf("got %d gpus", len(m.Gpus))
	}
	for i := range want {
		if !proto.Equal(m.Gpus[i], want[i]) {
			t.Errorf("gpu %d = %v, want %v", i, m.Gpus[i], want[i])
		}
	}
}

func TestDecodeUpstreamDisks(t *testing.T) {
	d, err := decodeDisksJSON(readUpstream(t, "disks_1.60.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Disks) != 4 {
		t.Fatalf("%d disks", len(d.Disks))
	}
	if d.Disks[0].GetTemperatureC() != 41.85 || d.Disks[1].Parent != "nvme0n1" || !d.Disks[2].IsPartition || d.Disks[3].TemperatureC != nil || d.Disks[3].IsPartition || d.Disks[3].Parent != "" {
		t.Errorf("disks: %v", d.Disks)
	}
}

func TestDecodeUpstreamDetailAndJournal(t *testing.T) {
	d, err := decodeProcessDetailJSON(readUpstream(t, "process_metrics_1.60.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := d.Process
	if d.SampledAtMs != 1763779200000 || p.Pid != 1234 || p.SharedMemBytes != nil || p.GetFdCount() != 120 || p.GetWriteBytes() != 2048 ||
		p.ReadBytes != nil || p.GetWorkingDirectory() != "/home/u" || p.ExecutablePath != nil || len(p.ChildProcesses) != 1 ||
		p.ChildProcesses[0].ParentPid != nil || p.ChildProcesses[0].Name != "Web Content" || len(p.Threads) != 1 || p.Threads[0].Name != "GeckoMain" {
		t.Errorf("detail: %v", d)
	}

	j, err := decodeJournalJSON(readUpstream(t, "journal_1.60.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Entries) != 2 || !j.Truncated || j.Notice != nil || j.TotalCount != 2 {
		t.Fatalf("journal: %v", j)
	}
	if e := j.Entries[0]; e.TimestampUs != 1763779100123456 || e.Priority != 4 || e.GetUnit() != "user@1000.service" || e.GetPid() != 1234 {
		t.Errorf("entry 0 (timestamp parsed from RFC 3339): %v", e)
	}
	if e := j.Entries[1]; e.TimestampUs != 1763779000000000 || e.Priority != 7 || e.Unit != nil || e.Pid != nil {
		t.Errorf("entry 1: %v", e)
	}

	_, err = decodeProcessDetailJSON(readUpstream(t, "error_1.60.json"))
	var ae *AgentError
	if !errors.As(err, &ae) || ae.PID != 123 || ae.Request != "get_process_metrics" || !errors.Is(err, ErrUnknownPID) {
		t.Errorf("error object decoded as %v", err)
	}
	if _, err := decodeJournalJSON(readUpstream(t, "error_1.60.json")); !errors.Is(err, ErrUnknownPID) {
		t.Errorf("journal error object: %v", err)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	for _, in := range []string{"", "[", "{", `{"cpu_total":"abc"}`, `"x"`, "null x"} {
		if _, err := decodeMetricsJSON([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("decodeMetricsJSON(%q) = %v, want ErrMalformed", in, err)
		}
	}
	if _, err := decodeProcessDetailJSON([]byte(`{"cached_at":1}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("detail without process: %v", err)
	}
	if _, err := decodeProcessList([]byte{0x1f, 0x8b, 0, 0}); err == nil {
		t.Error("truncated gzip accepted")
	}
	if _, err := decodeProcessList([]byte{0x12, 0xff}); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated protobuf: %v", err)
	}
	if _, err := DecodeRequest([]byte{0x08, 0x01}); !errors.Is(err, ErrMalformed) {
		t.Errorf("request without body: %v", err)
	}
	if _, err := DecodeResponse([]byte{0xff}); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbage response: %v", err)
	}
}

// TestGunzipLimit: a gzip bomb stops at the limit (MaxDecompressed in
// Gunzip; 1 MiB here to keep the test fast).
func TestGunzipLimit(t *testing.T) {
	const limit = 1 << 20
	bomb := Gzip(make([]byte, limit+1))
	if _, err := gunzip(bomb, limit); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("gunzip(bomb) = %v, want ErrTooLarge", err)
	}
	if b, err := gunzip(Gzip(make([]byte, limit)), limit); err != nil || len(b) != limit {
		t.Fatalf("gunzip at the limit: %d bytes, %v", len(b), err)
	}
}

// upstreamProcesses builds upstream's schema at run time:
//
//	message Process   { uint32 pid = 1; string name = 2; float cpu_usage = 3; uint64 mem_bytes = 4; }
//	message Processes { uint64 process_count = 1; repeated Process rows = 2; }
func upstreamProcesses(t *testing.T) *dynamicpb.Message {
	t.Helper()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	field := func(name string, n int32, typ descriptorpb.FieldDescriptorProto_Type, label *descriptorpb.FieldDescriptorProto_Label, msg string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Type: typ.Enum(), Label: label, JsonName: proto.String(name)}
		if msg != "" {
			f.TypeName = proto.String(msg)
		}
		return f
	}
	fd := &descriptorpb.FileDescriptorProto{
		Name: proto.String("upstream/processes.proto"), Package: proto.String("socktop"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Process"), Field: []*descriptorpb.FieldDescriptorProto{
				field("pid", 1, descriptorpb.FieldDescriptorProto_TYPE_UINT32, opt, ""),
				field("name", 2, descriptorpb.FieldDescriptorProto_TYPE_STRING, opt, ""),
				field("cpu_usage", 3, descriptorpb.FieldDescriptorProto_TYPE_FLOAT, opt, ""),
				field("mem_bytes", 4, descriptorpb.FieldDescriptorProto_TYPE_UINT64, opt, ""),
			}},
			{Name: proto.String("Processes"), Field: []*descriptorpb.FieldDescriptorProto{
				field("process_count", 1, descriptorpb.FieldDescriptorProto_TYPE_UINT64, opt, ""),
				field("rows", 2, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, rep, ".socktop.Process"),
			}},
		},
	}
	file, err := protodesc.NewFile(fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dynamicpb.NewMessage(file.Messages().ByName("Processes"))
}

// TestProcessListMatchesUpstreamSchema decodes our ProcessList with
// upstream's Processes schema and re-encodes it: the bytes are identical,
// and so are the values; and the other way round.
func TestProcessListMatchesUpstreamSchema(t *testing.T) {
	pl := ToProcessList(sampleProcesses(1000))
	ours, _ := pl.MarshalVT()
	up := upstreamProcesses(t)
	if err := proto.Unmarshal(ours, up); err != nil {
		t.Fatal(err)
	}
	if up.GetUnknown() != nil {
		t.Fatal("upstream schema saw unknown fields")
	}
	theirs, err := proto.MarshalOptions{Deterministic: true}.Marshal(up)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, theirs) {
		t.Fatalf("ProcessList (%d bytes) and upstream Processes (%d bytes) encodings differ", len(ours), len(theirs))
	}
	fields := up.Descriptor().Fields()
	if n := up.Get(fields.ByName("process_count")).Uint(); n != 1000 {
		t.Fatalf("upstream process_count = %d", n)
	}
	rows := up.Get(fields.ByName("rows")).List()
	if rows.Len() != 1000 {
		t.Fatalf("upstream rows = %d", rows.Len())
	}
	row := rows.Get(999).Message()
	rf := row.Descriptor().Fields()
	if uint32(row.Get(rf.ByName("pid")).Uint()) != pl.Processes[999].Pid || row.Get(rf.ByName("name")).String() != pl.Processes[999].Name ||
		float32(row.Get(rf.ByName("cpu_usage")).Float()) != pl.Processes[999].CpuUsage || row.Get(rf.ByName("mem_bytes")).Uint() != pl.Processes[999].MemBytes {
		t.Fatalf("row 999 differs: %v vs %v", row, pl.Processes[999])
	}
	// Upstream's encoding decodes as ProcessList to the same message.
	back, err := decodeProcessList(Gzip(theirs))
	if err != nil || !proto.Equal(back, pl) {
		t.Fatalf("upstream bytes decode as ProcessList: %v", err)
	}
	// An upstream process_count beyond uint32 is the only difference in
	// range: check it still parses (truncated, as proto3 does).
	big := protowire.AppendTag(nil, 1, protowire.VarintType)
	big = protowire.AppendVarint(big, 1<<33+5)
	if got, err := decodeProcessList(big); err != nil || got.ProcessCount != 5 {
		t.Fatalf("64-bit count: %v %v", got, err)
	}
}
