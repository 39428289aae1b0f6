package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Writer is the one writer of an audit log: records from the kernel reader and from every
// enforcer connection pass through it, so ordering and (later) chaining live in one place.
type Writer struct {
	mu   sync.Mutex
	f    *os.File
	bw   *bufio.Writer
	node string
	now  func() time.Time
}

// Open opens (creating if needed) the audit log at path for appending.
func Open(path, node string) (*Writer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create audit log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
	return &Writer{f: f, bw: bufio.NewWriterSize(f, 64<<10), node: node, now: time.Now}, nil
}

// Write appends r as one JSON line. Time and Node are filled in when empty.
func (w *Writer) Write(r Record) error {
	if r.Time.IsZero() {
		r.Time = w.now()
	}
	if r.Node == "" {
		r.Node = w.node
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode audit record: %w", err)
	}
	line = append(line, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.bw.Write(line); err != nil {
		return fmt.Errorf("write audit record: %w", err)
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("flush audit record: %w", err)
	}
	return nil
}

// Close flushes and closes the log.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.bw.Flush(); err != nil {
		w.f.Close()
		return fmt.Errorf("flush audit log: %w", err)
	}
	return w.f.Close()
}
