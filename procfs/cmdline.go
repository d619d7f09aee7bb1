package procfs

import "strconv"

// CmdlineReader reads processes' command lines with reused buffers. Its
// owner uses it from one goroutine at a time.
type CmdlineReader struct {
	fs         *FS
	path, name []byte
	buf        []byte
}

// NewCmdlineReader returns a reader of at most max bytes of each command
// line.
func (fs *FS) NewCmdlineReader(max int) *CmdlineReader {
	return &CmdlineReader{fs: fs, buf: make([]byte, max)}
}

// Read returns the first bytes of /proc/<pid>/cmdline (argv, NUL after
// each argument, as the kernel has it; empty for kernel threads and
// zombies), valid until the next Read, and whether the file held more.
func (r *CmdlineReader) Read(pid int32) ([]byte, bool, error) {
	p := append(r.path[:0], r.fs.proc...)
	p = append(p, '/')
	p = strconv.AppendInt(p, int64(pid), 10)
	p = append(p, "/cmdline"...)
	r.path = p
	n, more, err := readPrefixInto(p, &r.name, r.buf)
	if err != nil {
		return nil, false, err
	}
	return r.buf[:n], more, nil
}
