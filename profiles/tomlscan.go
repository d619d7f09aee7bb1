package profiles

import (
	"slices"
	"strconv"
	"strings"
)

// The TOML decoder keeps one position per key path, so the n-th [[alerts]]
// element's line is lost (every element shares the path "alerts"). This
// scanner finds them again in a file that has already decoded: it follows
// strings, comments and brackets well enough to know which lines start a
// table header or a key.

// tableBlock is one [[path]] element: its header's line and the first line of
// each key written under it (dotted keys joined with '.').
type tableBlock struct {
	header int
	keys   map[string]int
}

type scanState int

const (
	scanNormal scanState = iota
	scanBasic
	scanLiteral
	scanMLBasic
	scanMLLiteral
)

// arrayTableBlocks finds every [[path]] header of body, in order.
func arrayTableBlocks(body string, path []string) []tableBlock {
	var (
		blocks []tableBlock
		cur    *tableBlock
		state  scanState
		depth  int
	)
	for n, line := range strings.Split(body, "\n") {
		lineNo := n + 1
		if state == scanNormal && depth == 0 {
			trimmed := strings.TrimLeft(line, " \t")
			if strings.HasPrefix(trimmed, "[") {
				if key, array, ok := parseHeader(trimmed); ok {
					cur = nil
					if array && slices.Equal(key, path) {
						blocks = append(blocks, tableBlock{header: lineNo, keys: map[string]int{}})
						cur = &blocks[len(blocks)-1]
					}
					continue
				}
			} else if cur != nil {
				if key, rest, ok := parseKey(trimmed); ok && strings.HasPrefix(rest, "=") {
					k := strings.Join(key, ".")
					if _, seen := cur.keys[k]; !seen {
						cur.keys[k] = lineNo
					}
				}
			}
		}
		state, depth = scanLine(line, state, depth)
	}
	return blocks
}

// scanLine follows strings, comments and brackets across one line.
func scanLine(line string, state scanState, depth int) (scanState, int) {
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch state {
		case scanNormal:
			switch {
			case c == '#':
				return state, depth
			case strings.HasPrefix(line[i:], `"""`):
				state, i = scanMLBasic, i+2
			case strings.HasPrefix(line[i:], "'''"):
				state, i = scanMLLiteral, i+2
			case c == '"':
				state = scanBasic
			case c == '\'':
				state = scanLiteral
			case c == '[' || c == '{':
				depth++
			case c == ']' || c == '}':
				depth = max(depth-1, 0)
			}
		case scanBasic:
			if c == '\\' {
				i++
			} else if c == '"' {
				state = scanNormal
			}
		case scanLiteral:
			if c == '\'' {
				state = scanNormal
			}
		case scanMLBasic:
			if c == '\\' {
				i++
			} else if strings.HasPrefix(line[i:], `"""`) {
				state, i = scanNormal, i+2
			}
		case scanMLLiteral:
			if strings.HasPrefix(line[i:], "'''") {
				state, i = scanNormal, i+2
			}
		}
	}
	if state == scanBasic || state == scanLiteral {
		state = scanNormal // single-line strings end with their line
	}
	return state, depth
}

// parseHeader reads "[a.b]" or "[[a.b]]" at the start of s.
func parseHeader(s string) (key []string, array, ok bool) {
	opening, closing := "[", "]"
	if strings.HasPrefix(s, "[[") {
		opening, closing, array = "[[", "]]", true
	}
	key, rest, ok := parseKey(s[len(opening):])
	if !ok || !strings.HasPrefix(rest, closing) {
		return nil, false, false
	}
	return key, array, true
}

// parseKey reads a dotted key (bare, "basic" or 'literal' parts) and returns
// it with what follows, leading blanks removed.
func parseKey(s string) (key []string, rest string, ok bool) {
	for {
		s = strings.TrimLeft(s, " \t")
		var part string
		switch {
		case strings.HasPrefix(s, `"`):
			// TOML's basic-string escapes are Go's (but \e, rare in a key).
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, "", false
			}
			part, _ = strconv.Unquote(q)
			s = s[len(q):]
		case strings.HasPrefix(s, "'"):
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return nil, "", false
			}
			part, s = s[1:end+1], s[end+2:]
		default:
			end := 0
			for end < len(s) && isBareKeyByte(s[end]) {
				end++
			}
			if end == 0 {
				return nil, "", false
			}
			part, s = s[:end], s[end:]
		}
		key = append(key, part)
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, ".") {
			return key, s, true
		}
		s = s[1:]
	}
}

func isBareKeyByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
