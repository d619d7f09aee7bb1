package wire_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
	"github.com/socktop/socktop/wire/wiretest"
	"google.golang.org/protobuf/encoding/protowire"
)

// hostileAgent answers Hello (v2) or the first get_metrics (command
// dialect) truthfully, then every other request with the frames
// reply(request) gives.
type hostileAgent struct {
	url string
}

type rawFrame struct {
	typ websocket.MessageType
	b   []byte
}

type replyFunc = func(req []byte) []rawFrame

// one is a replyFunc sending the same frame to every request.
func one(typ websocket.MessageType, b []byte) replyFunc {
	return func([]byte) []rawFrame { return []rawFrame{{typ, b}} }
}

func startHostile(t *testing.T, v2 bool, reply replyFunc) *hostileAgent {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts := &websocket.AcceptOptions{}
		if v2 {
			opts.Subprotocols = []string{wire.Subprotocol}
		}
		c, err := websocket.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		first := true
		for {
			_, req, err := c.Read(r.Context())
			if err != nil {
				return
			}
			var frames []rawFrame
			switch {
			case v2 && first:
				hr, _ := wire.DecodeRequest(req)
				h := wiretest.SampleHello()
				h.Capabilities = append(h.Capabilities, wire.CapSubscribe)
				frames = []rawFrame{{websocket.MessageBinary, wire.AppendResponse(nil, &wire.Response{Id: hr.GetId(), Body: &wire.Response_Hello{Hello: h}})}}
			case first:
				f := dialect.ReplyMetrics(wire.DialectCommand, wiretest.SampleMetrics())
				frames = []rawFrame{{f.Type, f.Data}}
			default:
				frames = reply(req)
			}
			first = false
			for _, f := range frames {
				if c.Write(r.Context(), f.typ, f.b) != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	return &hostileAgent{url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"}
}

// repeated encodes n copies of field num holding value (an empty message
// when value is nil): the cheapest way to make a decoder allocate n rows.
func repeated(num protowire.Number, n int, value []byte) []byte {
	f := protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), value)
	return bytes.Repeat(f, n)
}

// v2Body answers request req with body (field field of Response).
func v2Body(field protowire.Number, body []byte) replyFunc {
	return func(req []byte) []rawFrame {
		r, _ := wire.DecodeRequest(req)
		return []rawFrame{{websocket.MessageBinary, v2Frame(r.GetId(), field, body)}}
	}
}

func v2Frame(id uint32, field protowire.Number, body []byte) []byte {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(id))
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, body)
}

// Response body fields and their messages' repeated fields (socktop.proto).
const (
	rMetrics, rDisks, rProcesses, rDetail, rJournal, rConnections = 3, 4, 5, 6, 7, 8
)

// TestHostileAgentImplausibleSamples: an agent that sends samples no
// machine could (a million cores, 30 million empty process rows in 60 MiB,
// a 65 KB gzip frame inflating to 64 MiB of them…) drove the dashboard past
// 4 GiB. The client must refuse each with ErrImplausible, reading "agent
// sent an implausible sample", its heap growing by well under 256 MiB.
func TestHostileAgentImplausibleSamples(t *testing.T) {
	packedFloats := func(n int) []byte { return make([]byte, 4*n) }
	metricsWith := func(field protowire.Number, n int) []byte {
		if field == 3 { // cpu_per_core, packed
			return protowire.AppendBytes(protowire.AppendTag(nil, 3, protowire.BytesType), packedFloats(n))
		}
		return repeated(field, n, nil)
	}
	deepDetail := func(levels int) []byte {
		d := []byte{}
		for range levels {
			d = protowire.AppendBytes(protowire.AppendTag(nil, 21, protowire.BytesType), d)
		}
		return protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), d)
	}
	childrenWithThreads := func(children, threads int) []byte {
		child := repeated(22, threads, nil)
		return protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), repeated(21, children, child))
	}
	gzipRows := func(n int) []byte { return wire.Gzip(repeated(2, n, nil)) }
	emptyRows := 30_000_000 // 60 MB of 2-byte rows

	cases := []struct {
		name string
		v2   bool
		call func(context.Context, *wire.Client) error
		// reply builds the hostile frame (once, before the heap is measured).
		reply func() replyFunc
		want  string
	}{
		{"v2: a million cores", true, metrics, func() replyFunc {
			return v2Body(rMetrics, metricsWith(3, 1_000_000))
		}, "1000000 cores"},
		{"v2: 60 MB of empty process rows", true, processes, func() replyFunc {
			return v2Body(rProcesses, repeated(2, emptyRows, nil))
		}, "processes"},
		{"v2: a million interfaces", true, metrics, func() replyFunc {
			return v2Body(rMetrics, metricsWith(18, 1_000_000))
		}, "network interfaces"},
		{"v2: a million temperatures", true, metrics, func() replyFunc {
			return v2Body(rMetrics, metricsWith(17, 1_000_000))
		}, "temperatures"},
		{"v2: a million GPUs", true, metrics, func() replyFunc {
			return v2Body(rMetrics, metricsWith(19, 1_000_000))
		}, "GPUs"},
		{"v2: a million disks", true, disks, func() replyFunc {
			return v2Body(rDisks, repeated(2, 1_000_000, nil))
		}, "disks"},
		{"v2: ten million connections", true, connections, func() replyFunc {
			return v2Body(rConnections, repeated(2, 10_000_000, nil))
		}, "connections"},
		{"v2: a million journal entries", true, journal, func() replyFunc {
			return v2Body(rJournal, repeated(2, 1_000_000, nil))
		}, "journal entries"},
		{"v2: a million children", true, detail, func() replyFunc {
			return v2Body(rDetail, childrenWithThreads(1_000_000, 0))
		}, "children"},
		{"v2: a million threads", true, detail, func() replyFunc {
			d := repeated(22, 1_000_000, nil)
			return v2Body(rDetail, protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), d))
		}, "threads"},
		{"v2: 4,000 children of 100 threads each", true, detail, func() replyFunc {
			return v2Body(rDetail, childrenWithThreads(4000, 100))
		}, "values in one reply"},
		{"v2: children nested 1,000 deep", true, detail, func() replyFunc {
			return v2Body(rDetail, deepDetail(1000))
		}, "nested"},
		{"command: 65 KB of gzip inflating to 64 MiB of empty process rows", false, processes, func() replyFunc {
			b := gzipRows(32 << 20)
			return one(websocket.MessageBinary, b)
		}, "processes"},
		{"command: gzip inflating past the limit", false, processes, func() replyFunc {
			b := wire.Gzip(make([]byte, 200<<20))
			return one(websocket.MessageBinary, b)
		}, "inflates past the size limit"},
		{"command: a million cores", false, metrics, func() replyFunc {
			j := []byte(`{"cpu_total":1,"cpu_per_core":[` + strings.Repeat("0,", 999_999) + `0],"mem_total":1,"hostname":"x"}`)
			b := wire.Gzip(j)
			return one(websocket.MessageBinary, b)
		}, "values in one reply"},
		{"command: a million disks", false, disks, func() replyFunc {
			b := wire.Gzip([]byte(`[` + strings.Repeat(`{},`, 999_999) + `{}]`))
			return one(websocket.MessageBinary, b)
		}, "values in one reply"},
		{"command: a detail of a million threads", false, detail, func() replyFunc {
			b := wire.Gzip([]byte(`{"process":{"pid":1,"threads":[` + strings.Repeat(`{},`, 999_999) + `{}]},"cached_at":1}`))
			return one(websocket.MessageBinary, b)
		}, "values in one reply"},
		{"command: a detail nested 5,000 deep", false, detail, func() replyFunc {
			b := wire.Gzip([]byte(`{"process":` + strings.Repeat(`{"child_processes":[`, 5000) + strings.Repeat(`]}`, 5000) + `,"cached_at":1}`))
			return one(websocket.MessageBinary, b)
		}, "nested"},
		{"command: a million journal entries", false, journal, func() replyFunc {
			b := wire.Gzip([]byte(`{"entries":[` + strings.Repeat(`{},`, 999_999) + `{}],"total_count":1}`))
			return one(websocket.MessageBinary, b)
		}, "values in one reply"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reply := c.reply()
			ag := startHostile(t, c.v2, reply)
			cl := dial(t, ag.url, nil)
			if (cl.Dialect() == wire.DialectV2) != c.v2 {
				t.Fatalf("dialect %v", cl.Dialect())
			}
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			peak := wiretest.HeapPeak()
			err := c.call(ctx(t), cl)
			grew := int64(peak()) - int64(before.HeapInuse)
			t.Logf("%v; heap +%.1f MiB at most", err, float64(grew)/(1<<20))
			if !strings.Contains(err.Error(), c.want) || !(errors.Is(err, wire.ErrImplausible) || errors.Is(err, wire.ErrTooLarge)) {
				t.Errorf("got %v, want ErrImplausible (or ErrTooLarge) about %q", err, c.want)
			}
			if errors.Is(err, wire.ErrImplausible) && !strings.Contains(err.Error(), "agent sent an implausible sample") {
				t.Errorf("%q does not say what the dashboard shows", err)
			}
			if grew > 256<<20 {
				t.Errorf("the client's heap grew by %d MiB", grew>>20)
			}
		})
	}
}

// An implausible push has no caller to tell: it ends the connection, with
// the reason.
func TestHostileAgentImplausiblePush(t *testing.T) {
	absurd := protowire.AppendBytes(protowire.AppendTag(nil, 3, protowire.BytesType), make([]byte, 4*1_000_000))
	ag := startHostile(t, true, func(req []byte) []rawFrame {
		r, _ := wire.DecodeRequest(req)
		ack := wire.AppendResponse(nil, &wire.Response{Id: r.Id, Body: &wire.Response_Subscription{Subscription: &wire.Subscription{MetricsMs: 1000}}})
		return []rawFrame{{websocket.MessageBinary, ack}, {websocket.MessageBinary, v2Frame(r.Id, rMetrics, absurd)}}
	})
	cl := dial(t, ag.url, nil)
	if _, err := cl.Subscribe(ctx(t), wire.Cadence{Metrics: time.Second}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cl.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the connection survived an implausible push")
	}
	if err := cl.Err(); !errors.Is(err, wire.ErrImplausible) || !strings.Contains(err.Error(), "1000000 cores") {
		t.Errorf("connection ended with %v, want ErrImplausible", err)
	}
}

func metrics(ctx context.Context, c *wire.Client) error     { _, err := c.Metrics(ctx); return err }
func processes(ctx context.Context, c *wire.Client) error   { _, err := c.Processes(ctx); return err }
func disks(ctx context.Context, c *wire.Client) error       { _, err := c.Disks(ctx); return err }
func connections(ctx context.Context, c *wire.Client) error { _, err := c.Connections(ctx); return err }
func journal(ctx context.Context, c *wire.Client) error {
	_, err := c.Journal(ctx, 4242, 0)
	return err
}
func detail(ctx context.Context, c *wire.Client) error {
	_, err := c.ProcessDetail(ctx, 4242)
	return err
}
