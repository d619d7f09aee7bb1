package dialect_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/socktop/socktop/wire"
	. "github.com/socktop/socktop/wire/dialect"
	"github.com/socktop/socktop/wire/wiretest"
	"google.golang.org/protobuf/proto"
)

// TestTextDialectRoundTrip: what the agent encodes in each text dialect, the
// client decodes back to the same v2 values (for the fields the dialect
// carries).
func TestTextDialectRoundTrip(t *testing.T) {
	m := wiretest.SampleMetrics()
	for _, enc := range [][]byte{EncodeJSONMetrics(m), EncodeCommandMetrics(m)} {
		back, err := wire.DecodeMetricsJSON(enc)
		if err != nil {
			t.Fatal(err)
		}
		if back.CpuTotal != m.CpuTotal || back.MemUsed != m.MemUsed || back.SwapTotal != m.SwapTotal || back.Hostname != m.Hostname ||
			back.GetCpuTempC() != m.GetCpuTempC() || len(back.Networks) != 2 || back.Networks[0].RxBytes != m.Networks[0].RxBytes ||
			len(back.Gpus) != 1 || back.Gpus[0].MemTotal != m.Gpus[0].MemTotal || back.SampledAtMs != m.SampledAtMs {
			t.Errorf("metrics round trip: %s\n→ %v", enc, back)
		}
	}
	d := wiretest.SampleDisks()
	for _, enc := range [][]byte{EncodeJSONDisks(d), EncodeCommandDisks(d)} {
		back, err := wire.DecodeDisksJSON(enc)
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range d.Disks {
			y := back.Disks[i]
			if x.Name != y.Name || x.Total != y.Total || x.Available != y.Available || x.IsPartition != y.IsPartition || x.Parent != y.Parent || x.GetTemperatureC() != y.GetTemperatureC() {
				t.Errorf("disk %d: %v → %v", i, x, y)
			}
		}
	}
	det := wiretest.SampleDetail()
	backDet, err := wire.DecodeProcessDetailJSON(EncodeProcessDetailJSON(det))
	if err != nil {
		t.Fatal(err)
	}
	// "user" is ours, not upstream's: the text dialects do not carry it.
	want := proto.Clone(det).(*wire.ProcessDetail)
	want.SampledAtMs = det.SampledAtMs / 1000 * 1000
	want.Process.User, want.Process.ChildProcesses[0].User = "", ""
	if !proto.Equal(backDet, want) {
		t.Errorf("detail round trip:\n got %v\nwant %v", backDet, want)
	}
	j := wiretest.SampleJournal()
	backJ, err := wire.DecodeJournalJSON(EncodeJournalJSON(j))
	if err != nil {
		t.Fatal(err)
	}
	wantJ := proto.Clone(j).(*wire.Journal)
	wantJ.SampledAtMs = j.SampledAtMs / 1000 * 1000
	if !proto.Equal(backJ, wantJ) {
		t.Errorf("journal round trip:\n got %v\nwant %v", backJ, wantJ)
	}
}

// TestEncodeNonFinite: NaN and Inf, which JSON cannot carry, become 0 or
// null instead of breaking the reply.
func TestEncodeNonFinite(t *testing.T) {
	nan := float32(0)
	nan /= nan
	m := &wire.Metrics{CpuTotal: nan, CpuPerCore: []float32{nan}, CpuTempC: &nan, Load1: float64(nan)}
	for _, b := range [][]byte{EncodeJSONMetrics(m), EncodeCommandMetrics(m)} {
		back, err := wire.DecodeMetricsJSON(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if back.CpuTotal != 0 || back.CpuTempC != nil || back.CpuPerCore[0] != 0 {
			t.Errorf("NaN not sanitised: %s", b)
		}
	}
}

// TestEncodeNilMessages: encoders treat absent messages and list elements
// as empty instead of panicking (a v2 ProcessDetail without its process
// was found by FuzzDecodeResponse).
func TestEncodeNilMessages(t *testing.T) {
	outs := [][]byte{
		EncodeJSONMetrics(nil), EncodeCommandMetrics(nil), EncodeJSONDisks(nil), EncodeCommandDisks(nil),
		EncodeProcessDetailJSON(nil), EncodeProcessDetailJSON(&wire.ProcessDetail{}), EncodeJournalJSON(nil),
		EncodeJSONMetrics(&wire.Metrics{Gpus: []*wire.Gpu{nil}, Networks: []*wire.Network{nil}}),
		EncodeCommandMetrics(&wire.Metrics{Gpus: []*wire.Gpu{nil}}),
		EncodeJSONDisks(&wire.Disks{Disks: []*wire.Disk{nil}}), EncodeJournalJSON(&wire.Journal{Entries: []*wire.JournalEntry{nil}}),
		EncodeProcessDetailJSON(&wire.ProcessDetail{Process: &wire.DetailedProcess{ChildProcesses: []*wire.DetailedProcess{nil}, Threads: []*wire.ThreadInfo{nil}}}),
		ReplyProcesses(wire.DialectJSON, nil).Data, ReplyProcesses(wire.DialectJSON, &wire.Processes{Processes: []*wire.ProcessInfo{nil}}).Data,
	}
	for i, b := range outs[:len(outs)-2] {
		if !json.Valid(b) {
			t.Errorf("output %d is not JSON: %s", i, b)
		}
	}
}

// TestEncodeProcessListZeroAlloc: encoding a 1000-process list into a
// reused buffer allocates nothing.
func TestEncodeProcessListZeroAlloc(t *testing.T) {
	pl := wire.ToProcessList(wiretest.SampleProcesses(1000))
	pbuf := EncodeProcessList(nil, pl)
	if n := testing.AllocsPerRun(50, func() { pbuf = EncodeProcessList(pbuf, pl) }); n != 0 {
		t.Fatalf("EncodeProcessList with a reused buffer: %v allocs/op, want 0", n)
	}
}

// BenchmarkReplyProcesses1000 is what the agent does per text-dialect
// process request: convert, encode, gzip.
func BenchmarkReplyProcesses1000(b *testing.B) {
	p := wiretest.SampleProcesses(1000)
	b.ReportAllocs()
	for b.Loop() {
		ReplyProcesses(wire.DialectCommand, p)
	}
}

// TestWireSizes reports, for the README, what a 1000-process list and a
// metrics sample cost on the wire in each dialect, raw and gzip
// (go test ./wire/dialect -run WireSizes -v). It checks the framing each
// dialect applies.
func TestWireSizes(t *testing.T) {
	p := wiretest.SampleProcesses(1000)
	m := wiretest.SampleMetrics()
	v2p := wire.AppendResponse(nil, &wire.Response{Id: 1, Body: &wire.Response_Processes{Processes: p}})
	v2m := wire.AppendResponse(nil, &wire.Response{Id: 1, Body: &wire.Response_Metrics{Metrics: m}})
	pl := EncodeProcessList(nil, wire.ToProcessList(p))
	jsonP, _ := json.Marshal(p) // what the same list would cost as JSON
	rows := []struct {
		what, dialect string
		raw           []byte
		sent          wire.Frame
	}{
		{"1000 processes", "JSON (ProcessList, binary)", pl, ReplyProcesses(wire.DialectJSON, p)},
		{"1000 processes", "command (ProcessList, binary)", pl, ReplyProcesses(wire.DialectCommand, p)},
		{"1000 processes", "v2 (Processes, all fields)", v2p, wire.Frame{Data: v2p}},
		{"1000 processes", "(encoding/json of v2 Processes)", jsonP, wire.Frame{Data: jsonP}},
		{"metrics", "JSON (text)", EncodeJSONMetrics(m), ReplyMetrics(wire.DialectJSON, m)},
		{"metrics", "command (text ≤ 768 B)", EncodeCommandMetrics(m), ReplyMetrics(wire.DialectCommand, m)},
		{"metrics", "v2", v2m, wire.Frame{Data: v2m}},
	}
	var out strings.Builder
	fmt.Fprintf(&out, "| payload | dialect | raw bytes | gzip bytes | sent bytes |\n| --- | --- | ---: | ---: | ---: |\n")
	for _, r := range rows {
		gz := len(wire.Gzip(r.raw))
		fmt.Fprintf(&out, "| %s | %s | %d | %d | %d |\n", r.what, r.dialect, len(r.raw), gz, len(r.sent.Data))
		if gz >= len(r.raw) && len(r.raw) > wire.GzipThreshold {
			t.Errorf("%s %s: gzip %d ≥ raw %d", r.what, r.dialect, gz, len(r.raw))
		}
	}
	t.Log("\n" + out.String())
	if !wire.IsGzip(rows[0].sent.Data) || wire.IsGzip(rows[4].sent.Data) {
		t.Error("framing: the process list must be gzip above 768 B, JSON-dialect metrics never")
	}
}
