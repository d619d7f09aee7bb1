package procfs

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseNamespaceLink(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind string
		ino  uint64
	}{
		{"net:[4026531840]", "net", 4026531840},
		{"pid_for_children:[4026531836]", "pid_for_children", 4026531836},
		{"mnt:[1]", "mnt", 1},
		{"net:[18446744073709551615]", "net", 1<<64 - 1},
		{"", "", 0},
		{"net", "", 0},
		{"net:", "", 0},
		{"net:[]", "", 0},
		{":[5]", "", 0},
		{"net:[0]", "", 0},
		{"net:[12", "", 0},
		{"net:12]", "", 0},
		{"net:[1x]", "", 0},
		{"net:[-1]", "", 0},
		{"Net:[5]", "", 0},
		{"n/t:[5]", "", 0},
		{"net:[18446744073709551616]", "", 0},
		{"socket:[123] ", "", 0},
	} {
		kind, ino, err := ParseNamespaceLink([]byte(tc.in))
		if tc.kind == "" {
			if !errors.Is(err, ErrMalformed) || kind != "" || ino != 0 {
				t.Errorf("%q: got %q %d %v, want ErrMalformed", tc.in, kind, ino, err)
			}
			continue
		}
		if err != nil || kind != tc.kind || ino != tc.ino {
			t.Errorf("%q: got %q %d %v, want %q %d", tc.in, kind, ino, err, tc.kind, tc.ino)
		}
	}
}

func FuzzParseNamespaceLink(f *testing.F) {
	for _, s := range []string{"net:[4026531840]", "mnt:[1]", "net:[]", "x:[18446744073709551616]", ":[", "a:[0]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, ino, err := ParseNamespaceLink(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if ino == 0 || kind == "" || !strings.HasPrefix(string(b), kind+":[") {
			t.Fatalf("%q parsed as %q %d", b, kind, ino)
		}
		k2, i2, err := ParseNamespaceLink([]byte(kind + ":[" + strconv.FormatUint(ino, 10) + "]"))
		if err != nil || k2 != kind || i2 != ino {
			t.Fatalf("%q → %q %d does not round-trip: %q %d %v", b, kind, ino, k2, i2, err)
		}
	})
}

// A fixture tree's links: each process's namespace, gone and odd ones.
func TestNetNamespaceFixture(t *testing.T) {
	root := t.TempDir()
	link := func(dir, target string) {
		d := filepath.Join(root, dir, "ns")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(d, "net")); err != nil {
			t.Fatal(err)
		}
	}
	link("self", "net:[100]")
	link("7", "net:[100]")
	link("8", "net:[200]")
	link("9", "mnt:[100]")
	link("10", "garbage")
	fs, err := NewFS(root, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pid     int32
		ino     uint64
		wantErr error
	}{{0, 100, nil}, {7, 100, nil}, {8, 200, nil}, {9, 0, ErrMalformed}, {10, 0, ErrMalformed}, {11, 0, ErrNotFound}, {-3, 0, ErrNotFound}} {
		ino, err := fs.NetNamespace(tc.pid)
		if ino != tc.ino || (tc.wantErr == nil) != (err == nil) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
			t.Errorf("NetNamespace(%d) = %d, %v; want %d, %v", tc.pid, ino, err, tc.ino, tc.wantErr)
		}
	}
}
