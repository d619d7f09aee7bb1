package agent

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// The WebSocket library answers pings and joins fragments inside Read, out
// of the request rate limit's sight: a ping flood, or millions of empty
// continuation frames, kept a core busy for as long as the peer liked. So a
// frameGuard sits under the library on every hijacked connection and reads
// the client's frame headers as the bytes go by. It counts every frame —
// data, continuation and control alike — in a token bucket and, when the
// peer sends faster, stops reading until the bucket refills: the flood
// waits in the kernel's buffers and costs the agent nothing. A fragmented
// message of too many frames, or one that takes too long, ends the
// connection.
const (
	// frameRate and frameBurst are far above what any client sends (a
	// request is one frame; the request limit is 20 a second) and low
	// enough that a flood costs well under 1 % of a core per connection.
	frameRate  = 1000
	frameBurst = 2000
	// maxFragments bounds the frames of one message (a 64 KiB request
	// in fragments of 1 KiB).
	maxFragments = 64
)

// defaultFragmentTime bounds a fragmented message's duration
// (Agent.fragmentTime, shorter in tests).
const defaultFragmentTime = 10 * time.Second

var errFrameViolation = errors.New("websocket frame policy violated")

// frameGuard is the net.Conn under one WebSocket.
type frameGuard struct {
	net.Conn
	release func() // gives back the connection's slot
	report  func(reason string)
	flooded func()

	closing   chan struct{}
	closeOnce sync.Once
	violated  sync.Once

	// The frame parser: only Read touches it, and the library reads from
	// one goroutine at a time.
	hdr      [14]byte
	hn       int    // header bytes gathered so far
	skip     uint64 // payload bytes of the current frame still to come
	bucket   tokenBucket
	debt     float64 // frames beyond the bucket, to be waited for
	frags    int     // frames of the fragmented message under way, 0 if none
	fragT    *time.Timer
	fragTime time.Duration // how long one may take
}

func newFrameGuard(c net.Conn, fragTime time.Duration, release func(), report func(string), flooded func()) *frameGuard {
	return &frameGuard{Conn: c, fragTime: fragTime, release: release, report: report, flooded: flooded,
		closing: make(chan struct{}), bucket: newTokenBucket(frameRate, frameBurst)}
}

func (g *frameGuard) Read(p []byte) (int, error) {
	n, err := g.Conn.Read(p)
	if n > 0 {
		if reason := g.scan(p[:n], time.Now()); reason != "" {
			g.violate(reason)
			return 0, errFrameViolation
		}
		g.throttle()
	}
	return n, err
}

func (g *frameGuard) Close() error {
	err := g.Conn.Close()
	g.closeOnce.Do(func() {
		close(g.closing)
		g.release()
	})
	return err
}

// violate ends the connection (without a close frame: the library may be
// writing) and reports why, once.
func (g *frameGuard) violate(reason string) {
	g.violated.Do(func() {
		g.report(reason)
		g.Conn.Close()
	})
}

// scan follows the frame headers in b, the next bytes of the stream from
// the client. It returns a reason when the connection must end.
func (g *frameGuard) scan(b []byte, now time.Time) string {
	for len(b) > 0 {
		if g.skip > 0 {
			k := min(uint64(len(b)), g.skip)
			g.skip -= k
			b = b[k:]
			continue
		}
		g.hdr[g.hn] = b[0]
		g.hn++
		b = b[1:]
		if g.hn < 2 || g.hn < headerLen(g.hdr[1]) {
			continue
		}
		if reason := g.frame(now); reason != "" {
			return reason
		}
		g.hn = 0
	}
	return ""
}

// headerLen is the length of a client frame header from its second byte:
// 2, plus 2 or 8 bytes of extended length, plus 4 of masking key.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// frame accounts for the complete header in g.hdr.
func (g *frameGuard) frame(now time.Time) string {
	fin, op := g.hdr[0]&0x80 != 0, g.hdr[0]&0x0f
	switch n := g.hdr[1] & 0x7f; n {
	case 126:
		g.skip = uint64(g.hdr[2])<<8 | uint64(g.hdr[3])
	case 127:
		for _, c := range g.hdr[2:10] {
			g.skip = g.skip<<8 | uint64(c)
		}
	default:
		g.skip = uint64(n)
	}
	if !g.bucket.take(now, 1) {
		g.debt++
	}
	switch {
	case op == 0 && g.frags > 0: // a continuation
		g.frags++
		if g.frags > maxFragments {
			return fmt.Sprintf("a fragmented message of more than %d frames", maxFragments)
		}
		if fin {
			g.frags = 0
			g.fragT.Stop()
		}
	case (op == 1 || op == 2) && !fin: // the first frame of a fragmented message
		g.frags = 1
		if g.fragT == nil {
			g.fragT = time.AfterFunc(g.fragTime, func() {
				select {
				case <-g.closing:
				default:
					g.violate(fmt.Sprintf("a fragmented message unfinished after %v", g.fragTime))
				}
			})
		} else {
			g.fragT.Reset(g.fragTime)
		}
	}
	return ""
}

// throttle waits, after a read that went over the bucket, for as long as
// the frames beyond it take to earn (or until the connection closes).
func (g *frameGuard) throttle() {
	if g.debt == 0 {
		return
	}
	g.flooded()
	wait := time.Duration(g.debt / frameRate * float64(time.Second))
	g.debt = 0
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-g.closing:
	}
	// The wait paid for those frames; the bucket starts again empty.
	g.bucket.tokens, g.bucket.last = 0, time.Now()
}

// guardedWriter hands the WebSocket library a frameGuard when it hijacks
// the connection. The bytes the server had already read past the upgrade
// request (a client may send frames without waiting for the 101) are
// scanned first, so the guard follows the stream from its first frame.
type guardedWriter struct {
	http.ResponseWriter
	guard func(net.Conn) *frameGuard
}

func (w guardedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w guardedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	g := w.guard(c)
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		if reason := g.scan(b, time.Now()); reason != "" {
			g.violate(reason)
		}
	}
	return g, brw, nil
}
