package agent

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// serveAgent runs a real agent with Serve (the http.Server, connection
// limiter and timeouts of `socktop agent`) on 127.0.0.1:0 and returns it
// with its address.
func serveAgent(t testing.TB, cfg Config) (*Agent, string) {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveListener(t, a, ln)
	return a, ln.Addr().String()
}

// rawReply is one HTTP response read off a raw connection.
type rawReply struct {
	status int
	body   string
}

// rawRequest sends one hand-written HTTP/1.1 request — any Host header a
// browser under DNS rebinding would send — and reads the response.
func rawRequest(t testing.TB, addr, host, path string, extra ...string) rawReply {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n" + strings.Join(extra, "")
	if _, err := c.Write([]byte(req + "\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("Host %q %s: %v", host, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return rawReply{resp.StatusCode, string(b)}
}

// upgradeHeaders make a raw request a WebSocket handshake.
func upgradeHeaders(extra ...string) []string {
	key := make([]byte, 16)
	rand.Read(key)
	return append([]string{"Upgrade: websocket\r\n", "Connection: Upgrade\r\n", "Sec-WebSocket-Version: 13\r\n",
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\n"}, extra...)
}

// TestHostHeaderGuard is DNS rebinding against a real agent: raw requests
// with forged Host headers on every path, before and after the upgrade.
func TestHostHeaderGuard(t *testing.T) {
	host, _ := os.Hostname()
	cfg := testConfig()
	cfg.AllowedHosts = []string{"kitchen.lan", "*.fleet.example"}
	_, addr := serveAgent(t, cfg)
	_, port, _ := net.SplitHostPort(addr)

	refused := []string{"evil.example", "evil.example:" + port, "rebind.attacker.test", "127.0.0.1.evil.example",
		"localhost.evil.example", "kitchen.lan.evil.example", "fleet.example", "2130706433", "0x7f.1", "LOCALHOST-not"}
	allowed := []string{"127.0.0.1:" + port, "127.0.0.1", "[::1]:" + port, "[::1]", "192.168.1.40:3000", "10.0.0.5",
		"[fe80::1%25eth0]:3000", "localhost:" + port, "LOCALHOST", "localhost.", "app.localhost:" + port,
		"kitchen.lan:3000", "KITCHEN.LAN", "pi.fleet.example:3000", strings.ToLower(host) + ":" + port, host + ".local"}

	paths := []string{"/healthz", "/metrics", "/ws", "/nowhere"}
	for _, h := range refused {
		for _, p := range paths {
			var extra []string
			if p == "/ws" {
				extra = upgradeHeaders()
			}
			r := rawRequest(t, addr, h, p, extra...)
			if r.status != http.StatusMisdirectedRequest {
				t.Errorf("Host %q %s: HTTP %d, want 421", h, p, r.status)
				continue
			}
			if !strings.Contains(r.body, "--allowed-host") || !strings.Contains(r.body, "--token") {
				t.Errorf("Host %q %s: the refusal does not name the fix: %q", h, p, r.body)
			}
		}
	}
	for _, h := range allowed {
		if r := rawRequest(t, addr, h, "/healthz"); r.status != http.StatusOK {
			t.Errorf("Host %q /healthz: HTTP %d %q, want 200", h, r.status, r.body)
		}
		if r := rawRequest(t, addr, h, "/ws", upgradeHeaders()...); r.status != http.StatusSwitchingProtocols {
			t.Errorf("Host %q /ws: HTTP %d %q, want 101", h, r.status, r.body)
		}
	}
	// The Origin check still stands behind the Host check: a page on
	// another origin that names the agent by IP is refused the upgrade.
	if r := rawRequest(t, addr, addr, "/ws", upgradeHeaders("Origin: http://evil.example\r\n")...); r.status != http.StatusForbidden {
		t.Errorf("cross-origin upgrade: HTTP %d, want 403", r.status)
	}
	r := rawRequest(t, addr, "evil.example", "/metrics")
	t.Logf("Host evil.example → %d %s", r.status, strings.TrimSpace(r.body))

	// With a token, the token defends the agent: any host name is
	// answered, once the token is given.
	cfg = testConfig()
	cfg.Token = "s3cret"
	_, taddr := serveAgent(t, cfg)
	if r := rawRequest(t, taddr, "evil.example", "/metrics"); r.status != http.StatusUnauthorized {
		t.Errorf("token agent, Host evil.example, no token: HTTP %d, want 401", r.status)
	}
	if r := rawRequest(t, taddr, "proxy.example", "/metrics", "Authorization: Bearer s3cret\r\n"); r.status != http.StatusOK {
		t.Errorf("token agent, Host proxy.example, with the token: HTTP %d, want 200", r.status)
	}
}
