package wire

import (
	"errors"
	"fmt"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ErrImplausible is wrapped by the error of a decoder that refused a reply
// no real machine could send: a byte limit does not bound what a reply
// decodes to (an empty process row is 2 bytes on the wire and ~200 in
// memory, so a 60 MiB frame of them is gigabytes), so every repeated field
// is counted before anything is allocated. The error reads e.g. "agent sent
// an implausible sample: 1000000 cores (a machine has at most 8192)".
var ErrImplausible = errors.New("agent sent an implausible sample")

// What a real machine can report, per reply. Generous: a limit is only
// there to keep a hostile or broken agent from exhausting the client.
const (
	MaxProcesses      = 100_000
	MaxCores          = 8192 // Linux's NR_CPUS ceiling (x86 MAXSMP)
	MaxInterfaces     = 65_536
	MaxDisks          = 16_384
	MaxTemperatures   = 4096
	MaxGPUs           = 256
	MaxConnections    = 262_144
	MaxJournalEntries = 10_000
	MaxChildren       = 4096   // per process in a detail
	MaxThreads        = 65_536 // per process in a detail
	MaxCapabilities   = 256
	// maxRepeated bounds any other repeated field, maxElements the
	// messages and strings of every repeated field of one reply together
	// (packed numbers, 4 or 8 bytes each decoded, count only against their
	// field's limit), maxNesting how deep messages nest (a detail's
	// children of children…).
	maxRepeated = 65_536
	maxElements = 300_000
	maxNesting  = 12
)

// totalLimits raise maxElements for replies that hold many samples: a
// History of wire/history's MaxPoints (10,000) samples, each with up to
// 64 interfaces, 64 disks and 32 processes, is 1.61 M values.
var totalLimits = map[protoreflect.FullName]int{
	"socktop.v2.History": 1_700_000,
}

// repeatedLimits names the repeated fields' limits and what they count.
var repeatedLimits = map[protoreflect.FullName]struct {
	max  int
	what string
}{
	"socktop.v2.Processes.processes":             {MaxProcesses, "processes"},
	"socktop.v2.ProcessList.processes":           {MaxProcesses, "processes"},
	"socktop.v2.Metrics.cpu_per_core":            {MaxCores, "cores"},
	"socktop.v2.Metrics.networks":                {MaxInterfaces, "network interfaces"},
	"socktop.v2.Metrics.temperatures":            {MaxTemperatures, "temperatures"},
	"socktop.v2.Metrics.gpus":                    {MaxGPUs, "GPUs"},
	"socktop.v2.Disks.disks":                     {MaxDisks, "disks"},
	"socktop.v2.Connections.connections":         {MaxConnections, "connections"},
	"socktop.v2.Journal.entries":                 {MaxJournalEntries, "journal entries"},
	"socktop.v2.DetailedProcess.child_processes": {MaxChildren, "children of one process"},
	"socktop.v2.DetailedProcess.threads":         {MaxThreads, "threads of one process"},
	"socktop.v2.Hello.capabilities":              {MaxCapabilities, "capabilities"},
}

func implausible(n int, what string, limit int) error {
	return fmt.Errorf("%w: %d %s (a machine has at most %d)", ErrImplausible, n, what, limit)
}

// shape is what the scanner knows of one message type, from its descriptor.
type shape struct {
	fields []*fieldShape // by field number; nil for fields not counted
	deep   bool          // it holds repeated or message fields: worth scanning inside
	total  int           // the reply's value budget inside it (totalLimits); 0: unchanged
}

func (s *shape) field(n protowire.Number) *fieldShape {
	if n >= 0 && int(n) < len(s.fields) {
		return s.fields[n]
	}
	return nil
}

type fieldShape struct {
	msg    *shape // message-typed fields
	max    int    // repeated fields: their limit (0: not repeated)
	what   string
	fixed  int  // packed fixed-width scalars: bytes per value
	varint bool // packed varints
}

var (
	shapesOnce sync.Once
	respShape  *shape
	listShape  *shape
)

func shapes() (*shape, *shape) {
	shapesOnce.Do(func() {
		seen := map[protoreflect.FullName]*shape{}
		respShape = shapeOf((&Response{}).ProtoReflect().Descriptor(), seen)
		listShape = shapeOf((&ProcessList{}).ProtoReflect().Descriptor(), seen)
	})
	return respShape, listShape
}

// shapeOf derives a message's shape from its descriptor, so that a field
// added to the schema later is counted too (under maxRepeated).
func shapeOf(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]*shape) *shape {
	if s := seen[md.FullName()]; s != nil {
		return s
	}
	s := &shape{total: totalLimits[md.FullName()]}
	seen[md.FullName()] = s
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		f := &fieldShape{}
		if fd.Kind() == protoreflect.MessageKind {
			f.msg = shapeOf(fd.Message(), seen)
		}
		if fd.IsList() {
			f.max, f.what = maxRepeated, string(fd.Name())
			if l, ok := repeatedLimits[fd.FullName()]; ok {
				f.max, f.what = l.max, l.what
			}
			switch fd.Kind() {
			case protoreflect.FloatKind, protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
				f.fixed = 4
			case protoreflect.DoubleKind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
				f.fixed = 8
			case protoreflect.MessageKind, protoreflect.StringKind, protoreflect.BytesKind:
			default:
				f.varint = true
			}
		}
		if f.msg != nil || f.max > 0 {
			for int(fd.Number()) >= len(s.fields) {
				s.fields = append(s.fields, nil)
			}
			s.fields[fd.Number()] = f
			s.deep = true
		}
	}
	return s
}

// scanner counts the values of every repeated field of one reply.
type scanner struct{ total, limit int }

// scan checks one encoded message of shape s, adding to counts (one per
// field number of s). A message field that is not repeated may come more
// than once on the wire, and its occurrences are merged into one message:
// their counts add up, so they share one counts slice. Malformed bytes end
// the scan without an error: the decoder that runs next reports them.
func (sc *scanner) scan(b []byte, s *shape, depth int, counts []int) error {
	if depth > maxNesting {
		return fmt.Errorf("%w: messages nested %d deep", ErrImplausible, depth)
	}
	if s.total > sc.limit {
		sc.limit = s.total
	}
	var merged [][]int // counts of the singular message fields, by number
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil
		}
		b = b[n:]
		f := s.field(num)
		var v []byte
		if typ == protowire.BytesType {
			v, n = protowire.ConsumeBytes(b)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return nil
		}
		b = b[n:]
		if f == nil {
			continue
		}
		if f.max > 0 {
			k := 1
			switch {
			case typ != protowire.BytesType:
			case f.fixed > 0:
				k = len(v) / f.fixed // packed
			case f.varint:
				k = 0
				for _, c := range v {
					if c < 0x80 {
						k++
					}
				}
			}
			counts[num] += k
			if counts[num] > f.max {
				return implausible(counts[num], f.what, f.max)
			}
			if f.fixed > 0 || f.varint {
				k = 0 // numbers: bounded by their field's limit and by the frame's bytes
			}
			if sc.total += k; sc.total > sc.limit {
				return fmt.Errorf("%w: more than %d values in one reply", ErrImplausible, sc.limit)
			}
		}
		if f.msg == nil || !f.msg.deep || typ != protowire.BytesType {
			continue
		}
		var sub []int
		if f.max > 0 {
			var small [32]int // an element of its own
			sub = small[:]
			if len(f.msg.fields) > len(small) {
				sub = make([]int, len(f.msg.fields))
			}
		} else {
			if merged == nil {
				merged = make([][]int, len(s.fields))
			}
			if merged[num] == nil {
				merged[num] = make([]int, len(f.msg.fields))
			}
			sub = merged[num]
		}
		if err := sc.scan(v, f.msg, depth+1, sub); err != nil {
			return err
		}
	}
	return nil
}

// scanMessage checks one encoded message of shape s.
func scanMessage(b []byte, s *shape) error {
	return (&scanner{limit: maxElements}).scan(b, s, 0, make([]int, len(s.fields)))
}

// CheckResponse reports whether an encoded v2 Response is plausible (an
// error wrapping ErrImplausible if not) without decoding it: it walks the
// bytes once and allocates nothing.
func CheckResponse(b []byte) error {
	resp, _ := shapes()
	return scanMessage(b, resp)
}

// checkProcessList is CheckResponse for an encoded ProcessList.
func checkProcessList(b []byte) error {
	_, list := shapes()
	return scanMessage(b, list)
}

// responseID reads the id of an encoded Response (0 when it has none).
func responseID(b []byte) uint32 {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0
		}
		b = b[n:]
		if num == 1 && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0
			}
			return uint32(v)
		}
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return 0
		}
		b = b[n:]
	}
	return 0
}

// maxJSONDepth bounds how deep a JSON reply nests (a detail's children of
// children are two levels each).
const maxJSONDepth = 32

// checkJSON bounds a JSON reply before it is decoded: how deep it nests and
// how many array values it holds in all (at most elements). One pass, no
// allocation; malformed JSON is left for the decoder to report.
func checkJSON(b []byte, elements int) error {
	var stack [maxJSONDepth]struct{ array, counted bool }
	depth, n := 0, 0
	inString, escaped := false, false
	value := func() error { // a value starts here
		if depth > 0 && stack[depth-1].array && !stack[depth-1].counted {
			stack[depth-1].counted = true
			if n++; n > elements {
				return fmt.Errorf("%w: more than %d values in one reply", ErrImplausible, elements)
			}
		}
		return nil
	}
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r', ':':
		case ',':
			if depth > 0 && stack[depth-1].array {
				stack[depth-1].counted = false // the next value counts
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		case '[', '{':
			if err := value(); err != nil {
				return err
			}
			if depth == maxJSONDepth {
				return fmt.Errorf("%w: JSON nested more than %d deep", ErrImplausible, maxJSONDepth)
			}
			stack[depth] = struct{ array, counted bool }{array: c == '['}
			depth++
		case '"':
			inString = true
			fallthrough
		default: // a string, number, true, false or null
			if err := value(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Element budgets of the JSON replies (checkJSON).
const (
	jsonMetricsElements = MaxCores + MaxInterfaces + MaxGPUs + MaxTemperatures + MaxDisks + 1024
	jsonDisksElements   = MaxDisks
	jsonDetailElements  = 70_000 // threads and children of every level together
	jsonJournalElements = MaxJournalEntries
)

// tooMany is the implausible error for n values of what, or nil.
func tooMany(n, limit int, what string) error {
	if n > limit {
		return implausible(n, what, limit)
	}
	return nil
}
