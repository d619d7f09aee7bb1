package agent

import (
	"strings"
	"unicode/utf8"
)

// validText makes a string from /proc, /sys, uname or journalctl fit a
// proto3 string field: those are bytes, not text, and a strict decoder
// (Go's proto.Unmarshal, prost, Python protobuf) rejects a whole message
// with one invalid UTF-8 string in it. Each run of invalid bytes becomes
// U+FFFD. It is applied where procfs values become wire values, so every
// dialect (v2, JSON, the command dialect's ProcessList) carries the same
// text. A valid string, nearly every one, is returned as is, unallocated.
func validText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
