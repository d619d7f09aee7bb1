package agent

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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
