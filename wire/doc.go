// Package wire is the Go client library of socktop: it connects to a
// socktop agent (or to an upstream socktop_agent written in Rust) and
// returns what the agent measures — CPU, memory, networks, disks,
// processes, sockets, journal entries — as typed messages. It also holds
// the protocol's types and the socktop.v2 codec, which the agent shares.
//
// # Connecting
//
// Dial connects and runs the first exchange, so a returned Client is known
// to work:
//
//	c, err := wire.Dial(ctx, "wss://pi-kitchen:8443/ws", &wire.Options{
//		Token: "s3cret",                  // the agent's --token
//		Pins:  []string{"sha256:9f2c…"}, // what `socktop cert` prints on the agent
//	})
//	if err != nil {
//		log.Fatal(err) // one line: the cause, then the fix
//	}
//	defer c.Close()
//
// The URL may be ws://HOST:PORT/ws, wss://…, or just HOST:PORT;
// Options.DialContext replaces the TCP dialer (a tunnel, a resolver of
// one's own). Without a
// pin or CA file (Options.CAFile, CAPEM) a wss:// agent must present a
// certificate the system trusts; socktop's self-signed ones are refused
// with an *UntrustedCertError that carries the pin that would accept it.
// Options.DialTimeout bounds Dial; Options.RequestTimeout bounds each call
// whose context has no deadline (10 s each by default).
//
// # Calls
//
// A Client is safe for concurrent use. Each call takes a context and
// returns when the answer comes, the context ends or the connection does:
//
//	m, err := c.Metrics(ctx)           // CPU, memory, networks, GPUs, load
//	d, err := c.Disks(ctx)             // usage and I/O counters
//	p, err := c.Processes(ctx)         // every process
//	p, err = c.ProcessesWith(ctx, &wire.ProcessExtras{…}) // with costly fields
//	x, err := c.ProcessDetail(ctx, pid)
//	j, err := c.Journal(ctx, pid, 50)  // at most 50 entries (0: the agent's default)
//	s, err := c.Connections(ctx)       // the socket table
//	r, err := c.Signal(ctx, pid, startTime, "TERM")
//	k, err := c.Containers(ctx)        // agents with CapContainers
//	h, err := c.History(ctx, &wire.HistoryRequest{…}) // agents with CapHistory
//	rtt, err := c.Ping(ctx)
//
// Hello tells what the agent is and serves: its hostname, cores, version
// and Capabilities (CapConnections, CapSignals, CapSubscribe, …). A call
// the agent cannot serve fails with ErrNotSupported. Signal names the
// process by pid and start time, so a reused pid is never signalled.
//
// # Subscriptions
//
// Instead of asking at intervals, a client may let the agent push samples
// on its own clock (agents that list CapSubscribe; CanSubscribe tells):
//
//	got, err := c.Subscribe(ctx, wire.Cadence{Metrics: time.Second, Processes: 2 * time.Second})
//	for {
//		select {
//		case p := <-c.Pushes(): // exactly one field set: p.Metrics, p.Processes, …
//		case <-c.Done():
//			return c.Err()
//		}
//	}
//
// The agent keeps intervals of at least its floors and says which it kept
// (got). A reader that falls behind loses pushes, not the connection. A
// zero Cadence ends the subscription.
//
// # Errors to branch on
//
// Errors read as one line that names the cause first, then the fix —
// "connection refused by pi:3000: check the port, and that socktop agent is
// running there", "this agent uses TLS: use wss://pi:3000/ws", "the token
// given was refused (HTTP 401): …" — with the agent's own reason after a
// refusal it explains (HTTP 421, 429, 503). Branch on them with errors.Is
// and errors.As:
//
//   - ErrUnauthorized: the agent refused the token, or needs one. Not worth
//     retrying.
//   - *PinMismatchError, *UntrustedCertError, *HostnameError: the
//     certificate is not the pinned one, is not trusted, or does not name
//     the host. Not worth retrying.
//   - ErrUnreachable: no connection could be made (refused, no route, no
//     answer, a host name that does not resolve: the *net.DNSError is
//     wrapped too). ErrBusy: the agent already serves as many clients as
//     it allows (HTTP 503). ErrRateLimited: too many attempts (HTTP 429).
//     These may pass.
//   - ErrProtocol, ErrProtocolVersion: something answered, but not a
//     socktop agent this client can speak to.
//   - ErrTimeout (a deadline passed) and ErrClosed (the connection ended).
//   - The agent's answer to one request: ErrUnknownPID, ErrNotPermitted,
//     ErrNotSupported, ErrRateLimited, ErrBadRequest, ErrInternal (a v2
//     agent's *Error, an upstream agent's *AgentError). The connection
//     stays usable.
//   - ErrImplausible: the agent sent a sample no machine could produce
//     (a million cores); it is refused before it is decoded.
//
// Classify says how a failed dial should be treated.
//
// # Reconnecting
//
// Reconnect keeps one agent connected: it dials, hands each Client to a
// function, and when the connection ends waits with capped exponential
// backoff and jitter (ReconnectOptions.Backoff) before dialling again. It
// stops on errors waiting cannot fix — a refused token, a rejected
// certificate, a host name that does not exist (unless it resolved earlier
// in the loop) — and reports every state change to ReconnectOptions.OnState.
//
// # Compatibility
//
// Dial offers the WebSocket subprotocol "socktop.v2": binary protobuf
// envelopes with request ids, multiplexed, pushed samples, sockets,
// signals, history and containers (socktop.proto, PROTOCOL.md). An agent
// that does not accept it — upstream socktop_agent 1.50–1.60 — is spoken to
// in its command dialect ("get_metrics" text frames, JSON replies gzipped
// above 768 bytes), one request at a time, as upstream's own TUI does.
// Metrics, Disks, Processes (pid, name, CPU and memory only),
// ProcessDetail and Journal (upstream takes no line count) work there;
// the rest gives ErrNotSupported, and Hello is derived from the first
// metrics reply. Options.Dialect forces one dialect. Within major version
// 2 a newer agent only adds fields, so old clients keep working; another
// major version is ErrProtocolVersion.
//
// The agent also serves a JSON dialect for scripts ({"type":"metrics"}
// text frames); this client does not speak it. The agent's side of the
// text dialects (their request parser and reply encoders) is package
// wire/dialect, outside this library's surface.
//
// The generated *.pb.go files are produced by scripts/gen-proto.sh and
// never edited by hand.
package wire

// Native protocol version spoken by this package. A peer with another major
// version is refused; minor versions only add fields.
const (
	ProtocolMajor = 2
	// ProtocolMinor 1 added subscriptions (Request.subscribe); 2 added
	// history, containers, process extras, the CPU breakdown and df's disk
	// figures (PROTOCOL.md §5).
	ProtocolMinor = 2
)

// Subprotocol is the WebSocket subprotocol that selects the native dialect.
const Subprotocol = "socktop.v2"

// Capability names an agent lists in Hello.Capabilities.
const (
	CapMetrics       = "metrics"
	CapDisks         = "disks"
	CapProcesses     = "processes"
	CapProcessDetail = "process_detail"
	CapJournal       = "journal"
	CapConnections   = "connections"
	CapSignals       = "signals"
	// CapSubscribe: the agent pushes samples after a SubscribeRequest.
	CapSubscribe = "subscribe"
	CapGPU       = "gpu"
	CapTemps     = "temps"
	// CapHistory: the agent keeps a flight recorder (HistoryRequest).
	CapHistory = "history"
	// CapContainers: the agent reads cgroups (ContainersRequest).
	CapContainers = "containers"
	// CapProcessExtras: ProcessesRequest.extras is honoured.
	CapProcessExtras = "process_extras"
)
