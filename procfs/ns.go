package procfs

import (
	"bytes"
	"os"
	"strconv"
)

// NetNamespace returns the inode number that identifies pid's network
// namespace, read from the /proc/<pid>/ns/net link ("net:[4026531840]");
// pid 0 means the calling process (<proc>/self). Reading another process's
// namespace needs ptrace access to it: errors are as for ProcessIO
// (ErrNotFound, fs.ErrPermission, ErrMalformed), and mean unknown.
func (fs *FS) NetNamespace(pid int32) (uint64, error) {
	dir := "self"
	if pid != 0 {
		if pid < 0 {
			return 0, pidFileError(pid, "ns/net", ErrNotFound)
		}
		dir = strconv.Itoa(int(pid))
	}
	link, err := os.Readlink(fs.procPath(dir, "ns", "net"))
	if err != nil {
		return 0, pidFileError(pid, "ns/net", err)
	}
	kind, ino, err := ParseNamespaceLink([]byte(link))
	if err == nil && kind != "net" {
		err = malformed("ns/net", "link to a "+strconv.Quote(kind)+" namespace")
	}
	if err != nil {
		return 0, pidFileError(pid, "ns/net", err)
	}
	return ino, nil
}

// ParseNamespaceLink parses the target of a /proc/<pid>/ns/* link,
// "<kind>:[<inode>]", into the namespace kind ("net", "mnt", "pid", …) and
// its inode number.
func ParseNamespaceLink(b []byte) (kind string, ino uint64, err error) {
	i := bytes.IndexByte(b, ':')
	if i <= 0 || len(b) < i+4 || b[i+1] != '[' || b[len(b)-1] != ']' {
		return "", 0, malformed("ns link", "not kind:[inode]")
	}
	for _, c := range b[:i] {
		if (c < 'a' || c > 'z') && c != '_' {
			return "", 0, malformed("ns link", "bad kind")
		}
	}
	v, ok := parseUint(b[i+2 : len(b)-1])
	if !ok || v == 0 {
		return "", 0, malformed("ns link", "bad inode")
	}
	return string(b[:i]), v, nil
}
