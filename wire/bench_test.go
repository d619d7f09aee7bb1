package wire

import (
	"bytes"
	"encoding/json"
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
