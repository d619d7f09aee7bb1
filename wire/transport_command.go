package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// commandTransport speaks upstream socktop_agent's command dialect: text
// commands such as "get_metrics", answered by JSON (gzip above 768 bytes)
// or a protobuf process list, with no ids. One request is outstanding at a
// time, and each reply is matched to its caller by what it is.
type commandTransport struct {
	l *link
	// sem keeps one request outstanding at a time; waiters (under mu)
	// await a reply of their kind; late[k] holds, per caller of kind k that
	// gave up, until when its reply is still expected (and dropped when it
	// comes). The expiry keeps a request an agent never answers from eating
	// later replies forever.
	sem     chan struct{}
	mu      sync.Mutex
	waiters []*cmdWaiter
	late    [numReplyKinds][]time.Time
}

// replyKind is what a command-dialect reply answers.
type replyKind uint8

const (
	replyUnknown replyKind = iota
	replyMetrics
	replyDisks
	replyProcesses
	replyDetail
	replyJournal
	numReplyKinds
)

// lateReplyGrace is how long a command-dialect reply is still expected
// after its caller gave up.
const lateReplyGrace = 30 * time.Second

type cmdWaiter struct {
	kind replyKind
	ch   chan cmdReply
}

// cmdReply is what the read loop hands a waiting caller: the reply's
// payload (gzip undone), or why it could not be read.
type cmdReply struct {
	payload []byte
	err     error
}

func newCommandTransport(l *link) *commandTransport {
	return &commandTransport{l: l, sem: make(chan struct{}, 1)}
}

// handshake: the command dialect has none, so a metrics request proves the
// agent answers and tells its hostname and core count.
func (t *commandTransport) handshake(ctx context.Context) (*Hello, error) {
	m, err := t.metrics(ctx)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return nil, &dialFailure{kind: ErrUnauthorized, err: err,
				msg: "the agent hung up before its first reply, as upstream agents refuse a token: pass the agent's --token, or check the one given"}
		}
		if errors.Is(err, ErrMalformed) || errors.Is(err, ErrTimeout) {
			return nil, &dialFailure{kind: ErrProtocol, err: err,
				msg: fmt.Sprintf("the agent did not answer get_metrics like a socktop agent: is this a socktop agent, and the path /ws? (%v)", err)}
		}
		return nil, err
	}
	h := &Hello{Hostname: m.Hostname, Cores: uint32(len(m.CpuPerCore)), MemTotal: m.MemTotal,
		Capabilities: []string{CapMetrics, CapDisks, CapProcesses, CapProcessDetail, CapJournal}}
	if len(m.Gpus) > 0 {
		h.Capabilities = append(h.Capabilities, CapGPU)
	}
	if m.CpuTempC != nil {
		h.Capabilities = append(h.Capabilities, CapTemps)
	}
	return h, nil
}

// roundTrip translates req into upstream's command and its reply into a
// Response. What upstream cannot answer is ErrNotSupported.
func (t *commandTransport) roundTrip(ctx context.Context, req *Request) (*Response, error) {
	now := func() uint64 { return uint64(time.Now().UnixMilli()) }
	switch b := req.Body.(type) {
	case *Request_Metrics:
		m, err := t.metrics(ctx)
		return &Response{Body: &Response_Metrics{Metrics: m}}, err
	case *Request_Disks:
		p, err := t.json(ctx, replyDisks, "get_disks")
		if err != nil {
			return nil, err
		}
		d, err := decodeDisksJSON(p)
		if err != nil {
			return nil, err
		}
		d.SampledAtMs = now()
		return &Response{Body: &Response_Disks{Disks: d}}, nil
	case *Request_Processes:
		// Upstream knows no extras: the list comes without them.
		p, err := t.ask(ctx, replyProcesses, "get_processes")
		if err != nil {
			return nil, err
		}
		pl, err := decodeProcessList(p)
		if err != nil {
			return nil, err
		}
		ps := fromProcessList(pl)
		ps.SampledAtMs = now()
		return &Response{Body: &Response_Processes{Processes: ps}}, nil
	case *Request_ProcessDetail:
		p, err := t.json(ctx, replyDetail, fmt.Sprintf("get_process_metrics:%d", b.ProcessDetail.GetPid()))
		if err != nil {
			return nil, err
		}
		d, err := decodeProcessDetailJSON(p)
		return &Response{Body: &Response_ProcessDetail{ProcessDetail: d}}, err
	case *Request_Journal:
		// Upstream takes no line count: it sends its own default.
		p, err := t.json(ctx, replyJournal, fmt.Sprintf("get_journal_entries:%d", b.Journal.GetPid()))
		if err != nil {
			return nil, err
		}
		j, err := decodeJournalJSON(p)
		return &Response{Body: &Response_Journal{Journal: j}}, err
	case *Request_Connections:
		return nil, fmt.Errorf("connections: %w (upstream agents do not list sockets)", ErrNotSupported)
	case *Request_Signal:
		return nil, fmt.Errorf("signal: %w (upstream agents cannot send signals)", ErrNotSupported)
	case *Request_Subscribe:
		return nil, fmt.Errorf("subscribe: %w (the agent does not push samples; ask for each one)", ErrNotSupported)
	}
	return nil, fmt.Errorf("%s: %w (upstream agents do not serve it)", requestName(req), ErrNotSupported)
}

func (t *commandTransport) metrics(ctx context.Context) (*Metrics, error) {
	b, err := t.json(ctx, replyMetrics, "get_metrics")
	if err != nil {
		return nil, err
	}
	m, err := decodeMetricsJSON(b)
	if err != nil {
		return nil, err
	}
	if m.SampledAtMs == 0 { // upstream before 1.60
		m.SampledAtMs = uint64(time.Now().UnixMilli())
	}
	return m, nil
}

// json asks for a JSON reply and turns an error object into an error.
func (t *commandTransport) json(ctx context.Context, kind replyKind, cmd string) ([]byte, error) {
	b, err := t.ask(ctx, kind, cmd)
	if err != nil {
		return nil, err
	}
	if e := decodeErrorJSON(b); e != nil {
		return nil, fmt.Errorf("%s: %w", cmd, e)
	}
	return b, nil
}

// ask sends one command and waits for the reply of its kind.
func (t *commandTransport) ask(ctx context.Context, kind replyKind, cmd string) ([]byte, error) {
	select {
	case t.sem <- struct{}{}: // one request outstanding at a time
	case <-ctx.Done():
		return nil, timeoutErr(ctx, cmd)
	case <-t.l.done:
		return nil, fmt.Errorf("%s: %w", cmd, t.l.failErr)
	}
	defer func() { <-t.sem }()
	w := &cmdWaiter{kind: kind, ch: make(chan cmdReply, 1)}
	t.mu.Lock()
	t.waiters = append(t.waiters, w)
	t.mu.Unlock()
	if err := t.l.send(ctx, cmd, websocket.MessageText, []byte(cmd)); err != nil {
		t.drop(w, false)
		return nil, err
	}
	reply := func(r cmdReply) ([]byte, error) {
		if r.err != nil {
			return nil, fmt.Errorf("%s: %w", cmd, r.err)
		}
		return r.payload, nil
	}
	select {
	case r := <-w.ch:
		return reply(r)
	case <-ctx.Done():
		if !t.drop(w, true) {
			return reply(<-w.ch) // the reply raced the deadline and won
		}
		return nil, timeoutErr(ctx, cmd)
	case <-t.l.done:
		return nil, fmt.Errorf("%s: %w", cmd, t.l.failErr)
	}
}

// drop removes w; it reports false when w was already served. With late
// set, the reply still due is skipped when it comes.
func (t *commandTransport) drop(w *cmdWaiter, late bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, x := range t.waiters {
		if x == w {
			t.waiters = append(t.waiters[:i], t.waiters[i+1:]...)
			if late {
				t.late[w.kind] = append(t.late[w.kind], time.Now().Add(lateReplyGrace))
			}
			return true
		}
	}
	return false
}

func (t *commandTransport) receive(typ websocket.MessageType, data []byte) {
	payload, err := Payload(Frame{Type: typ, Data: data})
	if err != nil {
		// A gzip bomb (or broken gzip): no kind can be told, so the
		// caller that waits longest hears of it.
		if errors.Is(err, ErrTooLarge) {
			err = fmt.Errorf("%w: %w", ErrImplausible, err)
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if len(t.waiters) > 0 {
			w := t.waiters[0]
			t.waiters = t.waiters[1:]
			w.ch <- cmdReply{err: err}
		}
		return
	}
	kind := classifyReply(payload)
	t.mu.Lock()
	defer t.mu.Unlock()
	if kind != replyUnknown {
		now := time.Now()
		l := t.late[kind]
		for len(l) > 0 && now.After(l[0]) {
			l = l[1:]
		}
		t.late[kind] = l
		if len(l) > 0 {
			t.late[kind] = l[1:] // the late reply of a caller that gave up
			return
		}
	}
	for i, w := range t.waiters {
		if kind == replyUnknown || w.kind == kind {
			t.waiters = append(t.waiters[:i], t.waiters[i+1:]...)
			w.ch <- cmdReply{payload: payload} // buffered 1
			return
		}
	}
}

// commandNames are the requests an upstream error object may name.
var commandNames = map[string]replyKind{
	"get_metrics": replyMetrics, "metrics": replyMetrics,
	"get_disks": replyDisks, "disks": replyDisks,
	"get_processes": replyProcesses, "processes": replyProcesses,
	"get_process_metrics": replyDetail, "process_metrics": replyDetail,
	"get_journal_entries": replyJournal, "journal_entries": replyJournal,
}

// maxRequestName bounds the request name read from an error object.
const maxRequestName = 64

// classifyReply tells which request a command-dialect reply answers, from
// its shape: replies are matched by kind, so a request upstream never
// answers cannot shift every later reply onto the wrong caller.
func classifyReply(payload []byte) replyKind {
	b := bytes.TrimSpace(payload)
	switch {
	case len(b) == 0:
		return replyUnknown
	case b[0] == '[':
		return replyDisks
	case b[0] != '{':
		return replyProcesses // protobuf
	}
	// Only the top-level keys matter: present-only fields copy nothing,
	// however large the values (a map of raw values copied them all).
	var top struct {
		Error    present   `json:"error"`
		Request  shortName `json:"request"`
		CPUTotal present   `json:"cpu_total"`
		Process  present   `json:"process"`
		Entries  present   `json:"entries"`
	}
	if checkJSON(b, math.MaxInt) != nil {
		return replyUnknown // too deep to tell: the waiting caller's decoder says why
	}
	if json.Unmarshal(b, &top) != nil {
		return replyProcesses // a protobuf list may start with '{' (0x7b)
	}
	switch {
	case bool(top.Error):
		return commandNames[string(top.Request)]
	case bool(top.CPUTotal):
		return replyMetrics
	case bool(top.Process):
		return replyDetail
	case bool(top.Entries):
		return replyJournal
	}
	return replyUnknown
}

// present notes that a JSON key was there, keeping nothing of its value.
type present bool

func (p *present) UnmarshalJSON([]byte) error { *p = true; return nil }

// shortName keeps a short JSON string (a request name) and nothing else.
type shortName string

func (n *shortName) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) <= 2*maxRequestName && json.Unmarshal(b, &s) == nil {
		*n = shortName(s)
	}
	return nil
}

// fromProcessList converts an upstream process list to the native one; the
// fields upstream does not send stay zero.
func fromProcessList(pl *ProcessList) *Processes {
	rows := pl.GetProcesses()
	out := &Processes{Processes: make([]*ProcessInfo, len(rows))}
	backing := make([]ProcessInfo, len(rows))
	for i, r := range rows {
		backing[i] = ProcessInfo{Pid: r.GetPid(), Name: r.GetName(), CpuPercent: r.GetCpuUsage(), RssBytes: r.GetMemBytes()}
		out.Processes[i] = &backing[i]
	}
	return out
}
