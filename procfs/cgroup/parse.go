package cgroup

import (
	"errors"
	"fmt"
	"math"
)

// Sentinel errors callers may branch on (always wrapped with context).
var (
	// ErrMalformed reports input a parser does not understand.
	ErrMalformed = errors.New("malformed input")
	// ErrNotFound reports a group or process that does not exist (any more).
	ErrNotFound = errors.New("not found")
	// ErrNoCgroups reports a machine (or fixture) with no cgroup hierarchy
	// mounted where the FS looks.
	ErrNoCgroups = errors.New("no cgroup hierarchy mounted")
	// ErrTruncated reports a listing cut short by its bounds; the groups
	// found before the bound are still returned.
	ErrTruncated = errors.New("cgroup tree exceeds the listing bounds")
	// ErrNotSupported reports a reader that is unavailable on this platform.
	ErrNotSupported = errors.New("not supported on this platform")
)

// Unlimited is the value of a limit that is not set ("max" in cgroup v2,
// the huge sentinel of cgroup v1, -1 for a v1 CPU quota).
const Unlimited = math.MaxUint64

func malformed(what, detail string) error {
	return fmt.Errorf("%s: %s: %w", what, detail, ErrMalformed)
}

// Byte-level helpers: the parsers run on every sample for every group, so
// they avoid strconv (which wants strings) and allocate nothing.

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trim(b []byte) []byte {
	for len(b) > 0 && isBlank(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isBlank(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// cutLine splits b at the first newline.
func cutLine(b []byte) (line, rest []byte) {
	for i, c := range b {
		if c == '\n' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// cutField skips leading blanks and splits off the next blank-separated field.
func cutField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && isBlank(b[i]) {
		i++
	}
	j := i
	for j < len(b) && !isBlank(b[j]) {
		j++
	}
	return b[i:j], b[j:]
}

// eachLine calls fn with the first blank-separated field and the rest of
// every non-blank line of b; more than maxLines lines are an error, as is
// any fn returns.
func eachLine(b []byte, maxLines int, what string, fn func(first, rest []byte) error) error {
	for n := 0; len(b) > 0; n++ {
		if n == maxLines {
			return malformed(what, "too many lines")
		}
		var line []byte
		line, b = cutLine(b)
		first, rest := cutField(line)
		if len(first) == 0 {
			continue
		}
		if err := fn(first, rest); err != nil {
			return err
		}
	}
	return nil
}

// atou parses a decimal unsigned integer (digits only, no sign); ok is false
// for empty input, anything else than digits, or overflow.
func atou(b []byte) (n uint64, ok bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	for _, c := range b {
		d := uint64(c) - '0'
		if d > 9 || n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// atof parses a non-negative fixed-point decimal such as "12.34" (the avg
// fields of PSI files).
func atof(b []byte) (float64, bool) {
	whole, frac := b, []byte(nil)
	for i, c := range b {
		if c == '.' {
			whole, frac = b[:i], b[i+1:]
			break
		}
	}
	n, ok := atou(whole)
	if !ok || len(frac) > 9 {
		return 0, false
	}
	f, scale := 0.0, 1.0
	if len(frac) > 0 {
		u, ok := atou(frac)
		if !ok {
			return 0, false
		}
		f = float64(u)
		for range frac {
			scale *= 10
		}
	}
	return float64(n) + f/scale, true
}

// eq reports whether b holds exactly s (the compiler does not allocate for
// the conversion in a comparison).
func eq(b []byte, s string) bool { return string(b) == s }
