package agent

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// A kind is one sort of data the agent serves: metrics, processes, disks,
// a process's detail, its journal, a signal's result… Everything the agent
// knows of a kind is its entry: every place that serves data indexes the
// registry instead of naming kinds — serveV2 by the request's body,
// serveText by the JSON type or command, Snapshot by name, subscriptions
// by their intervals, Hello by capability, /metrics by its writer. The
// entries are listed in builtinKinds; each lives in the file of its topic
// (metrics.go, processes.go, …) beside its collection, so adding a kind is
// one file and one line there.
type kind struct {
	// name names the kind in `socktop snapshot NAME` and in errors.
	name string
	// capability is what Hello lists when the kind is served ("" for
	// hello itself).
	capability string
	// served reports whether this agent serves the kind on this machine;
	// nil means always. It is asked once, at the first request that needs
	// the capabilities. A request for a kind not served gets
	// ERROR_CODE_NOT_SUPPORTED with the message unserved.
	served   func(*Agent) bool
	unserved string
	// features are capabilities the kind adds when served (temps, gpu).
	features func(*Agent) []string

	// v2 is a request of the kind, with an empty body message: requests
	// are routed by its body's Go type, and answered in the Response body
	// field of its body's number (the same number in both oneofs,
	// socktop.proto); nil: not in the v2 dialect.
	v2 *wire.Request
	// v2Query reads a v2 request's parameters; nil: it has none.
	v2Query func(*wire.Request) query
	// text is the kind's request in the JSON and command dialects (its
	// ID is set by the registry); zero: not in those dialects. textQuery
	// reads more than the route's pid; encode is the reply.
	text      dialect.Route
	textQuery func(dialect.TextRequest) (query, error)
	encode    func(wire.Dialect, proto.Message) wire.Frame

	// open makes the kind's source in a new agent: its caches and
	// collectors (cachedOf for a sample shared by every client for a TTL).
	open func(*Agent) source

	// snapshot: `socktop snapshot NAME` prints the kind's sample, asked
	// with snapshotQuery.
	snapshot      bool
	snapshotQuery query
	// push makes the kind pushable to subscribers; nil: it is not.
	push *pushSpec
	// prom writes the kind's series on a /metrics scrape; nil: none.
	prom func(*promWriter, reply)

	// cost is the request's rate-limit cost in tokens (0 is 1); slow
	// requests are served beside the connection's read loop.
	cost float64
	slow bool
}

// query is what one request asks of its kind, in whichever dialect it
// came. It is comparable: subscribers asking the same share one push.
type query struct {
	pid    uint32
	lines  int
	extras extras // processes: the costly fields asked for
	// closed asks connections for TIME-WAIT and NEW-SYN-RECV sockets too,
	// as ss lists them (the snapshot does; the dashboards do not).
	closed bool
	// seconds and points are a JSON-dialect history request's span (0:
	// everything kept) and max_points (0: the default).
	seconds, points uint32
	// top asks metrics for the busiest process (v2 only: the text
	// dialects have no field for it).
	top bool
	// scrape marks a /metrics scrape, which writes only part of a sample
	// (kind.prom): a source may collect just that part.
	scrape bool
	// v2 is the whole request, for kinds whose parameters are their own
	// (signal); nil for text requests, snapshots, pushes and scrapes.
	v2 *wire.Request
}

// pushSpec is how a pushable kind appears in SubscribeRequest and
// Subscription.
type pushSpec struct {
	// floor is the shortest interval served (upstream's client's).
	floor time.Duration
	// asked reads the interval a SubscribeRequest asks, in ms (0: none);
	// kept writes the interval served, and what of the query is, into the
	// Subscription.
	asked func(*wire.SubscribeRequest) uint32
	kept  func(s *wire.Subscription, ms uint32, q query)
	// query reads what else the subscription asks of the kind; nil: nothing.
	query func(*wire.SubscribeRequest) query
}

// source is a kind's server inside one agent.
type source interface {
	get(ctx context.Context, q query) (reply, error)
}

// releaser is a source holding something open between requests (the
// process sampler's /proc files), let go of while nobody is connected.
type releaser interface{ release() }

// reply is one answer of a kind, with each encoding made at most once.
type reply interface {
	message() proto.Message
	// v2Body is the message marshalled, the body of a Response.
	v2Body() ([]byte, error)
	// frame is the reply in a text dialect, encoded by enc.
	frame(d wire.Dialect, enc func(wire.Dialect, proto.Message) wire.Frame) wire.Frame
}

// registry indexes a list of kinds for the ways they are asked for.
type registry struct {
	kinds    []*kind
	fields   []protowire.Number // each kind's v2 body field number
	index    map[*kind]int
	byBody   map[reflect.Type]int // v2 request body type → kind
	byName   map[string]int       // snapshot names
	pushable []int                // kinds with push, in the order of kinds
	routes   []dialect.Route      // text routes; ID is the kind's index
	parser   *dialect.Parser
}

// builtinKinds are the kinds every agent serves, in the order Hello lists
// their capabilities, errors list the text dialects' requests (upstream's
// order) and /metrics writes its series.
func builtinKinds() []*kind {
	return []*kind{helloKind, metricsKind, disksKind, processesKind, detailKind,
		journalKind, connectionsKind, signalKind, historyKind, containersKind}
}

var builtin = newRegistry(builtinKinds()...)

// newRegistry indexes kinds. A kind's v2 body, text names and snapshot
// name must be its own; a clash is a programming error and panics.
func newRegistry(kinds ...*kind) *registry {
	r := &registry{kinds: kinds, fields: make([]protowire.Number, len(kinds)), index: map[*kind]int{}, byBody: map[reflect.Type]int{}, byName: map[string]int{}}
	for i, k := range kinds {
		r.index[k] = i
		if k.v2 != nil {
			t, n := bodyOf(k.v2)
			if j, dup := r.byBody[t]; dup {
				panic(fmt.Sprintf("agent: kinds %q and %q share v2 field %d", k.name, kinds[j].name, n))
			}
			r.byBody[t], r.fields[i] = i, n
		}
		if k.snapshot {
			if _, dup := r.byName[k.name]; dup {
				panic("agent: two kinds named " + k.name)
			}
			r.byName[k.name] = i
		}
		if k.push != nil {
			r.pushable = append(r.pushable, i)
		}
		if k.text.JSON != "" || k.text.Command != "" {
			for _, o := range r.routes {
				if (k.text.JSON != "" && o.JSON == k.text.JSON) || (k.text.Command != "" && o.Command == k.text.Command) {
					panic(fmt.Sprintf("agent: kinds %q and %q share a text request", k.name, kinds[o.ID].name))
				}
			}
			route := k.text
			route.ID = i
			r.routes = append(r.routes, route)
		}
	}
	r.parser = dialect.NewParser(r.routes)
	return r
}

// bodyOf is the Go type of req's body (the oneof wrapper, such as
// *wire.Request_Metrics) and its field number, read from the body's own
// encoding: no protobuf reflection, which would cost every socktop
// command ~0.6 MiB of memory at start.
func bodyOf(req *wire.Request) (reflect.Type, protowire.Number) {
	b, err := (&wire.Request{Body: req.Body}).MarshalVT()
	n, typ, size := protowire.ConsumeTag(b)
	if err != nil || req.Body == nil || size <= 0 || typ != protowire.BytesType {
		panic(fmt.Sprintf("agent: %v is no request with a body", req))
	}
	return reflect.TypeOf(req.Body), n
}

// v2Route is the kind a v2 request asks for (k nil: none) and its index.
type v2Route struct {
	k *kind
	i int
}

// route finds the kind of a v2 request.
func (r *registry) route(req *wire.Request) v2Route {
	i, ok := r.byBody[reflect.TypeOf(req.Body)]
	if !ok {
		return v2Route{}
	}
	return v2Route{r.kinds[i], i}
}

// query reads the request's parameters.
func (rt v2Route) query(req *wire.Request) query {
	if rt.k == nil || rt.k.v2Query == nil {
		return query{}
	}
	return rt.k.v2Query(req)
}

// cost is the request's rate-limit cost in tokens; slow requests read
// per-process files or run journalctl, and are served beside the read
// loop so they do not hold up the connection's other requests.
func (rt v2Route) cost() float64 {
	if rt.k == nil {
		return 1
	}
	return costOf(rt.k)
}

func (rt v2Route) slow() bool { return rt.k != nil && rt.k.slow }

// snapshotNames lists the kinds `socktop snapshot` prints.
func (r *registry) snapshotNames() []string {
	var out []string
	for _, k := range r.kinds {
		if k.snapshot {
			out = append(out, k.name)
		}
	}
	return out
}

// textOf adapts a typed text-dialect reply function for an entry.
func textOf[M proto.Message](f func(wire.Dialect, M) wire.Frame) func(wire.Dialect, proto.Message) wire.Frame {
	return func(d wire.Dialect, m proto.Message) wire.Frame { return f(d, m.(M)) }
}

// message is what a sample holds: a generated message, marshalled with
// vtprotobuf.
type message interface {
	proto.Message
	MarshalVT() ([]byte, error)
}

// get serves one request of the kind at index i.
func (a *Agent) get(ctx context.Context, i int, q query) (reply, error) {
	k := a.reg.kinds[i]
	if k.served != nil && !a.has(k.capability) {
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_NOT_SUPPORTED, "%s", k.unserved)
	}
	return a.src[i].get(ctx, q)
}

// sourceOf is the source of a kind in this agent, if it serves the kind
// (for kinds that use another's samples, such as metrics' busiest process).
func (a *Agent) sourceOf(k *kind) (source, bool) {
	i, ok := a.reg.index[k]
	if !ok {
		return nil, false
	}
	return a.src[i], true
}

// cachedSource is a kind's latest sample, shared by every client for a TTL.
type cachedSource struct {
	c *cache[reply]
}

func (s cachedSource) get(ctx context.Context, _ query) (reply, error) { return s.c.Get(ctx) }

func (s cachedSource) shared() *cache[reply] { return s.c }

// sharedCache is the cache of a kind whose sample every client shares (a
// cachedSource, or a source built on one), nil for other kinds: the busiest
// process of a metrics sample and the flight recorder take from it.
func (a *Agent) sharedCache(k *kind) *cache[reply] {
	s, ok := a.sourceOf(k)
	if !ok {
		return nil
	}
	if c, ok := s.(interface{ shared() *cache[reply] }); ok {
		return c.shared()
	}
	return nil
}

// cachedOf is a source whose sample collect fills for every client, for ttl.
func cachedOf[M message](ttl time.Duration, collect func(context.Context) (*sample[M], error)) cachedSource {
	return cachedSource{newCache(ttl, func(ctx context.Context) (reply, error) {
		s, err := collect(ctx)
		if err != nil {
			return nil, err
		}
		return s, nil
	})}
}

// uncached makes the open function of a kind answered afresh each time.
func uncached[M message](serve func(a *Agent, ctx context.Context, q query) (M, error)) func(*Agent) source {
	return func(a *Agent) source {
		return sourceFunc(func(ctx context.Context, q query) (reply, error) {
			m, err := serve(a, ctx, q)
			if err != nil {
				return nil, err
			}
			return newSample(m), nil
		})
	}
}

type sourceFunc func(ctx context.Context, q query) (reply, error)

func (f sourceFunc) get(ctx context.Context, q query) (reply, error) { return f(ctx, q) }
