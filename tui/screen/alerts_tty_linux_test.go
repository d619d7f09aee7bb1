package screen

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/profiles"
	"github.com/socktop/socktop/tui/alert"
	"github.com/socktop/socktop/tui/model"
	"github.com/socktop/socktop/wire/wiretest"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: the master, read by the test as a
// terminal emulator would, and the slave's path, where tcell draws.
func openPTY(t *testing.T, cols, rows int) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(rows), Col: uint16(cols)}); err != nil {
		t.Fatalf("pty size: %v", err)
	}
	return m, "/dev/pts/" + strconv.Itoa(n)
}

// With notify.terminal = true, every alert that fires writes OSC 9, OSC
// 777 and the bell to the very terminal the dashboard draws on: here a
// real pseudo-terminal driven by tcell's terminfo screen, read from its
// master side.
func TestTerminalNotificationReachesTheTty(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	master, slave := openPTY(t, 120, 40)
	var (
		mu  sync.Mutex
		out bytes.Buffer
	)
	go func() { // the terminal emulator: it reads everything written
		buf := make([]byte, 64<<10)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	tty, err := tcell.NewDevTtyFromDev(slave)
	if err != nil {
		t.Fatal(err)
	}
	scr, err := tcell.NewTerminfoScreenFromTty(tty)
	if err != nil {
		t.Fatal(err)
	}
	ag := wiretest.NewV2(wiretest.Config{})
	defer ag.Close()
	setup := alert.Setup{Host: "pi", Rules: testRules(t, "busy=cpu > 10"), Notify: profiles.Notify{Terminal: true}}
	d := newSingle(context.Background(), Options{Target: model.Target{URL: ag.URL}, Screen: scr, Alerts: setup})
	done := make(chan error, 1)
	go func() { done <- d.sh.Run() }()
	want := []string{"\x1b]9;socktop: pi: busy firing (12.5%)\a", "\x1b]777;notify;socktop;pi: busy firing (12.5%)\a\a"}
	deadline := time.Now().Add(waitLimit)
	for {
		mu.Lock()
		got := out.String()
		mu.Unlock()
		if bytes.Contains([]byte(got), []byte(want[0])) && bytes.Contains([]byte(got), []byte(want[1])) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never got %q; it got %d bytes ending %q", want, len(got), got[max(len(got)-300, 0):])
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.sh.Quit()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitLimit):
		t.Fatal("the dashboard did not quit")
	}
}
