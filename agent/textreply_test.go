package agent

import (
	"encoding/json"
	"fmt"

	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/proto"
)

// The JSON and command dialects' replies, read as a third-party client
// reads them: encoding/json into the documented shapes, and the validating
// protobuf runtime for the process list. (wire's own decoders of these
// replies are its client's business and not exported.)

// decodeProcessList reads a process-list frame (gzip or not).
func decodeProcessList(frame []byte) (*wire.ProcessList, error) {
	b, err := wire.Payload(wire.Frame{Data: frame})
	if err != nil {
		return nil, err
	}
	pl := &wire.ProcessList{}
	if err := proto.Unmarshal(b, pl); err != nil {
		return nil, fmt.Errorf("process list: %w", err)
	}
	return pl, nil
}

// textMetrics is the part of a metrics reply the tests look at.
type textMetrics struct {
	MemTotal   uint64    `json:"mem_total"`
	CPUPerCore []float64 `json:"cpu_per_core"`
}

// textDetail is a process_metrics reply.
type textDetail struct {
	Process struct {
		Pid              uint32            `json:"pid"`
		ParentPid        uint32            `json:"parent_pid"`
		ExecutablePath   string            `json:"executable_path"`
		WorkingDirectory string            `json:"working_directory"`
		Threads          []json.RawMessage `json:"threads"`
	} `json:"process"`
}

// textJournal is a journal_entries reply.
type textJournal struct {
	Entries []struct {
		TimestampUs uint64 `json:"timestamp_us"`
		Priority    string `json:"priority"`
		Message     string `json:"message"`
		Unit        string `json:"unit"`
		Pid         uint32 `json:"pid"`
	} `json:"entries"`
	Notice string `json:"notice"`
}

// decodeText decodes a JSON reply into one of the shapes above.
func decodeText[T any](b []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("reply %.200s: %w", b, err)
	}
	return v, nil
}
