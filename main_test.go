package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// buildBinary compiles the real socktop binary once per test binary run, with
// the same version stamping scripts/build.sh uses.
func buildBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "socktop")
	cmd := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-X main.version=v9.8.7-test -X main.commit=abc1234 -X main.date=2026-01-02T03:04:05Z",
		"-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type result struct {
	stdout, stderr string
	code           int
}

func run(t *testing.T, bin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s %v: %v", bin, args, err)
	}
	return result{so.String(), se.String(), code}
}

func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildBinary(t)

	t.Run("help lists every subcommand", func(t *testing.T) {
		r := run(t, bin, "--help")
		if r.code != 0 {
			t.Fatalf("exit %d, want 0; stderr %q", r.code, r.stderr)
		}
		for _, c := range commands {
			if !strings.Contains(r.stdout, "  "+c.name+" ") || !strings.Contains(r.stdout, c.summary) {
				t.Errorf("--help does not list %q with its summary:\n%s", c.name, r.stdout)
			}
		}
		if !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("--help has no examples:\n%s", r.stdout)
		}
	})

	t.Run("version is stamped", func(t *testing.T) {
		r := run(t, bin, "version")
		want := []string{"v9.8.7-test", "abc1234", "2026-01-02T03:04:05Z", runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH}
		for _, w := range want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("version output lacks %q:\n%s", w, r.stdout)
			}
		}
	})

	t.Run("unknown subcommand exits 2", func(t *testing.T) {
		r := run(t, bin, "nope")
		if r.code != 2 {
			t.Fatalf("exit %d, want 2", r.code)
		}
		first, _, _ := strings.Cut(r.stderr, "\n")
		if !strings.Contains(first, `unknown subcommand "nope"`) {
			t.Errorf("first line %q does not name the unknown subcommand", first)
		}
		if !strings.Contains(r.stderr, "agent") || !strings.Contains(r.stderr, "connect") {
			t.Errorf("stderr does not list the subcommands:\n%s", r.stderr)
		}
	})

	t.Run("busybox link runs its subcommand", func(t *testing.T) {
		link := filepath.Join(filepath.Dir(bin), "socktop-agent")
		if err := os.Symlink(bin, link); err != nil {
			t.Fatal(err)
		}
		viaLink := run(t, link, "-h")
		direct := run(t, bin, "agent", "-h")
		if viaLink != direct {
			t.Errorf("socktop-agent -h = %+v\nsocktop agent -h = %+v", viaLink, direct)
		}
		if !strings.Contains(viaLink.stdout+viaLink.stderr, "agent") {
			t.Errorf("socktop-agent -h says nothing about agent: %+v", viaLink)
		}
		vlink := filepath.Join(filepath.Dir(bin), "socktop-version")
		if err := os.Symlink(bin, vlink); err != nil {
			t.Fatal(err)
		}
		if r := run(t, vlink); !strings.Contains(r.stdout, "v9.8.7-test") {
			t.Errorf("socktop-version printed %q", r.stdout)
		}
	})

	t.Run("every subcommand has -h", func(t *testing.T) {
		for _, c := range commands {
			r := run(t, bin, c.name, "-h")
			if c.run == nil {
				if r.code != 1 || !strings.Contains(r.stderr, "not available in this build") {
					t.Errorf("%s (not built): %+v, want exit 1 and 'not available in this build'", c.name, r)
				}
				continue
			}
			if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "socktop "+c.name) {
				t.Errorf("%s -h: exit %d, output %q", c.name, r.code, r.stdout+r.stderr)
			}
		}
	})
}
