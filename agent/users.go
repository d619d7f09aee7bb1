package agent

import (
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/socktop/socktop/procfs"
)

// users maps uids to names from the passwd file, read again only when its
// size or modification time changed, checked at most every userRecheck.
type users struct {
	fs *procfs.FS

	mu      sync.Mutex
	names   map[uint32]string
	checked time.Time
	mtime   time.Time
	size    int64
}

const userRecheck = 10 * time.Second

// name is uid's user name, or the decimal uid when the passwd file has no
// entry (or there is none). Numeric names are kept too, until the next
// reload; a lookup allocates nothing.
func (u *users) name(uid uint32) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if now := time.Now(); u.names == nil || now.Sub(u.checked) > userRecheck {
		u.checked = now
		u.reload()
	}
	if n, ok := u.names[uid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(uid), 10)
	u.names[uid] = n
	return n
}

func (u *users) reload() {
	st, err := os.Stat(u.fs.PasswdPath())
	if err == nil && u.names != nil && st.ModTime().Equal(u.mtime) && st.Size() == u.size {
		return
	}
	names, rerr := u.fs.Users()
	if err != nil || rerr != nil {
		if u.names == nil {
			u.names = map[uint32]string{}
		}
		return
	}
	u.names, u.mtime, u.size = names, st.ModTime(), st.Size()
}
