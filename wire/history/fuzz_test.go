package history

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/proto"
)

// Fuzz targets for the two decoders of outside input: the record decoder
// (what a history file's records hold) and the file loader. Seeds: the
// f.Add values and testdata/fuzz/<Target>/ (regenerate with
// go test ./wire/history -run TestFuzzSeeds -update-seeds). Run with, e.g.:
//
//	go test ./wire/history -run '^$' -fuzz '^FuzzDecodeRecord$' -fuzztime 2m -parallel 1

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the committed fuzz seeds under testdata/fuzz")

// seedBlocks returns a few real blocks (uvarint-framed payloads).
func seedBlocks(tb testing.TB) [][]byte {
	s := New(Options{})
	fill(tb, s, newSynth(11), 3*samplesPerBlock)
	var out [][]byte
	for _, b := range s.blocks {
		out = append(out, b.data[:min(len(b.data), 1500)]) // small seeds minimize fast
	}
	return out
}

// seedFile returns a small real history file of n samples; lean ones have
// no processes, so that a seed of more than one block stays small.
func seedFile(tb testing.TB, n int, lean bool) []byte {
	path := filepath.Join(tb.TempDir(), "seed.bin")
	s, _, err := Open(path, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	g := newSynth(12)
	for range n {
		hs := g.sample()
		if lean {
			hs.TopProcesses, hs.Disks, hs.CpuPerCore = nil, nil, nil
		}
		if err := s.Append(hs); err != nil {
			tb.Fatal(err)
		}
	}
	s.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// checkSample fails t when a decoded sample breaks a bound.
func checkSample(t *testing.T, hs *wire.HistorySample) {
	t.Helper()
	if len(hs.CpuPerCore) > MaxCores || len(hs.Networks) > MaxNetworks || len(hs.Disks) > MaxDisks || len(hs.TopProcesses) > MaxTopProcesses {
		t.Fatalf("lists past their bounds: %d %d %d %d", len(hs.CpuPerCore), len(hs.Networks), len(hs.Disks), len(hs.TopProcesses))
	}
	names := []string{}
	for _, n := range hs.Networks {
		names = append(names, n.Name)
	}
	for _, d := range hs.Disks {
		names = append(names, d.Name)
	}
	for _, p := range hs.TopProcesses {
		names = append(names, p.Name)
		if p.CpuUsage < 0 || p.CpuUsage > 100 {
			t.Fatalf("process cpu %v", p.CpuUsage)
		}
	}
	for _, n := range names {
		if len(n) > MaxNameLen || !utf8.ValidString(n) {
			t.Fatalf("name %q", n)
		}
	}
	if hs.CpuTotal < 0 || hs.CpuTotal > 100 || math.IsNaN(hs.Load1) {
		t.Fatalf("values %v", hs)
	}
}

// FuzzDecodeRecord decodes a block of records; whatever decodes is within
// the bounds, and encoding it again gives it back unchanged.
func FuzzDecodeRecord(f *testing.F) {
	for _, b := range seedBlocks(f) {
		f.Add(b)
	}
	f.Add([]byte{3, kindKey, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var c, reused chain
		scratch := &wire.HistorySample{}
		var got []*wire.HistorySample
		for p := range records(data) {
			hs, err := c.decode(p)
			if rerr := reused.decodeInto(p, scratch); (rerr == nil) != (err == nil) {
				t.Fatalf("decode %v, decodeInto a used sample %v", err, rerr)
			}
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error %v is not ErrCorrupt", err)
				}
				break
			}
			if !proto.Equal(hs, scratch) {
				t.Fatalf("decodeInto a used sample differs:\n %v\n %v", hs, scratch)
			}
			checkSample(t, hs)
			if len(got) == 0 || hs.SampledAtMs > got[len(got)-1].SampledAtMs {
				got = append(got, hs)
			}
		}
		s := New(Options{})
		for _, hs := range got {
			if err := s.Append(hs); err != nil {
				t.Fatal(err)
			}
		}
		back := all(s)
		if len(back) != len(got) {
			t.Fatalf("re-encoded %d samples, got %d back", len(got), len(back))
		}
		for i := range got {
			if !proto.Equal(back[i], got[i]) {
				t.Fatalf("sample %d changed by a round trip:\n %v\n %v", i, got[i], back[i])
			}
		}
	})
}

// FuzzLoadFile loads arbitrary bytes as a history file: a foreign file is
// refused, anything else loads; Open cuts the damage off, after which the
// file loads cleanly to the same samples.
func FuzzLoadFile(f *testing.F) {
	file := seedFile(f, 3, false)
	f.Add(file)
	f.Add(file[:len(file)-3])
	f.Add(append(file[:len(file):len(file)], 0xde, 0xad))
	f.Add([]byte("socktop-history\n\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "h.bin")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, info, err := Load(path, Options{})
		if err != nil {
			if !errors.Is(err, ErrNotHistory) && !errors.Is(err, ErrVersion) {
				t.Fatalf("load: %v", err)
			}
			return
		}
		if s.Len() != info.Samples || (info.Damaged && info.Offset+info.Skipped != int64(len(data))) {
			t.Fatalf("%d samples kept, %+v", s.Len(), info)
		}
		want := all(s)
		for _, hs := range want {
			checkSample(t, hs)
		}
		o, oinfo, err := Open(path, Options{})
		if err != nil || oinfo.Samples != info.Samples || oinfo.Damaged != info.Damaged {
			t.Fatalf("open: %v %+v, load said %+v", err, oinfo, info)
		}
		o.Close()
		s, info, err = Load(path, Options{})
		if err != nil || info.Damaged || info.Samples != len(want) {
			t.Fatalf("after open: %v %+v, want %d clean samples", err, info, len(want))
		}
		sameSamples(t, all(s), want)
	})
}

// TestFuzzSeeds keeps the committed seeds decodable: each loads or decodes
// without damage. With -update-seeds it rewrites them first.
func TestFuzzSeeds(t *testing.T) {
	seeds := map[string][][]byte{
		"FuzzDecodeRecord": seedBlocks(t),
		"FuzzLoadFile":     {seedFile(t, 3, false), seedFile(t, samplesPerBlock+5, true)},
	}
	for target, list := range seeds {
		dir := filepath.Join("testdata", "fuzz", target)
		if *updateSeeds {
			os.MkdirAll(dir, 0o755)
			for i, b := range list {
				body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		files, _ := filepath.Glob(filepath.Join(dir, "seed-*"))
		if len(files) != len(list) {
			t.Fatalf("%s: %d committed seeds, want %d (run with -update-seeds)", target, len(files), len(list))
		}
	}
	// The committed file seeds are whole history files.
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzLoadFile", "seed-*"))
	for _, f := range files {
		b := readSeed(t, f)
		path := filepath.Join(t.TempDir(), "h.bin")
		os.WriteFile(path, b, 0o600)
		if s, info, err := Load(path, Options{}); err != nil || info.Damaged || s.Len() == 0 {
			t.Fatalf("%s: %v %+v", f, err, info)
		}
	}
}

// readSeed parses a one-value corpus file of the go test fuzz v1 format.
func readSeed(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lit string
	if _, err := fmt.Sscanf(string(b), "go test fuzz v1\n[]byte(%q)\n", &lit); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(lit)
}
