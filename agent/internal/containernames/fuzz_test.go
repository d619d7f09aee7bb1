package containernames

import (
	"bytes"
	"testing"
)

// FuzzParseContainers feeds arbitrary replies to the /containers/json
// decoder; seeds are in testdata/fuzz/FuzzParseContainers.
func FuzzParseContainers(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseContainers(bytes.NewReader(b), 1<<16)
		if err != nil {
			return
		}
		if len(b) > 1<<16 {
			t.Fatalf("accepted %d bytes past the cap", len(b))
		}
		for id, name := range m {
			if !validID(id) || !validName(name) {
				t.Fatalf("kept %q → %q", id, name)
			}
		}
	})
}
