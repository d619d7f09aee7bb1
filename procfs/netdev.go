package procfs

// NetDev is one interface line of /proc/net/dev (cumulative since boot).
type NetDev struct {
	Name                                 string
	RxBytes, RxPackets, RxErrors, RxDrop uint64
	TxBytes, TxPackets, TxErrors, TxDrop uint64
}

// NetDev reads /proc/net/dev (of the FS's proc root, i.e. the network
// namespace of the reading process for /proc).
func (fs *FS) NetDev() ([]NetDev, error) { return fs.ReadNetDev(nil) }

// ReadNetDev is NetDev reusing dst: pass the previous result back in and
// unchanged interface names are not allocated again.
func (fs *FS) ReadNetDev(dst []NetDev) ([]NetDev, error) {
	err := fs.readWith(fs.paths.netdev, func(b []byte) error {
		var err error
		dst, err = ParseNetDev(b, dst)
		return err
	})
	return dst, err
}

// ParseNetDev parses /proc/net/dev, appending to dst. When dst has capacity
// from an earlier call, interface names equal to the entry at the same index
// are reused instead of allocated.
func ParseNetDev(b []byte, dst []NetDev) ([]NetDev, error) {
	old := dst[:cap(dst)]
	dst = dst[:0]
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		colon := -1
		for i, c := range line {
			if c == ':' {
				colon = i
			}
			if c == '|' { // header lines
				colon = -1
				break
			}
		}
		if colon < 0 {
			continue
		}
		name := trimSpace(line[:colon])
		if len(name) == 0 {
			return dst, malformed("/proc/net/dev", "empty interface name")
		}
		var v [16]uint64
		rest := line[colon+1:]
		for i := range v {
			var f []byte
			f, rest = nextField(rest)
			x, ok := parseUint(f)
			if !ok {
				return dst, malformed("/proc/net/dev", "bad counter")
			}
			v[i] = x
		}
		d := NetDev{
			RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDrop: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDrop: v[11],
		}
		if i := len(dst); i < len(old) && old[i].Name == string(name) {
			d.Name = old[i].Name
		} else {
			d.Name = string(name)
		}
		dst = append(dst, d)
	}
	return dst, nil
}
