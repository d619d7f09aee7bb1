package history

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/proto"
)

func TestRoundTrip(t *testing.T) {
	s := New(Options{})
	want := fill(t, s, newSynth(1), 1000)
	if s.Len() != 1000 {
		t.Fatalf("Len %d, want 1000", s.Len())
	}
	sameSamples(t, all(s), want)
	// A range in the middle, inclusive at both ends.
	lo, hi := want[100].SampledAtMs, want[199].SampledAtMs
	sameSamples(t, s.Query(lo, hi, 0).Samples, want[100:200])
	sameSamples(t, s.Query(lo+1, hi-1, 0).Samples, want[101:199])
	if got := s.Query(hi, lo, 0).Samples; len(got) != 0 {
		t.Fatalf("since > until gave %d samples", len(got))
	}
	oldest, newest, ok := s.Span()
	if !ok || oldest != want[0].SampledAtMs || newest != want[999].SampledAtMs {
		t.Fatalf("Span = %d, %d, %v", oldest, newest, ok)
	}
}

func TestAppendRejectsOlderSamples(t *testing.T) {
	s := New(Options{})
	if err := s.Append(&wire.HistorySample{SampledAtMs: 5000}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []uint64{5000, 4999, 0} {
		if err := s.Append(&wire.HistorySample{SampledAtMs: at}); !errors.Is(err, ErrOutOfOrder) {
			t.Fatalf("append at %d after 5000: %v, want ErrOutOfOrder", at, err)
		}
	}
	if s.Len() != 1 {
		t.Fatalf("Len %d after rejected appends", s.Len())
	}
}

// TestBounds: every list and name of a hostile sample is bounded.
func TestBounds(t *testing.T) {
	hs := &wire.HistorySample{SampledAtMs: 1, CpuPerCore: make([]float32, 3000)}
	long := strings.Repeat("é", 100) // 200 bytes
	for i := range 200 {
		name := long + string(rune('a'+i%26)) + strings.Repeat("x", i)
		hs.Networks = append(hs.Networks, &wire.Network{Name: name, RxBytes: uint64(i)}, nil)
		hs.Disks = append(hs.Disks, &wire.Disk{Name: "\xff" + name, WriteBytes: uint64(i)})
		hs.TopProcesses = append(hs.TopProcesses, &wire.Process{Pid: uint32(i), Name: name, MemBytes: math.MaxUint64})
	}
	s := New(Options{})
	if err := s.Append(hs); err != nil {
		t.Fatal(err)
	}
	got := all(s)[0]
	if len(got.CpuPerCore) != MaxCores || len(got.Networks) != MaxNetworks || len(got.Disks) != MaxDisks || len(got.TopProcesses) != MaxTopProcesses {
		t.Fatalf("kept %d cores, %d networks, %d disks, %d processes", len(got.CpuPerCore), len(got.Networks), len(got.Disks), len(got.TopProcesses))
	}
	names := []string{got.Networks[0].Name, got.Disks[0].Name, got.TopProcesses[31].Name}
	for _, n := range names {
		if len(n) > MaxNameLen || !utf8.ValidString(n) {
			t.Fatalf("name %q: %d bytes, valid %v", n, len(n), utf8.ValidString(n))
		}
	}
	if names[0] != strings.Repeat("é", 32) || !strings.HasPrefix(names[1], "\uFFFD") {
		t.Fatalf("names %q", names)
	}
	if got.TopProcesses[0].MemBytes != maxBytesValue || got.TopProcesses[31].Pid != 31 {
		t.Fatalf("process %v", got.TopProcesses[0])
	}
	// The largest record the bounds allow still fits a file record.
	var c chain
	if n := len(c.encode(nil, hs)); n > maxRecordLen {
		t.Fatalf("largest record %d bytes > %d", n, maxRecordLen)
	}
}

// TestRetentionDropsOldest: with one sample a second and 100 s kept, the
// store keeps exactly the samples of the last 100 s, however many blocks
// went.
func TestRetentionDropsOldest(t *testing.T) {
	s := New(Options{Retention: 100 * time.Second, Interval: time.Second})
	g := newSynth(2)
	var want []*wire.HistorySample
	for i := range 1000 {
		hs := g.sample()
		hs.SampledAtMs = 1_000_000 + uint64(i)*1000
		if err := s.Append(hs); err != nil {
			t.Fatal(err)
		}
		want = append(want, expected(hs))
	}
	// Newest 1 999 000; cutoff 1 899 000: samples 899…999.
	if s.Len() != 101 {
		t.Fatalf("Len %d, want 101", s.Len())
	}
	sameSamples(t, all(s), want[899:])
	if oldest, _, _ := s.Span(); oldest != 1_899_000 {
		t.Fatalf("oldest %d, want 1899000", oldest)
	}
	if got := len(s.blocks); got > 101/samplesPerBlock+2 {
		t.Fatalf("%d blocks kept for 101 samples", got)
	}
}

func TestMaxSamplesDropsOldest(t *testing.T) {
	s := New(Options{MaxSamples: 150})
	want := fill(t, s, newSynth(3), 1000)
	if s.Len() != 150 {
		t.Fatalf("Len %d, want 150", s.Len())
	}
	sameSamples(t, all(s), want[850:])
}

func TestMaxBytesDropsOldestBlocks(t *testing.T) {
	s := New(Options{MaxBytes: 100 << 10})
	want := fill(t, s, newSynth(4), 5000)
	if s.Bytes() > 100<<10 {
		t.Fatalf("%d bytes kept, budget %d", s.Bytes(), 100<<10)
	}
	n := s.Len()
	if n < 100 || n >= 5000 {
		t.Fatalf("kept %d samples", n)
	}
	sameSamples(t, all(s), want[5000-n:])
}

// TestHistoryValidatesWithProtobuf: names of invalid UTF-8 given to the
// store come out as U+FFFD, and the validating protobuf decoder accepts the
// whole Response.
func TestHistoryValidatesWithProtobuf(t *testing.T) {
	s := New(Options{Interval: 10 * time.Second})
	for i := range 300 {
		hs := &wire.HistorySample{SampledAtMs: uint64(1e12) + uint64(i)*10_000, CpuTotal: 12.5,
			Networks:     []*wire.Network{{Name: "eth\xff0", RxBytes: uint64(i)}},
			Disks:        []*wire.Disk{{Name: "sd\xc3", ReadBytes: uint64(i)}},
			TopProcesses: []*wire.Process{{Pid: 7, Name: "evil\xff\xfe(", CpuUsage: 50}, {Pid: 8, Name: "ok", MemBytes: 1 << 20}}}
		if err := s.Append(hs); err != nil {
			t.Fatal(err)
		}
	}
	for _, maxPoints := range []uint32{0, 50} {
		h := s.Answer(&wire.HistoryRequest{MaxPoints: maxPoints})
		b, err := (&wire.Response{Id: 3, Body: &wire.Response_History{History: h}}).MarshalVT()
		if err != nil {
			t.Fatal(err)
		}
		var r wire.Response
		if err := proto.Unmarshal(b, &r); err != nil {
			t.Fatalf("validating decoder refused the history: %v", err)
		}
		got := r.GetHistory()
		if len(got.Samples) == 0 || got.Samples[0].TopProcesses[0].Name != "evil\uFFFD(" || got.Samples[0].Networks[0].Name != "eth\uFFFD0" || got.Samples[0].Disks[0].Name != "sd\uFFFD" {
			t.Fatalf("max_points %d: %v", maxPoints, got.Samples[0])
		}
		var vt wire.Response
		if err := vt.UnmarshalVT(b); err != nil || !proto.Equal(&vt, &r) {
			t.Fatalf("vtprotobuf decodes differently: %v", err)
		}
	}
}

func TestAnswerDefaults(t *testing.T) {
	s := New(Options{Interval: time.Second})
	g := newSynth(5)
	var times []uint64
	for i := range 12_000 {
		hs := g.sample()
		hs.SampledAtMs = 5_000_000 + uint64(i)*1000
		if err := s.Append(hs); err != nil {
			t.Fatal(err)
		}
		times = append(times, hs.SampledAtMs)
	}
	cases := []struct {
		req  *wire.HistoryRequest
		want int // samples at most
		raw  bool
	}{
		{&wire.HistoryRequest{}, DefaultMaxPoints, false},
		{&wire.HistoryRequest{MaxPoints: 1 << 30}, MaxPoints, false},
		{&wire.HistoryRequest{SinceMs: times[11_900], MaxPoints: 200}, 100, true},
		{&wire.HistoryRequest{SinceMs: times[100], UntilMs: times[199]}, 100, true},
	}
	for _, c := range cases {
		h := s.Answer(c.req)
		if len(h.Samples) > c.want || (c.raw && len(h.Samples) != c.want) {
			t.Fatalf("%v: %d samples, want %d (raw %v)", c.req, len(h.Samples), c.want, c.raw)
		}
		if c.raw && h.IntervalMs != 1000 {
			t.Fatalf("%v: raw interval %d ms", c.req, h.IntervalMs)
		}
		if !c.raw && h.IntervalMs <= 1000 {
			t.Fatalf("%v: downsampled interval %d ms", c.req, h.IntervalMs)
		}
	}
}

// TestConcurrentAppendAndQuery runs one appender and several queriers
// (run with -race); every answer is in order and within the bounds.
func TestConcurrentAppendAndQuery(t *testing.T) {
	s := New(Options{Retention: 200 * time.Second, Interval: time.Second})
	g := newSynth(6)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				h := s.Answer(&wire.HistoryRequest{MaxPoints: 37})
				for i := 1; i < len(h.Samples); i++ {
					if h.Samples[i].SampledAtMs <= h.Samples[i-1].SampledAtMs {
						t.Errorf("answer out of order at %d", i)
						return
					}
				}
				if len(h.Samples) > 37 {
					t.Errorf("%d samples for max_points 37", len(h.Samples))
					return
				}
			}
		}()
	}
	for i := range 3000 {
		hs := g.sample()
		hs.SampledAtMs = uint64(i+1) * 1000
		if err := s.Append(hs); err != nil {
			t.Error(err)
			break
		}
	}
	close(done)
	wg.Wait()
	if s.Len() != 201 {
		t.Fatalf("Len %d, want 201", s.Len())
	}
}
