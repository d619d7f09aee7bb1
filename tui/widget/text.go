package widget

import "strings"

// Wrap breaks text into lines of at most w cells, at spaces when it can.
func Wrap(text string, w int) []string {
	if w < 8 {
		return []string{text}
	}
	var out []string
	for Width(text) > w {
		rs := []rune(text)
		cut, used := 0, 0
		for cut < len(rs) {
			rw := Width(string(rs[cut]))
			if used+rw > w {
				break
			}
			used += rw
			cut++
		}
		if cut == 0 {
			cut = 1 // a rune wider than the line: emit it alone
		}
		if i := lastSpace(rs[:cut]); i > cut/3 {
			cut = i
		}
		out = append(out, string(rs[:cut]))
		text = strings.TrimPrefix(string(rs[cut:]), " ")
	}
	return append(out, text)
}

func lastSpace(rs []rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == ' ' {
			return i
		}
	}
	return -1
}

// PadRight pads s with spaces to n cells.
func PadRight(s string, n int) string {
	if w := Width(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

// Clip shortens s to n runes, ending a cut with "…", so columns stay aligned.
func Clip(s string, n int) string {
	if r := []rune(s); len(r) > n && n > 0 {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Dash is s, or "-" for nothing.
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// FitHostPort shortens host:port to w cells, keeping the port.
func FitHostPort(text string, w int) string {
	if Width(text) <= w || w < 4 {
		return text
	}
	i := strings.LastIndexByte(text, ':')
	if i < 0 {
		return text
	}
	port := text[i:]
	rs := []rune(text[:i])
	keep := w - Width(port) - 1
	if keep < 1 {
		return text
	}
	return string(rs[:min(keep, len(rs))]) + "…" + port
}
