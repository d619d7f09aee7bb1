package wire

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
)

// v2Transport speaks socktop.v2: binary Request/Response envelopes matched
// by id, so any number of calls may be in flight; pushes of the live
// subscription carry its request's id.
type v2Transport struct {
	l       *link
	opts    *Options
	nextID  atomic.Uint32
	mu      sync.Mutex
	pending map[uint32]chan v2Reply
	subID   atomic.Uint32 // the live subscription's request id, 0 without one
	pushes  chan<- Push
}

// v2Reply is what the read loop hands a waiting caller: the reply, or why
// it could not be read (an implausible one).
type v2Reply struct {
	resp *Response
	err  error
}

func newV2Transport(l *link, opts *Options, pushes chan<- Push) *v2Transport {
	return &v2Transport{l: l, opts: opts, pending: map[uint32]chan v2Reply{}, pushes: pushes}
}

func (t *v2Transport) handshake(ctx context.Context) (*Hello, error) {
	resp, err := t.roundTrip(ctx, &Request{Body: &Request_Hello{Hello: &HelloRequest{
		ClientVersion: t.opts.ClientVersion, ClientName: t.opts.ClientName,
		ProtocolMajor: ProtocolMajor, ProtocolMinor: ProtocolMinor}}})
	if err != nil {
		if errors.Is(err, ErrTimeout) {
			return nil, fmt.Errorf("%w: the agent accepted %s but did not answer Hello", ErrProtocol, Subprotocol)
		}
		return nil, err
	}
	h := resp.GetHello()
	if h == nil {
		return nil, fmt.Errorf("%w: Hello answered with %T", ErrProtocol, resp.Body)
	}
	if h.ProtocolMajor != ProtocolMajor {
		return nil, fmt.Errorf("%w: agent speaks %d.%d, this client %d.%d; upgrade the older side",
			ErrProtocolVersion, h.ProtocolMajor, h.ProtocolMinor, ProtocolMajor, ProtocolMinor)
	}
	return h, nil
}

// newID picks the next request id; 0 is reserved for agent-initiated errors.
func (t *v2Transport) newID() uint32 {
	id := t.nextID.Add(1)
	if id == 0 { // wrapped
		id = t.nextID.Add(1)
	}
	return id
}

func (t *v2Transport) roundTrip(ctx context.Context, req *Request) (*Response, error) {
	id := t.newID()
	req.Id = id
	_, subscribe := req.Body.(*Request_Subscribe)
	if subscribe {
		// Pushes carry the subscription's id; it is known before the
		// request leaves so that none of them can arrive unrecognised.
		t.subID.Store(id)
	}
	resp, err := t.exchange(ctx, req)
	if err != nil && subscribe {
		t.subID.CompareAndSwap(id, 0)
	}
	return resp, err
}

func (t *v2Transport) exchange(ctx context.Context, req *Request) (*Response, error) {
	id := req.Id
	ch := make(chan v2Reply, 1)
	t.mu.Lock()
	t.pending[id] = ch
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.pending, id)
		t.mu.Unlock()
	}()
	what := requestName(req)
	if err := t.l.send(ctx, what, websocket.MessageBinary, AppendRequest(nil, req)); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("%s: %w", what, r.err)
		}
		if e := r.resp.GetError(); e != nil {
			return nil, fmt.Errorf("%s: %w", what, e)
		}
		return r.resp, nil
	case <-ctx.Done():
		return nil, timeoutErr(ctx, what)
	case <-t.l.done:
		return nil, fmt.Errorf("%s: %w", what, t.l.failErr)
	}
}

// take hands the waiter of id its reply; it reports false when nobody
// waits for id.
func (t *v2Transport) take(id uint32, r v2Reply) bool {
	t.mu.Lock()
	ch := t.pending[id]
	delete(t.pending, id)
	t.mu.Unlock()
	if ch == nil {
		return false
	}
	ch <- r // buffered 1, never blocks
	return true
}

func (t *v2Transport) receive(typ websocket.MessageType, data []byte) {
	if typ != websocket.MessageBinary {
		return // v2 is binary only; ignore anything else
	}
	resp, err := DecodeResponse(data)
	if errors.Is(err, ErrImplausible) {
		// Tell the caller waiting for it; a push (or a reply nobody
		// waits for) that cannot be believed ends the connection, since
		// no caller would hear of it.
		if !t.take(responseID(data), v2Reply{err: err}) {
			t.l.abort(err)
		}
		return
	}
	if err != nil {
		return // undecodable: the waiter, if any, times out
	}
	switch {
	case t.take(resp.Id, v2Reply{resp: resp}):
	case resp.Id != 0 && resp.Id == t.subID.Load():
		t.deliverPush(resp)
	case resp.Id == 0 && resp.GetError().GetCode() == ErrorCode_ERROR_CODE_PROTOCOL_VERSION:
		t.l.fail(fmt.Errorf("%w: %s", ErrProtocolVersion, resp.GetError().GetMessage()))
	}
}

// deliverPush hands a pushed Response to Pushes without blocking the read
// loop: when the reader is behind, the push is dropped.
func (t *v2Transport) deliverPush(r *Response) {
	var p Push
	switch b := r.Body.(type) {
	case *Response_Metrics:
		p.Metrics = b.Metrics
	case *Response_Processes:
		p.Processes = b.Processes
	case *Response_Disks:
		p.Disks = b.Disks
	case *Response_Containers:
		p.Containers = b.Containers
	default:
		return
	}
	select {
	case t.pushes <- p:
	default:
	}
}
