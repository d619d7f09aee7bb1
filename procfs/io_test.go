package procfs

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestParseProcIOTable(t *testing.T) {
	full := "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7\n"
	for _, tc := range []struct {
		name string
		in   string
		want ProcIO
		bad  bool
	}{
		{name: "full", in: full, want: ProcIO{1, 2, 3, 4, 5, 6, 7}},
		{name: "no trailing newline", in: full[:len(full)-1], want: ProcIO{1, 2, 3, 4, 5, 6, 7}},
		{name: "only the required lines", in: "read_bytes: 10\nwrite_bytes: 20\n", want: ProcIO{ReadBytes: 10, WriteBytes: 20}},
		{name: "any order, tabs, unknown keys", in: "future_key: 9\nwrite_bytes:\t20\nread_bytes:   10\n", want: ProcIO{ReadBytes: 10, WriteBytes: 20}},
		{name: "max uint64", in: "read_bytes: 18446744073709551615\nwrite_bytes: 0\n", want: ProcIO{ReadBytes: 1<<64 - 1}},
		{name: "lines without colon skipped", in: "garbage\nread_bytes: 1\nwrite_bytes: 2\n", want: ProcIO{ReadBytes: 1, WriteBytes: 2}},
		{name: "empty", in: "", bad: true},
		{name: "no write_bytes", in: "read_bytes: 1\n", bad: true},
		{name: "no read_bytes", in: "rchar: 1\nwrite_bytes: 2\n", bad: true},
		{name: "overflow", in: "read_bytes: 18446744073709551616\nwrite_bytes: 0\n", bad: true},
		{name: "negative", in: "read_bytes: -1\nwrite_bytes: 0\n", bad: true},
		{name: "not a number", in: "read_bytes: 1\nwrite_bytes: x\n", bad: true},
		{name: "empty value", in: "read_bytes:\nwrite_bytes: 0\n", bad: true},
		{name: "bad optional field", in: "rchar: 1e3\nread_bytes: 1\nwrite_bytes: 0\n", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProcIO([]byte(tc.in))
			if tc.bad {
				if !errors.Is(err, ErrMalformed) || got != (ProcIO{}) {
					t.Fatalf("got %+v, %v; want ErrMalformed and zero", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func formatProcIO(p ProcIO) string {
	return fmt.Sprintf("rchar: %d\nwchar: %d\nsyscr: %d\nsyscw: %d\nread_bytes: %d\nwrite_bytes: %d\ncancelled_write_bytes: %d\n",
		p.RChar, p.WChar, p.SyscR, p.SyscW, p.ReadBytes, p.WriteBytes, p.CancelledWriteBytes)
}

// FuzzProcIORoundTrip: whatever ParseProcIO accepts, printed the way the
// kernel prints it, parses back to the same values; every value the kernel
// can print parses exactly.
func FuzzProcIORoundTrip(f *testing.F) {
	f.Add([]byte("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7\n"), uint64(0), uint64(1<<64-1))
	f.Add([]byte("read_bytes: 1\nwrite_bytes: 2"), uint64(4096), uint64(0))
	f.Add([]byte("write_bytes:\t\t3\nread_bytes: 0\nread_bytes: 9\n"), uint64(7), uint64(8))
	f.Fuzz(func(t *testing.T, b []byte, r, w uint64) {
		if p, err := ParseProcIO(b); err == nil {
			again, err := ParseProcIO([]byte(formatProcIO(p)))
			if err != nil || again != p {
				t.Fatalf("%q → %+v does not round-trip: %+v, %v", b, p, again, err)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		want := ProcIO{RChar: r ^ w, WChar: w, SyscR: r >> 3, SyscW: w >> 5, ReadBytes: r, WriteBytes: w, CancelledWriteBytes: r & w}
		if got, err := ParseProcIO([]byte(formatProcIO(want))); err != nil || got != want {
			t.Fatalf("kernel-format %+v parsed as %+v, %v", want, got, err)
		}
	})
}

// A proc tree whose io files are good, odd, missing or not files: each
// process gets its own verdict and never another's values.
func TestIOReaderFixture(t *testing.T) {
	root := t.TempDir()
	put := func(pid int, body string) {
		dir := filepath.Join(root, fmt.Sprint(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if body == "<dir>" {
			if err := os.Mkdir(filepath.Join(dir, "io"), 0o755); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "io"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put(3, formatProcIO(ProcIO{RChar: 9, ReadBytes: 4096, WriteBytes: 8192}))
	put(5, "read_bytes: 1\n") // malformed
	put(8, "<dir>")           // EISDIR: unknown, not zero
	put(12, formatProcIO(ProcIO{ReadBytes: 1, WriteBytes: 2}))
	os.MkdirAll(filepath.Join(root, "13"), 0o755) // a process without io (no CONFIG_TASK_IO_ACCOUNTING)
	fs, err := NewFS(root, filepath.Join(root, "nosys"))
	if err != nil {
		t.Fatal(err)
	}
	procs := []Process{{PID: 3}, {PID: 5}, {PID: 8}, {PID: 12}, {PID: 13}, {PID: 99}, {PID: 0}, {PID: -4}, {PID: 3}}
	r := fs.NewIOReader()
	defer r.Close()
	var got []IOResult
	for round := range 2 { // the second round is the held-file path on a real procfs
		got = r.Read(procs, got)
		if len(got) != len(procs) {
			t.Fatalf("round %d: %d results for %d processes", round, len(got), len(procs))
		}
		check := func(i int, want ProcIO, wantErr error) {
			t.Helper()
			g := got[i]
			if wantErr == nil && (g.Err != nil || g.IO != want) {
				t.Errorf("round %d pid %d: got %+v, %v; want %+v", round, procs[i].PID, g.IO, g.Err, want)
			}
			if wantErr != nil && (!errors.Is(g.Err, wantErr) || g.IO != (ProcIO{})) {
				t.Errorf("round %d pid %d: got %+v, %v; want zero and %v", round, procs[i].PID, g.IO, g.Err, wantErr)
			}
		}
		check(0, ProcIO{RChar: 9, ReadBytes: 4096, WriteBytes: 8192}, nil)
		check(1, ProcIO{}, ErrMalformed)
		if got[2].Err == nil {
			t.Errorf("round %d: a directory read as io: %+v", round, got[2].IO)
		}
		check(3, ProcIO{ReadBytes: 1, WriteBytes: 2}, nil)
		check(4, ProcIO{}, ErrNotFound)
		check(5, ProcIO{}, ErrNotFound)
		check(6, ProcIO{}, ErrNotFound)
		check(7, ProcIO{}, ErrNotFound)
		check(8, ProcIO{RChar: 9, ReadBytes: 4096, WriteBytes: 8192}, nil) // out of order: read, not held
	}
	if n := r.h.count(); n != 0 {
		t.Errorf("%d files held open under a fixture tree (its files can be replaced under an open descriptor)", n)
	}
	if _, err := fs.ProcessIO(5); !errors.Is(err, ErrMalformed) {
		t.Errorf("ProcessIO of a malformed file: %v", err)
	}
	if io, err := fs.ProcessIO(12); err != nil || io.WriteBytes != 2 {
		t.Errorf("ProcessIO(12) = %+v, %v", io, err)
	}
	if _, err := fs.ProcessIO(99); !errors.Is(err, ErrNotFound) || errors.Is(err, iofs.ErrPermission) {
		t.Errorf("ProcessIO of a missing process: %v", err)
	}
}
