package agent

import (
	"bytes"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/socktop/socktop/procfs"
	"github.com/socktop/socktop/wire"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Command lines (ProcessInfo.command, ProcessExtras.command, v2 only) are
// read once per process and kept, as the owner is: read again when the
// process's <pid>/stat is opened afresh (a reused pid) or its owner read
// again (every 30 scans; Process.StatOpened), or its name changes (an exec). A
// sample with them is made from the shared process sample by copying its
// encoded rows and appending each one's command, so the fields of a row
// are never copied one by one and a client that asks for none pays
// nothing.

// commandRecently is how long after the last request for command lines
// process samples keep their stat openings for them.
const commandRecently = 30 * time.Second

// maxListCommand bounds one command line in the process list (bytes).
const maxListCommand = 4096

// processCommandField is ProcessInfo.command's field number.
const processCommandField protowire.Number = 13

type commands struct {
	// asked is when command lines were last asked for (Unix ns).
	asked atomic.Int64

	mu     sync.Mutex // add is called by one processSource at a time; this is for tests
	reader *procfs.CmdlineReader
	known  map[uint32]*command
	round  uint32
}

// command is one process's command line, and what it was read for.
type command struct {
	start  uint64 // the process's start time (Unix s)
	opened uint32 // its stat opening (procfs.Process.StatOpened); 0 unknown
	name   string
	text   string
	round  uint32 // the last sample it was in
}

func newCommands(fs *procfs.FS) *commands {
	return &commands{reader: fs.NewCmdlineReader(maxListCommand), known: map[uint32]*command{}}
}

// wanted reports whether command lines were asked for recently.
func (c *commands) wanted() bool {
	return time.Since(time.Unix(0, c.asked.Load())) < commandRecently
}

// add makes the reply of sample s with each process's command line.
func (c *commands) add(s *sample[*wire.Processes]) (reply, error) {
	lines := c.lines(s)
	return rowsWith(s, nil, func(i int, b []byte) []byte { return appendCommand(b, lines[i]) })
}

// lines are the command lines of sample s's rows, in their order.
func (c *commands) lines(s *sample[*wire.Processes]) []string {
	var opened []uint32
	if aux, ok := s.aux.(*procAux); ok {
		opened = aux.opened
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.round++
	rows := s.msg.Processes
	out := make([]string, len(rows))
	for i, r := range rows {
		var o uint32
		if i < len(opened) {
			o = opened[i]
		}
		out[i] = c.of(r, o)
	}
	for pid, k := range c.known {
		if k.round != c.round {
			delete(c.known, pid) // gone
		}
	}
	return out
}

// appendCommand appends ProcessInfo.command, unless it is empty.
func appendCommand(b []byte, cmd string) []byte {
	if cmd == "" {
		return b
	}
	b = protowire.AppendTag(b, processCommandField, protowire.BytesType)
	return protowire.AppendString(b, cmd)
}

// rowsWith makes the reply of sample s with more fields in each row:
// the shared sample's encoding is copied row by row, and more(i, b)
// appends row i's extra fields to b, so the fields a row already has are
// never encoded again and a client that asks for nothing pays nothing;
// tail (encoded Processes fields) is appended after the rows.
func rowsWith(s *sample[*wire.Processes], tail []byte, more func(i int, b []byte) []byte) (reply, error) {
	body, err := s.v2Body()
	if err != nil {
		return nil, err
	}
	rows := s.msg.Processes
	out := make([]byte, 0, len(body)+len(body)/2)
	var extra []byte
	i := 0
	for b := body; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		field := b[:n+m]
		b = b[n+m:]
		if num != 2 || typ != protowire.BytesType || i >= len(rows) {
			out = append(out, field...)
			continue
		}
		row, _ := protowire.ConsumeBytes(field[n:])
		extra = more(i, extra[:0])
		i++
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(len(row)+len(extra)))
		out = append(out, row...)
		out = append(out, extra...)
	}
	out = append(out, tail...)
	return &encodedSample{body: out, decode: func() proto.Message {
		var p wire.Processes
		if p.UnmarshalVT(out) != nil {
			return s.msg
		}
		return &p
	}}, nil
}

// of is p's command line, read again unless the one known is the same
// process's, read since its stat file was last opened.
func (c *commands) of(p *wire.ProcessInfo, opened uint32) string {
	k := c.known[p.Pid]
	if k != nil && k.start == p.StartTime && k.name == p.Name && (opened == 0 || k.opened == 0 || k.opened == opened) {
		if k.opened == 0 {
			k.opened = opened
		}
		k.round = c.round
		return k.text
	}
	if k == nil {
		k = &command{}
		c.known[p.Pid] = k
	}
	b, more, err := c.reader.Read(int32(p.Pid))
	if err != nil {
		b, more = nil, false // gone or hidden: none, as for a kernel thread
	}
	*k = command{start: p.StartTime, opened: opened, name: p.Name, text: commandText(b, more), round: c.round}
	return k.text
}

// commandText makes /proc/<pid>/cmdline text: arguments joined by spaces,
// valid UTF-8, at most maxListCommand bytes, cut on a character boundary
// and ending in "…" when it was longer.
func commandText(b []byte, more bool) string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return ""
	}
	t := []byte(validText(string(b)))
	for i, c := range t {
		if c == 0 {
			t[i] = ' '
		}
	}
	if !more && len(t) <= maxListCommand {
		return string(t)
	}
	const ellipsis = "…"
	t = t[:min(len(t), maxListCommand-len(ellipsis))]
	for len(t) > 0 && !utf8.Valid(t) {
		t = t[:len(t)-1] // cut on a character boundary
	}
	return string(t) + ellipsis
}

// encodedSample is a reply that exists as its v2 encoding (a process
// sample with command lines); the message is decoded from it when asked.
type encodedSample struct {
	body   []byte
	once   sync.Once
	decode func() proto.Message
	msg    proto.Message
}

func (e *encodedSample) v2Body() ([]byte, error) { return e.body, nil }

func (e *encodedSample) message() proto.Message {
	e.once.Do(func() { e.msg = e.decode() })
	return e.msg
}

// frame is never asked: the text dialects cannot ask for command lines.
func (e *encodedSample) frame(d wire.Dialect, enc func(wire.Dialect, proto.Message) wire.Frame) wire.Frame {
	return enc(d, e.message())
}
