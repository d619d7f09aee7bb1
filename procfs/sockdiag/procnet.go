package sockdiag

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
)

// readProcNet reads <procRoot>/net/<name> (tcp, tcp6, udp, udp6) and appends
// the sockets whose state is in the states mask. A missing tcp6/udp6 file
// (IPv6 disabled) is not an error.
func readProcNet(procRoot, name string, proto Proto, family uint8, states uint32, dst []Socket) ([]Socket, error) {
	path := filepath.Join(procRoot, "net", name)
	b, err := os.ReadFile(path)
	if err != nil {
		if family == 6 && errors.Is(err, fs.ErrNotExist) {
			return dst, nil
		}
		return dst, fmt.Errorf("read %s: %w", path, err)
	}
	out, err := parseProcNet(b, proto, family, states, dst)
	if err != nil {
		return dst, fmt.Errorf("parse %s: %w", path, err)
	}
	return out, nil
}

// parseProcNet parses the text of /proc/net/{tcp,tcp6,udp,udp6}:
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//	 0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41237 …
//
// Addresses are the kernel's 32-bit words printed in host byte order, ports
// in hex. Sockets whose state is in the states mask are appended to dst with
// CountersAvailable=false. On error dst is returned unchanged in length.
func parseProcNet(b []byte, proto Proto, family uint8, states uint32, dst []Socket) ([]Socket, error) {
	n0 := len(dst)
	line := 0
	var f [10][]byte
	for len(b) > 0 {
		var l []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			l, b = b, nil
		}
		line++
		if line == 1 {
			if !bytes.Contains(l, []byte("local_address")) {
				return dst[:n0], fmt.Errorf("%w: line 1: not a /proc/net socket table header", ErrMalformed)
			}
			continue
		}
		nf := 0
		for nf < len(f) {
			l = bytes.TrimLeft(l, " \t")
			if len(l) == 0 {
				break
			}
			end := bytes.IndexAny(l, " \t")
			if end < 0 {
				end = len(l)
			}
			f[nf], l = l[:end], l[end:]
			nf++
		}
		if nf == 0 {
			continue // blank line
		}
		if nf < len(f) {
			return dst[:n0], fmt.Errorf("%w: line %d: %d fields, want at least %d", ErrMalformed, line, nf, len(f))
		}
		s, err := parseProcNetFields(&f, proto, family)
		if err != nil {
			return dst[:n0], fmt.Errorf("line %d: %w", line, err)
		}
		if states&(1<<s.State) == 0 {
			continue
		}
		dst = append(dst, s)
	}
	return dst, nil
}

func parseProcNetFields(f *[10][]byte, proto Proto, family uint8) (Socket, error) {
	s := Socket{Proto: proto, Family: family}
	var err error
	if s.Local, err = parseHexAddrPort(f[1], family); err != nil {
		return s, err
	}
	if s.Remote, err = parseHexAddrPort(f[2], family); err != nil {
		return s, err
	}
	st, err := parseHex(f[3], 8)
	if err != nil || st == 0 || st > 0xff {
		return s, fmt.Errorf("%w: state %q", ErrMalformed, f[3])
	}
	s.State = State(st)
	tx, rx, ok := bytes.Cut(f[4], []byte(":"))
	if !ok {
		return s, fmt.Errorf("%w: queues %q", ErrMalformed, f[4])
	}
	txq, err1 := parseHex(tx, 8)
	rxq, err2 := parseHex(rx, 8)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("%w: queues %q", ErrMalformed, f[4])
	}
	s.TxQueue, s.RxQueue = uint32(txq), uint32(rxq)
	uid, err := strconv.ParseUint(string(f[7]), 10, 32)
	if err != nil {
		return s, fmt.Errorf("%w: uid %q", ErrMalformed, f[7])
	}
	s.UID = uint32(uid)
	ino, err := strconv.ParseUint(string(f[9]), 10, 64)
	if err != nil {
		return s, fmt.Errorf("%w: inode %q", ErrMalformed, f[9])
	}
	s.Inode = ino
	return s, nil
}

// parseHexAddrPort parses "0100007F:0CEA" (IPv4) or 32 hex digits ":" port
// (IPv6): each 8-digit group is a 32-bit word in host byte order.
func parseHexAddrPort(b []byte, family uint8) (netip.AddrPort, error) {
	a, p, ok := bytes.Cut(b, []byte(":"))
	words := 1
	if family == 6 {
		words = 4
	}
	if !ok || len(a) != 8*words || len(p) != 4 {
		return netip.AddrPort{}, fmt.Errorf("%w: address %q", ErrMalformed, b)
	}
	var raw [16]byte
	for i := range words {
		w, err := parseHex(a[8*i:8*i+8], 8)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("%w: address %q", ErrMalformed, b)
		}
		binary.NativeEndian.PutUint32(raw[4*i:], uint32(w))
	}
	port, err := parseHex(p, 4)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: port in %q", ErrMalformed, b)
	}
	var addr netip.Addr
	if family == 6 {
		addr = netip.AddrFrom16(raw)
	} else {
		addr = netip.AddrFrom4([4]byte(raw[:4]))
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// parseHex parses 1..maxDigits hex digits without allocating.
func parseHex(b []byte, maxDigits int) (uint64, error) {
	if len(b) == 0 || len(b) > maxDigits {
		return 0, ErrMalformed
	}
	var v uint64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, ErrMalformed
		}
		v = v<<4 | uint64(c)
	}
	return v, nil
}
