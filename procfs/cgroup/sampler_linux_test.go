package cgroup

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/socktop/socktop/procfs/proctest"
)

// A Sampler reads what Layout.Sample reads, sample after sample.
func TestSamplerMatchesLayout(t *testing.T) {
	for _, name := range []string{"rpi-docker", "k8s-node", "hybrid", "container"} {
		t.Run(name, func(t *testing.T) {
			_, l := fixture(t, name)
			want, err := l.Sample(nil)
			if err != nil {
				t.Fatal(err)
			}
			s := l.NewSampler()
			defer s.Close()
			for i := range refreshSamples + 2 { // across a refresh
				got, err := s.Sample(nil)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("sample %d: %v\n got %+v\nwant %+v", i, err, got, want)
				}
			}
			if len(want) > 0 && s.heldCount() == 0 {
				t.Error("no file held")
			}
			root, err := s.Stats("/")
			if wantRoot, _ := l.Stats("/"); err != nil || root != wantRoot {
				t.Errorf("root %+v, %v; want %+v", root, err, wantRoot)
			}
			s.Close()
			if n := s.heldCount(); n != 0 {
				t.Errorf("%d descriptors held after Close", n)
			}
		})
	}
}

// Held files show new content, groups that go are let go, and the budget holds.
func TestSamplerFollowsChanges(t *testing.T) {
	dir := t.TempDir()
	proctest.CopyTree(t, filepath.Join("testdata", "fixtures", "rpi-docker"), dir)
	l, err := NewFS(filepath.Join(dir, "proc"), filepath.Join(dir, "sys")).Discover()
	if err != nil {
		t.Fatal(err)
	}
	s := l.NewSampler()
	defer s.Close()
	first, err := s.Sample(nil)
	if err != nil {
		t.Fatal(err)
	}
	held := s.heldCount()
	cg := filepath.Join(dir, "sys", "fs", "cgroup")
	ssh := filepath.Join(cg, "system.slice", "ssh.service")
	// Rewritten in place, as the kernel regenerates a file.
	if err := os.WriteFile(filepath.Join(ssh, "memory.current"), []byte("123456\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats("/system.slice/ssh.service")
	if err != nil || st.MemoryCurrent != 123456 {
		t.Errorf("after a rewrite: %d, %v", st.MemoryCurrent, err)
	}
	// A group removed is no longer listed and its files are closed.
	if err := os.RemoveAll(ssh); err != nil {
		t.Fatal(err)
	}
	second, err := s.Sample(nil)
	if err != nil || len(second) != len(first)-1 {
		t.Fatalf("%d groups after removing one of %d: %v", len(second), len(first), err)
	}
	if n := s.heldCount(); n >= held || n <= 0 {
		t.Errorf("held %d descriptors, before %d", n, held)
	}
	// A tiny budget: the same values, no more descriptors than allowed.
	s.Close()
	s.budget = 20
	third, err := s.Sample(nil)
	if err != nil || !reflect.DeepEqual(third, second) {
		t.Errorf("within a budget of 20: %v\n got %+v\nwant %+v", err, third, second)
	}
	if n := s.heldCount(); n > 20 {
		t.Errorf("held %d descriptors, budget 20", n)
	}
	if _, err := s.Stats("/system.slice/ssh.service"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed group: %v", err)
	}
}

// Concurrent calls are serialized (run with -race).
func TestSamplerConcurrent(t *testing.T) {
	_, l := fixture(t, "k8s-node")
	want, _ := l.Sample(nil)
	s := l.NewSampler()
	defer s.Close()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for range 20 {
				got, err := s.Sample(nil)
				if err == nil && !reflect.DeepEqual(got, want) {
					err = errors.New("samples differ")
				}
				if err != nil {
					errs <- err
					return
				}
				if _, err := s.Stats(want[0].Path); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
