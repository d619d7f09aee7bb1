package wiretest

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// DNS is a DNS server on a loopback UDP port. Go's own resolver pointed at
// it (Resolver, DialContext) resolves names without a packet leaving the
// machine: the resolver answers no reserved name itself (not even
// .invalid), it asks the configured server, which a test must not reach.
type DNS struct {
	// Addr is the server's 127.0.0.1:PORT.
	Addr string

	pc      net.PacketConn
	wg      sync.WaitGroup
	answer  atomic.Pointer[netip.Addr] // nil: no address, rcode instead
	rcode   atomic.Uint32
	queries atomic.Int32
}

// DNS response codes a test may have the server answer with.
const (
	RcodeServFail = 2 // the server could not tell
	RcodeNXDomain = 3 // no such name
)

// NewDNS starts a server that answers every name with "no such name".
func NewDNS() *DNS {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic("wiretest: listen on loopback: " + err.Error())
	}
	d := &DNS{Addr: pc.LocalAddr().String(), pc: pc}
	d.rcode.Store(RcodeNXDomain)
	d.wg.Add(1)
	go d.serve()
	return d
}

// Answer makes every name resolve to the IPv4 address a.
func (d *DNS) Answer(a netip.Addr) { d.answer.Store(&a) }

// Fail makes every name fail with rcode (RcodeNXDomain, RcodeServFail).
func (d *DNS) Fail(rcode int) {
	d.rcode.Store(uint32(rcode))
	d.answer.Store(nil)
}

// Queries counts the queries answered so far.
func (d *DNS) Queries() int { return int(d.queries.Load()) }

// Resolver is a resolver that asks only this server.
func (d *DNS) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "udp", d.Addr)
	}}
}

// DialContext resolves addr's host through this server and connects, for
// wire.Options.DialContext.
func (d *DNS) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := net.Dialer{Resolver: d.Resolver()}
	return nd.DialContext(ctx, network, addr)
}

// Close stops the server.
func (d *DNS) Close() {
	d.pc.Close()
	d.wg.Wait()
}

func (d *DNS) serve() {
	defer d.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := d.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if r := d.reply(buf[:n]); r != nil {
			d.queries.Add(1)
			d.pc.WriteTo(r, from)
		}
	}
}

// reply answers one query: an A question gets the answer address, other
// types no record; without an answer, the rcode.
func (d *DNS) reply(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	i := 12
	for i < len(q) && q[i] != 0 {
		i += int(q[i]) + 1
	}
	i++ // the root label
	if i+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i:])
	// id, then QR with the query's opcode and RD, RA, one question
	h := []byte{q[0], q[1], 0x80 | q[2]&0x79, 0x80, 0, 1, 0, 0, 0, 0, 0, 0}
	var answer []byte
	if a := d.answer.Load(); a != nil {
		if qtype == 1 && a.Is4() {
			h[7] = 1
			ip := a.As4()
			// the name by pointer to the question, A, IN, TTL 60, 4 bytes
			answer = append([]byte{0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4}, ip[:]...)
		}
	} else {
		h[3] |= byte(d.rcode.Load())
	}
	return append(append(h, q[12:i+4]...), answer...)
}
