//go:build !linux

package procfs

import (
	"io"
	"os"
	"runtime"
)

func clockTicks() uint64 { return 100 }

func pageSize() uint64 { return uint64(os.Getpagesize()) }

func unameMachine() string { return runtime.GOARCH }

func statfs(path string) (StatfsResult, error) { return StatfsResult{}, ErrNotSupported }

// readInto reads the whole file at path, appending to buf.
func readInto(path string, rb *readBuf) ([]byte, error) {
	buf := rb.data[:0]
	f, err := os.Open(path)
	if err != nil {
		return buf, err
	}
	defer f.Close()
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// readPrefixInto reads at most len(buf) bytes of the file at path into buf
// and reports whether the file holds more.
func readPrefixInto(path []byte, _ *[]byte, buf []byte) (int, bool, error) {
	f, err := os.Open(string(path))
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return n, false, err
	}
	var one [1]byte
	m, _ := f.Read(one[:])
	return n, n == len(buf) && m > 0, nil
}
