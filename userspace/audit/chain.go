package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// genesis is the prev of the first record of a chain.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// head is the end of a chain: the last record's seq and the hash of its line.
type head struct {
	seq  uint64
	hash string // hex sha256 of the line's bytes, without the newline
}

// hashLine is the chain hash of one line: sha256 over its exact bytes, newline excluded.
func hashLine(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// encodeBody marshals r without the fields the chain assigns (v, seq, prev): the result is
// spliced after them by appendLine. r.ID must already be set so the body is never "{}".
func encodeBody(r Record) ([]byte, error) {
	r.V, r.Seq, r.Prev = 0, 0, ""
	body, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode audit record: %w", err)
	}
	return body, nil
}

// appendLine appends the line of the record with body at seq after prev to buf, newline
// included, and returns buf and the line's chain hash.
func appendLine(buf []byte, seq uint64, prev string, body []byte) ([]byte, string) {
	start := len(buf)
	buf = append(buf, `{"v":`...)
	buf = strconv.AppendInt(buf, SchemaVersion, 10)
	buf = append(buf, `,"seq":`...)
	buf = strconv.AppendUint(buf, seq, 10)
	buf = append(buf, `,"prev":"`...)
	buf = append(buf, prev...)
	buf = append(buf, `",`...)
	buf = append(buf, body[1:]...)
	h := hashLine(buf[start:])
	return append(buf, '\n'), h
}

// lineHeader is what the chain needs from a line; parseLine fills it in.
type lineHeader struct {
	V          int             `json:"v"`
	Seq        uint64          `json:"seq"`
	Prev       string          `json:"prev"`
	ID         string          `json:"id"`
	Node       string          `json:"node"`
	Kind       string          `json:"kind"`
	Time       json.RawMessage `json:"time"`
	Checkpoint *Checkpoint     `json:"checkpoint"`
	Torn       *Torn           `json:"torn"`
}

// errNotRecord wraps every reason parseLine refuses a line.
var errNotRecord = errors.New("not an audit record")

// parseLine checks that line (without newline) is one record of this schema version and
// returns its chain fields. It never panics, whatever the bytes.
func parseLine(line []byte) (lineHeader, error) {
	var h lineHeader
	if len(line) == 0 || line[0] != '{' || line[len(line)-1] != '}' {
		return h, fmt.Errorf("%w: not a JSON object", errNotRecord)
	}
	if err := json.Unmarshal(line, &h); err != nil {
		return h, fmt.Errorf("%w: %w", errNotRecord, err)
	}
	switch {
	case h.V != SchemaVersion:
		return h, fmt.Errorf("%w: schema version %d, want %d", errNotRecord, h.V, SchemaVersion)
	case h.Seq == 0:
		return h, fmt.Errorf("%w: no seq", errNotRecord)
	case !isHash(h.Prev):
		return h, fmt.Errorf("%w: prev is not a hex sha256", errNotRecord)
	case h.ID == "":
		return h, fmt.Errorf("%w: no id", errNotRecord)
	case h.Kind == "":
		return h, fmt.Errorf("%w: no kind", errNotRecord)
	case len(h.Time) == 0 || bytes.Equal(h.Time, []byte("null")):
		return h, fmt.Errorf("%w: no time", errNotRecord)
	}
	return h, nil
}

// isHash reports whether s is a lower-case hex sha256.
func isHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// lineReader reads lines of any length.
type lineReader struct {
	br  *bufio.Reader
	acc []byte
}

// next returns the next line with its newline; at the end of the input, what is left with
// io.EOF. The line is valid until the next call.
func (r *lineReader) next() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	r.acc = append(r.acc[:0], line...)
	for errors.Is(err, bufio.ErrBufferFull) {
		line, err = r.br.ReadSlice('\n')
		r.acc = append(r.acc, line...)
	}
	return r.acc, err
}
