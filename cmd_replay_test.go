package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/wire"
	"github.com/socktop/socktop/wire/history"
)

// writeRecording writes n samples at 500 ms to a new history file.
func writeRecording(t *testing.T, path string, n int) {
	t.Helper()
	s, _, err := history.Open(path, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		hs := &wire.HistorySample{SampledAtMs: 1_700_000_000_000 + uint64(i)*500, CpuTotal: 42, CpuPerCore: []float32{42},
			MemTotal: 1 << 30, MemUsed: 1 << 29, TopProcesses: []*wire.Process{{Pid: 7, Name: "job", CpuUsage: 40}}}
		if err := s.Append(hs); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReplayCommand: socktop replay plays a recording on the dashboard
// until it is quit, says in one line where a damaged file was cut, and
// refuses what is not a recording, with the cause.
func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.rec")
	writeRecording(t, good, 20)
	damaged := filepath.Join(dir, "damaged.rec")
	writeRecording(t, damaged, 20)
	f, _ := os.OpenFile(damaged, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(bytes.Repeat([]byte{0xa5}, 100))
	f.Close()
	notHistory := filepath.Join(dir, "notes.txt")
	os.WriteFile(notHistory, []byte("hello, this is not a history file\n"), 0o644)

	run := func(args ...string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		var stderr bytes.Buffer
		return replay(ctx, args, &stderr, tcell.NewSimulationScreen("UTF-8")), stderr.String()
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "name one recording"},
		{[]string{good, good}, exitUsage, "name one recording"},
		{[]string{"--speed", "0", good}, exitUsage, "--speed 0"},
		{[]string{good, "--speed", "100"}, exitUsage, "--speed 100"},
		{[]string{filepath.Join(dir, "missing.rec")}, exitFailure, "no such file"},
		{[]string{notHistory}, exitFailure, "not a socktop history file"},
		{[]string{good, "--speed", "8", "--paused"}, exitOK, ""},
		{[]string{damaged}, exitOK, "damaged at byte"},
	} {
		code, stderr := run(c.args...)
		if code != c.code || (c.want == "") != (stderr == "") || !strings.Contains(stderr, c.want) {
			t.Errorf("replay %v: exit %d, %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if st, err := os.Stat(damaged); err != nil || st.Size() != fileSize(t, good)+100 {
		t.Errorf("replay changed the damaged file: %v", err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestConnectRecordFlag: --record reaches the dashboard for one agent and
// is refused for a fleet.
func TestConnectRecordFlag(t *testing.T) {
	configDir(t)
	r := runConnectTest(t, []string{"10.0.0.5", "--record", "pi.rec"}, "", false)
	if r.code != 0 || r.opts == nil || r.opts.Record != "pi.rec" {
		t.Errorf("--record pi.rec: exit %d (%s), options %+v", r.code, r.stderr, r.opts)
	}
	r = runConnectTest(t, []string{"--record", "x.rec", "10.0.0.5", "10.0.0.6"}, "", false)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--record take one agent") {
		t.Errorf("--record with a fleet: exit %d, %q", r.code, r.stderr)
	}
}
