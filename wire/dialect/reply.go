package dialect

import (
	"github.com/coder/websocket"
	"github.com/socktop/socktop/wire"
)

// Reply functions: each encodes one v2 message as the reply of the given
// text dialect (wire.DialectJSON or wire.DialectCommand), framed as
// PROTOCOL.md §2 and §3 say.

// ReplyMetrics answers a metrics request.
func ReplyMetrics(d wire.Dialect, m *wire.Metrics) wire.Frame {
	if d == wire.DialectJSON {
		return FrameText(EncodeJSONMetrics(m))
	}
	return FrameCommandJSON(EncodeCommandMetrics(m))
}

// ReplyDisks answers a disks request.
func ReplyDisks(d wire.Dialect, v *wire.Disks) wire.Frame {
	if d == wire.DialectJSON {
		return FrameText(EncodeJSONDisks(v))
	}
	return FrameCommandJSON(EncodeCommandDisks(v))
}

// ReplyProcesses answers a processes request with the upstream-compatible
// ProcessList: a binary frame in both dialects, gzip above
// wire.GzipThreshold.
func ReplyProcesses(_ wire.Dialect, p *wire.Processes) wire.Frame {
	return FrameProcessList(EncodeProcessList(nil, wire.ToProcessList(p)))
}

// ReplyProcessDetail answers a process_metrics request.
func ReplyProcessDetail(d wire.Dialect, p *wire.ProcessDetail) wire.Frame {
	return ReplyJSON(d, EncodeProcessDetailJSON(p))
}

// ReplyJournal answers a journal_entries request.
func ReplyJournal(d wire.Dialect, j *wire.Journal) wire.Frame {
	return ReplyJSON(d, EncodeJournalJSON(j))
}

// ReplyJSON frames a JSON body the same in both dialects' manner: a plain
// text frame in the JSON dialect, FrameCommandJSON in the command dialect.
func ReplyJSON(d wire.Dialect, b []byte) wire.Frame {
	if d == wire.DialectJSON {
		return FrameText(b)
	}
	return FrameCommandJSON(b)
}

// ReplyError answers req with the error object of its dialect:
// {"error":message,"request":type} plus "pid" when the request named one.
func ReplyError(req TextRequest, e *wire.Error) wire.Frame {
	return ReplyJSON(req.Dialect, EncodeErrorJSON(e.GetMessage(), req.Type, req.PID, req.HasPID))
}

// FrameCommandJSON frames a command-dialect JSON reply as upstream does: a
// text frame when it is at most wire.GzipThreshold bytes, otherwise a
// binary frame holding its gzip compression.
func FrameCommandJSON(b []byte) wire.Frame {
	if len(b) <= wire.GzipThreshold {
		return wire.Frame{Type: websocket.MessageText, Data: b}
	}
	return wire.Frame{Type: websocket.MessageBinary, Data: wire.Gzip(b)}
}

// FrameText frames a JSON-dialect reply: always a plain text frame, because
// the documented clients JSON.parse every text frame.
func FrameText(b []byte) wire.Frame { return wire.Frame{Type: websocket.MessageText, Data: b} }

// FrameProcessList frames an encoded ProcessList for both the JSON and the
// command dialect: always binary, gzip-compressed above wire.GzipThreshold.
func FrameProcessList(b []byte) wire.Frame {
	if len(b) <= wire.GzipThreshold {
		return wire.Frame{Type: websocket.MessageBinary, Data: b}
	}
	return wire.Frame{Type: websocket.MessageBinary, Data: wire.Gzip(b)}
}
