// Package procfs reads what the socktop agent serves straight from /proc and
// /sys, without any monitoring library.
//
// Every reader follows one shape: read the file (with a reused buffer where it
// is hot), then hand the bytes to a pure parser (ParseStat, ParseMeminfo,
// ParseProcStat, …). The parsers are exported so they can be fuzzed and
// table-tested on their own; they never panic and return ErrMalformed (wrapped
// with context) for input they do not understand.
//
// An FS is rooted at configurable proc and sys directories, so tests point it at
// a fixture tree under testdata/ and containers that mount the host's /proc
// elsewhere work with --proc-root/--sys-root.
//
// Concurrency: the methods of FS are safe for concurrent use. CPUTracker and
// ProcessSampler keep state between calls; they lock internally, so concurrent
// calls are serialized rather than racy, but they are meant to be driven by one
// goroutine at a time (the agent's single-flight collector). Values returned by
// them are owned by the caller.
//
// Missing optional sources (swap, hwmon, thermal zones, GPUs, another user's
// /proc/<pid>/io) give absent values, not errors. A process that exits while it
// is being read is skipped silently.
package procfs
