package protocol

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Bytes encodes e as an event stream block: comments, then id, event and retry when set, then one
// data line per line of Data, then a blank line; lines end in "\n" and values follow "field: ".
// A client parses the result into the same event as the original block. An id or event type
// holding a line break (or an id holding NUL) cannot be encoded and is an error.
func (e Event) Bytes() ([]byte, error) { return e.AppendTo(nil) }

// AppendTo appends the encoding of e (see [Event.Bytes]) to b.
func (e Event) AppendTo(b []byte) ([]byte, error) {
	if strings.ContainsAny(e.Type, "\r\n") {
		return b, fmt.Errorf("sse: event type %q holds a line break: %w", e.Type, ErrMalformed)
	}
	if strings.ContainsAny(e.ID, "\r\n\x00") {
		return b, fmt.Errorf("sse: event id holds a line break or NUL: %w", ErrMalformed)
	}
	for _, c := range e.Comments {
		for _, line := range splitLines(c) {
			b = append(append(append(b, ':'), line...), '\n')
		}
	}
	if e.HasID {
		b = appendField(b, "id", e.ID)
	}
	if e.Type != "" {
		b = appendField(b, "event", e.Type)
	}
	if e.Retry >= 0 {
		b = appendField(b, "retry", strconv.Itoa(e.Retry))
	}
	if e.HasData {
		for _, line := range splitLines(e.Data) {
			b = appendField(b, "data", line)
		}
	}
	return append(b, '\n'), nil
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, name...)
	if value == "" {
		return append(b, ':', '\n')
	}
	b = append(b, ':', ' ')
	return append(append(b, value...), '\n')
}

// splitLines splits s at CRLF, LF or CR, as the event stream parser will.
func splitLines(s string) []string {
	var lines []string
	for {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			return append(lines, s)
		}
		lines = append(lines, s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
}

// SSEWriter writes events to a stream. It does not flush: a caller relaying to a client flushes
// after each event.
type SSEWriter struct {
	w   io.Writer
	buf []byte
}

// NewSSEWriter returns a writer of events to w.
func NewSSEWriter(w io.Writer) *SSEWriter { return &SSEWriter{w: w} }

// WriteEvent writes e encoded afresh (see [Event.Bytes]).
func (w *SSEWriter) WriteEvent(e Event) error {
	var err error
	if w.buf, err = e.AppendTo(w.buf[:0]); err != nil {
		return err
	}
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("sse: write event: %w", err)
	}
	return nil
}

// Relay writes e's original bytes when it has them (an event passed on unchanged), else encodes
// it afresh. Clear e.Raw after changing an event.
func (w *SSEWriter) Relay(e Event) error {
	if e.Raw == nil {
		return w.WriteEvent(e)
	}
	if _, err := w.w.Write(e.Raw); err != nil {
		return fmt.Errorf("sse: relay event: %w", err)
	}
	return nil
}
