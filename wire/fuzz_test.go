package wire

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets for every decoder of outside input. Seeds: the f.Add values
// below, the golden and upstream fixtures, and testdata/fuzz/<Target>/.
// Run each for minutes with, e.g.:
//
//	go test ./wire -run '^$' -fuzz '^FuzzDecodeMetricsJSON$' -fuzztime 2m -parallel 1

// addFixtures seeds f with every fixture whose name matches glob.
func addFixtures(f *testing.F, globs ...string) {
	for _, g := range globs {
		paths, _ := filepath.Glob(filepath.Join("testdata", g))
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

func mustValidJSON(t *testing.T, b []byte) {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("encoder produced invalid JSON: %q", b)
	}
}

func FuzzParseTextRequest(f *testing.F) {
	for _, s := range []string{`{"type":"metrics"}`, `{"type":"process_metrics","pid":42}`, `{"type":"journal_entries","pid":"7"}`,
		"get_metrics", "get_process_metrics:12", "get_journal_entries:x", `{"type":"x"}`, "{", "get_", " get_disks "} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := ParseTextRequest(b)
		switch {
		case r.Ignore():
			t.Fatalf("frame %q ignored: a client would wait forever", b)
		case r.Err != nil:
			mustValidJSON(t, ReplyError(r, r.Err).Data)
		default:
			if r.Kind == KindNone {
				t.Fatalf("served request without kind: %+v", r)
			}
			if (r.Kind == KindProcessDetail || r.Kind == KindJournal) && (!r.HasPID || r.PID == 0) {
				t.Fatalf("pid request without pid: %+v", r)
			}
			mustValidJSON(t, ReplyError(r, UnknownPIDError(r.PID)).Data)
		}
	})
}

func FuzzDecodeMetricsJSON(f *testing.F) {
	addFixtures(f, "golden/*metrics*.golden", "upstream/metrics*.json")
	f.Add([]byte(`{"gpus":[{"usage":"1e400"}],"cpu_per_core":[null,-1,1e39]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMetricsJSON(b)
		if err != nil {
			return
		}
		if len(m.CpuPerCore) > MaxCores || len(m.Networks) > MaxInterfaces || len(m.Gpus) > MaxGPUs {
			t.Fatalf("decoded an implausible sample: %d cores, %d interfaces, %d GPUs", len(m.CpuPerCore), len(m.Networks), len(m.Gpus))
		}
		for _, enc := range [][]byte{EncodeJSONMetrics(m), EncodeCommandMetrics(m)} {
			mustValidJSON(t, enc)
			if _, err := decodeMetricsJSON(enc); err != nil {
				t.Fatalf("re-encoded metrics do not decode: %v\n%s", err, enc)
			}
		}
	})
}

func FuzzDecodeDisksJSON(f *testing.F) {
	addFixtures(f, "golden/*disks*.golden", "upstream/disks*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeDisksJSON(b)
		if err != nil {
			return
		}
		for _, enc := range [][]byte{EncodeJSONDisks(d), EncodeCommandDisks(d)} {
			mustValidJSON(t, enc)
			back, err := decodeDisksJSON(enc)
			if err != nil || len(back.Disks) != len(d.Disks) {
				t.Fatalf("re-encoded disks: %v\n%s", err, enc)
			}
		}
	})
}

func FuzzDecodeProcessDetailJSON(f *testing.F) {
	addFixtures(f, "golden/*process_metrics*.golden", "upstream/process_metrics*.json", "upstream/error*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeProcessDetailJSON(b)
		if err != nil {
			return
		}
		total := 0
		if err := withinLimits(d.ProtoReflect(), 0, &total, maxElements); err != nil {
			t.Fatalf("decoded an implausible detail: %v", err)
		}
		enc := EncodeProcessDetailJSON(d)
		mustValidJSON(t, enc)
		if _, err := decodeProcessDetailJSON(enc); err != nil {
			t.Fatalf("re-encoded detail: %v\n%s", err, enc)
		}
	})
}

func FuzzDecodeJournalJSON(f *testing.F) {
	addFixtures(f, "golden/*journal*.golden", "upstream/journal*.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := decodeJournalJSON(b)
		if err != nil {
			return
		}
		enc := EncodeJournalJSON(j)
		mustValidJSON(t, enc)
		back, err := decodeJournalJSON(enc)
		if err != nil || len(back.Entries) != len(j.Entries) {
			t.Fatalf("re-encoded journal: %v\n%s", err, enc)
		}
	})
}

func FuzzDecodeProcessList(f *testing.F) {
	small := EncodeProcessList(nil, ToProcessList(sampleProcesses(3)))
	f.Add(small)
	f.Add(Gzip(small))
	f.Add(ReplyProcesses(DialectJSON, sampleProcesses(100)).Data)
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, b []byte) {
		pl, err := decodeProcessList(b)
		if err != nil {
			return
		}
		enc := EncodeProcessList(nil, pl)
		again, err := decodeProcessList(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(EncodeProcessList(nil, again), enc) {
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
		// What the agent would send in the text dialects must stay valid.
		switch body := r.Body.(type) {
		case *Response_Metrics:
			mustValidJSON(t, EncodeJSONMetrics(body.Metrics))
			mustValidJSON(t, EncodeCommandMetrics(body.Metrics))
		case *Response_Disks:
			mustValidJSON(t, EncodeJSONDisks(body.Disks))
		case *Response_ProcessDetail:
			mustValidJSON(t, EncodeProcessDetailJSON(body.ProcessDetail))
		case *Response_Journal:
			mustValidJSON(t, EncodeJournalJSON(body.Journal))
		case *Response_Processes:
			if _, err := decodeProcessList(ReplyProcesses(DialectCommand, body.Processes).Data); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzCommandReply feeds the client's command-dialect reply matcher.
func FuzzCommandReply(f *testing.F) {
	addFixtures(f, "golden/cmd_*.golden", "upstream/*.json")
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
