package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
	"google.golang.org/protobuf/proto"
)

// fakeKind is a kind the agent does not have, declared as a new one is:
// an entry and a collection. It takes the v2 slot of containers (the
// registries it joins leave the real containers kind out: kindsBut), a JSON type and a command of its own, a
// snapshot name, a push interval (containers_ms), a capability and a
// Prometheus series. Each collection counts up, so a test can tell
// samples apart.
func fakeKind(served bool, collections *atomic.Int64) *kind {
	return &kind{
		name: "fake", capability: "fake_groups",
		served:   func(*Agent) bool { return served },
		unserved: "fake groups are not available on this agent",
		v2:       &wire.Request{Body: &wire.Request_Containers{Containers: &wire.ContainersRequest{}}},
		text:     dialect.Route{JSON: "fake_groups", Command: "get_fake_groups"},
		encode: textOf(func(d wire.Dialect, c *wire.Containers) wire.Frame {
			b, _ := json.Marshal(map[string]any{"groups": len(c.Containers), "first": c.Containers[0].Id})
			return dialect.ReplyJSON(d, b)
		}),
		open: func(a *Agent) source {
			return cachedOf(0, func(context.Context) (*sample[*wire.Containers], error) {
				n := collections.Add(1)
				return newSample(&wire.Containers{SampledAtMs: nowMS(),
					Containers: []*wire.Container{{Id: fmt.Sprintf("fake-%d", n), Name: "fake", Runtime: "test"}}}), nil
			})
		},
		snapshot: true,
		push: &pushSpec{floor: 50 * time.Millisecond, asked: (*wire.SubscribeRequest).GetContainersMs,
			kept: func(s *wire.Subscription, ms uint32, _ query) { s.ContainersMs = ms }},
		prom: func(p *promWriter, r reply) {
			p.gauge("socktop_fake_groups", "Groups of the fake kind.", float64(len(r.message().(*wire.Containers).Containers)))
		},
	}
}

// kindsBut is the built-in kinds without k.
func kindsBut(k *kind) []*kind {
	var out []*kind
	for _, b := range builtinKinds() {
		if b != k {
			out = append(out, b)
		}
	}
	return out
}

func startRegistry(t *testing.T, reg *registry) (*Agent, *httptest.Server) {
	t.Helper()
	a, err := newAgent(testConfig(), reg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { a.Shutdown(); srv.Close() })
	return a, srv
}

// strictDecode decodes a v2 frame with protobuf's validating decoder.
func strictDecode(t *testing.T, b []byte) *wire.Response {
	t.Helper()
	var r wire.Response
	if err := proto.Unmarshal(b, &r); err != nil {
		t.Fatalf("proto.Unmarshal: %v", err)
	}
	return &r
}

// TestRegistryServesANewKind registers a fake kind beside the built-in
// ones and checks that it is served in every way its entry declares: its
// capability in Hello, the v2 request and response, its JSON type and
// command, its snapshot, pushes to a subscription, and /metrics; and that
// an agent that does not serve it says so in each.
func TestRegistryServesANewKind(t *testing.T) {
	var collections atomic.Int64
	a, srv := startRegistry(t, newRegistry(append(kindsBut(containersKind), fakeKind(true, &collections))...))
	v2 := dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})

	hello := v2Call(t, v2, &wire.Request{Id: 1, Body: &wire.Request_Hello{Hello: &wire.HelloRequest{ProtocolMajor: wire.ProtocolMajor}}}).GetHello()
	if !hello.HasCapability("fake_groups") || !hello.HasCapability(wire.CapMetrics) {
		t.Errorf("Hello capabilities %v: want fake_groups beside the built-in ones", hello.GetCapabilities())
	}

	_, b := roundTrip(t, v2, websocket.MessageBinary, wire.AppendRequest(nil, &wire.Request{Id: 2, Body: &wire.Request_Containers{Containers: &wire.ContainersRequest{}}}))
	got := strictDecode(t, b)
	if c := got.GetContainers(); got.Id != 2 || len(c.GetContainers()) != 1 || !strings.HasPrefix(c.Containers[0].Id, "fake-") {
		t.Errorf("v2 request: %v", got)
	}

	text := dial(t, wsURL(srv), nil)
	for _, req := range []string{`{"type":"fake_groups"}`, "get_fake_groups"} {
		typ, b := roundTrip(t, text, websocket.MessageText, []byte(req))
		var v struct {
			Groups int
			First  string
		}
		if typ != websocket.MessageText || json.Unmarshal(b, &v) != nil || v.Groups != 1 || !strings.HasPrefix(v.First, "fake-") {
			t.Errorf("%s: %v %s", req, typ, b)
		}
	}
	// The text dialects' errors list it among the requests they know.
	if _, b := roundTrip(t, text, websocket.MessageText, []byte(`{"type":"nope"}`)); !bytes.Contains(b, []byte("fake_groups")) {
		t.Errorf("unknown type error does not name fake_groups: %s", b)
	}

	m, err := a.Snapshot(context.Background(), "fake")
	if c, ok := m.(*wire.Containers); err != nil || !ok || len(c.Containers) != 1 {
		t.Errorf("snapshot fake: %v %v", m, err)
	}

	_, b = roundTrip(t, v2, websocket.MessageBinary, wire.AppendRequest(nil, &wire.Request{Id: 9, Body: &wire.Request_Subscribe{Subscribe: &wire.SubscribeRequest{ContainersMs: 10}}}))
	if s := strictDecode(t, b).GetSubscription(); s.GetContainersMs() != 50 || s.GetMetricsMs() != 0 {
		t.Errorf("subscription: %v, want containers every 50 ms (the kind's floor) and nothing else", s)
	}
	seen := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(seen) < 3 {
		_, b, err := v2.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for pushes (have %d): %v", len(seen), err)
		}
		r := strictDecode(t, b)
		if r.Id != 9 || r.GetContainers() == nil {
			t.Fatalf("push %v: want id 9 and a fake sample", r)
		}
		seen[r.GetContainers().Containers[0].Id] = true
	}

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	found := false
	for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
		found = found || sc.Text() == "socktop_fake_groups 1"
	}
	if !found {
		t.Error("/metrics has no socktop_fake_groups 1")
	}

	// Not served on this machine: absent from Hello, refused in each way.
	var none atomic.Int64
	b2, srv2 := startRegistry(t, newRegistry(append(kindsBut(containersKind), fakeKind(false, &none))...))
	v2b := dial(t, wsURL(srv2), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if h := v2Call(t, v2b, &wire.Request{Id: 1, Body: &wire.Request_Hello{Hello: &wire.HelloRequest{ProtocolMajor: wire.ProtocolMajor}}}).GetHello(); h.HasCapability("fake_groups") {
		t.Errorf("an agent that does not serve it lists it: %v", h.Capabilities)
	}
	if e := v2Call(t, v2b, &wire.Request{Id: 2, Body: &wire.Request_Containers{Containers: &wire.ContainersRequest{}}}).GetError(); e.GetCode() != wire.ErrorCode_ERROR_CODE_NOT_SUPPORTED {
		t.Errorf("v2 request of a kind not served: %v", e)
	}
	if _, b := roundTrip(t, dial(t, wsURL(srv2), nil), websocket.MessageText, []byte("get_fake_groups")); !bytes.Contains(b, []byte("not available")) {
		t.Errorf("command of a kind not served: %s", b)
	}
	if _, err := b2.Snapshot(context.Background(), "fake"); !errorsIsCode(err, wire.ErrorCode_ERROR_CODE_NOT_SUPPORTED) {
		t.Errorf("snapshot of a kind not served: %v", err)
	}
	if none.Load() != 0 {
		t.Errorf("a kind not served was collected %d times", none.Load())
	}
}

func errorsIsCode(err error, code wire.ErrorCode) bool {
	var we *wire.Error
	return errors.As(err, &we) && we.Code == code
}

// TestRegistryRefusesClashes: two kinds cannot share a v2 body, a text
// request or a snapshot name.
func TestRegistryRefusesClashes(t *testing.T) {
	var n atomic.Int64
	clash := func(edit func(k *kind)) (panicked bool) {
		defer func() { panicked = recover() != nil }()
		k := fakeKind(true, &n)
		edit(k)
		newRegistry(append(kindsBut(containersKind), k)...)
		return false
	}
	for name, edit := range map[string]func(*kind){
		"v2 body":       func(k *kind) { k.v2 = metricsKind.v2 },
		"empty v2 body": func(k *kind) { k.v2 = &wire.Request{} },
		"JSON type":     func(k *kind) { k.text.JSON = "disks" },
		"command":       func(k *kind) { k.text.Command = "get_processes" },
		"snapshot name": func(k *kind) { k.name = "metrics" },
	} {
		if !clash(edit) {
			t.Errorf("a kind with another's %s was registered", name)
		}
	}
	if clash(func(*kind) {}) {
		t.Error("the fake kind itself was refused")
	}
}

// TestRegistryFieldsMatchTheSchema: each kind's request body field has a
// Response body field of the same number and name, where its replies go.
func TestRegistryFieldsMatchTheSchema(t *testing.T) {
	req := (&wire.Request{}).ProtoReflect().Descriptor().Fields()
	resp := (&wire.Response{}).ProtoReflect().Descriptor().Fields()
	n := 0
	for i, k := range builtin.kinds {
		if k.v2 == nil {
			continue
		}
		f := builtin.fields[i]
		q, r := req.ByNumber(f), resp.ByNumber(f)
		if q == nil || r == nil || q.ContainingOneof() == nil || r.ContainingOneof() == nil || q.Name() != r.Name() {
			t.Errorf("%s: field %d is %v in Request and %v in Response", k.name, f, q, r)
		}
		n++
	}
	// hello, metrics, disks, processes, process detail, journal,
	// connections, signal, history, containers
	if n != 10 {
		t.Errorf("%d kinds in the v2 dialect, want 10", n)
	}
}
