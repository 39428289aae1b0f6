package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Event is one block of a server-sent event stream: the lines up to a blank line, interpreted as
// the WHATWG HTML "event stream" rules say.
type Event struct {
	// Type is the event field ("" means the default, "message").
	Type string
	// Data is the data fields joined with "\n".
	Data string
	// HasData reports whether the block had a data field: only such a block is dispatched to
	// the client's event listeners (a block of comments, or of id and retry alone, is not).
	HasData bool
	// ID is the id field; HasID reports that the block set it (an empty ID resets the client's
	// last event id).
	ID    string
	HasID bool
	// Retry is the retry field in milliseconds, -1 when absent.
	Retry int
	// Comments are the comment lines (":" lines) without their colon, often keep-alives.
	Comments []string
	// Raw is the block's bytes as read, including the blank line that ended it, for relaying an
	// unchanged event verbatim. [Event.Bytes] does not use it.
	Raw []byte
}

// SSEReader reads events from a stream one at a time. It holds at most one event (and one line)
// in memory, so it can sit in front of a stream of any length.
type SSEReader struct {
	br      *bufio.Reader
	lim     Limits
	started bool // BOM check done
	skipLF  bool // the last line ended with CR: a LF right after it belongs to that line end
	line    []byte
}

// NewSSEReader returns a reader of the event stream r, within lim (MaxLineBytes, MaxEventBytes).
func NewSSEReader(r io.Reader, lim Limits) *SSEReader {
	return &SSEReader{br: bufio.NewReaderSize(r, 32<<10), lim: lim.withDefaults()}
}

// Next returns the next event. At the end of the stream it returns io.EOF, or an error matching
// io.ErrUnexpectedEOF when the stream ended inside an event (an incomplete event is never
// dispatched, as the spec says). A line or event over the limits is an error matching
// [ErrTooLarge]; the reader is then unusable.
func (r *SSEReader) Next() (Event, error) {
	ev := Event{Retry: -1}
	var raw, data []byte
	size, lines := 0, 0
	for {
		line, term, err := r.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && lines == 0 && len(line) == 0 {
				return Event{}, io.EOF
			}
			if errors.Is(err, io.EOF) {
				return Event{}, fmt.Errorf("sse: stream ended inside an event: %w", io.ErrUnexpectedEOF)
			}
			return Event{}, fmt.Errorf("sse: %w", err)
		}
		lines++
		size += len(line) + len(term)
		if size > r.lim.MaxEventBytes {
			return Event{}, fmt.Errorf("sse: event over %d bytes: %w", r.lim.MaxEventBytes, ErrTooLarge)
		}
		raw = append(append(raw, line...), term...)
		if len(line) == 0 {
			if ev.HasData {
				ev.Data = string(bytes.TrimSuffix(data, []byte{'\n'}))
			}
			ev.Raw = raw
			return ev, nil
		}
		if line[0] == ':' {
			ev.Comments = append(ev.Comments, string(line[1:]))
			continue
		}
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(name) {
		case "event":
			ev.Type = string(value)
		case "data":
			ev.HasData = true
			data = append(append(data, value...), '\n')
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				ev.ID, ev.HasID = string(value), true
			}
		case "retry":
			if n, ok := parseRetry(value); ok {
				ev.Retry = n
			}
		}
	}
}

func parseRetry(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 9 {
		return 0, false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(string(v))
	return n, err == nil
}

// readLine returns the next line without its terminator, and the terminator ("\r\n", "\n", "\r",
// or "" at the end of the stream). A CR is taken as a line end at once, without waiting to see
// whether a LF follows (that LF is skipped when it arrives), so a CR-terminated stream is not
// held up.
func (r *SSEReader) readLine() (line, term []byte, err error) {
	r.line = r.line[:0]
	if !r.started {
		r.started = true
		// Only a stream whose first byte is 0xEF is waited on for three bytes: it cannot be valid
		// UTF-8 with fewer.
		if b, err := r.br.Peek(1); err == nil && b[0] == 0xEF {
			if b, err := r.br.Peek(3); err == nil && b[1] == 0xBB && b[2] == 0xBF {
				_, _ = r.br.Discard(3)
			}
		}
	}
	for {
		if r.br.Buffered() == 0 {
			if _, err := r.br.Peek(1); err != nil {
				return r.line, nil, err
			}
		}
		buf, _ := r.br.Peek(r.br.Buffered())
		if r.skipLF {
			r.skipLF = false
			if buf[0] == '\n' {
				_, _ = r.br.Discard(1)
				continue
			}
		}
		i := bytes.IndexAny(buf, "\r\n")
		n := i
		if i < 0 {
			n = len(buf)
		}
		if len(r.line)+n > r.lim.MaxLineBytes {
			return nil, nil, fmt.Errorf("line over %d bytes: %w", r.lim.MaxLineBytes, ErrTooLarge)
		}
		r.line = append(r.line, buf[:n]...)
		if i < 0 {
			_, _ = r.br.Discard(n)
			continue
		}
		term = crlf[1:2] // "\n"
		if buf[i] == '\r' {
			term = crlf[0:1]
			if i+1 < len(buf) && buf[i+1] == '\n' {
				term = crlf
				_, _ = r.br.Discard(i + 2)
				return r.line, term, nil
			}
			r.skipLF = true // a LF may follow in a later read; it belongs to this line end
		}
		_, _ = r.br.Discard(i + 1)
		return r.line, term, nil
	}
}

var crlf = []byte("\r\n")
