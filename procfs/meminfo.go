package procfs

// Meminfo holds the /proc/meminfo fields socktop uses, in bytes.
type Meminfo struct {
	Total, Free, Available, Buffers, Cached, Shmem, SReclaimable uint64
	SwapTotal, SwapFree                                          uint64
	// AvailableEstimated is set when the kernel has no MemAvailable (before
	// 3.14) and Available was estimated as Free+Buffers+Cached+SReclaimable.
	AvailableEstimated bool
}

// Used is Total − Available.
func (m Meminfo) Used() uint64 {
	if m.Available > m.Total {
		return 0
	}
	return m.Total - m.Available
}

// SwapUsed is SwapTotal − SwapFree (0 without swap).
func (m Meminfo) SwapUsed() uint64 {
	if m.SwapFree > m.SwapTotal {
		return 0
	}
	return m.SwapTotal - m.SwapFree
}

// Meminfo reads /proc/meminfo.
func (fs *FS) Meminfo() (Meminfo, error) {
	var m Meminfo
	err := fs.readWith(fs.paths.meminfo, func(b []byte) error {
		var err error
		m, err = ParseMeminfo(b)
		return err
	})
	return m, err
}

// ParseMeminfo parses /proc/meminfo. MemTotal is required; values in kB are
// converted to bytes.
func ParseMeminfo(b []byte) (Meminfo, error) {
	var m Meminfo
	var haveTotal, haveAvail bool
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		colon := -1
		for i, c := range line {
			if c == ':' {
				colon = i
				break
			}
		}
		if colon < 0 {
			continue
		}
		key := line[:colon]
		var dst *uint64
		switch string(key) {
		case "MemTotal":
			dst, haveTotal = &m.Total, true
		case "MemFree":
			dst = &m.Free
		case "MemAvailable":
			dst, haveAvail = &m.Available, true
		case "Buffers":
			dst = &m.Buffers
		case "Cached":
			dst = &m.Cached
		case "Shmem":
			dst = &m.Shmem
		case "SReclaimable":
			dst = &m.SReclaimable
		case "SwapTotal":
			dst = &m.SwapTotal
		case "SwapFree":
			dst = &m.SwapFree
		default:
			continue
		}
		f, rest := nextField(line[colon+1:])
		v, ok := parseUint(f)
		if !ok {
			return Meminfo{}, malformed("/proc/meminfo", "bad value for "+string(key))
		}
		unit, _ := nextField(rest)
		switch string(unit) {
		case "kB":
			if v > 1<<53 {
				return Meminfo{}, malformed("/proc/meminfo", "value too large")
			}
			v *= 1024
		case "":
		default:
			return Meminfo{}, malformed("/proc/meminfo", "unknown unit")
		}
		*dst = v
	}
	if !haveTotal {
		return Meminfo{}, malformed("/proc/meminfo", "no MemTotal")
	}
	if !haveAvail {
		m.Available = m.Free + m.Buffers + m.Cached + m.SReclaimable
		if m.Available > m.Total {
			m.Available = m.Total
		}
		m.AvailableEstimated = true
	}
	return m, nil
}
