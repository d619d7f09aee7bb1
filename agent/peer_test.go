package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// syncBuffer is a log destination tests read while the agent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(substr string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range strings.Split(s.b.String(), "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// httpFrom is an HTTP client whose connections come from local. It takes
// any certificate: the agents it talks to are the tests' own.
func httpFrom(local string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
			return d.DialContext(ctx, network, addr)
		}}}
}

// statusFrom makes one GET from a local address and returns its status.
func statusFrom(t *testing.T, cl *http.Client, url string, hdr ...string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestWrongTokensThrottled: a peer gets authFailBurst wrong tokens, then
// 429 for whatever it sends (the right token too, or it could go on
// guessing) until its bucket refills; another peer is not affected; a
// missing token is no guess; the log gets one line and one summary.
func TestWrongTokensThrottled(t *testing.T) {
	logs := &syncBuffer{}
	cfg := testConfig()
	cfg.Token = "s3cret"
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	a, addr := serveAgent(t, cfg)
	a.limits.auth.every = 300 * time.Millisecond
	base := "http://" + addr + "/metrics"
	guesser, other := httpFrom("127.0.0.1"), httpFrom("127.0.0.2")

	for range 30 {
		if got := statusFrom(t, guesser, base); got != http.StatusUnauthorized {
			t.Fatalf("no token: HTTP %d, want 401 (a missing token is not a guess)", got)
		}
	}
	for i := range authFailBurst {
		if got := statusFrom(t, guesser, base, "Authorization", fmt.Sprintf("Bearer guess%d", i)); got != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: HTTP %d, want 401", i+1, got)
		}
	}
	if got := statusFrom(t, guesser, base, "Authorization", "Bearer guess-more"); got != http.StatusTooManyRequests {
		t.Errorf("wrong token %d: HTTP %d, want 429", authFailBurst+1, got)
	}
	if got := statusFrom(t, guesser, base+"?token=s3cret"); got != http.StatusTooManyRequests {
		t.Errorf("the right token from a throttled peer: HTTP %d, want 429", got)
	}
	if got := statusFrom(t, other, base+"?token=s3cret"); got != http.StatusOK {
		t.Errorf("the right token from another peer: HTTP %d, want 200", got)
	}
	if got := statusFrom(t, guesser, "http://"+addr+"/ws?token=s3cret"); got != http.StatusTooManyRequests {
		t.Errorf("/ws with the right token from a throttled peer: HTTP %d, want 429", got)
	}
	time.Sleep(1100 * time.Millisecond) // one token back at authFailRate
	if got := statusFrom(t, guesser, base+"?token=s3cret"); got != http.StatusOK {
		t.Errorf("the right token after the bucket refilled: HTTP %d, want 200", got)
	}

	if !waitFor(5*time.Second, func() bool { return len(logs.lines("repeated=")) > 0 }) {
		t.Errorf("no summary line for the held-back failures")
	}
	lines := logs.lines("unauthorized request")
	t.Logf("%d failed requests → %d log lines:\n%s", 30+authFailBurst+3, len(lines), strings.Join(lines, "\n"))
	if len(lines) > 4 {
		t.Errorf("%d log lines for %d failures, want a handful", len(lines), 30+authFailBurst+3)
	}
}

// TestGuessingFlood is issue 13's 18,000 guesses a second against the
// built binary: 4 guessers on keep-alive connections for 5 s. Each peer
// gets authFailBurst tries and then one a second; the log stays small.
func TestGuessingFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the built binary")
	}
	ap := startAgentProcess(t, buildSocktop(t), []string{"SOCKTOP_TOKEN=s3cret"})
	base := "http://" + strings.TrimSuffix(strings.TrimPrefix(ap.url, "ws://"), "/ws") + "/metrics"
	log0 := ap.logBytes.Load()
	const d = 5 * time.Second
	var answered, throttled, other atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := range 4 {
		cl := httpFrom("127.0.0.1")
		wg.Go(func() {
			for i := 0; time.Since(start) < d; i++ {
				req, _ := http.NewRequest("GET", base, nil)
				req.Header.Set("Authorization", fmt.Sprintf("Bearer guess-%d-%d", g, i))
				resp, err := cl.Do(req)
				if err != nil {
					other.Add(1)
					continue
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusUnauthorized:
					answered.Add(1)
				case http.StatusTooManyRequests:
					throttled.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	logged := ap.logBytes.Load() - log0
	t.Logf("%v of guessing: %d guesses checked (%.1f/s), %d answered 429, %d other; %d bytes of log",
		elapsed.Round(time.Millisecond), answered.Load(), float64(answered.Load())/elapsed.Seconds(), throttled.Load(), other.Load(), logged)
	if limit := int64(authFailBurst + authFailRate*(elapsed.Seconds()+1)); answered.Load() > limit {
		t.Errorf("%d guesses checked in %v, want ≤ %d", answered.Load(), elapsed, limit)
	}
	if throttled.Load() == 0 {
		t.Error("no guess was answered 429")
	}
	if logged > 4<<10 {
		t.Errorf("the agent logged %d bytes for a guessing flood, want ≤ 4 KiB", logged)
	}
}

// TestHTTPRequestsRateLimited: plain HTTP requests, which the WebSocket
// rate limit does not see, are limited per peer.
func TestHTTPRequestsRateLimited(t *testing.T) {
	_, addr := serveAgent(t, testConfig())
	cl := httpFrom("127.0.0.1")
	var ok, limited int
	for range 3 * httpBurst {
		switch statusFrom(t, cl, "http://"+addr+"/metrics") {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
		}
	}
	t.Logf("%d scrapes back to back: %d answered, %d 429", 3*httpBurst, ok, limited)
	if limited == 0 || ok < httpBurst {
		t.Errorf("%d answered, %d limited; want the first %d answered and then 429", ok, limited, httpBurst)
	}
	if got := statusFrom(t, httpFrom("127.0.0.2"), "http://"+addr+"/healthz"); got != http.StatusOK {
		t.Errorf("another peer: HTTP %d", got)
	}
}

// TestPeerBucketsBounded: the per-peer map never grows past its bound;
// when it is full of draining buckets, new peers share the overflow one.
func TestPeerBucketsBounded(t *testing.T) {
	p := newPeerBuckets(1, 2)
	p.max = 64
	now := time.Now()
	for i := range 10_000 {
		peer := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		p.take(peer, now)
		p.take(peer, now)
	}
	if n := len(p.m); n > 64 {
		t.Errorf("%d buckets, want ≤ 64", n)
	}
	// Every mapped bucket is drained: a new peer draws on the overflow
	// bucket, which the flood emptied too.
	if p.take(netip.MustParseAddr("192.0.2.1"), now) {
		t.Error("a new peer got a token while the map was full of drained buckets and the overflow empty")
	}
	// Once the buckets have refilled, they make room again.
	later := now.Add(10 * time.Second)
	if !p.take(netip.MustParseAddr("192.0.2.1"), later) {
		t.Error("a new peer got no token after every bucket refilled")
	}
	// An IPv6 peer is its /64.
	a, b := peerOf(netip.MustParseAddr("2001:db8:1:2::1")), peerOf(netip.MustParseAddr("2001:db8:1:2:ffff::9"))
	if a != b || a == peerOf(netip.MustParseAddr("2001:db8:1:3::1")) {
		t.Errorf("IPv6 peers: %v %v", a, b)
	}
	if peerOf(netip.MustParseAddr("::ffff:10.0.0.1")) != netip.MustParseAddr("10.0.0.1") {
		t.Error("an IPv4-mapped address is not its IPv4 peer")
	}
}
