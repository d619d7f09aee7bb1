package agent

import (
	"context"
	"sync"
	"time"
)

// collectTimeout bounds one collection; it runs detached from the asking
// client's context so that one client hanging up does not fail the others
// waiting on the same collection.
const collectTimeout = 10 * time.Second

// cache holds the latest sample of one kind of data, shared by every client,
// for ttl. Concurrent callers of an expired cache wait for one collection
// (single-flight). Nothing runs between calls: no timers, no goroutines.
type cache[T any] struct {
	ttl     time.Duration
	collect func(ctx context.Context) (T, error)
	now     func() time.Time

	mu       sync.Mutex
	val      T
	at       time.Time
	valid    bool
	inflight *flight[T]
}

type flight[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func newCache[T any](ttl time.Duration, collect func(context.Context) (T, error)) *cache[T] {
	return &cache[T]{ttl: ttl, collect: collect, now: time.Now}
}

// Get returns a sample no older than the TTL, collecting one if needed.
func (c *cache[T]) Get(ctx context.Context) (T, error) { return c.get(ctx, c.ttl) }

// GetWithin is Get for a caller that wants a sample younger than maxAge
// too (the flight recorder: two ticks never share one sample).
func (c *cache[T]) GetWithin(ctx context.Context, maxAge time.Duration) (T, error) {
	return c.get(ctx, min(c.ttl, maxAge))
}

// Renew is Get for a caller whose sample lacks what it needs: it returns
// the latest sample if keep says it has it, else collects afresh (or
// waits for the collection in flight).
func (c *cache[T]) Renew(ctx context.Context, keep func(T) bool) (T, error) {
	return c.getIf(ctx, func(v T, at time.Time) bool { return c.ttl > 0 && c.now().Sub(at) < c.ttl && keep(v) })
}

func (c *cache[T]) get(ctx context.Context, ttl time.Duration) (T, error) {
	return c.getIf(ctx, func(_ T, at time.Time) bool { return ttl > 0 && c.now().Sub(at) < ttl })
}

// getIf returns the latest sample if usable says so, else collects.
func (c *cache[T]) getIf(ctx context.Context, usable func(v T, at time.Time) bool) (T, error) {
	c.mu.Lock()
	if c.valid && usable(c.val, c.at) {
		v := c.val
		c.mu.Unlock()
		return v, nil
	}
	f := c.inflight
	if f == nil {
		// This caller collects for everyone, in its own goroutine, with a
		// context of its own (see collectTimeout).
		f = &flight[T]{done: make(chan struct{})}
		c.inflight = f
		c.mu.Unlock()
		c.run(f)
		return f.val, f.err
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func (c *cache[T]) run(f *flight[T]) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	f.val, f.err = c.collect(ctx)
	c.mu.Lock()
	if f.err == nil {
		c.val, c.at, c.valid = f.val, c.now(), true
	}
	c.inflight = nil
	c.mu.Unlock()
	close(f.done)
}

// busy reports whether a collection is in flight.
func (c *cache[T]) busy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight != nil
}

// Peek returns the latest sample without collecting, and whether there is one.
func (c *cache[T]) Peek() (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.val, c.valid
}

// PeekWithin returns the latest sample without collecting when it is
// younger than maxAge.
func (c *cache[T]) PeekWithin(maxAge time.Duration) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || maxAge <= 0 || c.now().Sub(c.at) >= maxAge {
		var zero T
		return zero, false
	}
	return c.val, true
}
