package wire

import (
	"fmt"
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

// Kind is what a JSON- or command-dialect request asks for (the client
// matches command-dialect replies by it).
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
