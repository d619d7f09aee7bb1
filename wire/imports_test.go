package wire

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps wire a library a third party can import: besides the
// standard library it may use only protobuf, vtprotobuf and the WebSocket
// package, and never the agent, procfs or the dashboard.
func TestImports(t *testing.T) {
	allowed := []string{"google.golang.org/protobuf/", "github.com/planetscale/vtprotobuf/", "github.com/coder/websocket", "github.com/socktop/socktop/wire"}
	files, _ := filepath.Glob("*.go")
	for _, dir := range []string{"wiretest", "history", "dialect"} {
		sub, _ := filepath.Glob(dir + "/*.go")
		files = append(files, sub...)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d files", len(files))
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
			if !strings.Contains(strings.Split(path, "/")[0], ".") {
				continue // standard library
			}
			ok := false
			for _, a := range allowed {
				ok = ok || strings.HasPrefix(path, a)
			}
			if !ok {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}
