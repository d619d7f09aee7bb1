package wire

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/coder/websocket"
)

// GzipThreshold is upstream's framing boundary: a command-dialect JSON reply
// or a process list of at most this many bytes is sent raw; a longer one is
// gzip-compressed.
const GzipThreshold = 768

// MaxDecompressed bounds what a gzip frame may inflate to, so a hostile peer
// cannot make a decoder allocate without limit.
const MaxDecompressed = 64 << 20

// Frame is one WebSocket message: its type (text or binary) and payload.
type Frame struct {
	Type websocket.MessageType
	Data []byte
}

// Text reports whether the frame is a text frame.
func (f Frame) Text() bool { return f.Type == websocket.MessageText }

// ErrTooLarge is returned when a gzip frame inflates past MaxDecompressed.
var ErrTooLarge = errors.New("frame inflates past the size limit")

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzipLevel)
	return w
}}

// gzipLevel: for a list of 1,000 processes (the agent's costliest
// encoding) level 2 takes a third of the default level's CPU for 11 % more
// bytes (9.3 KB against 8.4 KB); level 1 a quarter for 20 % more (~10 KB).
// Level 1: the agent's CPU is what a Pi pays for, a kilobyte per list every
// 2 s is not (text-encode 0.10× → 0.08× a Floor scan in
// BenchmarkProcessListVsFloor).
const gzipLevel = 1

// Gzip compresses b as upstream does (no name, no mtime), at gzipLevel.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/3 + 64)
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&buf)
	w.Write(b) // writes to a bytes.Buffer cannot fail
	w.Close()
	gzipWriters.Put(w)
	return buf.Bytes()
}

// IsGzip reports whether b starts with the gzip magic bytes 1f 8b.
func IsGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// Gunzip inflates a gzip payload, refusing to grow past MaxDecompressed.
func Gunzip(b []byte) ([]byte, error) { return gunzip(b, MaxDecompressed) }

func gunzip(b []byte, limit int64) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	// The trailer's ISIZE (the size mod 2^32) sizes the buffer once: growing
	// one by doubling would hold up to twice the limit. It is only a hint
	// (a peer may lie); the limit is enforced as the bytes come.
	lim, size := int(limit), 512
	if len(b) >= 18 {
		size = max(size, int(min(binary.LittleEndian.Uint32(b[len(b)-4:]), uint32(lim))))
	}
	out := make([]byte, 0, min(size, lim)+1)
	for {
		if len(out) == cap(out) {
			out = slices.Grow(out, min(cap(out), lim+1-len(out)))
		}
		n, err := r.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if len(out) > lim {
			return nil, fmt.Errorf("gunzip: %w (%d bytes)", ErrTooLarge, limit)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
	}
}

// Payload returns a frame's content with gzip undone: any frame whose bytes
// start with the gzip magic is inflated, whatever its type.
func Payload(f Frame) ([]byte, error) {
	if IsGzip(f.Data) {
		return Gunzip(f.Data)
	}
	return f.Data, nil
}
