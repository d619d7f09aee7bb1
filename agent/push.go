package agent

import (
	"context"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
)

// Subscriptions (the v2 SubscribeRequest): instead of asking for every
// sample, a client asks once and the agent pushes on a clock shared by every
// subscriber of the same kind and interval. A request costs the agent a
// network wake-up, a read and a write; a push costs one write, and a hundred
// dashboards share one wake-up and one collection per tick. Nothing ticks
// while nobody is subscribed.

// pushCeiling keeps a typo from becoming a subscription that never fires;
// the floors are the kinds' own (pushSpec.floor).
const pushCeiling = time.Hour

// pushQueue is how many pushes wait for a slow reader before new ones are
// dropped (the next one brings the client up to date).
const pushQueue = 4

// pushKey is what one group's subscribers are pushed: a kind (its index
// in the registry), asked with the same query, at one interval.
type pushKey struct {
	kind  int
	every time.Duration
	q     query
}

// pushGroup is every subscriber of one kind at one interval.
type pushGroup struct {
	key  pushKey
	subs map[*conn]*subscriber
	stop chan struct{} // closed when the last subscriber leaves
}

// subscriber is one connection in a group.
type subscriber struct {
	id   uint32 // the subscription's request id, carried by every push
	last []byte // the body pushed last, so that no sample goes out twice
}

// subscription reads a SubscribeRequest: the group of each kind this
// agent pushes that it asks for, at the interval kept (after the kind's
// floor and the ceiling).
func (a *Agent) subscription(s *wire.SubscribeRequest) []pushKey {
	var out []pushKey
	for _, i := range a.reg.pushable {
		k := a.reg.kinds[i]
		ms := k.push.asked(s)
		if ms == 0 || (k.served != nil && !a.has(k.capability)) {
			continue
		}
		ask := pushKey{kind: i, every: min(max(time.Duration(ms)*time.Millisecond, k.push.floor), pushCeiling)}
		if k.push.query != nil {
			ask.q = k.push.query(s)
		}
		out = append(out, ask)
	}
	return out
}

// subscribe answers a SubscribeRequest on the connection's read loop: the
// Subscription reply, one push of each kind at once, then the shared clocks.
// The clocks are joined last so that no tick can overtake the reply.
func (cn *conn) subscribe(id uint32, s *wire.SubscribeRequest) {
	a := cn.a
	subs := a.subscription(s)
	a.leave(cn)
	reply := &wire.Subscription{}
	for _, sub := range subs {
		a.reg.kinds[sub.kind].push.kept(reply, uint32(sub.every.Milliseconds()), sub.q)
	}
	body, _ := reply.MarshalVT()
	if cn.writeV2(envelope(id, fieldSubscription, body)) != nil || len(subs) == 0 {
		return
	}
	sent := make([][]byte, len(subs))
	for j, sub := range subs {
		if b, err := a.pushBody(cn.ctx, sub); err == nil {
			cn.writeV2(envelope(id, a.reg.fields[sub.kind], b))
			sent[j] = b
		}
	}
	if cn.pushq == nil {
		cn.pushq = make(chan []byte, pushQueue)
		cn.wg.Go(cn.pushLoop)
	}
	a.join(cn, id, subs, sent)
}

// pushBody returns the marshalled body of the latest sample of a group,
// shared by every subscriber (each sample is marshalled once).
func (a *Agent) pushBody(ctx context.Context, key pushKey) ([]byte, error) {
	r, err := a.get(ctx, key.kind, key.q)
	if err != nil {
		return nil, err
	}
	return r.v2Body()
}

// join adds cn to the groups of its new subscription, starting the clock of
// a group that has no subscriber yet.
func (a *Agent) join(cn *conn, id uint32, subs []pushKey, sent [][]byte) {
	a.pushMu.Lock()
	defer a.pushMu.Unlock()
	if cn.ctx.Err() != nil {
		return // the connection ended meanwhile; its leave already ran
	}
	for j, key := range subs {
		g := a.groups[key]
		if g == nil {
			g = &pushGroup{key: key, subs: map[*conn]*subscriber{}, stop: make(chan struct{})}
			a.groups[key] = g
			go a.tick(g)
		}
		g.subs[cn] = &subscriber{id: id, last: sent[j]}
		cn.joined = append(cn.joined, g)
	}
}

// leave removes cn from every group it is in; a group left empty stops its
// clock.
func (a *Agent) leave(cn *conn) {
	a.pushMu.Lock()
	defer a.pushMu.Unlock()
	for _, g := range cn.joined {
		delete(g.subs, cn)
		if len(g.subs) == 0 {
			delete(a.groups, g.key)
			close(g.stop)
		}
	}
	cn.joined = cn.joined[:0]
}

// Subscribers counts the connections with a live subscription.
func (a *Agent) Subscribers() int {
	a.pushMu.Lock()
	defer a.pushMu.Unlock()
	seen := map[*conn]bool{}
	for _, g := range a.groups {
		for cn := range g.subs {
			seen[cn] = true
		}
	}
	return len(seen)
}

// tick is a group's clock. Ticks fall on whole multiples of the interval,
// so groups whose intervals divide one another (metrics every 500 ms,
// processes every 2 s) fire in the same wake-up.
func (a *Agent) tick(g *pushGroup) {
	next := func() time.Duration {
		now := time.Now()
		return now.Truncate(g.key.every).Add(g.key.every).Sub(now)
	}
	field := a.reg.fields[g.key.kind]
	t := time.NewTimer(next())
	defer t.Stop()
	var to []*conn
	var ids []uint32
	frames := map[uint32][]byte{}
	for {
		select {
		case <-t.C:
		case <-g.stop:
			return
		}
		t.Reset(next())
		body, err := a.pushBody(context.Background(), g.key)
		if err != nil {
			a.log.Debug("push: collection failed", "err", err)
			continue
		}
		a.pushMu.Lock()
		to, ids = to[:0], ids[:0]
		for cn, sub := range g.subs {
			if samePush(sub.last, body) {
				continue // the cache still holds the sample this one has
			}
			sub.last = body
			to, ids = append(to, cn), append(ids, sub.id)
		}
		a.pushMu.Unlock()
		// Subscribers whose subscriptions have the same id (every dashboard
		// of one version asks in the same order) share one frame.
		for i, cn := range to {
			f := frames[ids[i]]
			if f == nil {
				f = envelope(ids[i], field, body)
				frames[ids[i]] = f
			}
			cn.offer(f)
		}
		clear(to)
		clear(frames)
	}
}

// samePush reports whether two bodies are the same marshalled sample (each
// sample is marshalled once, into its own buffer).
func samePush(a, b []byte) bool {
	return len(a) > 0 && len(b) > 0 && &a[0] == &b[0]
}

// offer queues a push without waiting: a subscriber that reads too slowly
// misses it, and never holds up the others.
func (cn *conn) offer(frame []byte) {
	select {
	case cn.pushq <- frame:
	default:
		cn.a.pushesDropped.Add(1)
	}
}

// pushLoop writes the connection's pushes.
func (cn *conn) pushLoop() {
	for {
		select {
		case f := <-cn.pushq:
			if cn.write(websocket.MessageBinary, f) != nil {
				return
			}
		case <-cn.ctx.Done():
			return
		}
	}
}
