package containernames

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	pihole = "7d2c9e4f1a6b3c8d5e0f2a4b6c8d0e1f3a5b7c9d1e2f4a6b8c0d2e4f6a8b0c2d"
	hass   = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	nginx  = "2c624232cdd221771294dfbb310aca000a0df6ac8b66b696d90ef06fdefb64a3"
)

// serve runs a real HTTP server on a unix socket in a temporary directory
// and returns the socket's path.
func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	dir := t.TempDir()
	if len(dir) > 80 { // sun_path holds 108 bytes
		var err error
		if dir, err = os.MkdirTemp("", "cn"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	sock := filepath.Join(dir, "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sock
}

// fileHandler serves a recorded reply of GET /containers/json.
func fileHandler(t *testing.T, name string, hits *atomic.Int32) http.HandlerFunc {
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if hits != nil {
			hits.Add(1)
		}
		if r.Method != http.MethodGet || r.URL.Path != "/containers/json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
}

func TestRefreshDockerAndPodman(t *testing.T) {
	docker := serve(t, fileHandler(t, "docker-containers.json", nil))
	podman := serve(t, fileHandler(t, "podman-containers.json", nil))
	missing := filepath.Join(t.TempDir(), "none.sock")
	r := New(Options{Sockets: []string{missing, docker, podman}})
	defer r.Close()
	err := r.Refresh(context.Background())
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing socket not reported: %v", err)
	}
	for id, want := range map[string]string{pihole: "pihole", hass: "homeassistant", nginx: "nginx-proxy"} {
		if got, ok := r.Name(id); !ok || got != want {
			t.Errorf("Name(%s) = %q, %v; want %q", id[:12], got, ok, want)
		}
	}
}

func TestNameNeverWaits(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	serveFile := fileHandler(t, "docker-containers.json", nil)
	sock := serve(t, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		serveFile(w, r)
	})
	r := New(Options{Sockets: []string{sock}, Timeout: time.Minute})
	defer r.Close()
	if _, ok := r.Name(pihole); ok {
		t.Fatal("named before any refresh")
	}
	<-started // the refresh is in flight and the server holds it
	// The cache still answers (this would deadlock if Name waited).
	if _, ok := r.Name(pihole); ok {
		t.Fatal("named while the reply is held")
	}
	close(release)
	r.wg.Wait()
	if got, ok := r.Name(pihole); !ok || got != "pihole" {
		t.Fatalf("after the refresh: %q, %v (err %v)", got, ok, r.Err())
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRefreshRateLimited(t *testing.T) {
	var hits atomic.Int32
	sock := serve(t, fileHandler(t, "docker-containers.json", &hits))
	r := New(Options{Sockets: []string{sock}, MinInterval: 5 * time.Second, MissRetry: 30 * time.Second})
	defer r.Close()
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	r.now = clock.now
	ask := func(id string) (string, bool) {
		t.Helper()
		name, ok := r.Name(id)
		r.wg.Wait()
		return name, ok
	}
	stranger := strings.Repeat("ab", 32) // a container no runtime knows (an LXC or CRI one)
	other := strings.Repeat("cd", 32)
	ask(pihole)
	if hits.Load() != 1 {
		t.Fatalf("first unknown id: %d requests, want 1", hits.Load())
	}
	for range 10 {
		ask(pihole) // known now: no request
	}
	ask(stranger) // unknown, but within MinInterval
	if hits.Load() != 1 {
		t.Fatalf("within MinInterval: %d requests, want 1", hits.Load())
	}
	clock.add(5 * time.Second)
	if _, ok := ask(stranger); ok || hits.Load() != 2 {
		t.Fatalf("after MinInterval: %d requests, want 2", hits.Load())
	}
	clock.add(10 * time.Second)
	ask(stranger) // missing from the last reply: left alone for MissRetry
	if hits.Load() != 2 {
		t.Fatalf("a recent miss refreshed: %d requests", hits.Load())
	}
	ask(other) // a new id is not held back by another's miss
	if hits.Load() != 3 {
		t.Fatalf("new id: %d requests, want 3", hits.Load())
	}
	clock.add(30 * time.Second)
	ask(stranger)
	if hits.Load() != 4 {
		t.Fatalf("after MissRetry: %d requests, want 4", hits.Load())
	}
	for _, bad := range []string{"", "pihole", pihole[:12], strings.ToUpper(pihole), pihole + "0", "../../../../etc/passwd"} {
		clock.add(time.Minute)
		if _, ok := ask(bad); ok {
			t.Errorf("Name(%q) found", bad)
		}
	}
	if hits.Load() != 4 {
		t.Errorf("invalid ids refreshed: %d requests", hits.Load())
	}
}

func TestCloseStopsRefresh(t *testing.T) {
	started := make(chan struct{}, 1)
	sock := serve(t, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done()
	})
	r := New(Options{Sockets: []string{sock}, Timeout: time.Hour})
	r.Name(pihole)
	<-started
	r.Close() // returns only once the refresh has stopped
	if err := r.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if _, ok := r.Name(nginx); ok || r.running {
		t.Error("a closed resolver refreshed")
	}
}

func TestFailedSocketKeepsItsNames(t *testing.T) {
	var fail atomic.Bool
	serveFile := fileHandler(t, "docker-containers.json", nil)
	sock := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "daemon restarting", http.StatusServiceUnavailable)
			return
		}
		serveFile(w, r)
	})
	r := New(Options{Sockets: []string{sock}})
	defer r.Close()
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	if err := r.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v, want the 503", err)
	}
	if got, ok := r.Name(pihole); !ok || got != "pihole" {
		t.Errorf("names lost on a failed refresh: %q %v", got, ok)
	}
}

// entry is one /containers/json element in the shape Docker sends.
func entry(id string, names ...string) string {
	var q []string
	for _, n := range names {
		q = append(q, `"`+n+`"`)
	}
	return fmt.Sprintf(`{"Id":%q,"Names":[%s],"Image":"x","State":"running","Labels":{}}`, id, strings.Join(q, ","))
}

func TestHostileReplies(t *testing.T) {
	hold := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	for _, tc := range []struct {
		name     string
		maxBytes int64
		handler  http.HandlerFunc
		check    func(t *testing.T, err error, r *Resolver)
	}{
		{"endless stream", 64 << 10, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("["))
			e := []byte(entry(pihole, "/x") + ",")
			for r.Context().Err() == nil {
				if _, err := w.Write(e); err != nil {
					return
				}
			}
		}, wantErr(ErrTooLarge)},
		{"one huge name", 0, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`[{"Id":"` + pihole + `","Names":["/`))
			w.Write(bytes.Repeat([]byte("a"), DefaultMaxBytes+10))
			w.Write([]byte(`"]}]`))
		}, wantErr(ErrTooLarge)},
		{"too many containers", 0, func(w http.ResponseWriter, r *http.Request) {
			var b strings.Builder
			b.WriteString("[")
			for i := range maxContainers + 1 {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(entry(fmt.Sprintf("%064x", i), "/c"))
			}
			b.WriteString("]")
			w.Write([]byte(b.String()))
		}, wantErr(ErrTooLarge)},
		{"slow headers", 0, hold, wantTimeout},
		{"slow body", 0, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`[` + entry(pihole, "/pihole")))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, wantTimeout},
		{"not an array", 0, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"message":"page not found"}`))
		}, wantErr(nil)},
		{"not JSON", 0, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("<html>hello</html>"))
		}, wantErr(nil)},
		{"cut short", 0, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`[` + entry(pihole, "/pihole") + `,{"Id":`))
		}, wantErr(nil)},
		{"deep nesting", 0, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`[{"Id":"` + pihole + `","X":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}]`))
		}, wantErr(nil)},
		{"redirect", 0, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://example.com/containers/json", http.StatusFound)
		}, wantErr(nil)},
		{"bogus entries skipped", 0, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("[" + strings.Join([]string{
				entry(strings.ToUpper(hass), "/upper"),
				entry(hass[:63], "/short"),
				entry(hass+"0", "/long"),
				entry("../../../../etc/passwd", "/path"),
				`{"Names":["/noid"]}`,
				entry(hass, "/bad\xff\xfeutf8"),
				entry(nginx, `/\u001b[2Jclear`, `/\u202eevil`, "/"+strings.Repeat("n", 129), "/web/alias", "/ok-name"),
				entry(pihole, "/pihole"),
				`{"Id":"` + strings.Repeat("f", 64) + `","Names":null}`,
			}, ",") + "]"))
		}, func(t *testing.T, err error, r *Resolver) {
			if err != nil {
				t.Fatal(err)
			}
			m := r.names[0]
			if len(m) != 2 || m[pihole] != "pihole" || m[nginx] != "ok-name" {
				t.Errorf("kept %q", m)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := serve(t, tc.handler)
			timeout := 10 * time.Second // the size cases must fail by size, however loaded the machine
			if strings.HasPrefix(tc.name, "slow") {
				timeout = DefaultTimeout
			}
			r := New(Options{Sockets: []string{sock}, MaxBytes: tc.maxBytes, Timeout: timeout})
			defer r.Close()
			tc.check(t, r.Refresh(context.Background()), r)
		})
	}
}

// wantErr checks that the refresh failed (with target, if not nil) and
// named nothing.
func wantErr(target error) func(*testing.T, error, *Resolver) {
	return func(t *testing.T, err error, r *Resolver) {
		t.Helper()
		if err == nil || (target != nil && !errors.Is(err, target)) {
			t.Errorf("err = %v, want %v", err, target)
		}
		if r.names[0] != nil {
			t.Errorf("kept names from a bad reply: %q", r.names[0])
		}
	}
}

func wantTimeout(t *testing.T, err error, r *Resolver) {
	t.Helper()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("err = %v, want a timeout", err)
	}
	if r.names[0] != nil {
		t.Errorf("kept names from a slow reply: %q", r.names[0])
	}
}

func TestParseContainersRecorded(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "docker-containers.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ParseContainers(f, DefaultMaxBytes)
	if err != nil || len(m) != 2 || m[hass] != "homeassistant" {
		t.Errorf("got %q, %v", m, err)
	}
	if m, err := ParseContainers(strings.NewReader("[]"), 2); err != nil || len(m) != 0 {
		t.Errorf("empty: %q, %v", m, err)
	}
	if _, err := ParseContainers(strings.NewReader("[]   "), 2); !errors.Is(err, ErrTooLarge) {
		t.Errorf("past the cap: %v", err)
	}
}

func TestDefaultSockets(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	if s := DefaultSockets(); len(s) != 3 || s[2] != "/run/user/1000/podman/podman.sock" || s[0] != "/var/run/docker.sock" {
		t.Errorf("sockets %q", s)
	}
	t.Setenv("XDG_RUNTIME_DIR", "relative")
	if s := DefaultSockets(); len(s) != 2 {
		t.Errorf("a relative XDG_RUNTIME_DIR was used: %q", s)
	}
}
