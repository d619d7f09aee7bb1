package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/socktop/socktop/wire"
)

// certValidity is about 13 months, under the 398 days clients accept.
const certValidity = 397 * 24 * time.Hour

// TLSDir is where the agent keeps its certificate: the same place as the
// Rust socktop_agent, so a machine that moves to this agent keeps its pin.
func TLSDir() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("locate config folder: %w (set XDG_CONFIG_HOME)", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "socktop_agent", "tls"), nil
}

// CertInfo describes the agent's certificate for `socktop cert`.
type CertInfo struct {
	CertPath, KeyPath string
	Pin               string // "sha256:…", what clients pin
	SANs              []string
	NotAfter          time.Time
	Generated         bool // created (or renewed) by this call
}

// LoadOrCreateCert loads the certificate in dir, creating one when there is
// none and renewing one that has expired. extraSANs are added to a new
// certificate. The key is kept 0600 and the folder 0700; a looser existing
// key is tightened.
func LoadOrCreateCert(dir string, extraSANs []string, log *slog.Logger) (tls.Certificate, CertInfo, error) {
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	info := CertInfo{CertPath: certPath, KeyPath: keyPath}
	if err := secureTLSDir(dir, log); err != nil {
		return tls.Certificate{}, info, err
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		// A new pair only where there is none: half a pair, or a
		// symlink to nothing, is a mistake to show, not a reason to
		// change the pin clients have.
		if perr := checkAbsentPair(certPath, keyPath); perr != nil {
			return tls.Certificate{}, info, perr
		}
	}
	switch {
	case err == nil:
		if fi, serr := os.Stat(keyPath); serr == nil && fi.Mode().Perm()&0o077 != 0 {
			if cerr := os.Chmod(keyPath, 0o600); cerr != nil {
				return pair, info, fmt.Errorf("tighten %s to 0600: %w", keyPath, cerr)
			}
			log.Warn("tightened the TLS key's permissions to 0600", "path", keyPath)
		}
		if pair.Leaf != nil && time.Now().After(pair.Leaf.NotAfter) {
			old := wire.Fingerprint(pair.Leaf)
			sans := sanStrings(pair.Leaf)
			if pair, err = writeNewCert(dir, sans, time.Now()); err != nil {
				return pair, info, err
			}
			info.Generated = true
			log.Warn("the TLS certificate had expired and was renewed; clients must pin the new fingerprint",
				"old_pin", old, "new_pin", wire.Fingerprint(pair.Leaf), "path", certPath)
		}
	case errors.Is(err, fs.ErrNotExist):
		if pair, err = writeNewCert(dir, defaultSANs(extraSANs), time.Now()); err != nil {
			return pair, info, err
		}
		info.Generated = true
		log.Info("generated a self-signed TLS certificate", "path", certPath, "pin", wire.Fingerprint(pair.Leaf))
	default:
		return pair, info, fmt.Errorf("load TLS certificate from %s: %w (fix it, or run `socktop cert --regen`)", dir, err)
	}
	info.Pin = wire.Fingerprint(pair.Leaf)
	info.SANs = sanStrings(pair.Leaf)
	info.NotAfter = pair.Leaf.NotAfter
	return pair, info, nil
}

// checkAbsentPair reports an error unless neither file of the pair is
// there at all (not even as a dangling symlink).
func checkAbsentPair(certPath, keyPath string) error {
	for _, p := range []string{keyPath, certPath} {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
				target, _ := os.Readlink(p)
				return fmt.Errorf("TLS: %s is a symlink to %s, which does not exist; restore it (clients pin this key), "+
					"or remove the link and run `socktop cert --regen` for a new pin", p, target)
			}
		}
		return fmt.Errorf("TLS: %s is there but its partner is missing (want both %s and %s); restore it, "+
			"or run `socktop cert --regen` for a new pair (clients must pin the new fingerprint)", p, certPath, keyPath)
	}
	return nil
}

// secureTLSDir checks the folder of the pair, and the socktop_agent folder
// above it: a folder other users may write lets them swap the pair (and
// with it the pin). Ours is tightened to 0700; another user's is refused.
func secureTLSDir(dir string, log *slog.Logger) error {
	dirs := []string{dir}
	if parent := filepath.Dir(dir); filepath.Base(parent) == "socktop_agent" {
		dirs = append(dirs, parent)
	}
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue // created 0700 when the pair is written
		}
		if err != nil {
			return fmt.Errorf("TLS folder: %w", err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("TLS folder %s is not a folder; move it away", d)
		}
		if fi.Mode().Perm()&0o022 == 0 {
			continue
		}
		if owner, ok := fileOwner(fi); ok && owner != os.Geteuid() {
			return fmt.Errorf("TLS folder %s (mode %04o) is writable by others and owned by uid %d, not by this agent's uid %d: "+
				"another user could swap the certificate and key; fix it with `chmod go-w %s` (or chown it to uid %d)",
				d, fi.Mode().Perm(), owner, os.Geteuid(), d, os.Geteuid())
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("TLS folder %s (mode %04o) is writable by others; tighten it to 0700: %w", d, fi.Mode().Perm(), err)
		}
		log.Warn("tightened the TLS folder's permissions to 0700 (other users could write it)", "path", d, "was", fmt.Sprintf("%04o", fi.Mode().Perm()))
	}
	return nil
}

// fileOwner is the uid owning a file, where the platform says.
func fileOwner(fi fs.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}

// RegenerateCert replaces the certificate in dir.
func RegenerateCert(dir string, extraSANs []string, log *slog.Logger) (CertInfo, error) {
	if err := secureTLSDir(dir, log); err != nil {
		return CertInfo{}, err
	}
	pair, err := writeNewCert(dir, defaultSANs(extraSANs), time.Now())
	if err != nil {
		return CertInfo{}, err
	}
	return CertInfo{CertPath: filepath.Join(dir, "cert.pem"), KeyPath: filepath.Join(dir, "key.pem"),
		Pin: wire.Fingerprint(pair.Leaf), SANs: sanStrings(pair.Leaf), NotAfter: pair.Leaf.NotAfter, Generated: true}, nil
}

// defaultSANs: hostname, localhost, loopback, every interface address, extras.
func defaultSANs(extra []string) []string {
	sans := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		sans = append(sans, h)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLinkLocalUnicast() {
				sans = append(sans, ipn.IP.String())
			}
		}
	}
	for _, e := range extra {
		if e = strings.TrimSpace(e); e != "" {
			sans = append(sans, e)
		}
	}
	seen := map[string]bool{}
	out := sans[:0]
	for _, s := range sans {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func sanStrings(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

// writeNewCert creates an ECDSA P-256 self-signed certificate and writes it
// through temporary files and renames, so a full disk leaves no partial key.
func writeNewCert(dir string, sans []string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate serial: %w", err)
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "socktop agent " + host, Organization: []string{"socktop"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, s := range sans {
		if ip := net.ParseIP(s); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, s)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("encode key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})

	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("chmod %s: %w", dir, err)
	}
	// Both files are written and synced under temporary names first; only
	// then are they renamed into place, so a full disk or a size limit
	// leaves the old pair (or nothing) rather than a key without its
	// certificate.
	keyTmp, err := writeTemp(dir, "key.pem", keyPEM, 0o600)
	if err != nil {
		return tls.Certificate{}, err
	}
	defer os.Remove(keyTmp) // no-op after the rename
	certTmp, err := writeTemp(dir, "cert.pem", certPEM, 0o644)
	if err != nil {
		return tls.Certificate{}, err
	}
	defer os.Remove(certTmp)
	if err := os.Rename(keyTmp, filepath.Join(dir, "key.pem")); err != nil {
		return tls.Certificate{}, fmt.Errorf("write %s: %w", filepath.Join(dir, "key.pem"), err)
	}
	if err := os.Rename(certTmp, filepath.Join(dir, "cert.pem")); err != nil {
		return tls.Certificate{}, fmt.Errorf("write %s: %w", filepath.Join(dir, "cert.pem"), err)
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// writeTemp writes data to a new temporary file beside name in dir, synced,
// and returns its path; on failure nothing is left behind.
func writeTemp(dir, name string, data []byte, mode os.FileMode) (string, error) {
	path := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, "."+name+"-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	fail := func(err error) (string, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", fmt.Errorf("write %s: %w (is the disk full?)", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return tmp.Name(), nil
}
