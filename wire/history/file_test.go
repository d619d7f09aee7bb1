package history

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/socktop/socktop/wire"
)

// recordEnds returns the offset where each record of the file ends,
// read with the framing of FORMAT.md (independently of the loader).
func recordEnds(t *testing.T, b []byte) []int {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("socktop-history\n\x01\x00\x00\x00")) {
		t.Fatalf("file starts with %q", b[:min(len(b), 20)])
	}
	var ends []int
	for off := 20; off < len(b); {
		off += 8 + int(binary.LittleEndian.Uint32(b[off:]))
		ends = append(ends, off)
	}
	return ends
}

// writeFile records n samples of synth seed into a new file at path and
// returns what the store must give back for them.
func writeFile(t *testing.T, path string, seed uint64, n int) []*wire.HistorySample {
	t.Helper()
	s, info, err := Open(path, Options{})
	if err != nil || info.Damaged || info.Samples != 0 {
		t.Fatalf("open new file: %v %v", err, info)
	}
	want := fill(t, s, newSynth(seed), n)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

func TestFileRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "socktop_agent")
	path := filepath.Join(dir, "history.bin")
	want := writeFile(t, path, 1, 500)
	for p, mode := range map[string]os.FileMode{dir: 0o700, filepath.Dir(dir): 0o700, path: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("%s: mode %v, want %v (%v)", p, fi.Mode().Perm(), mode, err)
		}
	}
	s, info, err := Open(path, Options{})
	if err != nil || info.Damaged || info.Samples != 500 {
		t.Fatalf("reopen: %v %+v", err, info)
	}
	sameSamples(t, all(s), want)
	// Appending after a reopen continues the same file; a record larger
	// than the loader's first buffer (every list at its bound) loads too.
	more := fill(t, s, &synth{r: rand.New(rand.NewPCG(9, 9)), at: want[499].SampledAtMs, rx: map[string]uint64{}}, 99)
	big := &wire.HistorySample{SampledAtMs: more[98].SampledAtMs + 1, CpuPerCore: make([]float32, MaxCores)}
	for i := range MaxNetworks {
		big.CpuPerCore[i] = float32(i)
		big.Networks = append(big.Networks, &wire.Network{Name: strings.Repeat(string(rune('a'+i%26)), 40+i%20), RxBytes: 1 << 60})
	}
	if err := s.Append(big); err != nil {
		t.Fatal(err)
	}
	more = append(more, expected(big))
	s.Close()
	s, info, err = Load(path, Options{})
	if err != nil || info.Damaged || info.Samples != 600 {
		t.Fatalf("load: %v %+v", err, info)
	}
	sameSamples(t, all(s), append(want, more...))
}

// TestTruncatedMidRecord: a file cut anywhere inside a record (a power cut
// during a write) loads every whole record before the cut, is cut back to
// them, and takes appends again.
func TestTruncatedMidRecord(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.bin")
	want := writeFile(t, path, 2, 300)
	full, _ := os.ReadFile(path)
	ends := recordEnds(t, full)
	if len(ends) != 300 {
		t.Fatalf("%d records in the file, want 300", len(ends))
	}
	for _, k := range []int{0, 1, 63, 64, 65, 150, 299} {
		start := 20
		if k > 0 {
			start = ends[k-1]
		}
		for _, cut := range []int{start + 1, start + 7, start + 8, start + 9, (start + ends[k]) / 2, ends[k] - 1} {
			if err := os.WriteFile(path, full[:cut], 0o600); err != nil {
				t.Fatal(err)
			}
			s, info, err := Open(path, Options{})
			if err != nil {
				t.Fatalf("cut at %d: %v", cut, err)
			}
			if !info.Damaged || info.Samples != k || info.Offset != int64(start) || info.Skipped != int64(cut-start) {
				t.Fatalf("cut at %d inside record %d: %+v", cut, k, info)
			}
			sameSamples(t, all(s), want[:k])
			if fi, _ := os.Stat(path); fi.Size() != int64(start) {
				t.Fatalf("cut at %d: file left at %d bytes, want %d", cut, fi.Size(), start)
			}
			next := &wire.HistorySample{SampledAtMs: want[299].SampledAtMs + 1, CpuTotal: 42}
			if err := s.Append(next); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s, info, err = Open(path, Options{})
			if err != nil || info.Damaged || info.Samples != k+1 {
				t.Fatalf("reopen after cut at %d: %v %+v", cut, err, info)
			}
			sameSamples(t, all(s), append(want[:k:k], expected(next)))
			s.Close()
		}
	}
}

// TestRandomBytesAppended: garbage after the last record loses nothing.
func TestRandomBytesAppended(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.bin")
	want := writeFile(t, path, 3, 200)
	full, _ := os.ReadFile(path)
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{1, 7, 8, 9, 100, 5000, 200_000} {
		junk := make([]byte, n)
		for i := range junk {
			junk[i] = byte(r.Uint32())
		}
		if err := os.WriteFile(path, append(bytes.Clone(full), junk...), 0o600); err != nil {
			t.Fatal(err)
		}
		s, info, err := Open(path, Options{})
		if err != nil || !info.Damaged || info.Samples != 200 || info.Offset != int64(len(full)) || info.Skipped != int64(n) {
			t.Fatalf("%d random bytes: %v %+v", n, err, info)
		}
		sameSamples(t, all(s), want)
		s.Close()
		if got, _ := os.ReadFile(path); !bytes.Equal(got, full) {
			t.Fatalf("%d random bytes: the file was not cut back to its records", n)
		}
	}
}

// TestBadCRCInTheMiddle: one flipped bit in record 120 keeps records
// 0…119, and nothing after the damage.
func TestBadCRCInTheMiddle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.bin")
	want := writeFile(t, path, 4, 250)
	full, _ := os.ReadFile(path)
	ends := recordEnds(t, full)
	for _, at := range []int{ends[119] + 3, ends[119] + 5, ends[119] + 12, ends[120] - 1} { // length, CRC, payload
		b := bytes.Clone(full)
		b[at] ^= 0x10
		os.WriteFile(path, b, 0o600)
		s, info, err := Load(path, Options{})
		if err != nil || !info.Damaged || info.Samples != 120 || info.Offset != int64(ends[119]) {
			t.Fatalf("flip at %d: %v %+v", at, err, info)
		}
		if !strings.Contains(info.String(), "damaged at byte") || !strings.Contains(info.String(), "kept the 120 samples") {
			t.Fatalf("log line %q", info.String())
		}
		sameSamples(t, all(s), want[:120])
		// Load leaves the file as it is (a recording being replayed).
		if got, _ := os.ReadFile(path); !bytes.Equal(got, b) {
			t.Fatal("Load changed the file")
		}
	}
}

// TestNotHistoryRefused: a file that is not a socktop history, or of
// another version, is refused and left untouched; a torn header is a new
// file.
func TestNotHistoryRefused(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		content string
		want    error
	}{
		{"my notes: do not delete\n" + strings.Repeat("x", 1000), ErrNotHistory},
		{"\x00", ErrNotHistory},
		{"socktop-historY\n\x01\x00\x00\x00", ErrNotHistory},
		{"socktop-history\n\x02\x00\x00\x00" + strings.Repeat("\x00", 50), ErrVersion},
		{"socktop-hist", nil},
		{"", nil},
	}
	for i, c := range cases {
		path := filepath.Join(dir, "f"+string(rune('a'+i)))
		os.WriteFile(path, []byte(c.content), 0o644)
		s, _, err := Open(path, Options{})
		if !errors.Is(err, c.want) {
			t.Fatalf("%q: %v, want %v", c.content, err, c.want)
		}
		if c.want != nil {
			if got, _ := os.ReadFile(path); string(got) != c.content {
				t.Fatalf("%q: the refused file was changed", c.content)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			if _, _, err := Load(path, Options{}); !errors.Is(err, c.want) {
				t.Fatalf("Load %q: %v", c.content, err)
			}
			continue
		}
		if err := s.Append(&wire.HistorySample{SampledAtMs: 5}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s, info, err := Load(path, Options{}); err != nil || info.Damaged || s.Len() != 1 {
			t.Fatalf("%q reused: %v %+v", c.content, err, info)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Fatalf("%q reused with mode %v", c.content, fi.Mode().Perm())
		}
	}
}

// TestCompaction: a file keeps no more than about twice what the kept
// samples need, and reloads to exactly them.
func TestCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.bin")
	opt := Options{Retention: 5 * time.Minute, Interval: time.Second}
	s, _, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	g := newSynth(5)
	var prev int64
	rewrites := 0
	for i := range 5000 {
		hs := g.sample()
		hs.SampledAtMs = uint64(1e12) + uint64(i)*1000
		if err := s.Append(hs); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(path)
		if need := s.file.need(s); fi.Size() > 2*need || fi.Size() < need {
			t.Fatalf("sample %d: file of %d bytes for %d needed", i, fi.Size(), need)
		}
		if fi.Size() < prev {
			rewrites++
		}
		prev = fi.Size()
	}
	if rewrites < 5 {
		t.Fatalf("%d rewrites in 5000 samples kept 5 minutes", rewrites)
	}
	want := all(s)
	s.Close()
	s, info, err := Open(path, opt)
	if err != nil || info.Damaged || s.Len() != 301 {
		t.Fatalf("reopen: %v %+v, %d samples", err, info, s.Len())
	}
	sameSamples(t, all(s), want)
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("left files behind: %v", entries)
	}
}

// TestWriteFailureRewrites: when an append cannot be written (here: the
// file was closed under the store), the next append rewrites the file
// from memory, and nothing is lost.
func TestWriteFailureRewrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.bin")
	s, _, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := newSynth(6)
	want := fill(t, s, g, 100)
	s.file.f.Close()
	hs := g.sample()
	if err := s.Append(hs); err == nil {
		t.Fatal("append to a closed file succeeded")
	}
	want = append(want, expected(hs))
	want = append(want, fill(t, s, g, 10)...)
	s.Close()
	s, info, err := Load(path, Options{})
	if err != nil || info.Damaged {
		t.Fatalf("load: %v %+v", err, info)
	}
	sameSamples(t, all(s), want)
}

func TestLockedFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.bin")
	s, _, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := Open(path, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v, want ErrLocked", err)
	}
}
