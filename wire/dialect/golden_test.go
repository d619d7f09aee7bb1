package dialect_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
	. "github.com/socktop/socktop/wire/dialect"
	"github.com/socktop/socktop/wire/wiretest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current encoders")

func ptr[T any](v T) *T { return &v }

// goldenFrame renders a frame as its golden text: the frame kind on the
// first line ("text", "binary" or "binary gzip"), then the payload with gzip
// undone — JSON verbatim, protobuf as hex. Compressed bytes are not pinned
// (they depend on the Go release's deflate); what they inflate to is.
func goldenFrame(t *testing.T, f wire.Frame) []byte {
	t.Helper()
	var b bytes.Buffer
	payload := f.Data
	switch {
	case f.Type == websocket.MessageText:
		b.WriteString("text\n")
	case wire.IsGzip(f.Data):
		b.WriteString("binary gzip\n")
		var err error
		if payload, err = wire.Gunzip(f.Data); err != nil {
			t.Fatalf("gunzip: %v", err)
		}
	default:
		b.WriteString("binary\n")
	}
	if f.Type == websocket.MessageText || (len(payload) > 0 && (payload[0] == '{' || payload[0] == '[')) {
		b.Write(payload)
		b.WriteByte('\n')
		return b.Bytes()
	}
	for len(payload) > 0 {
		n := min(32, len(payload))
		b.WriteString(hex.EncodeToString(payload[:n]))
		b.WriteByte('\n')
		payload = payload[n:]
	}
	return b.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./wire/dialect -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

func bareMetrics() *wire.Metrics {
	return &wire.Metrics{SampledAtMs: 1763779200000, CpuTotal: 3, CpuPerCore: []float32{3}, MemTotal: 1 << 30, MemUsed: 1 << 29, Hostname: "tiny"}
}

// TestGoldenReplies pins the bytes of every reply shape of the JSON and
// command dialects, and the frame type each travels in.
func TestGoldenReplies(t *testing.T) {
	big := wiretest.SampleMetrics()
	for i := 0; i < 100; i++ {
		big.CpuPerCore = append(big.CpuPerCore, float32(i)+0.5)
	}
	emptyJournal := &wire.Journal{SampledAtMs: 1763779200999, Notice: ptr("No journal files were found.\n-- No entries --")}
	notFound := TextRequest{Dialect: wire.DialectCommand, Type: "get_process_metrics", PID: 123, HasPID: true}
	jsonNotFound := TextRequest{Dialect: wire.DialectJSON, Type: "journal_entries", PID: 123, HasPID: true}
	parseErr := func(frame string) wire.Frame {
		r := ParseTextRequest([]byte(frame))
		return ReplyError(r, r.Err)
	}
	js, cmd := wire.DialectJSON, wire.DialectCommand
	cases := []struct {
		name  string
		frame wire.Frame
		kind  string // wanted first golden line
	}{
		{"json_metrics", ReplyMetrics(js, wiretest.SampleMetrics()), "text"},
		{"json_metrics_bare", ReplyMetrics(js, bareMetrics()), "text"},
		{"json_metrics_big", ReplyMetrics(js, big), "text"}, // never gzip in the JSON dialect
		{"json_disks", ReplyDisks(js, wiretest.SampleDisks()), "text"},
		{"json_disks_empty", ReplyDisks(js, &wire.Disks{}), "text"},
		{"json_processes_small", ReplyProcesses(js, wiretest.SampleProcesses(5)), "binary"},
		{"json_processes_1000", ReplyProcesses(js, wiretest.SampleProcesses(1000)), "binary gzip"},
		{"json_process_metrics", ReplyProcessDetail(js, wiretest.SampleDetail()), "text"},
		{"json_journal", ReplyJournal(js, wiretest.SampleJournal()), "text"},
		{"json_journal_empty", ReplyJournal(js, emptyJournal), "text"},
		{"json_error_not_found", ReplyError(jsonNotFound, wire.UnknownPIDError(123)), "text"},
		{"json_error_unknown_type", parseErr(`{"type":"bogus"}`), "text"},
		{"json_error_not_json", parseErr(`{oops`), "text"},
		{"cmd_metrics", ReplyMetrics(cmd, wiretest.SampleMetrics()), "text"},
		{"cmd_metrics_bare", ReplyMetrics(cmd, bareMetrics()), "text"},
		{"cmd_metrics_big", ReplyMetrics(cmd, big), "binary gzip"},
		{"cmd_disks", ReplyDisks(cmd, wiretest.SampleDisks()), "text"},
		{"cmd_processes_small", ReplyProcesses(cmd, wiretest.SampleProcesses(5)), "binary"},
		{"cmd_processes_1000", ReplyProcesses(cmd, wiretest.SampleProcesses(1000)), "binary gzip"},
		{"cmd_process_metrics", ReplyProcessDetail(cmd, wiretest.SampleDetail()), "binary gzip"},
		{"cmd_journal", ReplyJournal(cmd, wiretest.SampleJournal()), "text"},
		{"cmd_journal_empty", ReplyJournal(cmd, emptyJournal), "text"},
		{"cmd_error_not_found", ReplyError(notFound, wire.UnknownPIDError(123)), "text"},
		{"cmd_error_bad_pid", parseErr("get_journal_entries:abc"), "text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := goldenFrame(t, c.frame)
			if kind, _, _ := strings.Cut(string(got), "\n"); kind != c.kind {
				t.Errorf("frame is %q, want %q", kind, c.kind)
			}
			checkGolden(t, c.name, got)
		})
	}
}

// TestParseTextRequest covers the dialect choice and every request form.
func TestParseTextRequest(t *testing.T) {
	const none = -1
	cases := []struct {
		in      string
		dialect wire.Dialect
		route   int // index in Upstream
		pid     uint32
		err     bool
	}{
		{`{"type":"metrics"}`, wire.DialectJSON, 0, 0, false},
		{` {"type":"disks"} `, wire.DialectJSON, 1, 0, false},
		{`{"type":"processes","extra":[1,2]}`, wire.DialectJSON, 2, 0, false},
		{`{"type":"process_metrics","pid":42}`, wire.DialectJSON, 3, 42, false},
		{`{"type":"journal_entries","pid":"43"}`, wire.DialectJSON, 4, 43, false},
		{`{"type":"process_metrics"}`, wire.DialectJSON, none, 0, true},
		{`{"type":"process_metrics","pid":-1}`, wire.DialectJSON, none, 0, true},
		{`{"type":"process_metrics","pid":4294967296}`, wire.DialectJSON, none, 0, true},
		{`{"type":"process_metrics","pid":1.5}`, wire.DialectJSON, none, 0, true},
		{`{"type":"nope"}`, wire.DialectJSON, none, 0, true},
		{`{"type":7}`, wire.DialectJSON, none, 0, true},
		{`{}`, wire.DialectJSON, none, 0, true},
		{`{not json`, wire.DialectJSON, none, 0, true},
		{"get_metrics", wire.DialectCommand, 0, 0, false},
		{"get_disks\n", wire.DialectCommand, 1, 0, false},
		{"get_processes", wire.DialectCommand, 2, 0, false},
		{"get_process_metrics:1234", wire.DialectCommand, 3, 1234, false},
		{"get_journal_entries:99", wire.DialectCommand, 4, 99, false},
		{"get_journal_entries:abc", wire.DialectCommand, none, 0, true},
		{"get_process_metrics:0", wire.DialectCommand, none, 0, true},
		// Frames upstream ignores get an error object ("request":""
		// unless a known command was misused), never silence.
		{"get_process_metrics", wire.DialectCommand, none, 0, true},
		{"get_metrics:1", wire.DialectCommand, none, 0, true},
		{"get_everything", wire.DialectCommand, none, 0, true},
		{"get_nothing", wire.DialectCommand, none, 0, true},
		{"this is not json", wire.DialectJSON, none, 0, true},
		{"hello", wire.DialectJSON, none, 0, true},
		{"", wire.DialectJSON, none, 0, true},
		{`["type","metrics"]`, wire.DialectJSON, none, 0, true},
	}
	for _, c := range cases {
		r := ParseTextRequest([]byte(c.in))
		route := none
		if r.Route != nil {
			route = r.Route.ID
		}
		if r.Dialect != c.dialect || route != c.route || r.PID != c.pid || (r.Err != nil) != c.err {
			t.Errorf("ParseTextRequest(%q) = %+v; want dialect %v route %d pid %d err %v", c.in, r, c.dialect, c.route, c.pid, c.err)
		}
		if r.Route != nil && r.Route != &Upstream[r.Route.ID] {
			t.Errorf("ParseTextRequest(%q): route %p is not Upstream[%d]", c.in, r.Route, r.Route.ID)
		}
		if r.Err != nil {
			var e struct {
				Error   string
				Request *string
			}
			reply := ReplyError(r, r.Err).Data
			if json.Unmarshal(reply, &e) != nil || e.Error == "" || e.Request == nil {
				t.Errorf("ParseTextRequest(%q): reply %s is not an error object", c.in, reply)
			}
			if (c.in == "this is not json" || c.in == "get_nothing") && *e.Request != "" {
				t.Errorf("ParseTextRequest(%q): reply %s, want \"request\":\"\"", c.in, reply)
			}
		}
	}
}

// TestParserRoutes: a parser knows the routes it is given, in both
// dialects, and names them in its errors; a JSON request keeps its object
// for routes that read more fields.
func TestParserRoutes(t *testing.T) {
	routes := []Route{{JSON: "history", ID: 7}, {Command: "get_uptime", ID: 8}, {JSON: "tree", Command: "get_tree", PID: true, ID: 9}}
	p := NewParser(routes)
	r := p.Parse([]byte(`{"type":"history","seconds":60}`))
	if r.Err != nil || r.Route != &routes[0] || string(r.JSON) != `{"type":"history","seconds":60}` {
		t.Errorf("history: %+v", r)
	}
	if r := p.Parse([]byte("get_uptime")); r.Err != nil || r.Route.ID != 8 {
		t.Errorf("get_uptime: %+v", r)
	}
	if r := p.Parse([]byte("get_tree:12")); r.Err != nil || r.Route.ID != 9 || r.PID != 12 {
		t.Errorf("get_tree:12: %+v", r)
	}
	if r := p.Parse([]byte(`{"type":"metrics"}`)); r.Err == nil || !strings.Contains(r.Err.Message, "(want history or tree)") {
		t.Errorf("metrics on a parser without it: %+v", r)
	}
	if r := p.Parse([]byte("get_history")); r.Err == nil || !strings.Contains(r.Err.Message, "(want get_uptime or get_tree:PID)") {
		t.Errorf("get_history (JSON only): %+v", r)
	}
}
