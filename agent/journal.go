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
	"strconv"
	"strings"
	"time"

	"github.com/socktop/socktop/wire"
)

const (
	journalDefaultLines = 100
	journalMaxLines     = 1000
	journalTimeout      = 5 * time.Second
	// journalOutputCap bounds what one journalctl run may send us.
	journalOutputCap = 4 << 20
	// journalCost is a journal request's rate-limit cost (it runs a program).
	journalCost = 5
)

// journal runs journalctl for one pid, without a shell, newest entries first.
func (a *Agent) journal(ctx context.Context, pid uint32, lines int) (*wire.Journal, error) {
	if !a.has("journal") {
		return nil, errNotSupported("the journal (journalctl is not installed)")
	}
	if pid == 0 {
		return nil, wire.NewError(wire.ErrorCode_ERROR_CODE_BAD_REQUEST, "journal needs a pid")
	}
	// Upstream answers "Process N not found" here too; checking first also
	// keeps a client from starting journalctl for pids that do not exist.
	if _, err := os.Stat(filepath.Join(a.fs.ProcRoot(), strconv.FormatUint(uint64(pid), 10))); err != nil {
		return nil, wire.UnknownPIDError(pid)
	}
	if lines <= 0 {
		lines = journalDefaultLines
	}
	lines = min(lines, journalMaxLines)
	ctx, cancel := context.WithTimeout(ctx, journalTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "journalctl", "_PID="+strconv.FormatUint(uint64(pid), 10),
		"--output=json", "--lines="+strconv.Itoa(lines), "--reverse", "--no-pager", "--quiet")
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("journalctl: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("journalctl: %w", err)
	}
	j, truncated := parseJournal(io.LimitReader(out, journalOutputCap), lines)
	io.Copy(io.Discard, out) // let journalctl finish writing whatever we did not read
	werr := cmd.Wait()
	j.SampledAtMs = nowMS()
	j.Truncated = truncated || len(j.Entries) >= lines
	if len(j.Entries) == 0 {
		notice := validText(firstLines(stderr.String(), 3))
		if notice == "" && werr != nil {
			notice = "journalctl: " + werr.Error()
		}
		if notice == "" {
			notice = fmt.Sprintf("no journal entries for pid %d", pid)
		}
		j.Notice = &notice
	}
	return j, nil
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
		e.Message = jstr(raw["MESSAGE"])
		e.Unit = optStr(jstr(raw["_SYSTEMD_UNIT"]))
		e.Comm = optStr(jstr(raw["_COMM"]))
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

func optStr(s string) *string {
	if s == "" {
		return nil
	}
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
