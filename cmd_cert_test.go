package main

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
)

// socktop cert --regen prints the new pin and says that a running agent
// keeps the old certificate until restarted, and how clients pin the new
// one; a plain socktop cert (no change) says neither.
func TestCertRegenSaysRestart(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	run := func(args ...string) string {
		var out bytes.Buffer
		if code := certCommand(args, func(string) string { return "" }, &out, io.Discard); code != 0 {
			t.Fatalf("socktop cert %v exited %d", args, code)
		}
		return out.String()
	}
	pinOf := func(s string) string { return regexp.MustCompile(`pin:\s+(sha256:\S+)`).FindStringSubmatch(s)[1] }
	first := run()
	if strings.Contains(first, "restart") {
		t.Errorf("socktop cert without --regen talks of a restart:\n%s", first)
	}
	regen := run("--regen")
	pin := pinOf(regen)
	if pin == pinOf(first) {
		t.Fatalf("--regen kept the pin %s", pin)
	}
	if !strings.Contains(regen, "restart it") || !strings.Contains(regen, "systemctl restart socktop-agent") {
		t.Errorf("--regen does not say the running agent must be restarted:\n%s", regen)
	}
	if !strings.Contains(regen, "socktop connect --save --profile NAME --pin "+pin) {
		t.Errorf("--regen does not give the command that pins the new certificate:\n%s", regen)
	}
}
