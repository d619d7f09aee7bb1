package wire

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets for every decoder of outside input. Seeds: the f.Add values
// below, the golden and upstream fixtures, and testdata/fuzz/<Target>/.
// Run each for minutes with, e.g.:
//
//	go test ./wire -run '^$' -fuzz '^FuzzDecodeMetricsJSON$' -fuzztime 2m -parallel 1

// addFixtures seeds f with every fixture whose path (from this package's
// directory) matches glob: the agent's replies, pinned by wire/dialect's
// goldens, and upstream's.
func addFixtures(f *testing.F, globs ...string) {
	for _, g := range globs {
		paths, _ := filepath.Glob(g)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			if bytes.HasPrefix(b, []byte("text\n")) {
				b = bytes.TrimSuffix(b[len("text\n"):], []byte("\n"))
			} else if bytes.HasPrefix(b, []byte("binary gzip\n")) {
				b = bytes.TrimSuffix(b[len("binary gzip\n"):], []byte("\n"))
			}
			f.Add(b)
		}
	}
}

func FuzzDecodeMetricsJSON(f *testing.F) {
	addFixtures(f, "dialect/testdata/golden/*metrics*.golden", "testdata/upstream/metrics*.json")
	f.Add([]byte(`{"gpus":[{"usage":"1e400"}],"cpu_per_core":[null,-1,1e39]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMetricsJSON(b)
		if err != nil {
			return
		}
		if len(m.CpuPerCore) > MaxCores || len(m.Networks) > MaxInterfaces || len(m.Gpus) > MaxGPUs {
			t.Fatalf("decoded an implausible sample: %d cores, %d interfaces, %d GPUs", len(m.CpuPerCore), len(m.Networks), len(m.Gpus))
		}
	})
}

func FuzzDecodeDisksJSON(f *testing.F) {
	addFixtures(f, "dialect/testdata/golden/*disks*.golden", "testdata/upstream/disks*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeDisksJSON(b)
		if err != nil {
			return
		}
		if len(d.Disks) > MaxDisks {
			t.Fatalf("decoded an implausible sample: %d disks", len(d.Disks))
		}
	})
}

func FuzzDecodeProcessDetailJSON(f *testing.F) {
	addFixtures(f, "dialect/testdata/golden/*process_metrics*.golden", "testdata/upstream/process_metrics*.json", "testdata/upstream/error*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeProcessDetailJSON(b)
		if err != nil {
			return
		}
		total := 0
		if err := withinLimits(d.ProtoReflect(), 0, &total, maxElements); err != nil {
			t.Fatalf("decoded an implausible detail: %v", err)
		}
	})
}

func FuzzDecodeJournalJSON(f *testing.F) {
	addFixtures(f, "dialect/testdata/golden/*journal*.golden", "testdata/upstream/journal*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := decodeJournalJSON(b)
		if err != nil {
			return
		}
		if len(j.Entries) > MaxJournalEntries {
			t.Fatalf("decoded an implausible journal: %d entries", len(j.Entries))
		}
	})
}

func FuzzDecodeProcessList(f *testing.F) {
	small, _ := ToProcessList(sampleProcesses(3)).MarshalVT()
	big, _ := ToProcessList(sampleProcesses(100)).MarshalVT()
	f.Add(small)
	f.Add(Gzip(small))
	f.Add(Gzip(big))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, b []byte) {
		pl, err := decodeProcessList(b)
		if err != nil {
			return
		}
		enc, _ := pl.MarshalVT()
		again, err := decodeProcessList(enc)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := again.MarshalVT(); !bytes.Equal(b, enc) {
			t.Fatal("process list encoding not stable")
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	for _, r := range sampleRequests() {
		f.Add(AppendRequest(nil, r))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err != nil {
			return
		}
		enc := AppendRequest(nil, r)
		back, err := DecodeRequest(enc)
		if err != nil || !bytes.Equal(AppendRequest(nil, back), enc) {
			t.Fatalf("request re-encoding not stable: %v", err)
		}
		if h := r.GetHello(); h != nil {
			_ = CheckHello(h)
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	for _, r := range sampleResponses() {
		f.Add(AppendResponse(nil, r))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeResponse(b)
		if err != nil {
			return
		}
		total := 0
		if err := withinLimits(r.ProtoReflect(), 0, &total, replyLimit(r)); err != nil {
			t.Fatalf("decoded an implausible reply: %v", err)
		}
		enc := AppendResponse(nil, r)
		back, err := DecodeResponse(enc)
		if err != nil || !bytes.Equal(AppendResponse(nil, back), enc) {
			t.Fatalf("response re-encoding not stable: %v", err)
		}
	})
}

// FuzzCommandReply feeds the client's command-dialect reply matcher.
func FuzzCommandReply(f *testing.F) {
	addFixtures(f, "dialect/testdata/golden/cmd_*.golden", "testdata/upstream/*.json")
	f.Add(Gzip([]byte(`{"error":"x","request":"get_disks"}`)))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Payload(Frame{Data: b})
		if err != nil {
			return
		}
		_ = classifyReply(p)
		_ = decodeErrorJSON(p)
	})
}

func FuzzParseFingerprint(f *testing.F) {
	f.Add("sha256:" + string(bytes.Repeat([]byte("ab"), 32)))
	f.Add("AB:CD")
	f.Fuzz(func(t *testing.T, s string) {
		fp, err := ParseFingerprint(s)
		if err != nil {
			return
		}
		if again, err := ParseFingerprint(fp); err != nil || again != fp || len(fp) != 7+64 {
			t.Fatalf("canonical pin %q not stable: %q %v", fp, again, err)
		}
	})
}
