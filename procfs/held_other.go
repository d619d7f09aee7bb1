//go:build !linux

package procfs

import "fmt"

// read reads path afresh: files are held on Linux only.
func (h *HeldFiles) read(path string, parse func([]byte) error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	b, err := readInto(path, &readBuf{data: h.buf[:0]})
	h.buf = b[:0]
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return parse(b)
}

// closeHeld has nothing to close: no file is held.
func closeHeld(int32) {}
