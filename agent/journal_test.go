package agent

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
)

// fakeJournalctl puts a journalctl on PATH that prints fixed JSON lines (as
// journald's would be) and records its arguments: a real process, run the
// way the agent runs the real one.
func fakeJournalctl(t *testing.T, output string) (argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	data := filepath.Join(dir, "out.json")
	os.WriteFile(data, []byte(output), 0o644)
	onPath(t, dir, "journalctl", "printf '%s\\n' \"$@\" > "+argsFile+"\ncat "+data+"\n")
	return argsFile
}

// onPath writes a shell script dir/name and puts dir first on PATH.
func onPath(t *testing.T, dir, name, script string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestJournal(t *testing.T) {
	args := fakeJournalctl(t, strings.Join([]string{
		`{"__REALTIME_TIMESTAMP":"1700000000123456","PRIORITY":"3","MESSAGE":"disk on fire","_SYSTEMD_UNIT":"foo.service","_PID":"4242","_COMM":"foo","_UID":"1000","_GID":"1000"}`,
		`{"__REALTIME_TIMESTAMP":"1700000000000001","PRIORITY":"6","MESSAGE":[104,105,255],"_PID":"4242"}`,
		`not json at all`,
	}, "\n"))
	_, srv := startAgent(t, testConfig())
	c := dial(t, wsURL(srv), nil)
	self := strconv.Itoa(os.Getpid())
	_, b := roundTrip(t, c, websocket.MessageText, []byte(`{"type":"journal_entries","pid":`+self+`}`))
	j, err := decodeText[textJournal](b)
	if err != nil {
		t.Fatalf("journal reply %s: %v", b, err)
	}
	if len(j.Entries) != 2 {
		t.Fatalf("%d entries, want 2 (the junk line skipped): %s", len(j.Entries), b)
	}
	e := j.Entries[0]
	if e.Message != "disk on fire" || e.Priority != "Error" || e.Unit != "foo.service" || e.Pid != 4242 || e.TimestampUs != 1700000000123456 {
		t.Errorf("entry 0 = %+v", e)
	}
	if j.Entries[1].Message != "hi\uFFFD" {
		t.Errorf("binary MESSAGE decoded to %q", j.Entries[1].Message)
	}
	got, _ := os.ReadFile(args)
	for _, want := range []string{"_PID=" + self, "--output=json", "--lines=100", "--no-pager"} {
		if !strings.Contains(string(got), want+"\n") {
			t.Errorf("journalctl ran with %q, lacking %q", got, want)
		}
	}
	// A pid that does not exist is refused without running journalctl.
	os.Remove(args)
	_, b = roundTrip(t, c, websocket.MessageText, []byte(`{"type":"journal_entries","pid":999999999}`))
	if !strings.Contains(string(b), "Process 999999999 not found") {
		t.Errorf("journal of a missing pid: %s", b)
	}
	if _, err := os.Stat(args); err == nil {
		t.Error("journalctl ran for a pid that does not exist")
	}
	// A pid with no entries carries a notice instead.
	fakeJournalctl(t, "")
	_, srv2 := startAgent(t, testConfig())
	c2 := dial(t, wsURL(srv2), nil)
	_, b = roundTrip(t, c2, websocket.MessageText, []byte("get_journal_entries:"+strconv.Itoa(os.Getpid())))
	p, _ := wire.Payload(wire.Frame{Type: websocket.MessageBinary, Data: b})
	if j, err := decodeText[textJournal](p); err != nil || len(j.Entries) != 0 || j.Notice == "" {
		t.Errorf("empty journal: %+v %v", j, err)
	}
}
