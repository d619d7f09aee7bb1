package procfs

import (
	"bytes"
	"os"
)

// Users reads the passwd file (WithPasswd; default /etc/passwd, or
// <rootfs>/etc/passwd with WithRootFS) into uid → user name. Callers that
// name many processes keep the map, and read it again when PasswdPath
// changes.
func (fs *FS) Users() (map[uint32]string, error) {
	b, err := os.ReadFile(fs.passwd)
	if err != nil {
		return nil, err
	}
	return ParsePasswd(b), nil
}

// PasswdPath is the passwd file Users reads.
func (fs *FS) PasswdPath() string { return fs.passwd }

// ParsePasswd parses passwd(5) lines "name:x:uid:gid:…" into uid → name.
// Malformed lines are skipped; the first entry of a uid wins, as getpwuid
// does.
func ParsePasswd(b []byte) map[uint32]string {
	m := map[uint32]string{}
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		f := bytes.SplitN(line, []byte{':'}, 4)
		if len(f) < 4 || len(f[0]) == 0 {
			continue
		}
		uid, ok := parseUint(f[2])
		if !ok || uid > 1<<32-1 {
			continue
		}
		if _, dup := m[uint32(uid)]; !dup {
			m[uint32(uid)] = string(f[0])
		}
	}
	return m
}
