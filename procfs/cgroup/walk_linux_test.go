package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// v2Tree returns a Layout of an empty cgroup v2 tree under a temporary
// directory, and the tree's root directory.
func v2Tree(t *testing.T) (Layout, string) {
	dir := t.TempDir()
	root := filepath.Join(dir, "sys", "fs", "cgroup")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	l := NewLayout([]Mount{{Version: 2, Root: "/", MountPoint: "/sys/fs/cgroup"}}, filepath.Join(dir, "sys"))
	return l, root
}

func TestGroupsBounded(t *testing.T) {
	t.Run("depth", func(t *testing.T) {
		l, root := v2Tree(t)
		shallow := filepath.Join(root, "system.slice", "a.service")
		deep := filepath.Join(root, strings.Repeat("x/", maxWalkDepth+4), "deep.service")
		for _, d := range []string{shallow, deep} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		groups, err := l.Groups()
		if !errors.Is(err, ErrTruncated) || len(groups) != 1 || groups[0].Name != "a.service" {
			t.Errorf("got %+v, %v; want a.service and ErrTruncated", groups, err)
		}
	})
	t.Run("groups", func(t *testing.T) {
		l, root := v2Tree(t)
		for i := range maxGroups + 50 {
			if err := os.MkdirAll(filepath.Join(root, "system.slice", fmt.Sprintf("s%d.service", i)), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		groups, err := l.Groups()
		if !errors.Is(err, ErrTruncated) || len(groups) != maxGroups {
			t.Errorf("%d groups, %v; want %d and ErrTruncated", len(groups), err, maxGroups)
		}
	})
	t.Run("directories", func(t *testing.T) {
		l, root := v2Tree(t)
		for i := range maxWalkDirs + 50 {
			if err := os.Mkdir(filepath.Join(root, fmt.Sprintf("d%d", i)), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := l.Groups(); !errors.Is(err, ErrTruncated) {
			t.Errorf("err = %v, want ErrTruncated", err)
		}
	})
	t.Run("not descended", func(t *testing.T) {
		// A container's sub-groups are the container's; symlinks and files
		// are not walked; names that are not UTF-8 are skipped.
		l, root := v2Tree(t)
		ctr := filepath.Join(root, "system.slice", "docker-"+id1+".scope")
		for _, d := range []string{filepath.Join(ctr, "init.scope"), filepath.Join(ctr, "system.slice", "nginx.service"), filepath.Join(root, "bad\xff.service")} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(root, filepath.Join(root, "system.slice", "loop.service")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "system.slice", "file.service"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		groups, err := l.Groups()
		if err != nil || len(groups) != 1 || groups[0].ID != id1 {
			t.Errorf("got %+v, %v; want the container only", groups, err)
		}
	})
}
