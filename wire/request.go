package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Dialect is one of the three ways a client talks to an agent.
type Dialect uint8

const (
	// DialectNone marks a frame that belongs to no dialect; it is ignored.
	DialectNone Dialect = iota
	// DialectJSON is the documented API: {"type":"metrics"} text frames.
	DialectJSON
	// DialectCommand is upstream socktop_agent's: "get_metrics" text frames.
	DialectCommand
	// DialectV2 is the native binary dialect (subprotocol socktop.v2).
	DialectV2
)

func (d Dialect) String() string {
	switch d {
	case DialectJSON:
		return "json"
	case DialectCommand:
		return "command"
	case DialectV2:
		return "v2"
	}
	return "none"
}

// Kind is what a JSON- or command-dialect request asks for.
type Kind uint8

// The kinds of request the JSON and command dialects can make.
const (
	KindNone Kind = iota
	KindMetrics
	KindDisks
	KindProcesses
	KindProcessDetail
	KindJournal
)

func (k Kind) String() string {
	switch k {
	case KindMetrics:
		return "metrics"
	case KindDisks:
		return "disks"
	case KindProcesses:
		return "processes"
	case KindProcessDetail:
		return "process_metrics"
	case KindJournal:
		return "journal_entries"
	}
	return "none"
}

// TextRequest is a parsed text frame of the JSON or command dialect.
//
// One of two cases holds:
//   - Err != nil: answer with ReplyError(req, req.Err) and go on. This is
//     also the answer to a frame of no dialect (`this is not json`) or an
//     unknown command (`get_nothing`): upstream ignores those, which leaves
//     a client waiting forever; the error object (with "request":"") tells
//     it at once. Upstream's own clients send only the commands they know.
//   - otherwise serve Kind (with PID for KindProcessDetail and KindJournal)
//     and answer with the Reply function of that kind.
type TextRequest struct {
	Dialect Dialect
	Kind    Kind
	// PID is set for KindProcessDetail and KindJournal (HasPID true), and
	// for errors about a request that named a pid.
	PID    uint32
	HasPID bool
	// Type is the request's name as error objects echo it: "metrics",
	// "process_metrics" (JSON dialect) or "get_process_metrics" (command).
	Type string
	// Err is set when the request is recognised as one of the dialects but
	// cannot be served (not JSON, unknown type, missing or bad pid).
	Err *Error
}

// Ignore reports whether the frame must be ignored without a reply. No
// result of ParseTextRequest is ignored any more (see TextRequest); only
// the zero TextRequest is.
func (r TextRequest) Ignore() bool { return r.Dialect == DialectNone }

var jsonKinds = map[string]Kind{
	"metrics":         KindMetrics,
	"disks":           KindDisks,
	"processes":       KindProcesses,
	"process_metrics": KindProcessDetail,
	"journal_entries": KindJournal,
}

var commandKinds = map[string]Kind{
	"get_metrics":         KindMetrics,
	"get_disks":           KindDisks,
	"get_processes":       KindProcesses,
	"get_process_metrics": KindProcessDetail,
	"get_journal_entries": KindJournal,
}

// maxEchoedType bounds how much of a client's request name an error echoes.
const maxEchoedType = 64

// ParseTextRequest classifies and parses one text frame of a connection
// that did not negotiate socktop.v2. A frame starting with '{' is the JSON
// dialect, one starting with "get_" the command dialect; anything else is
// a JSON-dialect error (NotARequest). It never panics and never allocates
// much for hostile input.
func ParseTextRequest(frame []byte) TextRequest {
	s := bytes.TrimSpace(frame)
	switch {
	case len(s) > 0 && s[0] == '{':
		return parseJSONRequest(s)
	case bytes.HasPrefix(s, []byte("get_")):
		return parseCommand(string(s))
	}
	return NotARequest("text frame")
}

// NotARequest is the answer to a frame of no dialect (what names it: "text
// frame", "binary frame"): the JSON dialect's error object, with
// "request":"".
func NotARequest(what string) TextRequest {
	return TextRequest{Dialect: DialectJSON, Err: NewError(ErrorCode_ERROR_CODE_BAD_REQUEST,
		`%s is not a request: send a JSON object such as {"type":"metrics"}, a command such as get_metrics, or binary socktop.v2 Requests after negotiating that subprotocol`, what)}
}

func parseCommand(s string) TextRequest {
	name, arg, hasArg := strings.Cut(s, ":")
	kind, ok := commandKinds[name]
	if !ok {
		return TextRequest{Dialect: DialectCommand, Err: NewError(ErrorCode_ERROR_CODE_BAD_REQUEST,
			"unknown command %q (want get_metrics, get_disks, get_processes, get_process_metrics:PID or get_journal_entries:PID)", clip(name))}
	}
	req := TextRequest{Dialect: DialectCommand, Kind: kind, Type: name}
	needPID := kind == KindProcessDetail || kind == KindJournal
	switch {
	case needPID && !hasArg:
		req.Kind, req.Err = KindNone, NewError(ErrorCode_ERROR_CODE_BAD_REQUEST, "%s needs a pid: %s:PID", name, name)
		return req
	case !needPID && hasArg:
		req.Kind, req.Err = KindNone, NewError(ErrorCode_ERROR_CODE_BAD_REQUEST, "%s takes no argument", name)
		return req
	case needPID:
		pid, err := strconv.ParseUint(strings.TrimSpace(arg), 10, 32)
		if err != nil || pid == 0 {
			// Upstream drops such frames silently, which leaves its
			// in-order client waiting forever; a clear error is kinder.
			req.Kind = KindNone
			req.Err = NewError(ErrorCode_ERROR_CODE_BAD_REQUEST, "invalid pid %q", clip(arg))
			return req
		}
		req.PID, req.HasPID = uint32(pid), true
	}
	return req
}

func parseJSONRequest(s []byte) TextRequest {
	req := TextRequest{Dialect: DialectJSON}
	var in struct {
		Type *string        `json:"type"`
		Pid  *flexibleInt64 `json:"pid"`
	}
	if json.Unmarshal(s, &in) != nil {
		req.Err = NewError(ErrorCode_ERROR_CODE_BAD_REQUEST, `request is not a JSON object with a string "type"; send e.g. {"type":"metrics"}`)
		return req
	}
	if in.Type == nil {
		req.Err = NewError(ErrorCode_ERROR_CODE_BAD_REQUEST, "request has no \"type\"")
		return req
	}
	req.Type = clip(*in.Type)
	kind, ok := jsonKinds[*in.Type]
	if !ok {
		req.Err = NewError(ErrorCode_ERROR_CODE_BAD_REQUEST, "unknown request type %q (want metrics, disks, processes, process_metrics or journal_entries)", req.Type)
		return req
	}
	if kind == KindProcessDetail || kind == KindJournal {
		switch {
		case in.Pid == nil:
			req.Err = NewError(ErrorCode_ERROR_CODE_BAD_REQUEST, "%s needs a \"pid\"", req.Type)
			return req
		case !in.Pid.ok || in.Pid.v <= 0 || in.Pid.v > 1<<32-1:
			req.Err = NewError(ErrorCode_ERROR_CODE_BAD_REQUEST, "invalid pid %s", clip(in.Pid.raw))
			return req
		}
		req.PID, req.HasPID = uint32(in.Pid.v), true
	}
	req.Kind = kind
	return req
}

// flexibleInt64 accepts a JSON integer or a string holding one, and
// remembers what it saw so errors can quote it.
type flexibleInt64 struct {
	v   int64
	ok  bool
	raw string
}

func (f *flexibleInt64) UnmarshalJSON(b []byte) error {
	f.raw = string(b)
	s := string(b)
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return nil
		}
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		f.v, f.ok = v, true
	}
	return nil
}

// clip shortens client-provided text before it is echoed back.
func clip(s string) string {
	if len(s) <= maxEchoedType {
		return s
	}
	s = s[:maxEchoedType]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// NewError builds a typed protocol error with a formatted message.
// The message is made valid UTF-8 (it may quote what a peer or the
// machine said), as every string field of the protocol must be.
func NewError(code ErrorCode, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if !utf8.ValidString(msg) {
		msg = strings.ToValidUTF8(msg, "\uFFFD")
	}
	return &Error{Code: code, Message: msg}
}

// UnknownPIDError is the error for a pid that does not exist, worded as
// upstream words it ("Process 123 not found").
func UnknownPIDError(pid uint32) *Error {
	return NewError(ErrorCode_ERROR_CODE_UNKNOWN_PID, "Process %d not found", pid)
}

// Reply functions: each encodes one v2 message as the reply of the given
// text dialect (DialectJSON or DialectCommand), framed as PROTOCOL.md says.

// ReplyMetrics answers a metrics request.
func ReplyMetrics(d Dialect, m *Metrics) Frame {
	if d == DialectJSON {
		return FrameText(EncodeJSONMetrics(m))
	}
	return FrameCommandJSON(EncodeCommandMetrics(m))
}

// ReplyDisks answers a disks request.
func ReplyDisks(d Dialect, v *Disks) Frame {
	if d == DialectJSON {
		return FrameText(EncodeJSONDisks(v))
	}
	return FrameCommandJSON(EncodeCommandDisks(v))
}

// ReplyProcesses answers a processes request with the upstream-compatible
// ProcessList: a binary frame in both dialects, gzip above GzipThreshold.
func ReplyProcesses(_ Dialect, p *Processes) Frame {
	return FrameProcessList(EncodeProcessList(nil, ToProcessList(p)))
}

// ReplyProcessDetail answers a process_metrics request.
func ReplyProcessDetail(d Dialect, p *ProcessDetail) Frame {
	if d == DialectJSON {
		return FrameText(EncodeProcessDetailJSON(p))
	}
	return FrameCommandJSON(EncodeProcessDetailJSON(p))
}

// ReplyJournal answers a journal_entries request.
func ReplyJournal(d Dialect, j *Journal) Frame {
	if d == DialectJSON {
		return FrameText(EncodeJournalJSON(j))
	}
	return FrameCommandJSON(EncodeJournalJSON(j))
}

// ReplyError answers req with the error object of its dialect:
// {"error":message,"request":type} plus "pid" when the request named one.
func ReplyError(req TextRequest, e *Error) Frame {
	b := EncodeErrorJSON(e.GetMessage(), req.Type, req.PID, req.HasPID)
	if req.Dialect == DialectCommand {
		return FrameCommandJSON(b)
	}
	return FrameText(b)
}
