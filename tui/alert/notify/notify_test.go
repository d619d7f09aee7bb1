package notify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui/alert"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func event(host string) alert.Event {
	return alert.Event{Name: "hot", Host: host, State: alert.Firing, Value: "86.0°C", Rule: "temp > 80 for 1m",
		Since: t0, FiredAt: t0.Add(time.Minute)}
}

// readEnv parses `env` output into a map (values hold no newlines: they are
// sanitized).
func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}

func closeNow(t *testing.T, n *Notifier) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// A real `sh -c` gets the event in its environment; a hostile host name is
// data there, never shell text.
func TestCommandGetsEventInEnvironment(t *testing.T) {
	dir := t.TempDir()
	n := New(Config{
		Command: `env > "$OUT/$SOCKTOP_ALERT_STATE.env"`,
		Env:     []string{"OUT=" + dir, "PATH=" + os.Getenv("PATH"), "SOCKTOP_TOKEN=s3cret", "SOCKTOP_ALERT_NAME=stale"},
	})
	hostile := "pi$(touch " + dir + "/pwned)`touch " + dir + "/pwned2`;\x00\x1b[31m\n\xff" + strings.Repeat("é", 2000)
	if !n.Notify(event(hostile)) {
		t.Fatal("Notify refused the first event")
	}
	res := event("pi-kitchen")
	res.State, res.ResolvedAt, res.Value = alert.Resolved, t0.Add(2*time.Minute), "70.0°C"
	if !n.Notify(res) {
		t.Fatal("Notify refused the second event")
	}
	closeNow(t, n)

	fired := readEnv(t, filepath.Join(dir, "firing.env"))
	if fired["SOCKTOP_ALERT_NAME"] != "hot" || fired["SOCKTOP_ALERT_STATE"] != "firing" ||
		fired["SOCKTOP_ALERT_VALUE"] != "86.0°C" || fired["SOCKTOP_ALERT_RULE"] != "temp > 80 for 1m" {
		t.Errorf("firing environment: %v", fired)
	}
	host := fired["SOCKTOP_ALERT_HOST"]
	if !strings.HasPrefix(host, "pi$(touch "+dir+"/pwned)`touch ") || !utf8.ValidString(host) ||
		strings.ContainsAny(host, "\x00\x1b\n") || len(host) > MaxValue {
		t.Errorf("host %q (%d bytes) not passed through as sanitized data", host, len(host))
	}
	for _, f := range []string{"pwned", "pwned2"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("the host name ran as shell code (%s exists)", f)
		}
	}
	if _, ok := fired["SOCKTOP_TOKEN"]; ok {
		t.Error("SOCKTOP_TOKEN reached the notify command")
	}
	resolved := readEnv(t, filepath.Join(dir, "resolved.env"))
	if resolved["SOCKTOP_ALERT_HOST"] != "pi-kitchen" || resolved["SOCKTOP_ALERT_VALUE"] != "70.0°C" || resolved["SOCKTOP_ALERT_NAME"] != "hot" {
		t.Errorf("resolved environment: %v", resolved)
	}
	if st := n.Stats(); st.Ran != 2 || st.Failed != 0 || st.Dropped != 0 {
		t.Errorf("Stats = %+v", st)
	}
	if n.Notify(event("late")) {
		t.Error("a closed Notifier took an event")
	}
}

// A command that outlives its timeout is killed with its children.
func TestTimeoutKillsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	n := New(Config{
		Command: `sleep 60 & echo $! > "$OUT/child"; wait`,
		Timeout: 300 * time.Millisecond,
		Env:     []string{"OUT=" + dir, "PATH=" + os.Getenv("PATH")},
	})
	n.Notify(event("h"))
	closeNow(t, n)
	st := n.Stats()
	if st.TimedOut != 1 || !strings.Contains(st.LastError, "notify.timeout") {
		t.Errorf("Stats = %+v, want one timeout", st)
	}
	b, err := os.ReadFile(filepath.Join(dir, "child"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the command's child %d outlived the timeout", pid)
	}
}

// alive: the process exists and is not a zombie waiting for its reaper.
func alive(pid int) bool {
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		if _, after, ok := bytes.Cut(b, []byte(") ")); ok && len(after) > 0 && (after[0] == 'Z' || after[0] == 'X') {
			return false
		}
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(20 * time.Millisecond) // SIGKILL is delivered asynchronously
	}
}

// With one worker busy and the queue full, Notify drops and counts instead
// of waiting.
func TestFullQueueDropsWithoutBlocking(t *testing.T) {
	dir := t.TempDir()
	n := New(Config{
		Command: `touch "$OUT/started.$SOCKTOP_ALERT_NAME"; while [ ! -e "$OUT/go" ]; do sleep 0.02; done; echo "$SOCKTOP_ALERT_NAME" >> "$OUT/log"`,
		Workers: 1, Queue: 2,
		Env: []string{"OUT=" + dir, "PATH=" + os.Getenv("PATH")},
	})
	first := event("h")
	first.Name = "first"
	n.Notify(first)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "started.first")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first command never started")
		}
	}
	accepted := 0
	for i := range 5 {
		ev := event("h")
		ev.Name = "e" + strconv.Itoa(i)
		if n.Notify(ev) {
			accepted++
		}
	}
	if accepted != 2 || n.Stats().Dropped != 3 {
		t.Errorf("accepted %d, dropped %d; want 2 and 3", accepted, n.Stats().Dropped)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	closeNow(t, n)
	b, _ := os.ReadFile(filepath.Join(dir, "log"))
	if got := strings.Fields(string(b)); strings.Join(got, " ") != "first e0 e1" {
		t.Errorf("ran %v, want first e0 e1", got)
	}
}

// Close with an ended context kills what runs and drops what waits.
func TestCloseDeadlineKillsRunning(t *testing.T) {
	dir := t.TempDir()
	n := New(Config{Command: `sleep 60; touch "$OUT/finished"`, Workers: 1, Env: []string{"OUT=" + dir, "PATH=" + os.Getenv("PATH")}})
	n.Notify(event("a"))
	n.Notify(event("b"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := n.Close(ctx); err != context.DeadlineExceeded {
		t.Errorf("Close = %v, want the context's deadline", err)
	}
	if st := n.Stats(); st.Ran > 1 {
		t.Errorf("Stats = %+v: a queued command ran after Close gave up", st)
	}
	if _, err := os.Stat(filepath.Join(dir, "finished")); err == nil {
		t.Error("the killed command finished")
	}
}

func TestFailureIsCountedWithOutput(t *testing.T) {
	n := New(Config{Command: `echo "no such notifier" >&2; exit 3`, Env: []string{"PATH=" + os.Getenv("PATH")}})
	n.Notify(event("h"))
	closeNow(t, n)
	if st := n.Stats(); st.Failed != 1 || !strings.Contains(st.LastError, "exit status 3: no such notifier") {
		t.Errorf("Stats = %+v", st)
	}
}

func TestNoCommandRunsNothing(t *testing.T) {
	n := New(Config{})
	if n.Notify(event("h")) {
		t.Error("an empty command took an event")
	}
	closeNow(t, n)
}

func TestFromProfile(t *testing.T) {
	c, err := FromProfile(profiles.Notify{Command: "x", Timeout: "3s"})
	if err != nil || c.Command != "x" || c.Timeout != 3*time.Second {
		t.Errorf("FromProfile = %+v, %v", c, err)
	}
	if _, err := FromProfile(profiles.Notify{Timeout: "soon"}); err == nil {
		t.Error("a bad timeout was accepted")
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"plain":             "plain",
		"a\x00b":            "a b",
		"\x1b]0;pwn\a":      " ]0;pwn ",
		"bad\xffutf8":       "bad\uFFFDutf8",
		"c1\u009bcsi":       "c1 csi",
		"tab\tand\nnewline": "tab and newline",
	} {
		if got := Sanitize(in, 100); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Sanitize(strings.Repeat("é", 10), 5); got != "éé" {
		t.Errorf("cut inside a rune: %q", got)
	}
}

func TestTerminal(t *testing.T) {
	got := string(Terminal(event("pi-kitchen")))
	want := "\x1b]9;socktop: pi-kitchen: hot firing (86.0°C)\a\x1b]777;notify;socktop;pi-kitchen: hot firing (86.0°C)\a\a"
	if got != want {
		t.Errorf("Terminal =\n %q\nwant\n %q", got, want)
	}
	// A peer's string cannot end the sequence early or start another.
	hostile := string(Terminal(event("x\a\x1b]52;c;AAAA\x1b\\\u009c;y" + strings.Repeat("z", 500))))
	if strings.Count(hostile, "\x1b") != 2 || strings.Count(hostile, "\a") != 3 || strings.Contains(hostile, "\u009c") {
		t.Errorf("hostile host leaks control characters: %q", hostile)
	}
	if _, body, _ := strings.Cut(strings.TrimPrefix(hostile, "\x1b]777;notify;socktop;"), "\x1b]777;notify;socktop;"); strings.Contains(strings.TrimSuffix(body, "\a\a"), ";") {
		t.Errorf("a ';' inside OSC 777's body: %q", body)
	}
	if len(hostile) > 3*maxTerminal {
		t.Errorf("terminal notification of %d bytes", len(hostile))
	}
}
