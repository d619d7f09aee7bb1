package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/dialect"
)

const (
	journalDefaultLines = 100
	journalMaxLines     = 1000
	journalTimeout      = 5 * time.Second
	// journalOutputCap bounds what one journalctl run may send us; the run
	// is stopped when it is reached.
	journalOutputCap = 2 << 20
	// journalCost is a journal request's rate-limit cost (it runs a program).
	journalCost = 5
	// journalRuns is how many journalctl may run at once, agent-wide: 60
	// connections asking for different pids made 142 at once.
	journalRuns = 4
	// journalQueueWait is how long a run waits for one of them before the
	// request is answered "rate limited".
	journalQueueWait = 2 * time.Second
	// journalTTL is how long a journal is served again to whoever asks for
	// the same pid and lines; journalCached bounds how many are kept.
	journalTTL    = 2 * time.Second
	journalCached = 8
	// maxMessageBytes bounds one entry's message (JSON-escaped), as a
	// detail's command line.
	maxMessageBytes = 4096
)

// journalKind is one process's newest journal entries, from journalctl.
var journalKind = &kind{
	name: "journal", capability: wire.CapJournal,
	served: func(*Agent) bool {
		_, err := exec.LookPath("journalctl")
		return err == nil && runtime.GOOS == "linux"
	},
	unserved: "the journal (journalctl is not installed) is not available on this agent",
	v2:       &wire.Request{Body: &wire.Request_Journal{Journal: &wire.JournalRequest{}}},
	v2Query: func(r *wire.Request) query {
		j := r.GetJournal()
		return query{pid: j.GetPid(), lines: int(min(j.GetLines(), journalMaxLines))}
	},
	text:   dialect.Route{JSON: "journal_entries", Command: "get_journal_entries", PID: true},
	encode: textOf(dialect.ReplyJournal),
	open: func(a *Agent) source {
		s := &journalSource{procRoot: a.fs.ProcRoot(), slots: make(chan struct{}, journalRuns)}
		s.c = newKeyedCache(journalTTL, journalCached, s.run)
		return s
	},
	cost: journalCost, slow: true,
}

type journalKey struct {
	pid   uint32
	lines int
}

// journalSource serves the newest entries of one pid: identical requests
// share a run and its result for journalTTL, and at most journalRuns
// journalctl run at once (a token in slots each).
type journalSource struct {
	procRoot string
	c        *keyedCache[journalKey, *sample[*wire.Journal]]
	slots    chan struct{}
}

func (s *journalSource) get(ctx context.Context, q query) (reply, error) {
	pid, lines := q.pid, q.lines
	switch {
	case pid == 0:
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "journal needs a pid")
	case pid > 1<<31-1:
		return nil, wire.UnknownPIDError(pid)
	}
	// Upstream answers "Process N not found" here too; checking first also
	// keeps a client from starting journalctl for pids that do not exist.
	if _, err := os.Stat(filepath.Join(s.procRoot, strconv.FormatUint(uint64(pid), 10))); err != nil {
		return nil, wire.UnknownPIDError(pid)
	}
	if lines <= 0 {
		lines = journalDefaultLines
	}
	return s.c.Get(ctx, journalKey{pid, min(lines, journalMaxLines)})
}

// run runs journalctl for one pid, without a shell, newest entries first,
// once one of the journalRuns slots is free.
func (s *journalSource) run(ctx context.Context, k journalKey) (*sample[*wire.Journal], error) {
	wait := time.NewTimer(journalQueueWait)
	defer wait.Stop()
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-wait.C:
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_RATE_LIMITED,
			"the journal is busy: this agent runs at most %d journalctl at once; retry", journalRuns)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, journalTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "journalctl", "_PID="+strconv.FormatUint(uint64(k.pid), 10),
		"--output=json", "--lines="+strconv.Itoa(k.lines), "--reverse", "--no-pager", "--quiet")
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("journalctl: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("journalctl: %w", err)
	}
	j, truncated := parseJournal(io.LimitReader(out, journalOutputCap), k.lines)
	timedOut := ctx.Err() != nil
	cancel() // what was not read is not wanted: stop journalctl rather than drain it
	werr := cmd.Wait()
	if timedOut {
		werr = fmt.Errorf("timed out after %v", journalTimeout)
	} else if st := cmd.ProcessState; st != nil && !st.Exited() {
		werr = nil // stopped by us, having read enough
	}
	j.SampledAtMs = nowMS()
	j.Truncated = truncated || len(j.Entries) >= k.lines
	if len(j.Entries) == 0 {
		notice := validText(firstLines(stderr.String(), 3))
		if notice == "" && werr != nil {
			notice = "journalctl: " + werr.Error()
		}
		if notice == "" {
			notice = fmt.Sprintf("no journal entries for pid %d", k.pid)
		}
		j.Notice = &notice
	}
	return newSample(j), nil
}

// parseJournal reads journalctl's JSON lines; a line that does not parse is
// skipped. It stops after max entries.
func parseJournal(r io.Reader, max int) (*wire.Journal, bool) {
	j := &wire.Journal{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if len(j.Entries) >= max {
			return j, true
		}
		var raw map[string]json.RawMessage
		if json.Unmarshal(sc.Bytes(), &raw) != nil {
			continue
		}
		e := &wire.JournalEntry{}
		e.TimestampUs, _ = strconv.ParseUint(jstr(raw["__REALTIME_TIMESTAMP"]), 10, 64)
		p, err := strconv.ParseUint(jstr(raw["PRIORITY"]), 10, 8)
		if err != nil || p > 7 {
			p = 6 // info, journald's default
		}
		e.Priority = uint32(p)
		e.Message, _ = clipText(jstr(raw["MESSAGE"]), maxMessageBytes)
		e.Unit = optStr(jstr(raw["_SYSTEMD_UNIT"]), maxUserBytes)
		e.Comm = optStr(jstr(raw["_COMM"]), maxNameBytes)
		e.Pid = optU32(jstr(raw["_PID"]))
		e.Uid = optU32(jstr(raw["_UID"]))
		e.Gid = optU32(jstr(raw["_GID"]))
		j.Entries = append(j.Entries, e)
	}
	j.TotalCount = uint32(len(j.Entries))
	return j, sc.Err() != nil
}

// jstr decodes a journal field: a JSON string, or an array of bytes for
// binary-safe fields (journalctl's encoding of non-UTF-8 values).
func jstr(m json.RawMessage) string {
	if len(m) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(m, &s) == nil {
		return s
	}
	var b []byte
	var ints []int
	if json.Unmarshal(m, &ints) == nil {
		b = make([]byte, 0, len(ints))
		for _, v := range ints {
			b = append(b, byte(v))
		}
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return ""
}

// optStr is s, cut to n bytes (clipText), or nil when empty.
func optStr(s string, n int) *string {
	if s == "" {
		return nil
	}
	s, _ = clipText(s, n)
	return &s
}

func optU32(s string) *uint32 {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return nil
	}
	u := uint32(v)
	return &u
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// limitedWriter keeps the first n bytes and discards the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
