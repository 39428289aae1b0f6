package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// reopen (re)opens the current file and takes the chain head from its last record, or from
// the newest rotated file when it has none. Bytes after the last record (a write torn by a
// crash or a full disk) are kept, never truncated: a system record carrying their offset, size
// and digest seals them, chaining from the last record before them. cause is the error that
// made the file fail, nil when opening: a system record then tells how many records were
// refused meanwhile.
func (c *committer) reopen(cause error) error {
	path := c.w.opts.Path
	c.closeFile()
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open audit log %s: %w", path, err)
	}
	c.f = f
	if errors.Is(statErr, fs.ErrNotExist) {
		if err := syncDir(filepath.Dir(path)); err != nil {
			return err
		}
	}
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat audit log %s: %w", path, err)
	}
	c.size = st.Size()
	t, err := scanTail(f, c.size)
	if err != nil {
		return fmt.Errorf("read the end of audit log %s: %w", path, err)
	}
	c.fileFirstSeq, c.fileStart = 0, time.Time{}
	if t.last != nil {
		first, err := scanFirst(io.NewSectionReader(f, 0, c.size))
		if err != nil {
			return fmt.Errorf("read the start of audit log %s: %w", path, err)
		}
		if first != nil {
			c.fileFirstSeq, c.fileStart = first.Seq, first.time()
		}
		c.head, c.since = head{t.last.Seq, t.hash}, uncovered(t.last)
	} else {
		last, h, err := previousHead(path)
		if err != nil {
			return err
		}
		c.head, c.since = h, uncovered(last)
	}
	if t.torn == nil && !t.needNL && cause == nil {
		return nil
	}
	now := c.w.opts.now()
	b := c.batch()
	if t.needNL {
		b.buf = append(b.buf, '\n')
	}
	if t.torn != nil || cause != nil {
		c.addRecord(&b, Record{Kind: KindSystem, Message: c.sealMessage(t.torn, cause), Torn: t.torn}, now)
	}
	if err := c.flush(&b, now); err != nil {
		return err
	}
	if t.torn != nil {
		c.w.log.Warn("audit log: torn write sealed", "path", path, "offset", t.torn.Offset, "bytes", t.torn.Bytes, "seal_seq", c.head.seq)
	}
	if cause != nil {
		c.w.log.Info("audit log writable again", "path", path, "refused", c.refused)
	}
	c.broken, c.refused = nil, 0
	return nil
}

func (c *committer) sealMessage(torn *Torn, cause error) string {
	var msg string
	if cause != nil {
		msg = fmt.Sprintf("audit log writable again after a failure (%v): %d records were refused to their writers", cause, c.refused)
	}
	if torn != nil {
		if msg != "" {
			msg += "; "
		}
		msg += fmt.Sprintf("sealed %d bytes at offset %d: a torn write, not records; the chain continues from seq %d", torn.Bytes, torn.Offset, c.head.seq)
	}
	return msg
}

// uncovered is the checkpoint debt a reopened log starts with: none after a checkpoint.
func uncovered(last *lineHeader) int {
	if last == nil || last.Kind == KindCheckpoint {
		return 0
	}
	return 1
}

// tail is what the end of a log file says about the chain.
type tail struct {
	last   *lineHeader // the file's last record; nil when it has none
	hash   string      // chain hash of last's line
	torn   *Torn       // bytes after last that are not records, newline to be added included
	needNL bool        // the file does not end with a newline: the next write starts with one
}

const tailChunk = 64 << 10

// scanTail reads r (size bytes) backwards to its last line that is a record.
func scanTail(r io.ReaderAt, size int64) (tail, error) {
	var t tail
	if size == 0 {
		return t, nil
	}
	off := size // buf holds r[off:size]
	var buf []byte
	more := func() error {
		n := min(off, tailChunk)
		chunk := make([]byte, n, n+int64(len(buf)))
		if _, err := r.ReadAt(chunk, off-n); err != nil {
			return err
		}
		buf, off = append(chunk, buf...), off-n
		return nil
	}
	if err := more(); err != nil {
		return t, err
	}
	end := size // end of the line under test, its newline excluded
	if buf[len(buf)-1] == '\n' {
		end--
	}
	for {
		i := bytes.LastIndexByte(buf[:end-off], '\n')
		for i < 0 && off > 0 {
			if err := more(); err != nil {
				return t, err
			}
			i = bytes.LastIndexByte(buf[:end-off], '\n')
		}
		start := off + int64(i) + 1
		line := buf[start-off : end-off]
		if hdr, err := parseLine(line); err == nil {
			t.last, t.hash = &hdr, hashLine(line)
			if end == size { // a whole record whose newline never made it
				t.needNL = true
			} else if end+1 < size {
				t.torn, t.needNL = tornOf(end+1, buf[end+1-off:])
			}
			return t, nil
		}
		if start == 0 {
			t.torn, t.needNL = tornOf(0, buf)
			return t, nil
		}
		end = start - 1
	}
}

// tornOf describes region, found at offset, as it will be once a newline ends it.
func tornOf(offset int64, region []byte) (*Torn, bool) {
	needNL := region[len(region)-1] != '\n'
	h := sha256.New()
	h.Write(region)
	n := int64(len(region))
	if needNL {
		h.Write([]byte{'\n'})
		n++
	}
	return &Torn{Offset: offset, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, needNL
}

// scanFirst returns the first record of r, nil if it has none.
func scanFirst(r io.Reader) (*lineHeader, error) {
	lr := lineReader{br: bufio.NewReaderSize(r, 64<<10)}
	for {
		line, err := lr.next()
		if hdr, perr := parseLine(bytes.TrimSuffix(line, []byte{'\n'})); perr == nil {
			return &hdr, nil
		}
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// time is the record's time, zero when it does not parse.
func (h *lineHeader) time() time.Time {
	var t time.Time
	if h != nil {
		json.Unmarshal(h.Time, &t)
	}
	return t
}

// previousHead is the chain head left by the rotated files beside path: the last record of the
// newest one that has a record, or the genesis of a new chain.
func previousHead(path string) (*lineHeader, head, error) {
	files, err := rotatedFiles(path)
	if err != nil {
		return nil, head{}, err
	}
	for i := len(files) - 1; i >= 0; i-- {
		t, err := tailOfFile(files[i].path)
		if err != nil {
			return nil, head{}, err
		}
		if t.last != nil {
			return t.last, head{t.last.Seq, t.hash}, nil
		}
	}
	return nil, head{0, genesis}, nil
}

func tailOfFile(path string) (tail, error) {
	f, err := os.Open(path)
	if err != nil {
		return tail{}, fmt.Errorf("open audit log %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return tail{}, fmt.Errorf("stat audit log %s: %w", path, err)
	}
	t, err := scanTail(f, st.Size())
	if err != nil {
		return tail{}, fmt.Errorf("read the end of audit log %s: %w", path, err)
	}
	return t, nil
}
