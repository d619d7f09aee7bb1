package agent

import (
	"context"
	"sync"
	"time"
)

// keyedCache is a cache (single-flight, TTL) per key — a pid — holding at
// most max keys: identical concurrent requests share one collection, and a
// client cycling through every pid cannot grow it without bound.
type keyedCache[K comparable, T any] struct {
	ttl     time.Duration
	max     int
	collect func(ctx context.Context, k K) (T, error)

	mu      sync.Mutex
	entries map[K]*keyedEntry[T]
}

type keyedEntry[T any] struct {
	c    *cache[T]
	used time.Time // created
}

func newKeyedCache[K comparable, T any](ttl time.Duration, max int, collect func(context.Context, K) (T, error)) *keyedCache[K, T] {
	return &keyedCache[K, T]{ttl: ttl, max: max, collect: collect, entries: map[K]*keyedEntry[T]{}}
}

// Get returns k's value no older than the TTL, collecting it if needed.
func (kc *keyedCache[K, T]) Get(ctx context.Context, k K) (T, error) {
	now := time.Now()
	kc.mu.Lock()
	kc.evict(now, k)
	e := kc.entries[k]
	if e == nil {
		e = &keyedEntry[T]{c: newCache(kc.ttl, func(ctx context.Context) (T, error) { return kc.collect(ctx, k) }), used: now}
		kc.entries[k] = e
	}
	kc.mu.Unlock()
	return e.c.Get(ctx)
}

// evict drops the entries created a TTL ago or more (their values are no
// longer served, so nothing holds them), and, to make room for a new key,
// the oldest one. A collection in flight finishes for its waiters; only the
// map forgets it. Called with kc.mu held.
func (kc *keyedCache[K, T]) evict(now time.Time, k K) {
	var oldest K
	var oldestAt time.Time
	for key, e := range kc.entries {
		if now.Sub(e.used) >= kc.ttl && !e.c.busy() {
			delete(kc.entries, key)
			continue
		}
		if oldestAt.IsZero() || e.used.Before(oldestAt) {
			oldest, oldestAt = key, e.used
		}
	}
	if _, ok := kc.entries[k]; !ok && len(kc.entries) >= kc.max {
		delete(kc.entries, oldest)
	}
}

// Len is how many keys are held.
func (kc *keyedCache[K, T]) Len() int {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	return len(kc.entries)
}
