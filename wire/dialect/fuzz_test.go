package dialect_test

import (
	"encoding/json"
	"testing"

	"github.com/socktop/socktop/wire"
	. "github.com/socktop/socktop/wire/dialect"
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
