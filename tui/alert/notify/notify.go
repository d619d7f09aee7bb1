// Package notify tells the user about alert events: it runs the
// [notify] command of profiles.toml through `sh -c` with the event in
// SOCKTOP_ALERT_* variables, a few at a time, each bounded in time, without
// ever blocking its caller; and it writes the terminal notification (OSC 9,
// OSC 777 and the bell) that the dashboard sends to its tty.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui/alert"
)

// Defaults for Config fields left zero.
const (
	DefaultWorkers = 2
	DefaultQueue   = 16
	// MaxValue bounds each SOCKTOP_ALERT_* value, in bytes.
	MaxValue = 1024
	// maxOutput is how much of a failed command's output is kept for Stats.
	maxOutput = 512
)

// Config is how events are turned into commands.
type Config struct {
	// Command is run as `Shell -c Command`; empty runs nothing.
	Command string
	// Timeout bounds each run (default profiles.DefaultTimeout, 10 s); then
	// the command's whole process group is killed.
	Timeout time.Duration
	// Workers is how many commands may run at once (default 2); Queue how
	// many events may wait (default 16). An event beyond that is dropped
	// and counted.
	Workers, Queue int
	// Shell defaults to /bin/sh.
	Shell string
	// Env is the commands' base environment (default os.Environ()), minus
	// SOCKTOP_TOKEN; the SOCKTOP_ALERT_* variables are added to it.
	Env []string
}

// FromProfile is the Config of a [notify] table.
func FromProfile(n profiles.Notify) (Config, error) {
	d, err := n.TimeoutDuration()
	if err != nil {
		return Config{}, err
	}
	return Config{Command: n.Command, Timeout: d}, nil
}

// Stats counts what a Notifier did.
type Stats struct {
	Ran, Failed, TimedOut, Dropped uint64
	// LastError is the latest failure, with the start of its output.
	LastError string
}

// Notifier runs the command for each event it is given.
type Notifier struct {
	cfg    Config
	env    []string
	queue  chan alert.Event
	ctx    context.Context // cancelled by Close when its context ends: kills what runs
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	stats  Stats
}

// New starts cfg.Workers goroutines that wait for events (none when
// cfg.Command is empty). Call Close when done.
func New(cfg Config) *Notifier {
	if cfg.Timeout <= 0 {
		cfg.Timeout = profiles.DefaultTimeout
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Shell == "" {
		cfg.Shell = "/bin/sh"
	}
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	n := &Notifier{cfg: cfg, queue: make(chan alert.Event, cfg.Queue)}
	for _, kv := range cfg.Env {
		// The agent's token is no business of a notification command.
		if !strings.HasPrefix(kv, "SOCKTOP_TOKEN=") && !strings.HasPrefix(kv, "SOCKTOP_ALERT_") {
			n.env = append(n.env, kv)
		}
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	if cfg.Command != "" {
		for range cfg.Workers {
			n.wg.Add(1)
			go n.work()
		}
	}
	return n
}

// Notify queues ev for the command and returns at once: false when it was
// not queued (no command, the queue is full — counted in Stats.Dropped — or
// the Notifier is closed).
func (n *Notifier) Notify(ev alert.Event) bool {
	if n.cfg.Command == "" {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	select {
	case n.queue <- ev:
		return true
	default:
		n.stats.Dropped++
		return false
	}
}

// Stats reports what has run so far.
func (n *Notifier) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

// Close stops taking events and waits for the queued and running commands
// until ctx ends; then it kills what still runs, drops what still waits, and
// returns ctx's error.
func (n *Notifier) Close(ctx context.Context) error {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
	n.mu.Unlock()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		n.cancel()
		return nil
	case <-ctx.Done():
		n.cancel()
		<-done
		return ctx.Err()
	}
}

func (n *Notifier) work() {
	defer n.wg.Done()
	for ev := range n.queue {
		if n.ctx.Err() != nil {
			continue // closing: drain without running
		}
		n.run(ev)
	}
}

func (n *Notifier) run(ev alert.Event) {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.cfg.Shell, "-c", n.cfg.Command)
	cmd.Env = append(append([]string(nil), n.env...), Env(ev)...)
	// Its own session: no controlling terminal (the dashboard owns the tty)
	// and one process group to kill, children included.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second // a child that kept the output pipe open
	out := &headBuffer{limit: maxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()

	n.mu.Lock()
	defer n.mu.Unlock()
	n.stats.Ran++
	switch {
	case err == nil:
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		n.stats.TimedOut++
		n.stats.LastError = fmt.Sprintf("notify command killed after %v (raise notify.timeout)", n.cfg.Timeout)
	default:
		n.stats.Failed++
		n.stats.LastError = fmt.Sprintf("notify command: %v: %s", err, Sanitize(strings.TrimSpace(out.String()), maxOutput))
	}
}

// headBuffer keeps the first limit bytes written to it.
type headBuffer struct {
	limit int
	bytes.Buffer
}

func (h *headBuffer) Write(p []byte) (int, error) {
	if room := h.limit - h.Len(); room > 0 {
		h.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Env is the event as the command sees it: SOCKTOP_ALERT_NAME, _HOST, _STATE
// (firing|resolved), _VALUE and _RULE, each sanitized. Event strings may come
// from a peer (a mount point, a host name), so they travel only in the
// environment, never in the command's text.
func Env(ev alert.Event) []string {
	return []string{
		"SOCKTOP_ALERT_NAME=" + Sanitize(ev.Name, MaxValue),
		"SOCKTOP_ALERT_HOST=" + Sanitize(ev.Host, MaxValue),
		"SOCKTOP_ALERT_STATE=" + Sanitize(ev.State.String(), MaxValue),
		"SOCKTOP_ALERT_VALUE=" + Sanitize(ev.Value, MaxValue),
		"SOCKTOP_ALERT_RULE=" + Sanitize(ev.Rule, MaxValue),
	}
}

// Sanitize makes s safe to show or pass on: valid UTF-8, every control
// character (NUL, ESC, BEL, newlines, C1) a space, at most limit bytes.
func Sanitize(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// maxTerminal bounds the text of a terminal notification.
const maxTerminal = 200

// Terminal is the terminal notification of ev: OSC 9 (iTerm2, Windows
// Terminal, kitty, WezTerm), OSC 777 (urxvt, foot, VTE terminals) and the
// bell. Terminals ignore the sequences they do not know.
func Terminal(ev alert.Event) []byte {
	body := fmt.Sprintf("%s: %s %s (%s)", ev.Host, ev.Name, ev.State, ev.Value)
	// ';' separates OSC 777's fields.
	body = strings.ReplaceAll(Sanitize(body, maxTerminal), ";", ",")
	var b bytes.Buffer
	b.WriteString("\x1b]9;socktop: ")
	b.WriteString(body)
	b.WriteString("\a\x1b]777;notify;socktop;")
	b.WriteString(body)
	b.WriteString("\a\a")
	return b.Bytes()
}
