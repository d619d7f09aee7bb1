package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
	"github.com/socktop/socktop/wire/history"
)

// historyKind is the flight recorder's samples (--history): the v2
// HistoryRequest, and the JSON dialect's {"type":"history","seconds":N}
// (PROTOCOL.md §5).
var historyKind = &kind{
	name: "history", capability: wire.CapHistory,
	served:    func(a *Agent) bool { return a.rec != nil },
	unserved:  "this agent keeps no history (start it with --history, e.g. --history 24h)",
	v2:        &wire.Request{Body: &wire.Request_History{History: &wire.HistoryRequest{}}},
	v2Query:   func(r *wire.Request) query { return query{v2: r} },
	text:      dialect.Route{JSON: "history"},
	textQuery: historyTextQuery,
	encode:    textOf(replyHistory),
	open:      func(a *Agent) source { return historySource{a} },
	cost:      historyCost, slow: true,
}

// Bounds of what history costs the agent and what a peer may ask of it.
const (
	// maxHistoryBytes bounds the samples kept in memory (a day at 10 s
	// with 1,000 processes takes ~1.4 MiB; this leaves room for machines
	// whose top processes never repeat).
	maxHistoryBytes = 16 << 20
	// maxHistoryReply bounds one answer's protobuf encoding: an answer
	// that would be larger is downsampled further (a JSON reply is about
	// twice as large, before gzip).
	maxHistoryReply = 8 << 20
	// maxHistorySeconds bounds a JSON request's "seconds" (400 days).
	maxHistorySeconds = 400 * 24 * 3600
	// historyCost is a request's rate-limit cost: one decodes up to a
	// day of samples (~25 ms of CPU on a server core, ten times that on
	// a Raspberry Pi).
	historyCost = 5
	// historyRate and historyBurst bound the history queries of the whole
	// agent, whoever asks: a peer with many connections cannot keep its
	// cores decoding.
	historyRate  = 4
	historyBurst = 8
)

// recorder is the flight recorder: one history sample every interval,
// taken from the agent's shared caches, so a tick and a live client's
// request never collect twice.
type recorder struct {
	a       *Agent
	store   *history.Store
	every   time.Duration
	running atomic.Bool
	fails   *logLimiter

	mu      sync.Mutex // guards queries
	queries tokenBucket
}

// newRecorder opens the store of cfg.History (validated by
// CheckHistory) and logs, in one line, what its file held.
func newRecorder(a *Agent, cfg Config) (*recorder, error) {
	opt := history.Options{Retention: cfg.History, Interval: cfg.HistoryInterval, MaxBytes: maxHistoryBytes}
	r := &recorder{a: a, every: cfg.HistoryInterval, queries: newTokenBucket(historyRate, historyBurst),
		fails: newLogLimiter(a.log, slog.LevelWarn, "history: a sample was not recorded")}
	if cfg.HistoryFile == "" {
		r.store = history.New(opt)
		a.log.Info("history in memory only", "keep", cfg.History, "every", cfg.HistoryInterval)
		return r, nil
	}
	s, info, err := history.Open(cfg.HistoryFile, opt)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	r.store = s
	if info.Damaged {
		// Never a reason not to start: the samples before the damage are
		// kept, and the tail was cut so that new ones follow them.
		a.log.Warn(info.String())
	} else {
		a.log.Info("history", "file", cfg.HistoryFile, "samples", s.Len(), "keep", cfg.History, "every", cfg.HistoryInterval)
	}
	return r, nil
}

// DefaultHistoryFile is where the history is kept unless told otherwise:
// $XDG_STATE_HOME/socktop_agent/history.bin, else
// ~/.local/state/socktop_agent/history.bin (getenv reads the environment).
func DefaultHistoryFile(getenv func(string) string) (string, error) {
	dir := getenv("XDG_STATE_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return "", errors.New("locate the state folder for the history file: set XDG_STATE_HOME or HOME, or pass --history-file PATH (or none)")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "socktop_agent", "history.bin"), nil
}

// CheckHistory validates the recorder's settings (History,
// HistoryInterval) and fills in the default interval; New calls it too.
func CheckHistory(cfg *Config) error {
	switch {
	case cfg.History < 0:
		return fmt.Errorf("agent: History %v: want 0 (off) or a duration such as 24h", cfg.History)
	case cfg.History == 0:
		return nil
	case cfg.HistoryInterval == 0:
		cfg.HistoryInterval = DefaultHistoryInterval
	case cfg.HistoryInterval < MinHistoryInterval:
		return fmt.Errorf("agent: history interval %v: want at least %v", cfg.HistoryInterval, MinHistoryInterval)
	}
	switch n := cfg.History / cfg.HistoryInterval; {
	case n < 1:
		return fmt.Errorf("agent: history %v is shorter than its interval %v", cfg.History, cfg.HistoryInterval)
	case n > history.HardMaxSamples:
		return fmt.Errorf("agent: history %v at %v would be %d samples, at most %d: raise the interval", cfg.History, cfg.HistoryInterval, n, history.HardMaxSamples)
	}
	return nil
}

// ErrRecording is Record's error when the recorder is already running.
var ErrRecording = errors.New("agent: the flight recorder is already running")

// Record runs the flight recorder until ctx ends: a sample now, then one
// at every multiple of the interval. Serve runs it; an agent served some
// other way (Handler) calls it itself. Without History it returns at once.
func (a *Agent) Record(ctx context.Context) error {
	r := a.rec
	if r == nil {
		return nil
	}
	if !r.running.CompareAndSwap(false, true) {
		return ErrRecording
	}
	defer r.running.Store(false)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		r.tick(ctx)
		t.Reset(r.untilNext(time.Now()))
	}
}

// untilNext is the wait until the next multiple of the interval, so ticks
// keep their place however long one takes.
func (r *recorder) untilNext(now time.Time) time.Duration {
	e := int64(r.every)
	return time.Duration(e - now.UnixNano()%e)
}

// tick records one sample. Each kind comes from its cache, collected
// afresh when the cached sample is older than half an interval (or its
// TTL), so a tick shares what a live client just collected.
func (r *recorder) tick(ctx context.Context) { r.record(ctx, r.every/2) }

// record records one sample whose kinds are younger than maxAge.
func (r *recorder) record(ctx context.Context, maxAge time.Duration) {
	hs, err := r.a.historySample(ctx, maxAge)
	if err == nil {
		err = r.store.Append(hs)
	}
	if err != nil && ctx.Err() == nil {
		r.fails.Log("err", err)
	}
}

// historySample is this moment's sample: metrics (required), and disks
// and processes when they can be read. Processes go first, so that the
// metrics sample's busiest process comes from the same scan.
func (a *Agent) historySample(ctx context.Context, maxAge time.Duration) (*wire.HistorySample, error) {
	take := func(k *kind) (reply, error) {
		c := a.sharedCache(k)
		if c == nil {
			return nil, fmt.Errorf("this agent does not collect %s", k.name)
		}
		return c.GetWithin(ctx, maxAge)
	}
	var p *wire.Processes
	if r, err := take(processesKind); err == nil {
		p = r.message().(*wire.Processes)
	}
	var d *wire.Disks
	if r, err := take(disksKind); err == nil {
		d = r.message().(*wire.Disks)
	}
	r, err := take(metricsKind)
	if err != nil {
		return nil, err
	}
	return history.FromSnapshot(r.message().(*wire.Metrics), d, p), nil
}

// Close releases the history file (synced and unlocked), if the agent has
// one; the history stays in memory. Call it after Serve returns.
func (a *Agent) Close() error {
	if a.rec == nil {
		return nil
	}
	return a.rec.store.Close()
}

// historySource answers history requests from the recorder's store.
type historySource struct{ a *Agent }

func (s historySource) get(_ context.Context, q query) (reply, error) {
	r := s.a.rec
	req := q.v2.GetHistory()
	if req == nil { // a JSON-dialect request: its span ends at the newest sample
		req = &wire.HistoryRequest{MaxPoints: q.points}
		if _, newest, ok := r.store.Span(); ok && q.seconds > 0 {
			req.SinceMs = newest - min(newest, uint64(q.seconds)*1000)
		}
	}
	if !r.admit(time.Now()) {
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_RATE_LIMITED,
			"history requests are limited to %d a second on this agent: retry in a moment", historyRate)
	}
	return newSample(r.answer(req)), nil
}

// admit takes one of the agent-wide history queries.
func (r *recorder) admit(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.queries.take(now, 1)
}

// answer serves req, downsampled further when its encoding would pass
// maxHistoryReply (a machine with hundreds of cores and interfaces).
func (r *recorder) answer(req *wire.HistoryRequest) *wire.History {
	h := r.store.Answer(req)
	if size := h.SizeVT(); size > maxHistoryReply && len(h.Samples) > 1 {
		points := max(1, int(int64(len(h.Samples))*maxHistoryReply*9/10/int64(size)))
		h = r.store.Answer(&wire.HistoryRequest{SinceMs: req.SinceMs, UntilMs: req.UntilMs, MaxPoints: uint32(points)})
	}
	return h
}

// historyTextQuery reads {"type":"history","seconds":N,"max_points":M}:
// both optional whole numbers (no seconds: everything kept).
func historyTextQuery(req dialect.TextRequest) (query, error) {
	var in struct {
		Seconds   json.RawMessage `json:"seconds"`
		MaxPoints json.RawMessage `json:"max_points"`
	}
	if err := json.Unmarshal(req.JSON, &in); err != nil {
		return query{}, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "history request is not a JSON object")
	}
	var q query
	var err error
	if q.seconds, err = wholeNumber(in.Seconds, "seconds", maxHistorySeconds, false); err != nil {
		return q, err
	}
	q.points, err = wholeNumber(in.MaxPoints, "max_points", history.MaxPoints, true)
	return q, err
}

// wholeNumber reads an optional JSON whole number from 0 to limit; with
// clamp a larger one is limit, without it is refused.
func wholeNumber(raw json.RawMessage, name string, limit uint32, clamp bool) (uint32, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	v, err := strconv.ParseUint(string(raw), 10, 64)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange) && clamp:
		return limit, nil
	case err != nil:
		return 0, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "history %q must be a whole number from 0 to %d, not %s", name, limit, quoted(string(raw)))
	case v > uint64(limit) && clamp:
		return limit, nil
	case v > uint64(limit):
		return 0, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "history %q must be at most %d (%d days)", name, limit, limit/86400)
	}
	return uint32(v), nil
}

// replyHistory frames the JSON reply as the command dialect frames JSON:
// text, or gzip in a binary frame when large (a day of samples is
// megabytes).
func replyHistory(_ wire.Dialect, h *wire.History) wire.Frame {
	return dialect.FrameCommandJSON(history.EncodeJSON(h))
}
