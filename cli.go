package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

// Exit codes of every subcommand.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// parseFlags parses a subcommand's arguments. When it reports done, the
// subcommand returns code at once: 0 after -h printed the usage, 2 after a
// usage error (which fs has already printed, or err names).
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return exitOK, false
	case errors.Is(err, flag.ErrHelp):
		return exitOK, true
	}
	return exitUsage, true
}

// failure prints what went wrong in subcommand sub and returns the failure
// exit code.
func failure(sub string, err error) int {
	fmt.Fprintf(os.Stderr, "socktop %s: %v\n", sub, err)
	return exitFailure
}

// parseInterspersed parses flags before, between and after the positional
// arguments, as people type them (socktop snapshot history --since 1h
// HOST), and returns the positional ones in order.
func parseInterspersed(fs *flag.FlagSet, args []string) (pos []string, code int, done bool) {
	if code, done := parseFlags(fs, args); done {
		return nil, code, true
	}
	for rest := fs.Args(); len(rest) > 0; rest = fs.Args() {
		pos = append(pos, rest[0])
		if code, done := parseFlags(fs, rest[1:]); done {
			return nil, code, true
		}
	}
	return pos, exitOK, false
}
