package agent

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCertCreateReuseRenew(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, first, err := LoadOrCreateCert(dir, []string{"pi.lan", "10.1.2.3"}, log)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Generated || !slices.Contains(first.SANs, "pi.lan") || !slices.Contains(first.SANs, "10.1.2.3") ||
		!slices.Contains(first.SANs, "localhost") || !slices.Contains(first.SANs, "::1") {
		t.Errorf("new certificate: %+v", first)
	}
	if d := time.Until(first.NotAfter); d < 396*24*time.Hour || d > 398*24*time.Hour {
		t.Errorf("valid for %v, want ~397 days", d)
	}
	// Loading again reuses it; a loosened key is tightened.
	os.Chmod(filepath.Join(dir, "key.pem"), 0o644)
	_, again, err := LoadOrCreateCert(dir, nil, log)
	if err != nil || again.Generated || again.Pin != first.Pin {
		t.Fatalf("second load: %+v, %v", again, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "key.pem")); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v after load, want 0600", fi.Mode().Perm())
	}
	// An expired certificate is renewed with a new pin and its names kept.
	if _, err := writeNewCert(dir, first.SANs, time.Now().Add(-400*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, renewed, err := LoadOrCreateCert(dir, nil, log)
	if err != nil || !renewed.Generated || renewed.Pin == first.Pin || time.Until(renewed.NotAfter) < 300*24*time.Hour {
		t.Fatalf("expired certificate not renewed: %+v, %v", renewed, err)
	}
	if !slices.Contains(renewed.SANs, "pi.lan") {
		t.Errorf("renewal dropped a name: %v", renewed.SANs)
	}
	// A corrupt key is an error that says how to fix it, and is left alone.
	os.WriteFile(filepath.Join(dir, "key.pem"), []byte("garbage"), 0o600)
	if _, _, err := LoadOrCreateCert(dir, nil, log); err == nil {
		t.Error("a corrupt key loaded")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "key.pem")); string(b) != "garbage" {
		t.Error("a corrupt key was overwritten")
	}
}

// TestTLSFolderPermissions: a TLS folder other users may write is
// tightened to 0700 when it is ours and refused when it is not; a dangling
// key.pem symlink, or half a pair, is refused with the path named instead
// of being replaced by a new pair (which would change the pin).
func TestTLSFolderPermissions(t *testing.T) {
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	root := filepath.Join(t.TempDir(), "socktop_agent")
	dir := filepath.Join(root, "tls")
	_, first, err := LoadOrCreateCert(dir, nil, log)
	if err != nil {
		t.Fatal(err)
	}

	// Ours and 0777 (the folder and the one above it): tightened, pair kept.
	for _, d := range []string{dir, root} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	_, again, err := LoadOrCreateCert(dir, nil, log)
	if err != nil || again.Pin != first.Pin {
		t.Fatalf("load from a 0777 folder of ours: %v (pin %s, was %s)", err, again.Pin, first.Pin)
	}
	for _, d := range []string{dir, root} {
		if fi, _ := os.Stat(d); fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %04o after load, want 0700", d, fi.Mode().Perm())
		}
	}
	if len(logs.lines("tightened the TLS folder")) != 2 {
		t.Errorf("want a warning per tightened folder:\n%s", strings.Join(logs.lines("TLS"), "\n"))
	}
	// `socktop cert --regen` checks the folder too.
	os.Chmod(dir, 0o757)
	if _, err := RegenerateCert(dir, nil, log); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("after --regen: mode %04o, want 0700", fi.Mode().Perm())
	}
	_, first, _ = LoadOrCreateCert(dir, nil, log)

	// A dangling key.pem symlink: refused, naming it; nothing rewritten.
	keyPath := filepath.Join(dir, "key.pem")
	key, _ := os.ReadFile(keyPath)
	os.Remove(keyPath)
	if err := os.Symlink(filepath.Join(root, "vanished-key.pem"), keyPath); err != nil {
		t.Fatal(err)
	}
	_, info, err := LoadOrCreateCert(dir, nil, log)
	if err == nil || !strings.Contains(err.Error(), keyPath) || !strings.Contains(err.Error(), "vanished-key.pem") {
		t.Fatalf("dangling key.pem symlink: %v (pin %s), want an error naming it", err, info.Pin)
	}
	t.Logf("dangling symlink: %v", err)
	if l, err := os.Readlink(keyPath); err != nil || !strings.HasSuffix(l, "vanished-key.pem") {
		t.Errorf("the symlink was replaced: %q %v", l, err)
	}
	// Its target restored, the old pair (and pin) is back.
	os.WriteFile(filepath.Join(root, "vanished-key.pem"), key, 0o600)
	if _, info, err := LoadOrCreateCert(dir, nil, log); err != nil || info.Pin != first.Pin {
		t.Errorf("restored symlink target: %v, pin %s want %s", err, info.Pin, first.Pin)
	}
	// Half a pair: refused, naming what is there.
	os.Remove(keyPath)
	if _, _, err := LoadOrCreateCert(dir, nil, log); err == nil || !strings.Contains(err.Error(), "cert.pem") || !strings.Contains(err.Error(), "--regen") {
		t.Errorf("cert.pem without key.pem: %v, want an error naming the fix", err)
	}

	// Another user's folder that others may write: refused (needs root to
	// hand the folder to another uid).
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown a folder to another user")
	}
	other := filepath.Join(t.TempDir(), "tls")
	if _, _, err := LoadOrCreateCert(other, nil, log); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(other, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	os.Chmod(other, 0o777)
	_, _, err = LoadOrCreateCert(other, nil, log)
	if err == nil || !strings.Contains(err.Error(), other) || !strings.Contains(err.Error(), "chmod go-w") {
		t.Fatalf("another user's 0777 folder: %v, want a refusal naming the fix", err)
	}
	if fi, _ := os.Stat(other); fi.Mode().Perm() != 0o777 {
		t.Errorf("another user's folder was changed to %04o", fi.Mode().Perm())
	}
	t.Logf("another user's folder: %v", err)
}
