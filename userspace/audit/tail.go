package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

// Filter selects records for reading; empty fields match everything.
type Filter struct {
	Agent   string // source or target agent id
	Domain  string
	Verdict string // case-insensitive
	Kind    string
}

// Match reports whether r passes f.
func (f Filter) Match(r *Record) bool {
	return (f.Agent == "" || r.AgentID == f.Agent || r.TargetAgent == f.Agent) &&
		(f.Domain == "" || r.Domain == f.Domain) &&
		(f.Verdict == "" || strings.EqualFold(r.Verdict, f.Verdict)) &&
		(f.Kind == "" || r.Kind == f.Kind)
}

// FormatText renders r as one compact human line: time, seq, kind, verdict, then the fields
// that are set as key=value.
func FormatText(r *Record) string {
	var b strings.Builder
	b.WriteString(r.Time.UTC().Format("2006-01-02T15:04:05.000Z"))
	b.WriteString(" #")
	b.WriteString(strconv.FormatUint(r.Seq, 10))
	b.WriteByte(' ')
	b.WriteString(r.Kind)
	if r.Verdict != "" {
		b.WriteByte(' ')
		b.WriteString(r.Verdict)
	}
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, " %s=%s", k, quoteIfNeeded(v))
		}
	}
	kv("agent", r.AgentID)
	kv("role", r.Role)
	kv("zone", r.Zone)
	if r.PID != 0 {
		kv("pid", strconv.FormatUint(uint64(r.PID), 10))
	}
	kv("comm", r.Comm)
	kv("dst", r.Destination)
	kv("dst_zone", r.DstZone)
	kv("target", r.TargetAgent)
	kv("service", r.TargetService)
	kv("proto", r.Protocol)
	kv("domain", r.Domain)
	kv("tier", r.Tier)
	kv("channel", r.Channel)
	kv("method", r.Method)
	kv("path", r.Path)
	kv("rpc", r.RPCMethod)
	kv("tool", r.Tool)
	if r.Status != 0 {
		kv("status", strconv.Itoa(r.Status))
	}
	if r.BytesIn != 0 || r.BytesOut != 0 {
		kv("bytes", fmt.Sprintf("%d/%d", r.BytesIn, r.BytesOut))
	}
	if r.DurationNS != 0 {
		kv("dur", time.Duration(r.DurationNS).String())
	}
	kv("reason", r.Reason)
	kv("codes", strings.Join(r.ReasonCodes, ","))
	kv("masked", strings.Join(r.MaskedKeys, ","))
	kv("exchange", r.ExchangeID)
	if cp := r.Checkpoint; cp != nil {
		kv("head", fmt.Sprintf("%d:%.16s", cp.HeadSeq, cp.HeadHash))
		kv("key", cp.KeyID)
	}
	kv("msg", r.Message)
	return b.String()
}

func quoteIfNeeded(s string) string {
	if strings.ContainsAny(s, " \t\n\"=") {
		return strconv.Quote(s)
	}
	return s
}

// ReadLines calls fn with each complete line of the log at path, newline removed. With follow
// it then waits for more, polling every poll, and carries on through the rotated files and into
// the new current file when the log is rotated, until ctx ends. A last line without its
// newline is not passed on: it is being written, or torn.
func ReadLines(ctx context.Context, path string, follow bool, poll time.Duration, fn func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	defer func() { f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat audit log: %w", err)
	}
	lr := lineReader{br: bufio.NewReaderSize(f, 64<<10)}
	wait := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(poll):
			return true
		}
	}
	var (
		partial  []byte
		first    uint64 // seq of the first record of the file being read
		current  = true // the file is the one at path, not a rotated one
		finished = false
	)
	for {
		chunk, err := lr.next()
		partial = append(partial, chunk...)
		switch {
		case err == nil:
			line := partial[:len(partial)-1]
			if first == 0 {
				if h, err := parseLine(line); err == nil {
					first = h.Seq
				}
			}
			if err := fn(line); err != nil {
				return err
			}
			partial = partial[:0]
			continue
		case err != io.EOF:
			return fmt.Errorf("read audit log: %w", err)
		case !follow:
			return nil
		case current && !finished:
			// Has the file been rotated away from path? Then read it once more to its end,
			// since the writer may have added its last lines just before the rename.
			now, err := os.Stat(path)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("stat audit log: %w", err)
			}
			if err == nil && !os.SameFile(st, now) {
				finished = true
			} else if !wait() {
				return nil
			}
			continue
		}
		// The file is complete: go on with the next one in chain order.
		next, isCurrent, err := nextFile(path, first)
		if err != nil {
			return err
		}
		nf, err := os.Open(next)
		if errors.Is(err, fs.ErrNotExist) { // rotated again meanwhile, or not created yet
			if !wait() {
				return nil
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("open audit log: %w", err)
		}
		f.Close()
		f, partial, first, current, finished = nf, partial[:0], 0, isCurrent, false
		if st, err = f.Stat(); err != nil {
			return fmt.Errorf("stat audit log: %w", err)
		}
		lr.br.Reset(f)
	}
}

// nextFile is the file that follows, in the chain, the file of the log at path whose first
// record is first: the oldest rotated file after it, or path itself.
func nextFile(path string, first uint64) (string, bool, error) {
	files, err := rotatedFiles(path)
	if err != nil {
		return "", false, err
	}
	for _, rf := range files {
		if first != 0 && rf.firstSeq > first {
			return rf.path, false, nil
		}
	}
	return path, true, nil
}

// ParseRecord decodes one line into a Record; it fails unless the line is a record of this
// schema version.
func ParseRecord(line []byte) (Record, error) {
	var r Record
	if _, err := parseLine(line); err != nil {
		return r, err
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return r, fmt.Errorf("%w: %w", errNotRecord, err)
	}
	return r, nil
}
