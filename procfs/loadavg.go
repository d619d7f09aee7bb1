package procfs

// LoadAvg is /proc/loadavg.
type LoadAvg struct {
	One, Five, Fifteen float64
	Running, Total     uint64 // runnable and total scheduling entities
	LastPID            uint64
}

// LoadAvg reads /proc/loadavg.
func (fs *FS) LoadAvg() (LoadAvg, error) {
	var l LoadAvg
	err := fs.readWith(fs.paths.loadavg, func(b []byte) error {
		var err error
		l, err = ParseLoadAvg(b)
		return err
	})
	return l, err
}

// ParseLoadAvg parses "0.52 0.58 0.59 2/456 12345".
func ParseLoadAvg(b []byte) (LoadAvg, error) {
	var l LoadAvg
	var f []byte
	var ok bool
	for _, dst := range []*float64{&l.One, &l.Five, &l.Fifteen} {
		f, b = nextField(b)
		if *dst, ok = parseFixed(f); !ok {
			return LoadAvg{}, malformed("/proc/loadavg", "bad load average")
		}
	}
	f, b = nextField(b)
	for i, c := range f {
		if c == '/' {
			r, ok1 := parseUint(f[:i])
			t, ok2 := parseUint(f[i+1:])
			if !ok1 || !ok2 {
				return LoadAvg{}, malformed("/proc/loadavg", "bad task counts")
			}
			l.Running, l.Total = r, t
		}
	}
	f, _ = nextField(trimSpace(b))
	l.LastPID, _ = parseUint(f)
	return l, nil
}

// Uptime is /proc/uptime in seconds.
type Uptime struct {
	Seconds     float64 // since boot
	IdleSeconds float64 // summed over all cores
}

// Uptime reads /proc/uptime.
func (fs *FS) Uptime() (Uptime, error) {
	var u Uptime
	err := fs.readWith(fs.paths.uptime, func(b []byte) error {
		var err error
		u, err = ParseUptime(b)
		return err
	})
	return u, err
}

// ParseUptime parses "12345.67 23456.78".
func ParseUptime(b []byte) (Uptime, error) {
	f1, rest := nextField(b)
	f2, _ := nextField(trimSpace(rest))
	up, ok := parseFixed(f1)
	if !ok {
		return Uptime{}, malformed("/proc/uptime", "bad uptime")
	}
	idle, _ := parseFixed(f2)
	return Uptime{Seconds: up, IdleSeconds: idle}, nil
}
