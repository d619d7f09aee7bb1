package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gdamore/tcell/v2"
	"github.com/socktop/socktop/tui"
)

// runReplay is `socktop replay FILE`: the dashboard on a recording, with
// no network.
func runReplay(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return replay(ctx, args, os.Stderr, nil)
}

const replayUsage = `usage: socktop replay [flags] FILE

Opens the dashboard on a recording instead of an agent, with no network:
FILE is what socktop connect --record FILE wrote, or an agent's history
file (socktop agent --history; ~/.local/state/socktop_agent/history.bin).
Attach a recording to a bug report and this shows what you saw.

Keys: Space pauses and plays, + and - change the speed, , and . seek 10 s
(; and ' a minute), [ and ] step through the recorded moments, z zooms the
graphs; ? lists them all. A recording keeps, per sample, the CPU (total and
per core), memory, swap, load, network and disk counters, the hottest
temperature and the 20 top processes: process details, journals and
signals are not in it.

Examples:
  socktop connect --record pi.rec pi-kitchen     # record, then quit with q
  socktop replay pi.rec
  socktop replay --speed 8 ~/.local/state/socktop_agent/history.bin

Flags:
`

// replay runs `socktop replay args` on scr (nil: the terminal).
func replay(ctx context.Context, args []string, stderr io.Writer, scr tcell.Screen) int {
	fs := flag.NewFlagSet("socktop replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, replayUsage)
		fs.PrintDefaults()
	}
	speed := fs.Float64("speed", 1, fmt.Sprintf("playback `speed`, %g to %g", tui.MinReplaySpeed, tui.MaxReplaySpeed))
	paused := fs.Bool("paused", false, "start paused on the first sample")
	ascii := fs.Bool("ascii", false, "draw without braille and box characters")
	noColor := fs.Bool("no-color", false, "draw without colour (also NO_COLOR)")
	pos, code, done := parseInterspersed(fs, args)
	if done {
		return code
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "socktop replay: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case len(pos) != 1:
		return usage("name one recording: socktop replay FILE (see socktop replay -h)")
	case !(*speed >= tui.MinReplaySpeed && *speed <= tui.MaxReplaySpeed):
		return usage("--speed %g: want %g to %g", *speed, tui.MinReplaySpeed, tui.MaxReplaySpeed)
	}
	r, info, err := tui.OpenReplay(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "socktop replay: %v\n", err)
		return exitFailure
	}
	if info.Damaged {
		fmt.Fprintf(stderr, "socktop replay: %s\n", info)
	}
	r.SetSpeed(*speed)
	if *paused {
		r.TogglePause()
	}
	if err := tui.Run(ctx, tui.Options{Replay: r, Version: version, ASCII: *ascii, NoColor: *noColor, Screen: scr}); err != nil {
		fmt.Fprintf(stderr, "socktop replay: %v\n", err)
		return exitFailure
	}
	return exitOK
}
