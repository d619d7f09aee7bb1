package procfs

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"
)

// userCache maps uids to names from a passwd file, re-reading it only when
// its size or modification time changed, checked at most every recheck.
type userCache struct {
	path string

	mu      sync.Mutex
	names   map[uint32]string
	checked time.Time
	mtime   time.Time
	size    int64
}

const userRecheck = 10 * time.Second

// UserName returns the user name of uid from the passwd file (WithPasswd,
// default /etc/passwd), or the decimal uid when it has no entry. The file is
// parsed once and cached; it is re-read when it changes (checked at most
// every 10 s). Safe for concurrent use.
func (fs *FS) UserName(uid uint32) string {
	c := &fs.users
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); c.names == nil || now.Sub(c.checked) > userRecheck {
		c.checked = now
		c.reload()
	}
	if n, ok := c.names[uid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(uid), 10)
	c.names[uid] = n // numeric names are cached too; a reload drops them
	return n
}

func (c *userCache) reload() {
	st, err := os.Stat(c.path)
	if err != nil {
		if c.names == nil {
			c.names = map[uint32]string{}
		}
		return
	}
	if c.names != nil && st.ModTime().Equal(c.mtime) && st.Size() == c.size {
		return
	}
	b, err := os.ReadFile(c.path)
	if err != nil {
		if c.names == nil {
			c.names = map[uint32]string{}
		}
		return
	}
	c.names = ParsePasswd(b)
	c.mtime, c.size = st.ModTime(), st.Size()
}

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
