package wire_test

// The contract between the two sides of the text dialects: what the
// agent's encoders (wire/dialect) send, the client's decoders (unexported
// in wire, reached through export_test.go) read back.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
	. "github.com/socktop/socktop/wire/dialect"
	"github.com/socktop/socktop/wire/wiretest"
	"google.golang.org/protobuf/proto"
)

// bareMetrics is a metrics sample with only the required fields set.
func bareMetrics() *wire.Metrics {
	return &wire.Metrics{SampledAtMs: 1763779200000, CpuTotal: 3, CpuPerCore: []float32{3}, MemTotal: 1 << 30, MemUsed: 1 << 29, Hostname: "tiny"}
}

func mustValidJSON(t *testing.T, b []byte) {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("encoder produced invalid JSON: %q", b)
	}
}

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

// TestCommandFramingBoundary: a command-dialect JSON reply of exactly 768
// bytes is a text frame, one of 769 a gzip binary frame; the decoding side
// reads both back to the same message.
func TestCommandFramingBoundary(t *testing.T) {
	for _, size := range []int{wire.GzipThreshold - 1, wire.GzipThreshold, wire.GzipThreshold + 1} {
		m := bareMetrics()
		base := len(EncodeCommandMetrics(m))
		m.Hostname += strings.Repeat("h", size-base)
		raw := EncodeCommandMetrics(m)
		if len(raw) != size {
			t.Fatalf("built a %d-byte reply, want %d", len(raw), size)
		}
		f := ReplyMetrics(wire.DialectCommand, m)
		wantText := size <= wire.GzipThreshold
		if f.Text() != wantText || wire.IsGzip(f.Data) == wantText {
			t.Fatalf("%d bytes: text=%v gzip=%v, want text=%v", size, f.Text(), wire.IsGzip(f.Data), wantText)
		}
		if wantText && !bytes.Equal(f.Data, raw) {
			t.Fatalf("%d bytes: text frame is not the raw JSON", size)
		}
		payload, err := wire.Payload(f)
		if err != nil || !bytes.Equal(payload, raw) {
			t.Fatalf("%d bytes: payload differs after unframing (err %v)", size, err)
		}
		back, err := wire.DecodeMetricsJSON(payload)
		if err != nil {
			t.Fatal(err)
		}
		if back.Hostname != m.Hostname || back.MemTotal != m.MemTotal {
			t.Fatalf("%d bytes: decoded %q/%d", size, back.Hostname, back.MemTotal)
		}
		// The JSON dialect never compresses, whatever the size.
		if jf := ReplyMetrics(wire.DialectJSON, m); !jf.Text() || wire.IsGzip(jf.Data) {
			t.Fatalf("JSON dialect metrics of %d bytes not a plain text frame", size)
		}
	}
}

// TestProcessListFramingBoundary: a process list of exactly 768 encoded
// bytes goes raw, one of 769 gzip, both in binary frames.
func TestProcessListFramingBoundary(t *testing.T) {
	for _, size := range []int{wire.GzipThreshold, wire.GzipThreshold + 1} {
		p := &wire.Processes{Processes: []*wire.ProcessInfo{{Pid: 1, Name: "init", CpuPercent: 1, RssBytes: 1 << 20}}}
		base := wire.ToProcessList(p).SizeVT()
		// Name length crosses a varint boundary at 128, so grow it stepwise.
		for wire.ToProcessList(p).SizeVT() < size {
			p.Processes[0].Name += "x"
		}
		enc := EncodeProcessList(nil, wire.ToProcessList(p))
		if len(enc) != size {
			t.Fatalf("built %d bytes (from %d), want %d", len(enc), base, size)
		}
		f := ReplyProcesses(wire.DialectCommand, p)
		if f.Type != websocket.MessageBinary {
			t.Fatal("process list not in a binary frame")
		}
		if gz := wire.IsGzip(f.Data); gz != (size > wire.GzipThreshold) {
			t.Fatalf("%d bytes: gzip=%v", size, gz)
		}
		pl, err := wire.DecodeProcessList(f.Data)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(pl, wire.ToProcessList(p)) {
			t.Fatalf("%d bytes: decoded list differs", size)
		}
	}
}

// FuzzEncodeResponse decodes a v2 Response as a client would, then encodes
// its body as the agent would answer each text dialect: whatever a v2
// message holds, the reply is valid JSON, or a process list that decodes.
func FuzzEncodeResponse(f *testing.F) {
	for _, r := range []*wire.Response{
		{Body: &wire.Response_Metrics{Metrics: wiretest.SampleMetrics()}},
		{Body: &wire.Response_Disks{Disks: wiretest.SampleDisks()}},
		{Body: &wire.Response_Processes{Processes: wiretest.SampleProcesses(3)}},
		{Body: &wire.Response_ProcessDetail{ProcessDetail: wiretest.SampleDetail()}},
		{Body: &wire.Response_Journal{Journal: wiretest.SampleJournal()}},
	} {
		f.Add(wire.AppendResponse(nil, r))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := wire.DecodeResponse(b)
		if err != nil {
			return
		}
		switch body := r.Body.(type) {
		case *wire.Response_Metrics:
			mustValidJSON(t, EncodeJSONMetrics(body.Metrics))
			mustValidJSON(t, EncodeCommandMetrics(body.Metrics))
		case *wire.Response_Disks:
			mustValidJSON(t, EncodeJSONDisks(body.Disks))
			mustValidJSON(t, EncodeCommandDisks(body.Disks))
		case *wire.Response_ProcessDetail:
			mustValidJSON(t, EncodeProcessDetailJSON(body.ProcessDetail))
		case *wire.Response_Journal:
			mustValidJSON(t, EncodeJournalJSON(body.Journal))
		case *wire.Response_Processes:
			if _, err := wire.DecodeProcessList(ReplyProcesses(wire.DialectCommand, body.Processes).Data); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzReencodeDecoded decodes a text-dialect reply as the client does and
// encodes the result again as the agent would: the encoders must handle
// whatever the decoders accept, and their output must decode again.
func FuzzReencodeDecoded(f *testing.F) {
	for _, g := range []string{"dialect/testdata/golden/*.golden", "testdata/upstream/*.json"} {
		paths, _ := filepath.Glob(g)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			if _, rest, ok := bytes.Cut(b, []byte("\n")); ok && filepath.Ext(p) == ".golden" {
				b = bytes.TrimSuffix(rest, []byte("\n")) // the frame kind line off
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := wire.DecodeMetricsJSON(b); err == nil {
			for _, enc := range [][]byte{EncodeJSONMetrics(m), EncodeCommandMetrics(m)} {
				mustValidJSON(t, enc)
				if _, err := wire.DecodeMetricsJSON(enc); err != nil {
					t.Fatalf("re-encoded metrics do not decode: %v\n%s", err, enc)
				}
			}
		}
		if d, err := wire.DecodeDisksJSON(b); err == nil {
			for _, enc := range [][]byte{EncodeJSONDisks(d), EncodeCommandDisks(d)} {
				mustValidJSON(t, enc)
				if back, err := wire.DecodeDisksJSON(enc); err != nil || len(back.Disks) != len(d.Disks) {
					t.Fatalf("re-encoded disks: %v\n%s", err, enc)
				}
			}
		}
		if d, err := wire.DecodeProcessDetailJSON(b); err == nil {
			enc := EncodeProcessDetailJSON(d)
			mustValidJSON(t, enc)
			if _, err := wire.DecodeProcessDetailJSON(enc); err != nil {
				t.Fatalf("re-encoded detail: %v\n%s", err, enc)
			}
		}
		if j, err := wire.DecodeJournalJSON(b); err == nil {
			enc := EncodeJournalJSON(j)
			mustValidJSON(t, enc)
			if back, err := wire.DecodeJournalJSON(enc); err != nil || len(back.Entries) != len(j.Entries) {
				t.Fatalf("re-encoded journal: %v\n%s", err, enc)
			}
		}
	})
}
