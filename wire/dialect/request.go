package dialect

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/socktop/socktop/wire"
)

// Route is one request of the JSON and command dialects.
type Route struct {
	// JSON is the JSON dialect's type: {"type":"metrics"}; "" when the
	// request has no JSON-dialect form.
	JSON string
	// Command is the command dialect's name: get_metrics; "" when none.
	Command string
	// PID marks requests about one process: {"type":…,"pid":N} and
	// get_…:N; the pid is required and checked (1 to 2^32−1).
	PID bool
	// ID is the caller's own number for the route, handed back in
	// TextRequest so it can dispatch without a lookup.
	ID int
}

// Upstream are the requests upstream socktop_agent 1.60 serves, with IDs
// 0 to 4 in this order.
var Upstream = []Route{
	{JSON: "metrics", Command: "get_metrics", ID: 0},
	{JSON: "disks", Command: "get_disks", ID: 1},
	{JSON: "processes", Command: "get_processes", ID: 2},
	{JSON: "process_metrics", Command: "get_process_metrics", PID: true, ID: 3},
	{JSON: "journal_entries", Command: "get_journal_entries", PID: true, ID: 4},
}

// TextRequest is a parsed text frame of the JSON or command dialect.
//
// One of two cases holds:
//   - Err != nil: answer with ReplyError(req, req.Err) and go on. This is
//     also the answer to a frame of no dialect (`this is not json`) or an
//     unknown command (`get_nothing`): upstream ignores those, which leaves
//     a client waiting forever; the error object (with "request":"") tells
//     it at once. Upstream's own clients send only the commands they know.
//   - otherwise serve Route (with PID when Route.PID) and answer with the
//     Reply function of that request.
type TextRequest struct {
	Dialect wire.Dialect
	// Route is the request's route; nil when Err is set.
	Route *Route
	// PID is set for routes with PID (HasPID true), and for errors about
	// a request that named a pid.
	PID    uint32
	HasPID bool
	// Type is the request's name as error objects echo it: "metrics",
	// "process_metrics" (JSON dialect) or "get_process_metrics" (command).
	Type string
	// JSON is the request object of a JSON-dialect frame, for routes that
	// read more fields than type and pid.
	JSON []byte
	// Err is set when the request is recognised as one of the dialects but
	// cannot be served (not JSON, unknown type, missing or bad pid).
	Err *wire.Error
}

// Parser classifies and parses the text frames of one agent's routes.
type Parser struct {
	json, command map[string]*Route
	// wantJSON and wantCommand list the routes for error messages.
	wantJSON, wantCommand string
}

// NewParser returns a parser for routes (kept by reference).
func NewParser(routes []Route) *Parser {
	p := &Parser{json: map[string]*Route{}, command: map[string]*Route{}}
	var js, cmds []string
	for i := range routes {
		r := &routes[i]
		if r.JSON != "" {
			p.json[r.JSON] = r
			js = append(js, r.JSON)
		}
		if r.Command != "" {
			p.command[r.Command] = r
			c := r.Command
			if r.PID {
				c += ":PID"
			}
			cmds = append(cmds, c)
		}
	}
	p.wantJSON, p.wantCommand = alternatives(js), alternatives(cmds)
	return p
}

// alternatives spells a list as "a, b or c".
func alternatives(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

var upstream = NewParser(Upstream)

// ParseTextRequest parses frame as upstream's routes (Upstream).
func ParseTextRequest(frame []byte) TextRequest { return upstream.Parse(frame) }

// maxEchoedType bounds how much of a client's request name an error echoes.
const maxEchoedType = 64

// Parse classifies and parses one text frame of a connection that did not
// negotiate socktop.v2. A frame starting with '{' is the JSON dialect, one
// starting with "get_" the command dialect; anything else is a
// JSON-dialect error (NotARequest). It never panics and never allocates
// much for hostile input.
func (p *Parser) Parse(frame []byte) TextRequest {
	s := bytes.TrimSpace(frame)
	switch {
	case len(s) > 0 && s[0] == '{':
		return p.parseJSON(s)
	case bytes.HasPrefix(s, []byte("get_")):
		return p.parseCommand(string(s))
	}
	return NotARequest("text frame")
}

// NotARequest is the answer to a frame of no dialect (what names it: "text
// frame", "binary frame"): the JSON dialect's error object, with
// "request":"".
func NotARequest(what string) TextRequest {
	return TextRequest{Dialect: wire.DialectJSON, Err: wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST,
		`%s is not a request: send a JSON object such as {"type":"metrics"}, a command such as get_metrics, or binary socktop.v2 Requests after negotiating that subprotocol`, what)}
}

func (p *Parser) parseCommand(s string) TextRequest {
	name, arg, hasArg := strings.Cut(s, ":")
	route := p.command[name]
	if route == nil {
		return TextRequest{Dialect: wire.DialectCommand, Err: wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST,
			"unknown command %q (want %s)", clip(name), p.wantCommand)}
	}
	req := TextRequest{Dialect: wire.DialectCommand, Type: name}
	switch {
	case route.PID && !hasArg:
		req.Err = wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "%s needs a pid: %s:PID", name, name)
		return req
	case !route.PID && hasArg:
		req.Err = wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "%s takes no argument", name)
		return req
	case route.PID:
		pid, err := strconv.ParseUint(strings.TrimSpace(arg), 10, 32)
		if err != nil || pid == 0 {
			// Upstream drops such frames silently, which leaves its
			// in-order client waiting forever; a clear error is kinder.
			req.Err = wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "invalid pid %q", clip(arg))
			return req
		}
		req.PID, req.HasPID = uint32(pid), true
	}
	req.Route = route
	return req
}

func (p *Parser) parseJSON(s []byte) TextRequest {
	req := TextRequest{Dialect: wire.DialectJSON}
	var in struct {
		Type *string        `json:"type"`
		Pid  *flexibleInt64 `json:"pid"`
	}
	if json.Unmarshal(s, &in) != nil {
		req.Err = wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, `request is not a JSON object with a string "type"; send e.g. {"type":"metrics"}`)
		return req
	}
	if in.Type == nil {
		req.Err = wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "request has no \"type\"")
		return req
	}
	req.Type = clip(*in.Type)
	route := p.json[*in.Type]
	if route == nil {
		req.Err = wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "unknown request type %q (want %s)", req.Type, p.wantJSON)
		return req
	}
	if route.PID {
		switch {
		case in.Pid == nil:
			req.Err = wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "%s needs a \"pid\"", req.Type)
			return req
		case !in.Pid.ok || in.Pid.v <= 0 || in.Pid.v > 1<<32-1:
			req.Err = wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "invalid pid %s", clip(in.Pid.raw))
			return req
		}
		req.PID, req.HasPID = uint32(in.Pid.v), true
	}
	req.Route, req.JSON = route, s
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
