package procfs

import (
	"fmt"
	"math"
)

// Byte-level helpers shared by the parsers. They avoid strings/strconv so the
// hot parsers (process stat, /proc/stat) allocate nothing.

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// nextLine splits b at the first '\n'.
func nextLine(b []byte) (line, rest []byte) {
	for i, c := range b {
		if c == '\n' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// nextField skips leading blanks and returns the next blank-separated field.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}

// parseUint parses a decimal unsigned integer; ok is false on empty input,
// non-digits or overflow.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	// Up to 19 digits cannot overflow; a 20-digit value did when it came
	// out below 10^19, the smallest 20-digit number (the division per digit
	// that checked it cost most of a /proc/<pid>/stat parse).
	if len(b) == 20 && b[0] != '0' && (b[0] > '1' || n < 1e19) {
		return 0, false
	}
	return n, true
}

// parseInt parses a decimal integer with an optional sign.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	u, ok := parseUint(b)
	if !ok || u > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

// parseFixed parses a non-negative decimal like "0.52" or "12345.67" without
// strconv (load averages, uptime). Up to 18 fraction digits are used.
func parseFixed(b []byte) (float64, bool) {
	intPart, frac := b, []byte(nil)
	for i, c := range b {
		if c == '.' {
			intPart, frac = b[:i], b[i+1:]
			break
		}
	}
	n, ok := parseUint(intPart)
	if !ok {
		return 0, false
	}
	var f uint64
	scale := 1.0
	for i, c := range frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		if i < 18 {
			f = f*10 + uint64(c-'0')
			scale *= 10
		}
	}
	return float64(n) + float64(f)/scale, true
}

func malformed(what string, detail string) error {
	return fmt.Errorf("%s: %s: %w", what, detail, ErrMalformed)
}

func isPID(name []byte) bool {
	if len(name) == 0 || name[0] == '0' {
		return false
	}
	for _, c := range name {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
