//go:build linux

// Command termbytes runs a terminal program under a pseudo-terminal of a
// fixed size and reports how many bytes it writes to the terminal per
// second, after a warm-up (the first full paint) has passed:
//
//	go run ./scripts/termbytes -cols 120 -rows 40 -warmup 5s -measure 30s -- socktop demo
//	go run ./scripts/termbytes -- btop
//
// The program sees a real terminal (TERM=xterm-256color, the given window
// size); nothing is written to it. At the end it gets the quit key (-quit,
// "q" by default), then SIGTERM, then SIGKILL. scripts/term-bytes.sh runs
// it for socktop, btop and htop side by side.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	cols := flag.Int("cols", 120, "terminal `columns`")
	rows := flag.Int("rows", 40, "terminal `rows`")
	warmup := flag.Duration("warmup", 5*time.Second, "time to let the program start and paint before counting")
	measure := flag.Duration("measure", 30*time.Second, "time to count the bytes over")
	quit := flag.String("quit", "q", "`keys` typed at the end to quit the program")
	save := flag.String("save", "", "also write what the program wrote while counting to this `file`")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: termbytes [flags] -- COMMAND [ARG...]\n\n"+
			"Runs COMMAND under a COLS×ROWS pseudo-terminal and prints the bytes it wrote\n"+
			"per second after the warm-up.\n\nexample:\n  termbytes -measure 60s -- socktop demo\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 || *cols <= 0 || *rows <= 0 || *measure <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	n, err := run(flag.Args(), *cols, *rows, *warmup, *measure, *quit, *save)
	if err != nil {
		fmt.Fprintln(os.Stderr, "termbytes:", err)
		os.Exit(1)
	}
	secs := measure.Seconds()
	fmt.Printf("%s\t%d bytes in %.0f s\t%.0f B/s\n", flag.Arg(0), n, secs, float64(n)/secs)
}

// openPTY opens a pseudo-terminal pair of the given size.
func openPTY(cols, rows int) (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	num, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	ws := &unix.Winsize{Row: uint16(rows), Col: uint16(cols)}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, ws); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("pty size: %w", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(num), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, s, nil
}

func run(argv []string, cols, rows int, warmup, measure time.Duration, quit, save string) (int64, error) {
	master, slave, err := openPTY(cols, rows)
	if err != nil {
		return 0, err
	}
	defer master.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "COLUMNS="+strconv.Itoa(cols), "LINES="+strconv.Itoa(rows))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		slave.Close()
		return 0, err
	}
	slave.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var out io.Writer = io.Discard
	if save != "" {
		f, err := os.Create(save)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		out = f
	}
	var counting atomic.Bool
	var counted atomic.Int64
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		buf := make([]byte, 64<<10)
		for {
			n, err := master.Read(buf)
			if n > 0 && counting.Load() {
				counted.Add(int64(n))
				out.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()

	stop := func() {
		master.WriteString(quit)
		select {
		case <-exited:
			return
		case <-time.After(2 * time.Second):
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(2 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	select {
	case err := <-exited:
		return 0, fmt.Errorf("%s ended during the warm-up: %v", argv[0], err)
	case <-time.After(warmup):
	}
	counting.Store(true)
	select {
	case err := <-exited:
		return 0, fmt.Errorf("%s ended while being measured: %v", argv[0], err)
	case <-time.After(measure):
	}
	counting.Store(false)
	n := counted.Load()
	stop()
	master.Close()
	select {
	case <-copied:
	case <-time.After(time.Second):
	}
	if n == 0 {
		return 0, errors.New("the program wrote nothing while measured")
	}
	return n, nil
}
