package wire

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Fingerprint returns the canonical pin of a certificate: "sha256:" and the
// lowercase hex SHA-256 of its DER bytes. `socktop cert` prints exactly this.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ParseFingerprint normalises a pin as users paste it: "sha256:" prefix
// optional, hex in any case, bytes optionally separated by ':' or spaces
// (as openssl prints them). It returns the canonical "sha256:<hex>".
func ParseFingerprint(s string) (string, error) {
	h := strings.TrimSpace(s)
	if i := strings.IndexByte(h, ':'); i >= 0 && strings.EqualFold(h[:i], "sha256") {
		h = h[i+1:]
	}
	h = strings.NewReplacer(":", "", " ", "", "-", "").Replace(h)
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("pin %q: want sha256:<64 hex digits> (socktop cert prints it)", s)
	}
	return "sha256:" + hex.EncodeToString(b), nil
}

// parsePEMCerts returns every CERTIFICATE block of a PEM file.
func parsePEMCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no CERTIFICATE block found")
	}
	return certs, nil
}

// clientTLSConfig builds the TLS settings of a wss:// dial.
//
// Without a pin or CA the system roots verify the chain and the hostname.
// With them (socktop's self-signed certificates) the agent's certificate
// must be one of the --tls-ca certificates exactly, or chain to one of them,
// or match a fingerprint pin; the hostname is checked only with
// VerifyHostname, as upstream does.
func clientTLSConfig(host string, o *Options) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	var pins []string
	for _, p := range o.Pins {
		fp, err := ParseFingerprint(p)
		if err != nil {
			return nil, err
		}
		pins = append(pins, fp)
	}
	var cas []*x509.Certificate
	pemData := o.CAPEM
	if o.CAFile != "" {
		b, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read --tls-ca %s: %w", o.CAFile, err)
		}
		pemData = append(append([]byte{}, pemData...), b...)
	}
	if len(pemData) > 0 {
		var err error
		if cas, err = parsePEMCerts(pemData); err != nil {
			return nil, fmt.Errorf("--tls-ca %s: %w", o.CAFile, err)
		}
	}
	if len(pins) == 0 && len(cas) == 0 {
		// The usual chain and hostname verification against the system
		// roots, done here so an untrusted (self-signed) certificate is
		// reported with the pin that would accept it.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("agent sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			leaf := cs.PeerCertificates[0]
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Intermediates: inter}); err != nil {
				return &UntrustedCertError{Host: host, Fingerprint: Fingerprint(leaf), Err: err}
			}
			return nil
		}
		return cfg, nil
	}
	want := append([]string{}, pins...)
	roots := x509.NewCertPool()
	for _, c := range cas {
		want = append(want, Fingerprint(c))
		roots.AddCert(c)
	}
	// Verification happens in VerifyConnection, with our rules.
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("agent sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		got := Fingerprint(leaf)
		ok := false
		for _, p := range pins {
			ok = ok || p == got
		}
		for _, c := range cas {
			ok = ok || bytes.Equal(c.Raw, leaf.Raw)
		}
		if !ok && len(cas) > 0 {
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			ok = err == nil
		}
		if !ok {
			return &PinMismatchError{Host: host, Want: want, Got: got}
		}
		if o.VerifyHostname {
			if err := leaf.VerifyHostname(host); err != nil {
				return &HostnameError{Host: host, Err: err}
			}
		}
		return nil
	}
	return cfg, nil
}
