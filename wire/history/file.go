package history

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The file format (FORMAT.md): a header, then one framed record per sample.
const (
	fileMagic    = "socktop-history\n"
	fileVersion  = 1
	headerLen    = len(fileMagic) + 4
	frameLen     = 8 // uint32 length, uint32 CRC32C
	compactFloor = 64 << 10
	// rewriteBackoff is how many appends a failed rewrite (a full disk)
	// waits before it is tried again.
	rewriteBackoff = 32
	dirPerm        = 0o700
	filePerm       = 0o600
	loadReadAhead  = 64 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of Open and Load that callers branch on (always wrapped with the
// path and what to do).
var (
	// ErrNotHistory: the file exists and is not a socktop history; it is
	// left untouched.
	ErrNotHistory = errors.New("not a socktop history file")
	// ErrVersion: the file is a socktop history of a format version this
	// build does not read; it is left untouched.
	ErrVersion = errors.New("unsupported history file version")
	// ErrLocked: another process has the file open for writing.
	ErrLocked = errors.New("history file in use by another process")
)

// LoadInfo reports what loading a file found. When Damaged, the records
// from Offset on were skipped (and, by Open, cut off the file); the caller
// logs String() once.
type LoadInfo struct {
	Path    string
	Samples int // whole samples read (before applying the store's bounds)
	Damaged bool
	Offset  int64  // where the damage starts
	Skipped int64  // bytes from Offset to the end of the file
	Reason  string // what was wrong at Offset
}

func (i LoadInfo) String() string {
	if !i.Damaged {
		return fmt.Sprintf("history file %s: %d samples", i.Path, i.Samples)
	}
	return fmt.Sprintf("history file %s: damaged at byte %d (%s): kept the %d samples before it, skipped %d bytes",
		i.Path, i.Offset, i.Reason, i.Samples, i.Skipped)
}

func header() []byte {
	return binary.LittleEndian.AppendUint32([]byte(fileMagic), fileVersion)
}

// appendFrame appends the framed record of payload p.
func appendFrame(b, p []byte) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
	crc := crc32.Update(0, castagnoli, b[start:start+4])
	crc = crc32.Update(crc, castagnoli, p)
	b = binary.LittleEndian.AppendUint32(b, crc)
	return append(b, p...)
}

// logFile is a store's append-only file.
type logFile struct {
	path    string
	f       *os.File
	size    int64 // the file's length: the header and whole records
	broken  bool  // the file no longer matches memory: rewrite it first
	backoff int   // appends to wait before trying a failed rewrite again
	buf     []byte
}

// Open loads the history file at path into a new store bounded by opt
// and keeps the file for appending: each Append writes one record. A
// missing file is created (mode 0600, its missing directories 0700). A
// torn or corrupt tail is cut off (the returned LoadInfo says where and
// why; log it once); everything before it is kept. A file that is not a
// socktop history, or of a newer format, is refused and left untouched.
// Close the store to release the file.
func Open(path string, opt Options) (*Store, LoadInfo, error) {
	info := LoadInfo{Path: path}
	if err := os.MkdirAll(filepath.Dir(path), dirPerm); err != nil {
		return nil, info, fmt.Errorf("create the directory of history file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, info, fmt.Errorf("open history file %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, info, fmt.Errorf("%w: %s is locked (%v): stop the other socktop or choose another file", ErrLocked, path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&^filePerm != 0 {
		f.Chmod(filePerm) // the history names processes: keep it private
	}
	s := New(opt)
	good, err := s.load(f, &info)
	if err != nil {
		f.Close()
		return nil, info, err
	}
	if good == 0 { // new, empty, or a header torn while it was written
		err := f.Truncate(0)
		if err == nil {
			_, err = f.WriteAt(header(), 0)
		}
		if err != nil {
			f.Close()
			return nil, info, fmt.Errorf("write history file %s: %w", path, err)
		}
		good = int64(headerLen)
	} else if info.Damaged {
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, info, fmt.Errorf("cut the damaged tail of history file %s: %w", path, err)
		}
	}
	s.fresh = true // the next record starts a chain of its own
	s.file = &logFile{path: path, f: f, size: good}
	return s, info, nil
}

// Load reads the history file at path into a new store bounded by opt,
// without changing or keeping the file (for replaying a recording). Damage
// is reported as Open reports it.
func Load(path string, opt Options) (*Store, LoadInfo, error) {
	info := LoadInfo{Path: path}
	f, err := os.Open(path)
	if err != nil {
		return nil, info, fmt.Errorf("open history file %s: %w", path, err)
	}
	defer f.Close()
	s := New(opt)
	if _, err := s.load(f, &info); err != nil {
		return nil, info, err
	}
	return s, info, nil
}

// load appends the samples of f to s and returns the length of the good
// prefix: 0 for an empty file (or a torn header), else the end of the last
// whole record. Damage is reported in info, not as an error.
func (s *Store) load(f *os.File, info *LoadInfo) (int64, error) {
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	br := bufio.NewReaderSize(f, loadReadAhead)
	hdr := make([]byte, headerLen)
	n, err := io.ReadFull(br, hdr)
	if readFailed(err) {
		return 0, fmt.Errorf("read history file %s: %w", info.Path, err)
	}
	want := header()
	switch {
	case n < headerLen && bytes.Equal(hdr[:n], want[:n]):
		return 0, nil
	case !bytes.Equal(hdr[:len(fileMagic)], want[:len(fileMagic)]):
		return 0, fmt.Errorf("%w: %s starts with %q: choose another file or move this one away", ErrNotHistory, info.Path, hdr[:min(n, 16)])
	case !bytes.Equal(hdr, want):
		v := binary.LittleEndian.Uint32(hdr[len(fileMagic):])
		return 0, fmt.Errorf("%w: %s has format version %d, this socktop reads %d: use a newer socktop or another file", ErrVersion, info.Path, v, fileVersion)
	}
	off := int64(headerLen)
	damage := func(format string, args ...any) (int64, error) {
		info.Damaged, info.Offset, info.Skipped = true, off, max(size-off, 0)
		info.Reason = fmt.Sprintf(format, args...)
		return off, nil
	}
	var c chain
	var fh [frameLen]byte
	payload := make([]byte, 0, 4<<10)
	for {
		n, err := io.ReadFull(br, fh[:])
		if n == 0 && err == io.EOF {
			return off, nil
		}
		if readFailed(err) {
			return 0, fmt.Errorf("read history file %s: %w", info.Path, err)
		}
		if err != nil {
			return damage("record header cut short after %d bytes", n)
		}
		length := binary.LittleEndian.Uint32(fh[:4])
		if length == 0 || length > maxRecordLen {
			return damage("record length %d out of range", length)
		}
		if cap(payload) < int(length) {
			payload = make([]byte, length)
		}
		payload = payload[:length]
		if n, err := io.ReadFull(br, payload); readFailed(err) {
			return 0, fmt.Errorf("read history file %s: %w", info.Path, err)
		} else if err != nil {
			return damage("record cut short: %d of %d bytes", n, length)
		}
		crc := crc32.Update(crc32.Update(0, castagnoli, fh[:4]), castagnoli, payload)
		if crc != binary.LittleEndian.Uint32(fh[4:]) {
			return damage("CRC mismatch")
		}
		if payload[0] < kindSkippable {
			hs, err := c.decode(payload)
			if err != nil {
				return damage("%v", err)
			}
			if err := s.Append(hs); err != nil {
				return damage("%v", err)
			}
			info.Samples++
		}
		off += int64(frameLen) + int64(length)
	}
}

// readFailed tells a failing read from the end of the file.
func readFailed(err error) bool {
	return err != nil && err != io.EOF && err != io.ErrUnexpectedEOF
}

// need is what a freshly written file of the store's samples takes.
func (lf *logFile) need(s *Store) int64 {
	n := int64(headerLen)
	for _, b := range s.blocks {
		n += int64(b.payload) + int64(frameLen*b.n)
	}
	return n
}

// append writes the record of the sample just added (payload p). s.mu is
// held.
func (lf *logFile) append(s *Store, p []byte) error {
	if lf.backoff > 0 {
		lf.backoff--
		if lf.broken {
			return nil // kept in memory; written by the next rewrite
		}
	} else if lf.broken {
		return lf.rewrite(s)
	}
	lf.buf = appendFrame(lf.buf[:0], p)
	if _, err := lf.f.WriteAt(lf.buf, lf.size); err != nil {
		// Cut what may have been written; the next record starts a chain
		// so the file decodes without this one. If even that fails, the
		// whole file is rewritten next time.
		if lf.f.Truncate(lf.size) == nil {
			s.fresh = true
		} else {
			lf.broken = true
		}
		return fmt.Errorf("append to history file %s: %w", lf.path, err)
	}
	lf.size += int64(len(lf.buf))
	if lf.backoff == 0 && lf.size > compactFloor && lf.size > 2*lf.need(s) {
		return lf.rewrite(s)
	}
	return nil
}

// rewrite replaces the file with one holding exactly the store's blocks:
// written beside it, synced, then renamed over it. s.mu is held.
func (lf *logFile) rewrite(s *Store) error {
	err := lf.replace(s)
	if err != nil {
		lf.backoff = rewriteBackoff
		return fmt.Errorf("rewrite history file %s: %w", lf.path, err)
	}
	lf.broken = false
	return nil
}

func (lf *logFile) replace(s *Store) (err error) {
	dir := filepath.Dir(lf.path)
	tmp, err := os.CreateTemp(dir, ".history-*.tmp") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 64<<10)
	size := int64(headerLen)
	w.Write(header())
	for _, b := range s.blocks {
		for p := range records(b.data) {
			lf.buf = appendFrame(lf.buf[:0], p)
			w.Write(lf.buf)
			size += int64(len(lf.buf))
		}
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = lockFile(tmp); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), lf.path); err != nil {
		return err
	}
	syncDir(dir)
	lf.f.Close()
	lf.f, lf.size = tmp, size
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Close syncs and closes the store's file, if it has one (rewriting it first
// when earlier writes failed); the store stays usable in memory.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	lf := s.file
	s.file = nil
	if lf.broken {
		lf.rewrite(s) // last chance to save what memory has; Sync reports a failure
	}
	err := lf.f.Sync()
	if cerr := lf.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close history file %s: %w", lf.path, err)
	}
	return nil
}
