package dialect_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/socktop/socktop/wire"
	. "github.com/socktop/socktop/wire/dialect"
	"github.com/socktop/socktop/wire/wiretest"
)

// Fuzz targets of the agent's side of the text dialects: the request
// parser, which reads what any peer sends, and the encoders, which must
// turn anything a v2 message may hold into valid JSON. Run each for minutes
// with, e.g.:
//
//	go test ./wire/dialect -run '^$' -fuzz '^FuzzParseTextRequest$' -fuzztime 2m -parallel 1

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
		case r.Dialect == wire.DialectNone:
			t.Fatalf("frame %q ignored: a client would wait forever", b)
		case r.Err != nil:
			mustValidJSON(t, ReplyError(r, r.Err).Data)
		default:
			if r.Route == nil {
				t.Fatalf("served request without route: %+v", r)
			}
			if r.Route.PID && (!r.HasPID || r.PID == 0) {
				t.Fatalf("pid request without pid: %+v", r)
			}
			mustValidJSON(t, ReplyError(r, wire.UnknownPIDError(r.PID)).Data)
		}
	})
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
	for _, g := range []string{"testdata/golden/*.golden", "../testdata/upstream/*.json"} {
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
