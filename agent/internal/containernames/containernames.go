// Package containernames finds the names Docker and Podman gave their
// containers, so the agent can show "pihole" instead of 7d2c9e4f1a6b.
//
// It asks each runtime's API socket (GET /containers/json over a unix
// socket, the endpoint both Docker and Podman's compatible API serve) when
// the agent meets a container id it does not know, at most once per
// MinInterval, in the background: Name never waits for an answer, so a
// sample uses whatever is cached and a later one shows the name. Nothing
// is required: a socket that is missing or not readable by the agent's user
// just leaves ids unnamed. Replies are hostile until checked: each request
// is bounded in time and size, and only 64-hex ids with short printable
// names are kept.
package containernames

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Defaults for Options.
const (
	DefaultTimeout     = 300 * time.Millisecond
	DefaultMinInterval = 5 * time.Second
	DefaultMissRetry   = 30 * time.Second
	DefaultMaxBytes    = 4 << 20
)

// Bounds on what one reply may hold.
const (
	maxContainers = 4096
	maxNameBytes  = 128
	idLen         = 64
	maxMisses     = 4096
)

// ErrTooLarge reports a reply past Options.MaxBytes or maxContainers.
var ErrTooLarge = errors.New("runtime API reply too large")

// Options configure a Resolver; zero fields take the defaults.
type Options struct {
	// Sockets are the API sockets asked, in order (DefaultSockets).
	Sockets []string
	// Timeout bounds one request, connect to last byte.
	Timeout time.Duration
	// MinInterval is the least time between two refreshes.
	MinInterval time.Duration
	// MissRetry is how long an id no runtime knew is left alone before it
	// may trigger a refresh again (a container caught starting, or one
	// that is not Docker's or Podman's).
	MissRetry time.Duration
	// MaxBytes bounds one reply's body.
	MaxBytes int64
}

// DefaultSockets are Docker's socket, rootful Podman's and, when
// XDG_RUNTIME_DIR is set, the user's rootless Podman's.
func DefaultSockets() []string {
	s := []string{"/var/run/docker.sock", "/run/podman/podman.sock"}
	if d := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		s = append(s, filepath.Join(d, "podman", "podman.sock"))
	}
	return s
}

// Resolver caches container names. Its methods are safe for concurrent use.
type Resolver struct {
	opts    Options
	clients []*http.Client
	now     func() time.Time

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	names   []map[string]string // per socket: id → name, from its last good reply
	misses  map[string]time.Time
	wanted  map[string]bool // ids asked for since the refresh in flight started
	running bool
	closed  bool
	last    time.Time // start of the last refresh
	err     error     // of the last refresh
}

// New returns a Resolver; it does nothing until Name or Refresh is called.
func New(opts Options) *Resolver {
	if opts.Sockets == nil {
		opts.Sockets = DefaultSockets()
	}
	opts.Timeout = cmp(opts.Timeout, DefaultTimeout)
	opts.MinInterval = cmp(opts.MinInterval, DefaultMinInterval)
	opts.MissRetry = cmp(opts.MissRetry, DefaultMissRetry)
	opts.MaxBytes = cmp(opts.MaxBytes, DefaultMaxBytes)
	r := &Resolver{opts: opts, now: time.Now, misses: map[string]time.Time{}, wanted: map[string]bool{}}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	for _, sock := range opts.Sockets {
		r.clients = append(r.clients, unixClient(sock, opts.Timeout))
		r.names = append(r.names, nil)
	}
	return r
}

func cmp[T int64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// unixClient is an HTTP client whose every connection goes to sock. No
// connection is kept between refreshes.
func unixClient(sock string, timeout time.Duration) *http.Client {
	var d net.Dialer
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", sock)
			},
			DisableKeepAlives:      true,
			ResponseHeaderTimeout:  timeout,
			MaxResponseHeaderBytes: 16 << 10,
			Proxy:                  nil,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Name returns the name of the container with the full id, if a runtime
// named it. It never waits: an id it has not seen starts a refresh in the
// background (unless one ran less than MinInterval ago, or the id was
// missing from a refresh less than MissRetry ago) and returns false.
func (r *Resolver) Name(id string) (string, bool) {
	if !validID(id) {
		return "", false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.names {
		if n, ok := m[id]; ok {
			return n, true
		}
	}
	now := r.now()
	if t, ok := r.misses[id]; ok && now.Sub(t) < r.opts.MissRetry {
		return "", false
	}
	if len(r.wanted) < maxMisses {
		r.wanted[id] = true
	}
	if r.running || r.closed || (!r.last.IsZero() && now.Sub(r.last) < r.opts.MinInterval) {
		return "", false
	}
	r.running, r.last = true, now
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.refresh(r.ctx)
	}()
	return "", false
}

// Refresh asks every socket now and waits for the answers; the agent does
// not need it (Name refreshes on its own), tests and tools do. The error
// joins each socket's; sockets that answered are used either way.
func (r *Resolver) Refresh(ctx context.Context) error {
	r.mu.Lock()
	r.last = r.now()
	r.mu.Unlock()
	return r.refresh(ctx)
}

// Err returns the error of the last refresh (nil when every socket answered).
func (r *Resolver) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close stops a refresh in flight and waits for it; Name then only reads
// the cache.
func (r *Resolver) Close() {
	r.mu.Lock()
	r.closed = true // no refresh starts after this, so Wait below sees them all
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

func (r *Resolver) refresh(ctx context.Context) error {
	results := make([]map[string]string, len(r.clients))
	var errs []error
	for i, c := range r.clients {
		m, err := fetch(ctx, c, r.opts.MaxBytes)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.opts.Sockets[i], err))
			continue
		}
		results[i] = m
	}
	err := errors.Join(errs...)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, m := range results {
		if m != nil {
			r.names[i] = m // a socket that failed keeps its last good names
		}
	}
	now := r.now()
	if len(r.misses)+len(r.wanted) > maxMisses {
		clear(r.misses)
	}
	for id := range r.wanted {
		if !r.known(id) {
			r.misses[id] = now
		}
	}
	clear(r.wanted)
	r.running, r.err = false, err
	return err
}

func (r *Resolver) known(id string) bool {
	for _, m := range r.names {
		if _, ok := m[id]; ok {
			return true
		}
	}
	return false
}

// fetch asks one socket for its running containers.
func fetch(ctx context.Context, c *http.Client, maxBytes int64) (map[string]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost/containers/json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /containers/json: %s", resp.Status)
	}
	return ParseContainers(resp.Body, maxBytes)
}

// ParseContainers reads a /containers/json reply (a JSON array of objects
// with "Id" and "Names") of at most maxBytes and returns id → name for the
// entries whose id is 64 lowercase hex digits and that have a valid name:
// the first of Names that, once a leading "/" is dropped, holds no "/"
// (Docker's link aliases do) and is 1–128 bytes of printable UTF-8. Other
// entries are skipped; a reply that is not such an array, is longer than
// maxBytes or lists more than 4096 containers is an error.
func ParseContainers(body io.Reader, maxBytes int64) (map[string]string, error) {
	lr := &io.LimitedReader{R: body, N: maxBytes + 1}
	dec := json.NewDecoder(lr)
	tooLarge := func(err error) error {
		if lr.N <= 0 {
			return fmt.Errorf("more than %d bytes: %w", maxBytes, ErrTooLarge)
		}
		return fmt.Errorf("decode /containers/json: %w", err)
	}
	if t, err := dec.Token(); err != nil {
		return nil, tooLarge(err)
	} else if t != json.Delim('[') {
		return nil, fmt.Errorf("decode /containers/json: want an array, got %v", t)
	}
	out := map[string]string{}
	for n := 0; dec.More(); n++ {
		if n == maxContainers {
			return nil, fmt.Errorf("more than %d containers: %w", maxContainers, ErrTooLarge)
		}
		var c struct {
			ID    string   `json:"Id"`
			Names []string `json:"Names"`
		}
		if err := dec.Decode(&c); err != nil {
			return nil, tooLarge(err)
		}
		if !validID(c.ID) {
			continue
		}
		for _, name := range c.Names {
			if len(name) > 0 && name[0] == '/' {
				name = name[1:]
			}
			if validName(name) {
				out[c.ID] = name
				break
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, tooLarge(err)
	}
	if lr.N <= 0 {
		return nil, fmt.Errorf("more than %d bytes: %w", maxBytes, ErrTooLarge)
	}
	return out, nil
}

func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// validName reports whether name may be shown: short, valid UTF-8, no
// "/", no control or format characters (they could steer a terminal) and
// no U+FFFD (encoding/json's stand-in for invalid UTF-8).
func validName(name string) bool {
	if name == "" || len(name) > maxNameBytes || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if r == '/' || r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
