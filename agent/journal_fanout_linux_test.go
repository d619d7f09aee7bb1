package agent

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
)

// slowJournalctl puts a journalctl on PATH that records each run in a file
// and takes a while: a real process for each run, as the real one is.
func slowJournalctl(t *testing.T, seconds string) (runs string) {
	t.Helper()
	dir := t.TempDir()
	runs = filepath.Join(dir, "runs")
	onPath(t, dir, "journalctl", "echo \"$@\" >> "+runs+"\nsleep "+seconds+"\n"+
		`printf '%s\n' '{"__REALTIME_TIMESTAMP":"1700000000000000","PRIORITY":"6","MESSAGE":"hello"}'`+"\n")
	return runs
}

// liveJournalctls counts this process's journalctl children now.
func liveJournalctls(t *testing.T) int {
	ents, _ := os.ReadDir("/proc")
	n, self := 0, int32(os.Getpid())
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if st, err := procfs.ParseProcStat(b); err == nil && st.PPID == self && st.Name == "journalctl" {
			n++
		}
	}
	return n
}

func runCount(t *testing.T, path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}

// TestJournalFanOut: 60 connections asking at once for 60 different
// journals (60 connections made 142 journalctl at once) see at most
// journalRuns of them running, each answered with entries or "rate
// limited"; 20 identical requests share one run, and a repeat within the
// TTL is served from it.
func TestJournalFanOut(t *testing.T) {
	runs := slowJournalctl(t, "0.3")
	cfg := testConfig()
	cfg.RequestsPerSecond, cfg.Burst = 1000, 1000
	_, srv := startAgent(t, cfg)
	self := uint32(os.Getpid())
	journal := func(c *websocket.Conn, lines uint32) *wire.Response {
		return v2Call(t, c, &wire.Request{Id: lines, Body: &wire.Request_Journal{Journal: &wire.JournalRequest{Pid: self, Lines: lines}}})
	}
	conns := make([]*websocket.Conn, 60)
	for i := range conns {
		conns[i] = dial(t, wsURL(srv), &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	}

	var mu sync.Mutex
	peak, served, busy := 0, 0, 0
	done := make(chan struct{})
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		for {
			select {
			case <-done:
				return
			default:
			}
			n := liveJournalctls(t)
			mu.Lock()
			peak = max(peak, n)
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			r := journal(c, uint32(i+1)) // different lines: 60 different journals
			mu.Lock()
			defer mu.Unlock()
			switch {
			case len(r.GetJournal().GetEntries()) == 1:
				served++
			case r.GetError().GetCode() == wire.ErrorCode_ERROR_CODE_RATE_LIMITED:
				busy++
			default:
				t.Errorf("journal request %d: %v", i+1, r)
			}
		})
	}
	wg.Wait()
	close(done)
	<-watching
	t.Logf("60 different journals at once: %d served, %d rate limited, %d journalctl runs, at most %d at once", served, busy, runCount(t, runs), peak)
	if peak > journalRuns || peak < 2 {
		t.Errorf("%d journalctl ran at once, want 2..%d", peak, journalRuns)
	}
	if served < journalRuns || served+busy != len(conns) {
		t.Errorf("%d served and %d rate limited of %d", served, busy, len(conns))
	}

	// Identical requests share one run, then its result.
	os.Remove(runs)
	var same sync.WaitGroup
	for _, c := range conns[:20] {
		same.Go(func() {
			if r := journal(c, 500); len(r.GetJournal().GetEntries()) != 1 {
				t.Errorf("identical request: %v", r)
			}
		})
	}
	same.Wait()
	if r := journal(conns[0], 500); len(r.GetJournal().GetEntries()) != 1 {
		t.Errorf("repeat within the TTL: %v", r)
	}
	if n := runCount(t, runs); n != 1 {
		b, _ := os.ReadFile(runs)
		t.Errorf("21 identical requests ran journalctl %d times, want 1: %s", n, strings.TrimSpace(string(b)))
	}
}
