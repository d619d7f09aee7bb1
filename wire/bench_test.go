package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// bigResponse is the v2 reply carrying a 1000-process list.
func bigResponse() *Response {
	return &Response{Id: 7, Body: &Response_Processes{Processes: sampleProcesses(1000)}}
}

// TestV2EncodeZeroAlloc: encoding a 1000-process Response into a reused
// buffer allocates nothing.
func TestV2EncodeZeroAlloc(t *testing.T) {
	r := bigResponse()
	buf := AppendResponse(nil, r)
	if n := testing.AllocsPerRun(50, func() { buf = AppendResponse(buf, r) }); n != 0 {
		t.Fatalf("AppendResponse with a reused buffer: %v allocs/op, want 0", n)
	}
	pl := ToProcessList(r.GetProcesses())
	pbuf := EncodeProcessList(nil, pl)
	if n := testing.AllocsPerRun(50, func() { pbuf = EncodeProcessList(pbuf, pl) }); n != 0 {
		t.Fatalf("EncodeProcessList with a reused buffer: %v allocs/op, want 0", n)
	}
}

// BenchmarkEncode1000 encodes the same 1000-process list as v2 protobuf
// (vtprotobuf, reused buffer) and with encoding/json (reused buffer), the
// baseline, in the same loop; it reports each cost and the ratio.
func BenchmarkEncode1000(b *testing.B) {
	r := bigResponse()
	buf := AppendResponse(nil, r)
	var jbuf bytes.Buffer
	enc := json.NewEncoder(&jbuf)
	var v2, js time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		buf = AppendResponse(buf, r)
		t1 := time.Now()
		jbuf.Reset()
		if err := enc.Encode(r.GetProcesses()); err != nil {
			b.Fatal(err)
		}
		js += time.Since(t1)
		v2 += t1.Sub(t0)
	}
	b.ReportMetric(float64(v2.Nanoseconds())/float64(b.N), "v2-ns/op")
	b.ReportMetric(float64(js.Nanoseconds())/float64(b.N), "json-ns/op")
	b.ReportMetric(float64(js)/float64(v2), "json/v2")
}

// BenchmarkEncode1000V2 is the v2 encode alone (allocations are its own).
func BenchmarkEncode1000V2(b *testing.B) {
	r := bigResponse()
	buf := AppendResponse(nil, r)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendResponse(buf, r)
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkEncode1000JSON is the encoding/json baseline alone.
func BenchmarkEncode1000JSON(b *testing.B) {
	p := bigResponse().GetProcesses()
	var jbuf bytes.Buffer
	enc := json.NewEncoder(&jbuf)
	b.ReportAllocs()
	for b.Loop() {
		jbuf.Reset()
		if err := enc.Encode(p); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(jbuf.Len()))
}

// BenchmarkDecode1000V2 decodes the 1000-process v2 frame, into pooled
// messages as a long-lived reader would.
func BenchmarkDecode1000V2(b *testing.B) {
	frame := AppendResponse(nil, bigResponse())
	b.ReportAllocs()
	for b.Loop() {
		r := ResponseFromVTPool()
		if err := r.UnmarshalVT(frame); err != nil {
			b.Fatal(err)
		}
		r.ReturnToVTPool()
	}
}

// BenchmarkReplyProcesses1000 is what the agent does per text-dialect
// process request: convert, encode, gzip.
func BenchmarkReplyProcesses1000(b *testing.B) {
	p := sampleProcesses(1000)
	b.ReportAllocs()
	for b.Loop() {
		ReplyProcesses(DialectCommand, p)
	}
}

// TestWireSizes reports, for the README, what a 1000-process list and a
// metrics sample cost on the wire in each dialect, raw and gzip
// (go test ./wire -run WireSizes -v). It checks the framing each dialect
// applies.
func TestWireSizes(t *testing.T) {
	p := sampleProcesses(1000)
	m := sampleMetrics()
	v2p := AppendResponse(nil, &Response{Id: 1, Body: &Response_Processes{Processes: p}})
	v2m := AppendResponse(nil, &Response{Id: 1, Body: &Response_Metrics{Metrics: m}})
	pl := EncodeProcessList(nil, ToProcessList(p))
	jsonP, _ := json.Marshal(p) // what the same list would cost as JSON
	rows := []struct {
		what, dialect string
		raw           []byte
		sent          Frame
	}{
		{"1000 processes", "JSON (ProcessList, binary)", pl, ReplyProcesses(DialectJSON, p)},
		{"1000 processes", "command (ProcessList, binary)", pl, ReplyProcesses(DialectCommand, p)},
		{"1000 processes", "v2 (Processes, all fields)", v2p, Frame{Data: v2p}},
		{"1000 processes", "(encoding/json of v2 Processes)", jsonP, Frame{Data: jsonP}},
		{"metrics", "JSON (text)", EncodeJSONMetrics(m), ReplyMetrics(DialectJSON, m)},
		{"metrics", "command (text ≤ 768 B)", EncodeCommandMetrics(m), ReplyMetrics(DialectCommand, m)},
		{"metrics", "v2", v2m, Frame{Data: v2m}},
	}
	var out strings.Builder
	fmt.Fprintf(&out, "| payload | dialect | raw bytes | gzip bytes | sent bytes |\n| --- | --- | ---: | ---: | ---: |\n")
	for _, r := range rows {
		gz := len(Gzip(r.raw))
		fmt.Fprintf(&out, "| %s | %s | %d | %d | %d |\n", r.what, r.dialect, len(r.raw), gz, len(r.sent.Data))
		if gz >= len(r.raw) && len(r.raw) > GzipThreshold {
			t.Errorf("%s %s: gzip %d ≥ raw %d", r.what, r.dialect, gz, len(r.raw))
		}
	}
	t.Log("\n" + out.String())
	if !IsGzip(rows[0].sent.Data) || IsGzip(rows[4].sent.Data) {
		t.Error("framing: the process list must be gzip above 768 B, JSON-dialect metrics never")
	}
}

// BenchmarkCheckResponse1000 reports what the plausibility scan adds to
// decoding the 1000-process v2 frame: CheckResponse ÷ UnmarshalVT,
// measured alternately.
func BenchmarkCheckResponse1000(b *testing.B) {
	frame := AppendResponse(nil, bigResponse())
	var scan, decode time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := CheckResponse(frame); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		r := ResponseFromVTPool()
		if err := r.UnmarshalVT(frame); err != nil {
			b.Fatal(err)
		}
		r.ReturnToVTPool()
		t2 := time.Now()
		scan += t1.Sub(t0)
		decode += t2.Sub(t1)
	}
	b.ReportMetric(float64(scan)/float64(decode), "x-decode")
	b.ReportMetric(float64(scan.Nanoseconds())/float64(b.N), "scan-ns/op")
}
