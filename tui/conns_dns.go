package tui

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Reverse DNS for the Connections screen. It is off by default; when on,
// the view asks for the names of the addresses it draws and shows the
// address until an answer arrives. Lookups run on a few background
// goroutines with a timeout, answers (and failures) are cached, and the UI
// never waits for one.

const (
	dnsTimeout    = 2 * time.Second
	dnsWorkers    = 4
	dnsCacheMax   = 1024
	dnsQueueMax   = 256
	dnsFailureTTL = 5 * time.Minute
	dnsSuccessTTL = 30 * time.Minute
)

// lookupAddrFunc resolves an address to names (net.Resolver.LookupAddr).
type lookupAddrFunc func(ctx context.Context, addr string) ([]string, error)

type dnsEntry struct {
	name    string // "" while pending or after a failure
	pending bool
	at      time.Time
}

// resolver is the reverse DNS cache. name is called on the UI goroutine;
// workers report back through done (which posts a redraw).
type resolver struct {
	lookup lookupAddrFunc
	done   func() // called on a worker after an answer: redraw

	mu      sync.Mutex
	cache   map[netip.Addr]*dnsEntry
	queue   []netip.Addr
	workers int
	ctx     context.Context
	wg      *sync.WaitGroup // the app's: workers end before it stops
}

func newResolver(ctx context.Context, wg *sync.WaitGroup, done func()) *resolver {
	return &resolver{lookup: net.DefaultResolver.LookupAddr, done: done, ctx: ctx, wg: wg,
		cache: map[netip.Addr]*dnsEntry{}}
}

// name returns the cached name of a, or "" and queues a lookup. It never
// blocks on the network.
func (r *resolver) name(a netip.Addr, now time.Time) string {
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
	if len(r.queue) >= dnsQueueMax || r.ctx == nil || r.ctx.Err() != nil {
		return ""
	}
	if len(r.cache) >= dnsCacheMax {
		r.evictLocked()
	}
	r.cache[a] = &dnsEntry{pending: true, at: now}
	r.queue = append(r.queue, a)
	if r.workers < dnsWorkers {
		r.workers++
		r.wg.Add(1)
		go r.work()
	}
	return ""
}

// evictLocked drops the oldest settled entries until there is room.
func (r *resolver) evictLocked() {
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

func (r *resolver) work() {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		if len(r.queue) == 0 || r.ctx.Err() != nil {
			r.workers--
			r.mu.Unlock()
			return
		}
		a := r.queue[0]
		r.queue = r.queue[1:]
		r.mu.Unlock()

		ctx, cancel := context.WithTimeout(r.ctx, dnsTimeout)
		names, err := r.lookup(ctx, a.String())
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

// pending is the number of lookups queued or running.
func (r *resolver) pending() int {
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

// peek returns the cached name of a without queueing a lookup.
func (r *resolver) peek(a netip.Addr) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.cache[a]; ok {
		return e.name
	}
	return ""
}
