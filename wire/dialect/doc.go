// Package dialect is the agent's side of socktop's two text dialects (PROTOCOL.md §2, §3):
// it parses the JSON dialect's {"type":"metrics"} and upstream's command
// dialect's get_metrics frames, and encodes the replies each expects, framed
// as each expects them. Clients never need it: package wire is the library
// that talks to agents; this package is what an agent (ours, or a test
// agent such as wiretest) answers with.
//
// A Parser knows the requests of one agent (its Routes); Upstream are the
// five upstream socktop_agent 1.60 serves. The Reply functions turn a v2
// message into the frame of one dialect; the Encode functions are their
// JSON bodies before framing.
package dialect
