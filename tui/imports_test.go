package tui

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRoomsImportOneWay holds the dashboard's rooms to the directions in
// doc.go: each room may import only the socktop packages listed for it
// (besides the standard library and its third-party libraries).
func TestRoomsImportOneWay(t *testing.T) {
	const mod = "github.com/socktop/socktop/"
	allowed := map[string][]string{
		"widget":       nil,
		"model":        {"wire", "tui/alert"},
		"shell":        {"tui/widget"},
		"screen":       {"tui/shell", "tui/model", "tui/widget", "tui/alert", "wire"},
		".":            {"tui/screen", "tui/model", "tui/shell", "tui/widget", "wire"},
		"alert":        {"wire", "profiles"},
		"alert/notify": {"tui/alert", "profiles"},
	}
	for room, may := range allowed {
		files, _ := filepath.Glob(filepath.Join(room, "*.go"))
		if len(files) < 1 {
			t.Fatalf("%s: found only %d files", room, len(files))
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				rel, ours := strings.CutPrefix(path, mod)
				if !ours {
					continue
				}
				ok := false
				for _, m := range may {
					ok = ok || rel == m || strings.HasPrefix(rel, m+"/")
				}
				if !ok {
					t.Errorf("%s imports %s: the %s room may import only %v", f, path, room, may)
				}
			}
		}
	}
}
