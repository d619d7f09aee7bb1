package model

import (
	"strings"
	"testing"
)

// FuzzFilterView: whatever the user types into / and whatever names the
// agent sends, filtering, sorting and the tree never panic, and every row
// shown matches the filter (outside tree mode).
func FuzzFilterView(f *testing.F) {
	for _, s := range []string{"", "pid:1", "PID:", "user:", "user:root", "nginx", "ñ", "pid:99999999999", "\x00", "İ"} {
		f.Add(s, "name\x1b[2J", uint8(0), true)
	}
	f.Fuzz(func(t *testing.T, filter, name string, col uint8, tree bool) {
		rows := make([]ProcRow, 20)
		for i := range rows {
			rows[i] = ProcRow{PID: uint32(i + 1), PPID: uint32(i / 2), Name: name + strings.Repeat("x", i%3), User: name, CPU: float64(i % 5)}
		}
		flt := ParseFilter(filter)
		v := BuildView(nil, rows, flt, ProcCol(col)%NumProcCols, col%2 == 0, tree)
		if !tree {
			for _, r := range v {
				if !flt.Match(r) {
					t.Fatalf("row %d shown but does not match %q", r.PID, filter)
				}
			}
		}
		if len(v) > len(rows) {
			t.Fatalf("view has %d rows from %d", len(v), len(rows))
		}
	})
}
