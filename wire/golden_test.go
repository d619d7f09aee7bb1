package wire

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
	"google.golang.org/protobuf/proto"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current encoders")

// goldenFrame renders a frame as its golden text: the frame kind on the
// first line ("text", "binary" or "binary gzip"), then the payload with gzip
// undone — JSON verbatim, protobuf as hex. Compressed bytes are not pinned
// (they depend on the Go release's deflate); what they inflate to is.
func goldenFrame(t *testing.T, f Frame) []byte {
	t.Helper()
	var b bytes.Buffer
	payload := f.Data
	switch {
	case f.Type == websocket.MessageText:
		b.WriteString("text\n")
	case IsGzip(f.Data):
		b.WriteString("binary gzip\n")
		var err error
		if payload, err = Gunzip(f.Data); err != nil {
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
		t.Fatalf("%v (run go test ./wire -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

func bareMetrics() *Metrics {
	return &Metrics{SampledAtMs: 1763779200000, CpuTotal: 3, CpuPerCore: []float32{3}, MemTotal: 1 << 30, MemUsed: 1 << 29, Hostname: "tiny"}
}

// TestGoldenReplies pins the bytes of every reply shape of the JSON and
// command dialects, and the frame type each travels in.
func TestGoldenReplies(t *testing.T) {
	big := sampleMetrics()
	for i := 0; i < 100; i++ {
		big.CpuPerCore = append(big.CpuPerCore, float32(i)+0.5)
	}
	emptyJournal := &Journal{SampledAtMs: 1763779200999, Notice: ptr("No journal files were found.\n-- No entries --")}
	notFound := TextRequest{Dialect: DialectCommand, Type: "get_process_metrics", PID: 123, HasPID: true}
	jsonNotFound := TextRequest{Dialect: DialectJSON, Type: "journal_entries", PID: 123, HasPID: true}
	cases := []struct {
		name  string
		frame Frame
		kind  string // wanted first golden line
	}{
		{"json_metrics", ReplyMetrics(DialectJSON, sampleMetrics()), "text"},
		{"json_metrics_bare", ReplyMetrics(DialectJSON, bareMetrics()), "text"},
		{"json_metrics_big", ReplyMetrics(DialectJSON, big), "text"}, // never gzip in the JSON dialect
		{"json_disks", ReplyDisks(DialectJSON, sampleDisks()), "text"},
		{"json_disks_empty", ReplyDisks(DialectJSON, &Disks{}), "text"},
		{"json_processes_small", ReplyProcesses(DialectJSON, sampleProcesses(5)), "binary"},
		{"json_processes_1000", ReplyProcesses(DialectJSON, sampleProcesses(1000)), "binary gzip"},
		{"json_process_metrics", ReplyProcessDetail(DialectJSON, sampleDetail()), "text"},
		{"json_journal", ReplyJournal(DialectJSON, sampleJournal()), "text"},
		{"json_journal_empty", ReplyJournal(DialectJSON, emptyJournal), "text"},
		{"json_error_not_found", ReplyError(jsonNotFound, UnknownPIDError(123)), "text"},
		{"json_error_unknown_type", ReplyError(ParseTextRequest([]byte(`{"type":"bogus"}`)), ParseTextRequest([]byte(`{"type":"bogus"}`)).Err), "text"},
		{"json_error_not_json", ReplyError(ParseTextRequest([]byte(`{oops`)), ParseTextRequest([]byte(`{oops`)).Err), "text"},
		{"cmd_metrics", ReplyMetrics(DialectCommand, sampleMetrics()), "text"},
		{"cmd_metrics_bare", ReplyMetrics(DialectCommand, bareMetrics()), "text"},
		{"cmd_metrics_big", ReplyMetrics(DialectCommand, big), "binary gzip"},
		{"cmd_disks", ReplyDisks(DialectCommand, sampleDisks()), "text"},
		{"cmd_processes_small", ReplyProcesses(DialectCommand, sampleProcesses(5)), "binary"},
		{"cmd_processes_1000", ReplyProcesses(DialectCommand, sampleProcesses(1000)), "binary gzip"},
		{"cmd_process_metrics", ReplyProcessDetail(DialectCommand, sampleDetail()), "binary gzip"},
		{"cmd_journal", ReplyJournal(DialectCommand, sampleJournal()), "text"},
		{"cmd_journal_empty", ReplyJournal(DialectCommand, emptyJournal), "text"},
		{"cmd_error_not_found", ReplyError(notFound, UnknownPIDError(123)), "text"},
		{"cmd_error_bad_pid", ReplyError(ParseTextRequest([]byte("get_journal_entries:abc")), ParseTextRequest([]byte("get_journal_entries:abc")).Err), "text"},
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

// TestCommandFramingBoundary: a command-dialect JSON reply of exactly 768
// bytes is a text frame, one of 769 a gzip binary frame; the decoding side
// reads both back to the same message.
func TestCommandFramingBoundary(t *testing.T) {
	for _, size := range []int{GzipThreshold - 1, GzipThreshold, GzipThreshold + 1} {
		m := bareMetrics()
		base := len(EncodeCommandMetrics(m))
		m.Hostname += strings.Repeat("h", size-base)
		raw := EncodeCommandMetrics(m)
		if len(raw) != size {
			t.Fatalf("built a %d-byte reply, want %d", len(raw), size)
		}
		f := ReplyMetrics(DialectCommand, m)
		wantText := size <= GzipThreshold
		if f.Text() != wantText || IsGzip(f.Data) == wantText {
			t.Fatalf("%d bytes: text=%v gzip=%v, want text=%v", size, f.Text(), IsGzip(f.Data), wantText)
		}
		if wantText && !bytes.Equal(f.Data, raw) {
			t.Fatalf("%d bytes: text frame is not the raw JSON", size)
		}
		payload, err := Payload(f)
		if err != nil || !bytes.Equal(payload, raw) {
			t.Fatalf("%d bytes: payload differs after unframing (err %v)", size, err)
		}
		back, err := decodeMetricsJSON(payload)
		if err != nil {
			t.Fatal(err)
		}
		if back.Hostname != m.Hostname || back.MemTotal != m.MemTotal {
			t.Fatalf("%d bytes: decoded %q/%d", size, back.Hostname, back.MemTotal)
		}
		// The JSON dialect never compresses, whatever the size.
		if jf := ReplyMetrics(DialectJSON, m); !jf.Text() || IsGzip(jf.Data) {
			t.Fatalf("JSON dialect metrics of %d bytes not a plain text frame", size)
		}
	}
}

// TestProcessListFramingBoundary: a process list of exactly 768 encoded
// bytes goes raw, one of 769 gzip, both in binary frames.
func TestProcessListFramingBoundary(t *testing.T) {
	for _, size := range []int{GzipThreshold, GzipThreshold + 1} {
		p := &Processes{Processes: []*ProcessInfo{{Pid: 1, Name: "init", CpuPercent: 1, RssBytes: 1 << 20}}}
		base := ToProcessList(p).SizeVT()
		// Name length crosses a varint boundary at 128, so grow it stepwise.
		for ToProcessList(p).SizeVT() < size {
			p.Processes[0].Name += "x"
		}
		enc := EncodeProcessList(nil, ToProcessList(p))
		if len(enc) != size {
			t.Fatalf("built %d bytes (from %d), want %d", len(enc), base, size)
		}
		f := ReplyProcesses(DialectCommand, p)
		if f.Type != websocket.MessageBinary {
			t.Fatal("process list not in a binary frame")
		}
		if gz := IsGzip(f.Data); gz != (size > GzipThreshold) {
			t.Fatalf("%d bytes: gzip=%v", size, gz)
		}
		pl, err := decodeProcessList(f.Data)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(pl, ToProcessList(p)) {
			t.Fatalf("%d bytes: decoded list differs", size)
		}
	}
}

// TestParseTextRequest covers the dialect choice and every request form.
func TestParseTextRequest(t *testing.T) {
	cases := []struct {
		in      string
		dialect Dialect
		kind    Kind
		pid     uint32
		err     bool
	}{
		{`{"type":"metrics"}`, DialectJSON, KindMetrics, 0, false},
		{` {"type":"disks"} `, DialectJSON, KindDisks, 0, false},
		{`{"type":"processes","extra":[1,2]}`, DialectJSON, KindProcesses, 0, false},
		{`{"type":"process_metrics","pid":42}`, DialectJSON, KindProcessDetail, 42, false},
		{`{"type":"journal_entries","pid":"43"}`, DialectJSON, KindJournal, 43, false},
		{`{"type":"process_metrics"}`, DialectJSON, KindNone, 0, true},
		{`{"type":"process_metrics","pid":-1}`, DialectJSON, KindNone, 0, true},
		{`{"type":"process_metrics","pid":4294967296}`, DialectJSON, KindNone, 0, true},
		{`{"type":"process_metrics","pid":1.5}`, DialectJSON, KindNone, 0, true},
		{`{"type":"nope"}`, DialectJSON, KindNone, 0, true},
		{`{"type":7}`, DialectJSON, KindNone, 0, true},
		{`{}`, DialectJSON, KindNone, 0, true},
		{`{not json`, DialectJSON, KindNone, 0, true},
		{"get_metrics", DialectCommand, KindMetrics, 0, false},
		{"get_disks\n", DialectCommand, KindDisks, 0, false},
		{"get_processes", DialectCommand, KindProcesses, 0, false},
		{"get_process_metrics:1234", DialectCommand, KindProcessDetail, 1234, false},
		{"get_journal_entries:99", DialectCommand, KindJournal, 99, false},
		{"get_journal_entries:abc", DialectCommand, KindNone, 0, true},
		{"get_process_metrics:0", DialectCommand, KindNone, 0, true},
		// Frames upstream ignores get an error object ("request":""
		// unless a known command was misused), never silence.
		{"get_process_metrics", DialectCommand, KindNone, 0, true},
		{"get_metrics:1", DialectCommand, KindNone, 0, true},
		{"get_everything", DialectCommand, KindNone, 0, true},
		{"get_nothing", DialectCommand, KindNone, 0, true},
		{"this is not json", DialectJSON, KindNone, 0, true},
		{"hello", DialectJSON, KindNone, 0, true},
		{"", DialectJSON, KindNone, 0, true},
		{`["type","metrics"]`, DialectJSON, KindNone, 0, true},
	}
	for _, c := range cases {
		r := ParseTextRequest([]byte(c.in))
		if r.Dialect != c.dialect || r.Kind != c.kind || r.PID != c.pid || (r.Err != nil) != c.err {
			t.Errorf("ParseTextRequest(%q) = %+v; want dialect %v kind %v pid %d err %v", c.in, r, c.dialect, c.kind, c.pid, c.err)
		}
		if r.Ignore() {
			t.Errorf("ParseTextRequest(%q) is ignored: a client would wait forever", c.in)
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
