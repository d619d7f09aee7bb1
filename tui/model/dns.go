package model

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Reverse DNS for the Connections screen. It is off by default; when on,
// the screen asks for the names of the addresses it draws and shows the
// address until an answer arrives. Lookups run on a few workers with a
// timeout, started through the shell (which waits for them before it
// stops); answers (and failures) are cached, and the UI never waits for one.

const (
	dnsTimeout    = 2 * time.Second
	dnsWorkers    = 4
	dnsCacheMax   = 1024
	dnsQueueMax   = 256
	dnsFailureTTL = 5 * time.Minute
	dnsSuccessTTL = 30 * time.Minute
)

// LookupAddrFunc resolves an address to names (net.Resolver.LookupAddr).
type LookupAddrFunc func(ctx context.Context, addr string) ([]string, error)

type dnsEntry struct {
	name    string // "" while pending or after a failure
	pending bool
	at      time.Time
}

// Resolver is the reverse DNS cache. Name is called on the UI goroutine;
// workers report back through done (which posts a redraw).
type Resolver struct {
	// Lookup resolves; tests replace it before the first Name.
	Lookup LookupAddrFunc
	done   func() // called on a worker after an answer: redraw
	// spawn runs a worker; false when the dashboard is stopping
	spawn func(func(ctx context.Context)) bool

	mu      sync.Mutex
	cache   map[netip.Addr]*dnsEntry
	queue   []netip.Addr
	workers int
}

// NewResolver makes a cache whose workers are started by spawn (the
// shell's Go, so they are waited for) and which calls done after each
// answer.
func NewResolver(spawn func(func(ctx context.Context)) bool, done func()) *Resolver {
	return &Resolver{Lookup: net.DefaultResolver.LookupAddr, done: done, spawn: spawn,
		cache: map[netip.Addr]*dnsEntry{}}
}

// Name returns the cached name of a, or "" and queues a lookup. It never
// blocks on the network.
func (r *Resolver) Name(a netip.Addr, now time.Time) string {
	if !a.IsValid() || a.IsUnspecified() {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.cache[a]; ok {
		ttl := dnsSuccessTTL
		if e.name == "" {
			ttl = dnsFailureTTL
		}
		if e.pending || now.Sub(e.at) < ttl {
			return e.name
		}
	}
	if len(r.queue) >= dnsQueueMax {
		return ""
	}
	if len(r.cache) >= dnsCacheMax {
		r.evictLocked()
	}
	r.cache[a] = &dnsEntry{pending: true, at: now}
	r.queue = append(r.queue, a)
	if r.workers < dnsWorkers && r.spawn(r.work) {
		r.workers++
	}
	return ""
}

// evictLocked drops the oldest settled entries until there is room.
func (r *Resolver) evictLocked() {
	for len(r.cache) >= dnsCacheMax {
		var oldest netip.Addr
		var at time.Time
		for a, e := range r.cache {
			if !e.pending && (at.IsZero() || e.at.Before(at)) {
				oldest, at = a, e.at
			}
		}
		if at.IsZero() {
			return // all pending: the queue bound keeps this small
		}
		delete(r.cache, oldest)
	}
}

func (r *Resolver) work(ctx context.Context) {
	for {
		r.mu.Lock()
		if len(r.queue) == 0 || ctx.Err() != nil {
			r.workers--
			r.mu.Unlock()
			return
		}
		a := r.queue[0]
		r.queue = r.queue[1:]
		r.mu.Unlock()

		lctx, cancel := context.WithTimeout(ctx, dnsTimeout)
		names, err := r.Lookup(lctx, a.String())
		cancel()
		name := ""
		if err == nil && len(names) > 0 {
			name = strings.TrimSuffix(names[0], ".")
		}
		r.mu.Lock()
		r.cache[a] = &dnsEntry{name: name, at: time.Now()}
		r.mu.Unlock()
		if name != "" && r.done != nil {
			r.done()
		}
	}
}

// Pending is the number of lookups queued or running.
func (r *Resolver) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.cache {
		if e.pending {
			n++
		}
	}
	return n
}

// Peek returns the cached name of a without queueing a lookup.
func (r *Resolver) Peek(a netip.Addr) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.cache[a]; ok {
		return e.name
	}
	return ""
}
