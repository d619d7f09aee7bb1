// Package wire is the socktop protocol, both directions, in its three
// dialects, and the Go client library that speaks it.
//
// One agent endpoint (GET /ws) serves:
//
//   - the JSON dialect, socktop's published API for third-party clients:
//     text frames such as {"type":"metrics"}, answered with plain JSON text
//     frames; the process list is a binary protobuf frame (ProcessList);
//   - the command dialect of upstream socktop_agent 1.50–1.60, spoken by the
//     upstream Rust TUI and socktop_connector: text frames such as
//     "get_metrics", JSON replies gzip-compressed into binary frames above
//     768 bytes;
//   - the native dialect, negotiated with the WebSocket subprotocol
//     "socktop.v2": binary Request/Response protobuf envelopes with ids,
//     encoded with vtprotobuf-generated code (see socktop.proto). A v2
//     client may also subscribe (Client.Subscribe): the agent then pushes
//     samples on its own clock, one write per sample instead of a request.
//
// Clients call Dial, which offers socktop.v2 and falls back to the command
// dialect when an agent (such as upstream's Rust agent) does not accept it.
// The agent's side of the text dialects (their request parser and reply
// encoders) is package wire/dialect; v2 frames are plain Request/Response
// messages.
//
// The generated *.pb.go files are produced by scripts/gen-proto.sh and never
// edited by hand.
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
